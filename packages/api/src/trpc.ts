import { type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { initTRPC, TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { ZodError } from 'zod';
import type { Context } from './context';
import { assertBeforeDeadline } from './deadline';
import { describeIssues, type FieldIssue, toClientError, zodIssues } from './errors';
import { isAllowed, type ProcedureMeta } from './meta';
import { procedureCalls, procedureDuration } from './metrics';
import { currentTraceparent } from './peer-client';
import { ROLES, type Role, type ServiceName } from './roles';
import { tracingEnabled } from './tracing';

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

const tracer = trace.getTracer('@bindery/api');

/** Inputs logged at debug level up to this size; larger ones (a CSV import) only by their size. */
const MAX_LOGGED_INPUT_BYTES = 4096;

/**
 * Measures, traces and logs every call. The span `trpc <path>` is a child of the request's; the
 * procedure sees its trace context as `ctx.traceparent`, so the peer calls it makes and the events
 * it writes continue the trace from it. Without an OpenTelemetry SDK no span is made at all (a no-op
 * span still costs context switching on every call) and `ctx.traceparent` stays the header the call
 * came with.
 */
const observed = t.middleware((options) =>
  tracingEnabled()
    ? tracer.startActiveSpan(
        `trpc ${options.path}`,
        {
          attributes: {
            'rpc.system': 'trpc',
            'rpc.method': options.path,
            'bindery.request_id': options.ctx.requestId,
          },
        },
        (span) => observe(options, span),
      )
    : observe(options, undefined),
);

type ObservedOptions = Parameters<Parameters<typeof t.middleware>[0]>[0];

async function observe({ path, type, ctx, getRawInput, next }: ObservedOptions, span: Span | undefined) {
  const startedAt = performance.now();
  const stopTimer = procedureDuration.startTimer();
  try {
    const result = await next({
      ctx: { traceparent: span ? currentTraceparent(ctx.traceparent) : ctx.traceparent },
    });
    const outcome = result.ok ? 'ok' : result.error.code;
    procedureCalls.inc({ procedure: path, type, outcome });
    stopTimer({ procedure: path, type, outcome });
    span?.setAttribute('bindery.outcome', outcome);
    if (span && !result.ok && getHTTPStatusCodeFromError(result.error) >= 500) {
      span.recordException(result.error.cause ?? result.error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
    }
    const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
    const debug = ctx.log.isLevelEnabled('debug') ? await loggableInput(getRawInput) : {};
    ctx.log.info({ procedure: path, type, outcome, durationMs, ...debug }, 'procedure called');
    return result;
  } finally {
    span?.end();
  }
}

/** The raw input for a debug line; the logger's redaction removes passwords and tokens from it. */
async function loggableInput(getRawInput: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const input = await getRawInput().catch(() => undefined);
  const inputBytes = Buffer.byteLength(JSON.stringify(input) ?? '');
  return inputBytes > MAX_LOGGED_INPUT_BYTES ? { inputBytes } : { input };
}

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

/** A call whose caller gave up while it waited (in a batch, for a connection) is not started. */
const withinDeadline = t.middleware(({ ctx, next }) => {
  assertBeforeDeadline(ctx.deadline);
  return next();
});

const baseProcedure = t.procedure.use(observed).use(clientErrors).use(withinDeadline).use(authorized);

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
