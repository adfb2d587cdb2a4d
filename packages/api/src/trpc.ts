import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import type { Context } from './context';
import { describeIssues, type FieldIssue, toClientError, zodIssues } from './errors';
import { isAllowed, type ProcedureMeta } from './meta';
import { procedureCalls, procedureDuration } from './metrics';
import { ROLES, type Role, type ServiceName } from './roles';

/** The `data` of every error Bindery returns. `issues` lists field errors of a rejected input. */
export interface ErrorData {
  code: TRPCError['code'];
  httpStatus: number;
  path?: string;
  requestId?: string;
  issues?: FieldIssue[];
}

/**
 * One tRPC instance for every service: plain JSON on the wire (no transformer), so curl and
 * non-TypeScript clients can call the API; dates travel as ISO strings.
 */
const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    isDev: false,
    errorFormatter({ shape, error, ctx }) {
      const issues = error.cause instanceof ZodError ? zodIssues(error.cause) : undefined;
      const internal = error.code === 'INTERNAL_SERVER_ERROR';
      const data: ErrorData = {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        ...(shape.data.path ? { path: shape.data.path } : {}),
        ...(ctx?.requestId ? { requestId: ctx.requestId } : {}),
        ...(issues ? { issues } : {}),
      };
      return {
        code: shape.code,
        message: issues
          ? `Invalid input: ${describeIssues(issues)}`
          : internal
            ? 'Internal server error'
            : shape.message,
        data,
      };
    },
  });

export const router = t.router;
export const mergeRouters = t.mergeRouters;
export const createCallerFactory = t.createCallerFactory;

const observed = t.middleware(async ({ path, type, next }) => {
  const stopTimer = procedureDuration.startTimer();
  const result = await next();
  const outcome = result.ok ? 'ok' : result.error.code;
  procedureCalls.inc({ procedure: path, type, outcome });
  stopTimer({ procedure: path, type, outcome });
  return result;
});

const clientErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') {
    const clientError = toClientError(result.error.cause);
    if (clientError) throw clientError;
  }
  return result;
});

const authorized = t.middleware(({ meta, ctx, next }) => {
  if (!meta?.access) {
    // Every builder below sets access; a procedure without it is a programming error, so fail closed.
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Procedure declares no access rule' });
  }
  if (!isAllowed(meta.access, ctx.caller)) {
    if (meta.access.kind === 'roles' && !ctx.caller.user) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to call this procedure' });
    }
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Not allowed to call this procedure' });
  }
  return next();
});

const baseProcedure = t.procedure.use(observed).use(clientErrors).use(authorized);

/** Anyone may call it, signed in or not. */
export const publicProcedure = baseProcedure.meta({ access: { kind: 'public' } });

/** Any signed-in user holding one of Bindery's roles. */
export const authedProcedure = baseProcedure
  .meta({ access: { kind: 'roles', roles: ROLES } })
  .use(({ ctx, next }) =>
    // Narrow the context: past `authorized`, a roles procedure always has a user.
    next({ ctx: { ...ctx, user: ctx.caller.user! } }),
  );

/** A signed-in user holding one of `roles`. */
export function roleProcedure(...roles: [Role, ...Role[]]) {
  return authedProcedure.meta({ access: { kind: 'roles', roles } });
}

/** Only the named peer services, calling on their own account (never a client relayed by the gateway). */
export function serviceProcedure(...services: [ServiceName, ...ServiceName[]]) {
  return baseProcedure.meta({ access: { kind: 'services', services } });
}
