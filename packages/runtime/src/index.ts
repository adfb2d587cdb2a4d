export * from './balancing/index';
export * from './discovery/index';
export { ConfigError, optionalUrl, parseEnv, port } from './env';
export {
  BodyTooLargeError,
  MAX_BODY_BYTES,
  readBody,
  sendJson,
  setReplyHeaders,
  writeReplyHead,
} from './http-util';
export { type Keys, loadKeys } from './keys';
export { createLogger, type Logger, REDACTED_PATHS, RequestLogger, setLogDestination } from './logger';
export {
  createQueue,
  createQueueRedis,
  createWorker,
  DEFAULT_JOB_OPTIONS,
  type QueueConnection,
  type QueueStats,
  queueStats,
} from './queues';
export { createRedis } from './redis';
export {
  closeOnSignals,
  headerValue,
  type InstanceRegistrationOptions,
  type RequestHandler,
  type RunningService,
  type StartServiceOptions,
  startService,
} from './service-host';
export { type SpanExporter, startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry';
export {
  leanTrpcNodeHandler,
  queryParameters,
  stockTrpcNodeHandler,
  TRPC_ADAPTERS,
  type TrpcAdapterName,
  type TrpcNodeHandlerOptions,
} from './trpc-node-adapter';
export { withTimeout } from './with-timeout';
