import { DEADLINE_HEADER, DEFAULT_TIMEOUT_MS, errorItem, NOT_PROCESSED_HEADER } from '@bindery/api';
import { ServiceUnavailableError } from './errors';
import type { ServicePool } from './service-pool';

/**
 * A `fetch` for a peer client that sends each call through a service's pool: the URL's origin is
 * replaced by the instance the strategy picks, and the pool's policies apply. A query (GET) is safe
 * to retry, and so is a mutation whose input carries an `idempotencyKey`; other mutations are
 * retried only when they never reached an instance. When no instance answers, the reply is the
 * tRPC error a service would give (503, 504 or 429), so the typed client throws as usual.
 */
export function balancedFetch(pool: ServicePool): typeof fetch {
  return async (input, init) => {
    const target = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    const method = init?.method ?? 'GET';
    const timeoutMs = Number(headers.get(DEADLINE_HEADER)) || DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const safe = method === 'GET' || (typeof init?.body === 'string' && carriesIdempotencyKey(init.body));
    try {
      return await pool.call(
        async (endpoint, abort) => {
          headers.set(DEADLINE_HEADER, String(Math.max(0, deadline - Date.now())));
          const response = await fetch(endpoint.url + target.pathname + target.search, {
            ...init,
            headers,
            signal: init?.signal ? AbortSignal.any([init.signal, abort.signal]) : abort.signal,
          });
          if (response.status < 500) return response;
          // Read now: a failed answer may be dropped for a retry, and must not hold its connection.
          return new Response(await response.arrayBuffer(), {
            status: response.status,
            headers: response.headers,
          });
        },
        {
          safe,
          timeoutMs,
          isFailure: (response) => response.status >= 500,
          wasNotProcessed: (response) => response.headers.has(NOT_PROCESSED_HEADER),
        },
      );
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      const [code, status] =
        error.reason === 'timeout'
          ? (['GATEWAY_TIMEOUT', 504] as const)
          : error.reason === 'overloaded'
            ? (['TOO_MANY_REQUESTS', 429] as const)
            : (['SERVICE_UNAVAILABLE', 503] as const);
      const path = decodeURIComponent(target.pathname.replace(/^.*\/trpc\//, ''));
      return Response.json(errorItem(code, error.message, path), { status });
    }
  };
}

/** Whether a tRPC request body gives its input (or, in a batch, every input) an idempotency key. */
export function carriesIdempotencyKey(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as unknown;
    const hasKey = (input: unknown) =>
      typeof input === 'object' &&
      input !== null &&
      typeof (input as { idempotencyKey?: unknown }).idempotencyKey === 'string';
    return (
      hasKey(parsed) || (typeof parsed === 'object' && parsed !== null && Object.values(parsed).every(hasKey))
    );
  } catch {
    return false;
  }
}
