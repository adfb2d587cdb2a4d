import type { Context } from '@bindery/api';
import {
  type Caller,
  currentTraceparent,
  DEADLINE_HEADER,
  DEFAULT_TIMEOUT_MS,
  encodeBatch,
  errorItem,
  HotCounter,
  HotHistogram,
  mintInternalToken,
  NOT_PROCESSED_HEADER,
  type ProcedureInfo,
  remainingMs,
  type ServiceName,
  type TrpcCall,
  type TrpcReplyItem,
  tracingEnabled,
} from '@bindery/api';
import {
  type CallAbort,
  type Logger,
  RequestLogger,
  type ServicePool,
  ServiceUnavailableError,
} from '@bindery/runtime';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { AnyTRPCRouter } from '@trpc/server';
import { resolveResponse } from '@trpc/server/http';
import type { ProcedureDirectory } from './procedure-directory';
import { type BufferedReply, type UpstreamCall, UpstreamConnections } from './upstream-connections';

/** A batch of calls for one namespace, with who is calling. */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  calls: TrpcCall[];
  caller: Caller;
  requestId: string;
  traceparent: string;
  /** When the client stops waiting (a `Date.now()` time), if it said so. */
  deadline?: number | undefined;
}

/**
 * A whole client request for one service, forwarded as it came: its URL path and query (`/trpc/…`)
 * and body, with `calls` parsed from them for the gateway's own rules.
 */
export interface WholeRequest extends UpstreamRequest {
  pathAndQuery: string;
  body: Buffer | undefined;
}

/** A service's reply to a whole request, relayed as it came: every call in it succeeded. */
export interface RelayedReply {
  status: 200;
  body: Buffer;
}

/** Where the gateway sends a namespace's calls: a service over HTTP, or its own `system` router. */
export interface Upstream {
  send(request: UpstreamRequest): Promise<TrpcReplyItem[]>;
  /**
   * Sends a request whose calls all go to this upstream without re-encoding it, and relays a reply
   * where every call succeeded without decoding it; any other reply comes back as items.
   */
  forward?(request: WholeRequest): Promise<RelayedReply | TrpcReplyItem[]>;
  /** Closes the connections it keeps. */
  close?(): Promise<void>;
}

/**
 * By target service and instance. The instance is the base URL it was reached at; it is not named
 * `instance`, which Prometheus sets to the scraped process itself. Each attempt counts: a call
 * retried on another instance counts once per instance tried.
 */
const upstreamRequests = new HotCounter({
  name: 'bindery_gateway_upstream_requests_total',
  help: 'Batches the gateway sent to a service instance, by service, service instance (base URL) and outcome',
  labelNames: ['service', 'service_instance', 'outcome'] as const,
});
const upstreamDuration = new HotHistogram({
  name: 'bindery_gateway_upstream_duration_seconds',
  help: 'Time for a service instance to answer a batch from the gateway',
  labelNames: ['service', 'service_instance', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

interface InstanceReply {
  status: number;
  body: Buffer;
  notProcessed: boolean;
}

/**
 * A service reached over HTTP through its balanced pool. Each batch carries an internal token
 * addressed to the service, the request id, the trace context and the time left before the
 * caller's deadline. The batch may be retried on another instance when every call in it is safe to
 * repeat (see `isSafeToRetry`); when no instance answers, each call fails with 503, 504 or 429
 * rather than the whole request.
 */
export function httpUpstream(options: {
  service: ServiceName;
  pool: ServicePool;
  /** The procedures' rules (kind, idempotent, timeout). */
  procedures: Pick<ProcedureDirectory, 'get'>;
  internalTokenSecret: Uint8Array;
}): Upstream {
  const { service, pool } = options;
  // Connections to every instance, kept alive between calls.
  const connections = new UpstreamConnections();

  /** Sends one request through the balanced pool: the service's reply, or an item per call when none came. */
  const exchange = async (
    request: UpstreamRequest,
    pathAndQuery: string,
    body: string | Buffer | undefined,
  ): Promise<InstanceReply | TrpcReplyItem[]> => {
    const token = mintInternalToken(options.internalTokenSecret, {
      audience: service,
      caller: request.caller,
    });
    const rules = request.calls.map((call) => options.procedures.get(call.path));
    const timeoutMs = remainingMs(
      request.deadline,
      Math.max(...rules.map((rule) => rule?.timeoutMs ?? DEFAULT_TIMEOUT_MS)),
    );
    if (timeoutMs <= 0) {
      return request.calls.map((call) =>
        errorItem('TIMEOUT', 'The caller stopped waiting before this call could start', call.path),
      );
    }
    const deadline = Date.now() + timeoutMs;
    try {
      return await pool.call<InstanceReply>(
        async (endpoint, abort) => {
          const startedAt = performance.now();
          let outcome = 'unreachable';
          try {
            const headers: Record<string, string> = {
              authorization: `Bearer ${token}`,
              'x-request-id': request.requestId,
              [DEADLINE_HEADER]: String(Math.max(0, deadline - Date.now())),
              traceparent: request.traceparent,
            };
            // A GET has no body to describe.
            if (body !== undefined) headers['content-type'] = 'application/json';
            const call = { method: request.method, path: pathAndQuery, headers, body };
            const response = tracingEnabled()
              ? await inClientSpan(connections, endpoint.url, call, abort)
              : await connections.request(endpoint.url, call, abort);
            outcome = response.statusCode >= 500 ? `${response.statusCode}` : 'ok';
            return {
              status: response.statusCode,
              body: response.body,
              notProcessed: response.headers[NOT_PROCESSED_HEADER] !== undefined,
            };
          } catch (error) {
            if (abort.aborted) outcome = 'timeout';
            throw error;
          } finally {
            upstreamRequests.labels(service, endpoint.url, outcome).inc();
            upstreamDuration
              .labels(service, endpoint.url, outcome)
              .observe((performance.now() - startedAt) / 1000);
          }
        },
        {
          // tRPC serves only queries over GET, whatever the gateway knows of the procedures.
          safe:
            request.method === 'GET' ||
            request.calls.every((call, index) => isSafeToRetry(call, rules[index])),
          timeoutMs,
          isFailure: (answer) => answer.status >= 500,
          wasNotProcessed: (answer) => answer.notProcessed,
        },
      );
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      const code =
        error.reason === 'timeout'
          ? 'GATEWAY_TIMEOUT'
          : error.reason === 'overloaded'
            ? 'TOO_MANY_REQUESTS'
            : 'SERVICE_UNAVAILABLE';
      return request.calls.map((call) => errorItem(code, error.message, call.path));
    }
  };

  /** The reply as one item per call. */
  const itemsOf = (request: UpstreamRequest, answer: InstanceReply): TrpcReplyItem[] => {
    let reply: unknown;
    try {
      reply = JSON.parse(answer.body.toString('utf8'));
    } catch {
      reply = undefined;
    }
    if (Array.isArray(reply) && reply.length === request.calls.length) return reply as TrpcReplyItem[];
    // A service answers a whole batch with one error when it refuses the request itself, and a
    // call forwarded without `?batch=1` with one item.
    if (reply && typeof reply === 'object' && ('error' in reply || 'result' in reply))
      return request.calls.map(() => reply as TrpcReplyItem);
    // Node's own refusals come without a tRPC body: a request line the service will not read (the
    // inputs grow when encoded again for it) is the caller's too-large request, not a bad gateway.
    if (answer.status === 431 || answer.status === 413)
      return request.calls.map((call) =>
        errorItem('PAYLOAD_TOO_LARGE', `The request is too large for ${service}`, call.path),
      );
    return request.calls.map((call) =>
      errorItem('BAD_GATEWAY', `${service} gave an unreadable reply`, call.path),
    );
  };

  return inUpstreamSpan(service, {
    async send(request) {
      const { pathAndQuery, body } = encodeBatch(request.method, request.calls);
      const answer = await exchange(request, pathAndQuery, body);
      return Array.isArray(answer) ? answer : itemsOf(request, answer);
    },
    async forward(request) {
      const answer = await exchange(request, request.pathAndQuery, request.body);
      if (Array.isArray(answer)) return answer;
      // 200 only when every call succeeded: nothing in it for the gateway to read or change.
      if (answer.status === 200) return { status: 200, body: answer.body };
      return itemsOf(request, answer);
    },
    close: () => connections.close(),
  });
}

/**
 * Whether a call may run twice: a query, a mutation its service marks idempotent, or a mutation
 * whose input carries an `idempotencyKey` (the service answers a repeat with the first result).
 * An unknown procedure is not safe.
 */
export function isSafeToRetry(call: TrpcCall, rule: ProcedureInfo | undefined): boolean {
  if (!rule) return false;
  if (rule.type === 'query' || rule.idempotent) return true;
  const input = call.input as { idempotencyKey?: unknown } | null | undefined;
  return typeof input === 'object' && input !== null && typeof input.idempotencyKey === 'string';
}

const tracer = trace.getTracer('@bindery/services');

/**
 * Sends a call in an HTTP client span, a child of the `upstream <service>` span, whose context the
 * call carries in `traceparent`: the instance's own spans are its children.
 */
function inClientSpan(
  connections: UpstreamConnections,
  origin: string,
  call: UpstreamCall & { headers: Record<string, string> },
  abort: CallAbort,
): Promise<BufferedReply> {
  const url = new URL(call.path, origin);
  return tracer.startActiveSpan(
    call.method,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': call.method,
        'server.address': url.hostname,
        'server.port': Number(url.port),
        'url.full': url.href,
      },
    },
    async (span) => {
      call.headers.traceparent = currentTraceparent(call.headers.traceparent)!;
      try {
        const reply = await connections.request(origin, call, abort);
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return reply;
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Sends each batch in an `upstream <service>` span, the parent of each attempt's client span (see
 * `inClientSpan`) and so of the service's own spans. Without an OpenTelemetry SDK, no span at all.
 */
function inUpstreamSpan(service: ServiceName, upstream: Required<Upstream>): Upstream {
  const inSpan = <T>(request: UpstreamRequest, send: () => Promise<T>, failed: (reply: T) => boolean) =>
    !tracingEnabled()
      ? send()
      : tracer.startActiveSpan(
          `upstream ${service}`,
          {
            attributes: {
              'bindery.service': service,
              'bindery.procedures': request.calls.map((call) => call.path),
            },
          },
          async (span) => {
            try {
              const reply = await send();
              if (failed(reply)) {
                span.setStatus({ code: SpanStatusCode.ERROR, message: `${service} failed a call` });
              }
              return reply;
            } finally {
              span.end();
            }
          },
        );
  const anyFailed = (replies: RelayedReply | TrpcReplyItem[]) =>
    Array.isArray(replies) && replies.some((item) => 'error' in item && item.error.data.httpStatus >= 500);
  return {
    send: (request) => inSpan(request, () => upstream.send(request), anyFailed),
    forward: (request) => inSpan(request, () => upstream.forward(request), anyFailed),
    close: () => upstream.close(),
  };
}

/** The gateway's own router (`system.*`), answered in process with tRPC's own request resolver. */
export function localUpstream(router: AnyTRPCRouter, log: Logger): Upstream {
  return {
    async send(request) {
      const { pathAndQuery, body } = encodeBatch(request.method, request.calls);
      const url = new URL(pathAndQuery, 'http://gateway');
      const response = await resolveResponse({
        router,
        req: new Request(url, {
          method: request.method,
          headers: { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body }),
        }),
        path: url.pathname.slice('/trpc/'.length),
        error: null,
        createContext: async (): Promise<Context> => ({
          caller: request.caller,
          requestId: request.requestId,
          traceparent: request.traceparent,
          log: new RequestLogger(log, request.requestId),
        }),
        onError: ({ error, path }) => {
          if (error.code === 'INTERNAL_SERVER_ERROR')
            log.error({ err: error.cause ?? error, procedure: path }, 'procedure failed');
        },
      });
      return (await response.json()) as TrpcReplyItem[];
    },
  };
}
