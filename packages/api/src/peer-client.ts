import { context, propagation } from '@opentelemetry/api';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { AnyRouter } from '@trpc/server';
import { assertBeforeDeadline, DEADLINE_HEADER, INSTANCE_HEADER } from './deadline';
import { mintInternalToken } from './internal-token';
import { peerCalls, peerDuration } from './metrics';
import type { Caller, ServiceName, UserIdentity } from './roles';

/**
 * What a service-to-service call carries over from the call that caused it: pass the procedure's
 * `ctx`, so the peer sees the same user and request id.
 */
export interface OnBehalfOf {
  caller: { user: UserIdentity | null; ip: string | null };
  requestId: string;
  traceparent?: string | undefined;
  /** When the call that caused this one stops waiting; the peer call ends by then too. */
  deadline?: number | undefined;
}

export interface PeerClientOptions {
  /** The calling process. */
  self: ServiceName;
  /** The service called; internal tokens are addressed to it. */
  target: ServiceName;
  /**
   * Where the target is reached: a base URL, or a function that picks one per call. With a balanced
   * `fetch` (one that picks the instance itself), any URL naming the service.
   */
  baseUrl: string | (() => string);
  /**
   * Sends each call; a balancer's fetch (`balancedFetch` in @bindery/runtime) picks an instance, retries
   * and breaks circuits.
   * @defaultValue the global fetch
   */
  fetch?: typeof fetch;
  internalTokenSecret: Uint8Array;
  /** Extra headers per call, such as the trace context. */
  headers?: () => Record<string, string>;
}

/**
 * A typed client for a peer service. Each call mints an internal token addressed to the peer,
 * carrying the user and request id of the call that caused it: `peer(ctx).users.byId.query(...)`.
 */
export function createPeerClient<TRouter extends AnyRouter>(
  options: PeerClientOptions,
): (onBehalfOf: OnBehalfOf) => TRPCClient<TRouter> {
  const baseUrl = typeof options.baseUrl === 'string' ? () => options.baseUrl as string : options.baseUrl;
  return (onBehalfOf) => {
    const caller: Caller = {
      peer: options.self,
      relayed: false,
      user: onBehalfOf.caller.user,
      ip: onBehalfOf.caller.ip,
    };
    return createTRPCClient<TRouter>({
      links: [
        // The link is typed for any router: it carries JSON, and the client above types the calls.
        httpLink<AnyRouter>({
          url: `${baseUrl()}/trpc`,
          fetch: measuredFetch(options.self, options.target, options.fetch ?? fetch),
          headers: async () => ({
            ...options.headers?.(),
            authorization: `Bearer ${mintInternalToken(options.internalTokenSecret, {
              audience: options.target,
              caller,
            })}`,
            'x-request-id': onBehalfOf.requestId,
            ...traceHeaders(onBehalfOf.traceparent),
            ...deadlineHeader(onBehalfOf.deadline),
          }),
        }),
      ],
    });
  };
}

/**
 * The W3C `traceparent` of the active span, or `fallback` when there is none: without an
 * OpenTelemetry SDK (whose propagator writes it) a call passes on the trace context it came with.
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */
export function currentTraceparent(fallback?: string): string | undefined {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? fallback;
}

/**
 * The `traceparent` header of an outgoing call. Under an active span the instrumented `fetch`
 * (see `startTelemetry` in @bindery/runtime) adds its own client span's, and a second header would
 * make the pair unreadable to the receiver; otherwise the call carries `traceparent` as it is.
 */
export function traceHeaders(traceparent: string | undefined): Record<string, string> {
  if (!traceparent || currentTraceparent() !== undefined) return {};
  return { traceparent };
}

/** The remaining time of the causing call, or nothing when it set no deadline. */
function deadlineHeader(deadline: number | undefined): Record<string, string> {
  if (deadline === undefined) return {};
  assertBeforeDeadline(deadline);
  return { [DEADLINE_HEADER]: String(Math.max(0, deadline - Date.now())) };
}

/** `fetch` that records each peer call's outcome and duration (`bindery_peer_*`). */
function measuredFetch(caller: string, service: string, send: typeof fetch): typeof fetch {
  return async (input, init) => {
    const started = performance.now();
    let instance = new URL(input instanceof Request ? input.url : String(input)).origin;
    let outcome = 'network-error';
    try {
      const response = await send(input, init);
      // Behind a balancer the URL names the service; the instance that answered says who it is.
      instance = response.headers.get(INSTANCE_HEADER) ?? instance;
      outcome = `${Math.floor(response.status / 100)}xx`;
      return response;
    } finally {
      peerCalls.labels(caller, service, instance, outcome).inc();
      peerDuration.labels(caller, service, outcome).observe((performance.now() - started) / 1000);
    }
  };
}
