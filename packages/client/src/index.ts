import { createTRPCClient, httpBatchLink, type TRPCClient, TRPCClientError } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './app-router.js';

export type { AppRouter };
/** The input type of every procedure: `RouterInputs['catalog']['books']['create']`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** The output type of every procedure: `RouterOutputs['catalog']['books']['byId']`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type BinderyClient = TRPCClient<AppRouter>;

export interface BinderyClientOptions {
  /** The gateway's base URL, such as `http://localhost:4000`. */
  url: string;
  /** An access token from `auth.login` or an API token (`bnd_…`); a function is asked per request. */
  token?: string | null | (() => string | null | undefined | Promise<string | null | undefined>);
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** A fetch implementation; defaults to the global one. */
  fetch?: typeof fetch;
  /**
   * Most calls batched into one request.
   * @defaultValue 20
   */
  maxBatchSize?: number;
}

/**
 * A fully typed client for the Bindery API. Calls made in the same tick travel as one batched
 * request; the gateway splits it by service and answers in order.
 *
 * ```ts
 * const bindery = createBinderyClient({ url: 'http://localhost:4000', token });
 * const book = await bindery.catalog.books.byId.query({ id });
 * ```
 */
export function createBinderyClient(options: BinderyClientOptions): BinderyClient {
  const base = options.url.replace(/\/+$/, '');
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/trpc`,
        maxItems: options.maxBatchSize ?? 20,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        headers: async () => {
          const token = typeof options.token === 'function' ? await options.token() : options.token;
          return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
        },
      }),
    ],
  });
}

/** Whether `error` came from the API (as opposed to, say, a network failure), with its typed shape. */
export function isBinderyError(error: unknown): error is TRPCClientError<AppRouter> {
  return error instanceof TRPCClientError;
}
