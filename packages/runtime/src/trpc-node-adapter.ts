import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AnyTRPCProcedure,
  type AnyTRPCRouter,
  getTRPCErrorFromUnknown,
  TRPCError,
  type TRPCProcedureType,
  transformTRPCResponse,
} from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import { getHTTPStatusCode } from '@trpc/server/http';
import type { TRPCResponse } from '@trpc/server/rpc';
import { defaultTransformer, getErrorShape, getParseFn } from '@trpc/server/unstable-core-do-not-import';
import { setReplyHeaders, writeReplyHead } from './http-util';

/**
 * Which adapter answers `/trpc` in a service: `lean` (this file) or `stock` (tRPC's own
 * `nodeHTTPRequestHandler`). Both answer every request alike; the lean one is several times faster.
 */
export type TrpcAdapterName = 'lean' | 'stock';
export const TRPC_ADAPTERS = ['lean', 'stock'] as const satisfies readonly TrpcAdapterName[];

/** What `onError` hears of a failed call, as tRPC's adapters report it. */
export interface TrpcNodeErrorInfo<TContext> {
  error: TRPCError;
  type: TRPCProcedureType | 'unknown';
  path: string | undefined;
  input: unknown;
  ctx: TContext | undefined;
  req: IncomingMessage;
}

export interface TrpcNodeHandlerOptions<TContext> {
  router: AnyTRPCRouter;
  req: IncomingMessage;
  res: ServerResponse;
  /** The URL path after `/trpc/`, still URL-encoded. */
  path: string;
  /** The largest request body read, in bytes; a call reading a larger one fails with 413. */
  maxBodySize: number;
  createContext: () => Promise<TContext>;
  onError?: (info: TrpcNodeErrorInfo<TContext>) => void;
  /**
   * Headers every reply carries besides tRPC's own (the service host's request id and instance).
   * The lean adapter writes them in its one `writeHead` (see `writeReplyHead`).
   */
  headers?: Readonly<Record<string, string>>;
}

/** tRPC's stock Node adapter with the same options: the reference the lean one is tested against. */
export function stockTrpcNodeHandler<TContext>(options: TrpcNodeHandlerOptions<TContext>): Promise<void> {
  const { router, req, res, path, maxBodySize, onError, headers } = options;
  setReplyHeaders(res, headers);
  return nodeHTTPRequestHandler({
    router,
    req,
    res,
    path,
    maxBodySize,
    allowMethodOverride: false,
    createContext: () => options.createContext(),
    ...(onError
      ? {
          onError: (info: TrpcNodeErrorInfo<TContext>) => onError({ ...info, req }),
        }
      : {}),
  } as Parameters<typeof nodeHTTPRequestHandler>[0]);
}

type CallResult = { ok: true; data: unknown } | { ok: false; error: TRPCError };

const ACCEPTED_METHOD: Record<TRPCProcedureType, string> = {
  query: 'GET',
  mutation: 'POST',
  subscription: 'GET',
};

/** The host header as the WHATWG URL parser accepts it; anything else goes to the stock adapter. */
const PLAIN_HOST = /^[\w.-]+(:\d{1,5})?$|^\[[\d:a-fA-F.]+\](:\d{1,5})?$/;

/**
 * tRPC's HTTP protocol (https://trpc.io/docs/rpc) spoken straight from Node's request and response:
 * single and batched calls over GET and POST, JSON bodies, the error shape and status codes (207
 * when a batch mixes outcomes), with tRPC's own helpers (`getTRPCErrorFromUnknown`,
 * `getErrorShape`, `getHTTPStatusCode`). Unlike the stock adapter it builds no Fetch `Request`,
 * `Headers`, `AbortSignal` pair or web-stream `Response` per call: the body is read as a Buffer
 * only when a procedure asks for its input, and one abort signal per request is created when a
 * procedure is called. It mirrors `resolveResponse` of @trpc/server 11.22.1 step by step; the
 * conformance test (`packages/runtime/test/trpc-node-adapter.test.ts`) compares the two byte for
 * byte. The rare cases (HEAD, other methods, form data, `trpc-accept: application/jsonl`
 * streaming, subscriptions, connection params, lazy routers) go to the stock adapter.
 */
export async function leanTrpcNodeHandler<TContext>(
  options: TrpcNodeHandlerOptions<TContext>,
): Promise<void> {
  const { router, req, res } = options;
  const method = req.method;
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const hashStart = url.indexOf('#');
  const query =
    queryStart === -1 || (hashStart !== -1 && hashStart < queryStart)
      ? ''
      : url.slice(queryStart + 1, hashStart === -1 ? undefined : hashStart);
  if (needsStockAdapter(req, method, query)) return stockTrpcNodeHandler(options);

  const config = router._def._config;
  const parameters = queryParameters(query);
  const isBatchCall = parameters.batch === '1';
  let ctx: TContext | undefined;
  let infoType: TRPCProcedureType | 'unknown' = 'unknown';
  // The stock adapter names the content type only once it answers calls; refusals before are plain text.
  let contentType = 'text/plain;charset=UTF-8';
  try {
    let decodedPath = options.path;
    try {
      if (decodedPath.includes('%')) decodedPath = decodeURIComponent(decodedPath);
    } catch (cause) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `Invalid URL-encoding in path "${options.path}"`,
        cause,
      });
    }
    const paths = isBatchCall ? decodedPath.split(',') : [decodedPath];
    const procedures = router._def.procedures as Record<string, AnyTRPCProcedure | undefined>;
    const lazy = hasLazyRouters(router);
    const calls: (AnyTRPCProcedure | null)[] = new Array(paths.length);
    const types: TRPCProcedureType[] = [];
    for (let index = 0; index < paths.length; index++) {
      const procedure = procedures[paths[index]!] ?? null;
      // A lazy router loads on first use, and a subscription streams Server-Sent Events.
      if ((!procedure && lazy) || procedure?._def.type === 'subscription') {
        return stockTrpcNodeHandler(options);
      }
      calls[index] = procedure;
      if (procedure && types[0] !== procedure._def.type && !types.includes(procedure._def.type)) {
        types.push(procedure._def.type);
      }
    }
    if (types.length > 1) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `Cannot mix procedure types in call: ${types.join(', ')}`,
      });
    }
    infoType = types[0] ?? 'unknown';
    const inputs = new LazyInputs(options, method === 'GET' ? parameters.input : undefined, {
      isBatchCall,
      callCount: paths.length,
      deserialize: config.transformer.input.deserialize,
    });

    let contextError: TRPCError | undefined;
    try {
      ctx = await options.createContext();
    } catch (cause) {
      contextError = getTRPCErrorFromUnknown(cause);
    }
    const abort = new LazyAbortSignal(res);
    contentType = 'application/json';
    const callAt = async (index: number): Promise<CallResult> => {
      const procedure = calls[index]!;
      const path = paths[index]!;
      try {
        if (!procedure) {
          throw new TRPCError({ code: 'NOT_FOUND', message: `No procedure found on path "${path}"` });
        }
        const type = procedure._def.type;
        if (ACCEPTED_METHOD[type] !== method) {
          throw new TRPCError({
            code: 'METHOD_NOT_SUPPORTED',
            message: `Unsupported ${method}-request to ${type} procedure at path "${path}"`,
          });
        }
        if (contextError) throw contextError;
        const data = await callProcedure(procedure, {
          path,
          type,
          batchIndex: index,
          abort,
          ctx,
          getRawInput: () => inputs.read(index),
        });
        return { ok: true, data };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        options.onError?.({
          error,
          path,
          input: inputs.result(index),
          ctx,
          type: procedure?._def.type ?? 'unknown',
          req,
        });
        return { ok: false, error };
      }
    };

    if (!isBatchCall) {
      const result = await callAt(0);
      if (result.ok && isDataStream(result.data)) {
        throw new TRPCError({
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'Cannot use stream-like response in non-streaming request - use httpBatchStreamLink',
        });
      }
      const response: TRPCResponse = result.ok
        ? { result: { data: result.data } }
        : {
            error: getErrorShape({
              config,
              ctx,
              error: result.error,
              input: inputs.result(0),
              path: paths[0],
              type: infoType,
            }),
          };
      return send(
        res,
        getHTTPStatusCode([response]),
        contentType,
        serialize(config, response),
        options.headers,
      );
    }

    const results = await Promise.all(paths.map((_, index) => callAt(index)));
    const responses = results.map((result, index): TRPCResponse => {
      if (result.ok && !isDataStream(result.data)) return { result: { data: result.data } };
      const error = result.ok
        ? new TRPCError({
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: 'Cannot use stream-like response in non-streaming request - use httpBatchStreamLink',
          })
        : result.error;
      return {
        error: getErrorShape({
          config,
          ctx,
          error,
          input: inputs.result(index),
          path: paths[index],
          type: calls[index]?._def.type ?? 'unknown',
        }),
      };
    });
    return send(
      res,
      getHTTPStatusCode(responses),
      contentType,
      serialize(config, responses),
      options.headers,
    );
  } catch (cause) {
    // Refused before any procedure ran (bad path, mixed types), or a reply that cannot be serialized.
    const error = getTRPCErrorFromUnknown(cause);
    options.onError?.({ error, path: undefined, input: undefined, ctx, type: infoType, req });
    const response = {
      error: getErrorShape({ config, error, type: infoType, path: undefined, input: undefined, ctx }),
    };
    return send(res, getHTTPStatusCode(response), contentType, serialize(config, response), options.headers);
  }
}

interface ProcedureCall {
  path: string;
  type: TRPCProcedureType;
  batchIndex: number;
  /** The request's abort signal, made when a middleware or the resolver first reads it. */
  abort: LazyAbortSignal;
  ctx: unknown;
  getRawInput: () => Promise<unknown>;
}

interface ProcedureDef {
  middlewares: (((options: Record<string, unknown>) => Promise<MiddlewareResult>) & { _type?: string })[];
  /** The input parsers, in the order of their middlewares (`.input()` adds one of each). */
  inputs: Parameters<typeof getParseFn>[0][];
  resolver?: (options: Record<string, unknown>) => Promise<unknown>;
  meta: unknown;
  caller?: unknown;
}

/**
 * The end of a procedure's middleware list that the adapter runs as one level: its input
 * validators (`.input()`) and the resolver that tRPC appends last (`resolveMiddleware`).
 */
interface ResolverTail {
  /** The index of the tail's first middleware. */
  from: number;
  /** The parse function of each of its input validators, made as tRPC's builder makes them. */
  parsers: ((input: unknown) => unknown)[];
}

const resolverTails = new WeakMap<ProcedureDef, ResolverTail | null>();

/**
 * A procedure's resolver tail, worked out once per procedure: null when its list does not end as
 * tRPC's builder ends it, and the adapter then runs every level as tRPC does.
 */
function resolverTail(def: ProcedureDef): ResolverTail | null {
  let tail = resolverTails.get(def);
  if (tail !== undefined) return tail;
  tail = null;
  const { middlewares, inputs, resolver } = def;
  const last = middlewares.length - 1;
  const inputCount = middlewares.filter((middleware) => middleware._type === 'input').length;
  if (
    last >= 0 &&
    typeof resolver === 'function' &&
    middlewares[last]!.name === 'resolveMiddleware' &&
    Array.isArray(inputs) &&
    inputs.length === inputCount
  ) {
    let from = last;
    while (from > 0 && middlewares[from - 1]!._type === 'input') from--;
    const tailInputs = last - from;
    tail = { from, parsers: inputs.slice(inputs.length - tailInputs).map((input) => getParseFn(input)) };
  }
  resolverTails.set(def, tail);
  return tail;
}

/**
 * Runs a resolver tail as tRPC's levels would, in one: each input validator reads the raw input,
 * parses it (a parser's failure is a BAD_REQUEST caused by it) and merges it into the input so far
 * when both are objects; the resolver gets the options of its own level and its data comes back
 * with the context. A failure at any of them yields the failed result, as it would at its level.
 * Two levels fewer on a typical procedure (one input, the resolver): no options object, `next`,
 * promise and result of their own.
 */
async function runResolverTail(
  tail: ResolverTail,
  def: ProcedureDef,
  call: ProcedureCall,
  ctx: unknown,
  input: unknown,
  getRawInput: () => Promise<unknown>,
): Promise<MiddlewareResult> {
  try {
    let combinedInput = input;
    for (const parse of tail.parsers) {
      const rawInput = await getRawInput();
      let parsedInput: unknown;
      try {
        parsedInput = await parse(rawInput);
      } catch (cause) {
        throw new TRPCError({ code: 'BAD_REQUEST', cause });
      }
      combinedInput =
        isObject(combinedInput) && isObject(parsedInput) ? { ...combinedInput, ...parsedInput } : parsedInput;
    }
    const options = new MiddlewareOptions(
      def.middlewares.length - 1,
      def,
      call,
      ctx,
      combinedInput,
      getRawInput,
    );
    const data = await def.resolver!(options as unknown as Record<string, unknown>);
    return { ok: true, data, ctx, marker: MIDDLEWARE_MARKER };
  } catch (cause) {
    return { ok: false, error: getTRPCErrorFromUnknown(cause), marker: MIDDLEWARE_MARKER };
  }
}

/** Runs the procedure's middleware at `index`, or its resolver tail from there. */
function runLevel(
  index: number,
  def: ProcedureDef,
  call: ProcedureCall,
  ctx: unknown,
  input: unknown,
  getRawInput: () => Promise<unknown>,
): Promise<MiddlewareResult> {
  const tail = resolverTail(def);
  if (tail && index === tail.from) return runResolverTail(tail, def, call, ctx, input, getRawInput);
  return new MiddlewareOptions(index, def, call, ctx, input, getRawInput).run();
}

type MiddlewareResult =
  | { ok: true; data: unknown; ctx?: unknown; marker: string }
  | { ok: false; error: TRPCError; marker: string };

/** The marker tRPC's middleware results carry (`middlewareMarker` in @trpc/server's middleware.ts). */
const MIDDLEWARE_MARKER = 'middlewareMarker';

/**
 * Calls a procedure as tRPC's own procedure caller (`createProcedureCaller`/`callRecursive` of
 * @trpc/server 11.22.1) does, through its middleware list with the same options at every level:
 * `path`, `type`, `ctx`, `input`, `getRawInput`, `signal`, `batchIndex`, `meta` and `next`; `next`
 * merges the context it is given into the one it got, and a middleware that throws yields the
 * failed result. tRPC copies the whole option object twice at each level with a property-by-property
 * spread helper, the largest cost of a call once Fetch objects are gone; here each level builds one
 * small object. A procedure with an `experimental_caller` is called through tRPC itself.
 */
async function callProcedure(procedure: AnyTRPCProcedure, call: ProcedureCall): Promise<unknown> {
  const def = procedure._def as unknown as ProcedureDef;
  if (def.caller || !Array.isArray(def.middlewares)) {
    return procedure({
      path: call.path,
      getRawInput: call.getRawInput,
      ctx: call.ctx,
      type: call.type,
      signal: call.abort.signal,
      batchIndex: call.batchIndex,
    });
  }
  const result = await runLevel(0, def, call, call.ctx, undefined, call.getRawInput);
  if (!result) {
    throw new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'No result from middlewares - did you forget to `return next()`?',
    });
  }
  if (!result.ok) throw result.error;
  return result.data;
}

/**
 * What a middleware (or the resolver) gets, with tRPC's own keys. `signal` is an own enumerable
 * accessor, so a middleware that copies the options (`{ ...options }`) copies the signal too, but
 * the abort controller behind it is made only when something reads it; its getter is one shared
 * function, so every instance keeps one hidden class (an accessor in an object literal is a new
 * closure per call and made each level several times slower).
 */
class MiddlewareOptions {
  readonly #index: number;
  readonly #def: ProcedureDef;
  readonly #call: ProcedureCall;
  readonly path: string;
  readonly getRawInput: () => Promise<unknown>;
  readonly ctx: unknown;
  readonly type: TRPCProcedureType;
  declare readonly signal: AbortSignal;
  readonly batchIndex: number;
  readonly input: unknown;
  readonly meta: unknown;

  static readonly #signal: PropertyDescriptor = {
    get(this: MiddlewareOptions) {
      return this.#call.abort.signal;
    },
    enumerable: true,
    configurable: true,
  };

  constructor(
    index: number,
    def: ProcedureDef,
    call: ProcedureCall,
    ctx: unknown,
    input: unknown,
    getRawInput: () => Promise<unknown>,
  ) {
    this.#index = index;
    this.#def = def;
    this.#call = call;
    this.path = call.path;
    this.getRawInput = getRawInput;
    this.ctx = ctx;
    this.type = call.type;
    Object.defineProperty(this, 'signal', MiddlewareOptions.#signal);
    this.batchIndex = call.batchIndex;
    this.input = input;
    this.meta = def.meta;
  }

  next = (nextOptions?: { ctx?: object; input?: unknown; getRawInput?: () => Promise<unknown> }) =>
    runLevel(
      this.#index + 1,
      this.#def,
      this.#call,
      nextOptions?.ctx ? { ...(this.ctx as object), ...nextOptions.ctx } : this.ctx,
      nextOptions && 'input' in nextOptions ? nextOptions.input : this.input,
      nextOptions?.getRawInput ?? this.getRawInput,
    );

  /** Runs this level's middleware; one that throws yields the failed result, as in tRPC. */
  async run(): Promise<MiddlewareResult> {
    try {
      return await this.#def.middlewares[this.#index]!(this as unknown as Record<string, unknown>);
    } catch (cause) {
      return { ok: false, error: getTRPCErrorFromUnknown(cause), marker: MIDDLEWARE_MARKER };
    }
  }
}

/** The requests the lean adapter leaves to the stock one: rare, and not worth a second implementation. */
function needsStockAdapter(req: IncomingMessage, method: string | undefined, query: string): boolean {
  const headers = req.headers;
  if (method !== 'GET' && method !== 'POST') return true;
  const contentType = mediaType(headers['content-type']);
  if (method === 'POST' ? contentType !== 'application/json' : isNonJsonBodyType(contentType)) return true;
  const trpcAccept = headers['trpc-accept'];
  if (trpcAccept !== undefined) {
    if (trpcAccept === 'application/jsonl') return true;
  } else if (headers.accept?.split(',').some((type) => type.trim() === 'application/jsonl')) {
    return true;
  }
  if (query.includes('connectionParams')) return true;
  const host = headers.host;
  return host !== undefined && !PLAIN_HOST.test(host);
}

/** Media types are case-insensitive: https://www.rfc-editor.org/rfc/rfc9110#section-8.3.1 */
function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.toLowerCase().split(';', 1)[0]?.trim();
}

function isNonJsonBodyType(contentType: string | undefined): boolean {
  return contentType === 'multipart/form-data' || contentType === 'application/octet-stream';
}

/** The call inputs, parsed once when a procedure first asks for its own, as tRPC's memo does. */
class LazyInputs {
  private pending: Promise<Record<number, unknown>> | undefined;
  private parsed: Record<number, unknown> | undefined;

  constructor(
    private readonly source: Pick<TrpcNodeHandlerOptions<unknown>, 'req' | 'maxBodySize'>,
    /** The `input` query parameter of a GET (null when absent), undefined for a POST's body. */
    private readonly queryInput: string | null | undefined,
    private readonly shape: {
      isBatchCall: boolean;
      callCount: number;
      deserialize: (value: unknown) => unknown;
    },
  ) {}

  async read(index: number): Promise<unknown> {
    if (this.parsed) return this.parsed[index];
    this.pending ??= this.parse().catch((cause: unknown) => {
      if (cause instanceof TRPCError) throw cause;
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: cause instanceof Error ? cause.message : 'Invalid input',
        cause,
      });
    });
    this.parsed = await this.pending;
    return this.parsed[index];
  }

  /** The input of call `index` if it was parsed, for error shapes and `onError`. */
  result(index: number): unknown {
    return this.parsed?.[index];
  }

  private async parse(): Promise<Record<number, unknown>> {
    const { queryInput, shape } = this;
    let inputs: unknown;
    if (queryInput === undefined) {
      inputs = JSON.parse(await readUtf8Body(this.source.req, this.source.maxBodySize));
    } else if (queryInput) inputs = JSON.parse(queryInput);
    const record: Record<number, unknown> = Object.create(null);
    if (inputs === undefined) return record;
    if (!shape.isBatchCall) {
      record[0] = shape.deserialize(inputs);
      return record;
    }
    if (!isObject(inputs)) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: '"input" needs to be an object when doing a batch call',
      });
    }
    for (let index = 0; index < shape.callCount; index++) {
      const input = inputs[index];
      if (input !== undefined) record[index] = shape.deserialize(input);
    }
    return record;
  }
}

/**
 * The body as text, as `Request.json()` decodes it (a leading byte order mark dropped); past
 * `limitBytes` it fails with the stock adapter's PAYLOAD_TOO_LARGE and the rest is discarded.
 */
function readUtf8Body(req: IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limitBytes) {
      req.resume();
      return reject(new TRPCError({ code: 'PAYLOAD_TOO_LARGE' }));
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onFailure);
      req.off('aborted', onFailure);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) {
        cleanup();
        req.resume();
        reject(new TRPCError({ code: 'PAYLOAD_TOO_LARGE' }));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8');
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    };
    const onFailure = () => {
      cleanup();
      reject(new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'The client closed the request' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onFailure);
    req.on('aborted', onFailure);
  });
}

/**
 * One abort signal per request, made on first use, aborted when the connection closes before the
 * response is complete (the client went away), as the stock adapter's `Request.signal` is.
 */
class LazyAbortSignal {
  private controller: AbortController | undefined;

  constructor(private readonly res: ServerResponse) {}

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    const { res } = this;
    if (res.closed) {
      if (!res.writableEnded) controller.abort();
    } else {
      res.once('close', () => {
        if (!res.writableEnded) controller.abort();
      });
    }
    return controller.signal;
  }
}

/**
 * The `batch` and `input` query parameters as `URLSearchParams` reads them (the first of each, `+`
 * as a space, percent-decoded), without building one per request. A malformed percent-encoding,
 * which `URLSearchParams` keeps as it is, is left to `URLSearchParams` itself.
 */
export function queryParameters(query: string): { batch: string | null; input: string | null } {
  let batch: string | null = null;
  let input: string | null = null;
  try {
    let start = 0;
    while (start <= query.length && (batch === null || input === null)) {
      let end = query.indexOf('&', start);
      if (end === -1) end = query.length;
      if (end > start) {
        const equals = query.indexOf('=', start);
        const nameEnd = equals === -1 || equals > end ? end : equals;
        const name = formDecode(query.slice(start, nameEnd));
        if ((name === 'batch' && batch === null) || (name === 'input' && input === null)) {
          const value = nameEnd === end ? '' : formDecode(query.slice(nameEnd + 1, end));
          if (name === 'batch') batch = value;
          else input = value;
        }
      }
      start = end + 1;
    }
  } catch {
    const parameters = new URLSearchParams(query);
    return { batch: parameters.get('batch'), input: parameters.get('input') };
  }
  return { batch, input };
}

/** One form-encoded name or value; throws on a malformed percent-encoding or invalid UTF-8. */
function formDecode(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  return spaced.includes('%') ? decodeURIComponent(spaced) : spaced;
}

/** The reply's JSON; tRPC's response transform is skipped when the router has no transformer. */
function serialize(
  config: AnyTRPCRouter['_def']['_config'],
  response: TRPCResponse | TRPCResponse[],
): string {
  return JSON.stringify(
    config.transformer === defaultTransformer ? response : transformTRPCResponse(config, response),
  );
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Readonly<Record<string, string>> | undefined,
): void {
  // The stock adapter leaves a status a procedure set itself.
  writeReplyHead(
    res,
    res.statusCode === 200 ? status : res.statusCode,
    { vary: 'trpc-accept, accept', 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
    headers,
  );
  res.end(body);
}

/** Whether a router holds lazily loaded routers, which the stock adapter loads; asked once per router. */
const lazyRouters = new WeakMap<AnyTRPCRouter, boolean>();

function hasLazyRouters(router: AnyTRPCRouter): boolean {
  let lazy = lazyRouters.get(router);
  if (lazy === undefined) {
    lazy = Object.keys(router._def.lazy).length > 0;
    lazyRouters.set(router, lazy);
  }
  return lazy;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && !Array.isArray(value) && typeof value === 'object';
}

function isAsyncIterable(value: unknown): boolean {
  return isObject(value) && Symbol.asyncIterator in value;
}

function isPromise(value: unknown): boolean {
  return (
    (isObject(value) || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function' &&
    typeof (value as { catch?: unknown }).catch === 'function'
  );
}

/** A promise or an async iterable, or an object holding one: tRPC streams those, never as plain JSON. */
function isDataStream(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (isAsyncIterable(value)) return true;
  const values = Object.values(value);
  return values.some(isPromise) || values.some(isAsyncIterable);
}
