export * from './access-token';
export * from './batch';
export type { Context, RequestLog } from './context';
export * from './deadline';
export * from './errors';
export { HotCounter, type HotCounterChild, HotHistogram, type HotHistogramChild } from './hot-metrics';
export * from './internal-token';
export * from './meta';
export { passwordSchema } from './password-policy';
export * from './peer-client';
export * from './roles';
export { enableTracing, tracingEnabled } from './tracing';
export {
  authedProcedure,
  createCallerFactory,
  type ErrorData,
  mergeRouters,
  publicProcedure,
  roleProcedure,
  router,
  serviceProcedure,
} from './trpc';
