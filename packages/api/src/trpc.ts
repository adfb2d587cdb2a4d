import { type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
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
 * The one middleware every procedure runs first. In order, it
 * - measures, traces and logs the call: the span `trpc <path>` is a child of the request's, and the
 *   procedure sees its trace context as `ctx.traceparent`, so the peer calls it makes and the events
 *   it writes continue the trace from it. Without an OpenTelemetry SDK no span is made at all (a
 *   no-op span still costs context switching on every call) and `ctx.traceparent` stays the header
 *   the call came with;
 * - refuses a call whose caller gave up while it waited (in a batch, for a connection);
 * - checks the caller against the procedure's access rule;
 * - turns an internal failure with a known cause (a constraint violation, a peer's client error)
 *   into the client error it is.
 * One middleware rather than four: every level of tRPC's middleware chain copies the call's options.
 */
const guarded = t.middleware((options) =>
  traced(options, (span) =>
    guard(options, span, () =>
      // The context is copied only when the span changed the trace context: tRPC copies it for
      // every `next({ ctx })`.
      span
        ? options.next({ ctx: { traceparent: currentTraceparent(options.ctx.traceparent) } })
        : options.next(),
    ),
  ),
);

/**
 * The same for a roles procedure, which also narrows the context: past `authorize`, it always has a
 * user. Folded into the guard rather than a middleware of its own: a level less on most calls.
 */
const guardedWithUser = t.middleware((options) =>
  traced(options, (span) =>
    guard(options, span, () =>
      options.next({
        ctx: {
          user: options.ctx.caller.user!,
          traceparent: span ? currentTraceparent(options.ctx.traceparent) : options.ctx.traceparent,
        },
      }),
    ),
  ),
);

type GuardedOptions = Parameters<Parameters<typeof t.middleware>[0]>[0];

/** Runs `run` in the span `trpc <path>` when tracing is on, else without a span. */
function traced<T>(options: GuardedOptions, run: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return run(undefined);
  return tracer.startActiveSpan(
    `trpc ${options.path}`,
    {
      attributes: {
        'rpc.system': 'trpc',
        'rpc.method': options.path,
        'bindery.request_id': options.ctx.requestId,
      },
    },
    run,
  );
}

async function guard<Result extends Awaited<ReturnType<GuardedOptions['next']>>>(
  { path, type, ctx, meta, getRawInput }: GuardedOptions,
  span: Span | undefined,
  proceed: () => Promise<Result>,
): Promise<Result> {
  const startedAt = performance.now();
  let error: TRPCError | undefined;
  try {
    assertBeforeDeadline(ctx.deadline);
    authorize(meta, ctx.caller);
    const result = await proceed();
    if (result.ok) return result;
    const clientError =
      result.error.code === 'INTERNAL_SERVER_ERROR' ? toClientError(result.error.cause) : null;
    if (clientError) throw clientError;
    error = result.error;
    return result;
  } catch (cause) {
    error = getTRPCErrorFromUnknown(cause);
    throw error;
  } finally {
    const outcome = error ? error.code : 'ok';
    const durationSeconds = (performance.now() - startedAt) / 1000;
    procedureCalls.labels(path, type, outcome).inc();
    procedureDuration.labels(path, type, outcome).observe(durationSeconds);
    if (span) {
      span.setAttribute('bindery.outcome', outcome);
      if (error && getHTTPStatusCodeFromError(error) >= 500) {
        span.recordException(error.cause ?? error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      }
      span.end();
    }
    const durationMs = Math.round(durationSeconds * 10_000) / 10;
    if (ctx.log.isLevelEnabled('info')) {
      const debug = ctx.log.isLevelEnabled('debug') ? await loggableInput(getRawInput) : {};
      ctx.log.info({ procedure: path, type, outcome, durationMs, ...debug }, 'procedure called');
    }
  }
}

/** The raw input for a debug line; the logger's redaction removes passwords and tokens from it. */
async function loggableInput(getRawInput: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const input = await getRawInput().catch(() => undefined);
  const inputBytes = Buffer.byteLength(JSON.stringify(input) ?? '');
  return inputBytes > MAX_LOGGED_INPUT_BYTES ? { inputBytes } : { input };
}

function authorize(meta: ProcedureMeta | undefined, caller: Context['caller']): void {
  if (!meta?.access) {
    // Every builder below sets access; a procedure without it is a programming error, so fail closed.
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Procedure declares no access rule' });
  }
  if (!isAllowed(meta.access, caller)) {
    if (meta.access.kind === 'roles' && !caller.user) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to call this procedure' });
    }
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Not allowed to call this procedure' });
  }
}

const baseProcedure = t.procedure.use(guarded);

/** Anyone may call it, signed in or not. */
export const publicProcedure = baseProcedure.meta({ access: { kind: 'public' } });

/** Any signed-in user holding one of Bindery's roles; its context has the `user`. */
export const authedProcedure = t.procedure
  .use(guardedWithUser)
  .meta({ access: { kind: 'roles', roles: ROLES } });

/** A signed-in user holding one of `roles`. */
export function roleProcedure(...roles: [Role, ...Role[]]) {
  return authedProcedure.meta({ access: { kind: 'roles', roles } });
}

/** Only the named peer services, calling on their own account (never a client relayed by the gateway). */
export function serviceProcedure(...services: [ServiceName, ...ServiceName[]]) {
  return baseProcedure.meta({ access: { kind: 'services', services } });
}
