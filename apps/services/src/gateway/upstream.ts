import type { Context } from '@bindery/api';
import {
  type Caller,
  encodeBatch,
  errorItem,
  mintInternalToken,
  type ServiceName,
  type TrpcCall,
  type TrpcReplyItem,
  traceHeaders,
} from '@bindery/api';
import type { Logger } from '@bindery/runtime';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { AnyTRPCRouter } from '@trpc/server';
import { resolveResponse } from '@trpc/server/http';
import { Counter, Histogram } from 'prom-client';

/** A batch of calls for one namespace, with who is calling. */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  calls: TrpcCall[];
  caller: Caller;
  requestId: string;
  traceparent: string;
}

/** Where the gateway sends a namespace's calls: a service over HTTP, or its own `system` router. */
export interface Upstream {
  send(request: UpstreamRequest): Promise<TrpcReplyItem[]>;
}

/**
 * By target service and instance. The instance is the base URL it was reached at (one label value per
 * configured URL); it is not named `instance`, which Prometheus sets to the scraped process itself.
 */
const upstreamRequests = new Counter({
  name: 'bindery_gateway_upstream_requests_total',
  help: 'Batches the gateway sent to a service, by service, service instance (base URL) and outcome',
  labelNames: ['service', 'service_instance', 'outcome'] as const,
});
const upstreamDuration = new Histogram({
  name: 'bindery_gateway_upstream_duration_seconds',
  help: 'Time for a service instance to answer a batch from the gateway',
  labelNames: ['service', 'service_instance', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

/**
 * A service reached over HTTP. Each batch carries an internal token addressed to the service, the
 * request id and the trace context. A service that cannot be reached or does not answer in time
 * fails each call of the batch with 503 or 504 rather than the whole request.
 */
export function httpUpstream(options: {
  service: ServiceName;
  /** Where the service is reached; asked per batch. */
  baseUrl: () => string;
  internalTokenSecret: Uint8Array;
  /** @defaultValue 10_000 */
  timeoutMs?: number;
}): Upstream {
  const { service } = options;
  return inUpstreamSpan(service, {
    async send(request) {
      const { pathAndQuery, body } = encodeBatch(request.method, request.calls);
      const token = await mintInternalToken(options.internalTokenSecret, {
        audience: service,
        caller: request.caller,
        requestId: request.requestId,
      });
      const instance = options.baseUrl();
      const stopTimer = upstreamDuration.startTimer({ service, service_instance: instance });
      let outcome = 'ok';
      try {
        const response = await fetch(instance + pathAndQuery, {
          method: request.method,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'x-request-id': request.requestId,
            ...traceHeaders(request.traceparent),
          },
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        const reply = (await response.json()) as unknown;
        if (Array.isArray(reply) && reply.length === request.calls.length) return reply as TrpcReplyItem[];
        outcome = 'bad-reply';
        // A service answers a whole batch with one error when it refuses the request itself.
        if (reply && typeof reply === 'object' && 'error' in reply)
          return request.calls.map(() => reply as TrpcReplyItem);
        return request.calls.map((call) =>
          errorItem('BAD_GATEWAY', `${service} gave an unreadable reply`, call.path),
        );
      } catch (error) {
        const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
        outcome = timedOut ? 'timeout' : 'unreachable';
        return request.calls.map((call) =>
          timedOut
            ? errorItem('GATEWAY_TIMEOUT', `${service} did not answer in time`, call.path)
            : errorItem('SERVICE_UNAVAILABLE', `${service} is unavailable`, call.path),
        );
      } finally {
        upstreamRequests.inc({ service, service_instance: instance, outcome });
        stopTimer({ outcome });
      }
    },
  });
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
