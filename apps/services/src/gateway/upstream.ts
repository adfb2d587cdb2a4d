import type { Context } from '@bindery/api';
import {
  type Caller,
  DEADLINE_HEADER,
  DEFAULT_TIMEOUT_MS,
  encodeBatch,
  errorItem,
  mintInternalToken,
  NOT_PROCESSED_HEADER,
  type ProcedureInfo,
  remainingMs,
  type ServiceName,
  type TrpcCall,
  type TrpcReplyItem,
  traceHeaders,
} from '@bindery/api';
import { type Logger, type ServicePool, ServiceUnavailableError } from '@bindery/runtime';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { AnyTRPCRouter } from '@trpc/server';
import { resolveResponse } from '@trpc/server/http';
import { Counter, Histogram } from 'prom-client';
import type { ProcedureDirectory } from './procedure-directory';

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

/** Where the gateway sends a namespace's calls: a service over HTTP, or its own `system` router. */
export interface Upstream {
  send(request: UpstreamRequest): Promise<TrpcReplyItem[]>;
}

/**
 * By target service and instance. The instance is the base URL it was reached at; it is not named
 * `instance`, which Prometheus sets to the scraped process itself. Each attempt counts: a call
 * retried on another instance counts once per instance tried.
 */
const upstreamRequests = new Counter({
  name: 'bindery_gateway_upstream_requests_total',
  help: 'Batches the gateway sent to a service instance, by service, service instance (base URL) and outcome',
  labelNames: ['service', 'service_instance', 'outcome'] as const,
});
const upstreamDuration = new Histogram({
  name: 'bindery_gateway_upstream_duration_seconds',
  help: 'Time for a service instance to answer a batch from the gateway',
  labelNames: ['service', 'service_instance', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

interface InstanceReply {
  status: number;
  reply: unknown;
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
  return inUpstreamSpan(service, {
    async send(request) {
      const { pathAndQuery, body } = encodeBatch(request.method, request.calls);
      const token = await mintInternalToken(options.internalTokenSecret, {
        audience: service,
        caller: request.caller,
        requestId: request.requestId,
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
        const { reply } = await pool.call<InstanceReply>(
          async (endpoint, signal) => {
            const stopTimer = upstreamDuration.startTimer({ service, service_instance: endpoint.url });
            let outcome = 'unreachable';
            try {
              const response = await fetch(endpoint.url + pathAndQuery, {
                method: request.method,
                headers: {
                  authorization: `Bearer ${token}`,
                  'content-type': 'application/json',
                  'x-request-id': request.requestId,
                  [DEADLINE_HEADER]: String(Math.max(0, deadline - Date.now())),
                  ...traceHeaders(request.traceparent),
                },
                ...(body === undefined ? {} : { body }),
                signal,
              });
              const reply = (await response.json().catch(() => undefined)) as unknown;
              outcome = response.status >= 500 ? `${response.status}` : 'ok';
              return {
                status: response.status,
                reply,
                notProcessed: response.headers.has(NOT_PROCESSED_HEADER),
              };
            } catch (error) {
              if (signal.aborted) outcome = 'timeout';
              throw error;
            } finally {
              upstreamRequests.inc({ service, service_instance: endpoint.url, outcome });
              stopTimer({ outcome });
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
        if (Array.isArray(reply) && reply.length === request.calls.length) return reply as TrpcReplyItem[];
        // A service answers a whole batch with one error when it refuses the request itself.
        if (reply && typeof reply === 'object' && 'error' in reply)
          return request.calls.map(() => reply as TrpcReplyItem);
        return request.calls.map((call) =>
          errorItem('BAD_GATEWAY', `${service} gave an unreadable reply`, call.path),
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
    },
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
 * Sends each batch in an `upstream <service>` span, the parent of the instrumented `fetch`'s client
 * span and so of the service's own spans. A no-op without an OpenTelemetry SDK.
 */
function inUpstreamSpan(service: ServiceName, upstream: Upstream): Upstream {
  return {
    send: (request) =>
      tracer.startActiveSpan(
        `upstream ${service}`,
        {
          attributes: {
            'bindery.service': service,
            'bindery.procedures': request.calls.map((call) => call.path),
          },
        },
        async (span) => {
          try {
            const replies = await upstream.send(request);
            if (replies.some((item) => 'error' in item && item.error.data.httpStatus >= 500)) {
              span.setStatus({ code: SpanStatusCode.ERROR, message: `${service} failed a call` });
            }
            return replies;
          } finally {
            span.end();
          }
        },
      ),
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
          log: log.child({ requestId: request.requestId }),
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
