import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';

/**
 * The tRPC HTTP wire format, as the gateway needs it: a call is `GET|POST /trpc/a.b,c.d?batch=1`,
 * inputs are keyed `"0"`, `"1"`, … (GET: the `input` query parameter; POST: the body), and the
 * reply is an array in request order. See https://trpc.io/docs/rpc
 */
export interface TrpcCall {
  path: string;
  /** The call's input as parsed JSON, or undefined when it has none. */
  input: unknown;
}

export interface TrpcRequest {
  method: 'GET' | 'POST';
  batch: boolean;
  calls: TrpcCall[];
}

/** One element of a tRPC reply: `{ result: { data } }` or `{ error: { code, message, data } }`. */
export type TrpcReplyItem =
  | { result: { data?: unknown } }
  | { error: { code: number; message: string; data: { code: string; httpStatus: number; path?: string } } };

export class TrpcRequestError extends Error {
  override name = 'TrpcRequestError';
  constructor(
    readonly code: TRPC_ERROR_CODE_KEY,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a tRPC HTTP request into its calls. `procedurePaths` is the URL path after `/trpc/`,
 * `body` the parsed JSON body of a POST (undefined when empty).
 */
export function parseTrpcRequest(options: {
  method: string;
  procedurePaths: string;
  searchParams: Pick<URLSearchParams, 'get'>;
  body: unknown;
}): TrpcRequest {
  const { method, searchParams } = options;
  if (method !== 'GET' && method !== 'POST') {
    throw new TrpcRequestError('METHOD_NOT_SUPPORTED', `Method ${method} is not supported; use GET or POST`);
  }
  const batch = searchParams.get('batch') === '1';
  const paths = safeDecodeURIComponent(options.procedurePaths)?.split(',') ?? [];
  if (paths.length === 0 || paths.some((path) => !/^[\w-]+(\.[\w-]+)*$/.test(path))) {
    throw new TrpcRequestError('NOT_FOUND', `No procedure found on path "${options.procedurePaths}"`);
  }
  if (!batch && paths.length > 1) {
    throw new TrpcRequestError('BAD_REQUEST', 'Several procedures in one call need ?batch=1');
  }
  let rawInput: unknown;
  if (method === 'GET') {
    const text = searchParams.get('input');
    if (text !== null) {
      try {
        rawInput = JSON.parse(text);
      } catch {
        throw new TrpcRequestError('PARSE_ERROR', 'The input query parameter is not valid JSON');
      }
    }
  } else {
    rawInput = options.body;
  }
  if (!batch) return { method, batch, calls: [{ path: paths[0]!, input: rawInput }] };
  if (
    rawInput !== undefined &&
    (typeof rawInput !== 'object' || rawInput === null || Array.isArray(rawInput))
  ) {
    throw new TrpcRequestError('BAD_REQUEST', 'A batch input must be an object keyed by call index');
  }
  const inputs = (rawInput ?? {}) as Record<string, unknown>;
  return { method, batch, calls: paths.map((path, index) => ({ path, input: inputs[String(index)] })) };
}

/** The decoded text, or null when it holds a malformed escape (`%E0%A4%A`): a client's mistake, not ours. */
function safeDecodeURIComponent(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** The namespace a call belongs to: the first segment of its path, which names the owning service. */
export function namespaceOf(path: string): string {
  const dot = path.indexOf('.');
  return dot === -1 ? path : path.slice(0, dot);
}

/** Groups calls by namespace, keeping each call's index in the original request. */
export function splitByNamespace(
  calls: readonly TrpcCall[],
): Map<string, { index: number; call: TrpcCall }[]> {
  const groups = new Map<string, { index: number; call: TrpcCall }[]>();
  calls.forEach((call, index) => {
    const namespace = namespaceOf(call.path);
    const group = groups.get(namespace);
    if (group) group.push({ index, call });
    else groups.set(namespace, [{ index, call }]);
  });
  return groups;
}

/** The URL path, query and body that send `calls` upstream as one batch, renumbered from 0. */
export function encodeBatch(
  method: 'GET' | 'POST',
  calls: readonly TrpcCall[],
): { pathAndQuery: string; body: string | undefined } {
  const inputs: Record<string, unknown> = {};
  calls.forEach((call, index) => {
    if (call.input !== undefined) inputs[String(index)] = call.input;
  });
  const paths = calls.map((call) => call.path).join(',');
  if (method === 'GET') {
    const query = new URLSearchParams({ batch: '1', input: JSON.stringify(inputs) });
    return { pathAndQuery: `/trpc/${paths}?${query}`, body: undefined };
  }
  return { pathAndQuery: `/trpc/${paths}?batch=1`, body: JSON.stringify(inputs) };
}

/** A reply item for an error the gateway itself raises for one call. */
export function errorItem(code: TRPC_ERROR_CODE_KEY, message: string, path?: string): TrpcReplyItem {
  const httpStatus = getHTTPStatusCodeFromError(new TRPCError({ code }));
  return {
    error: {
      code: TRPC_ERROR_CODES_BY_KEY[code],
      message,
      data: { code, httpStatus, ...(path ? { path } : {}) },
    },
  };
}

/**
 * The HTTP status tRPC gives a reply: the one status all items share, else 207 (Multi-Status)
 * when successes and errors (or different errors) mix.
 */
export function replyStatus(items: readonly TrpcReplyItem[]): number {
  const statuses = new Set(items.map((item) => ('error' in item ? item.error.data.httpStatus : 200)));
  return statuses.size === 1 ? statuses.values().next().value! : 207;
}
