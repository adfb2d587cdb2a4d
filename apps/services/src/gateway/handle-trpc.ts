import { randomFillSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Caller,
  currentTraceparent,
  DEADLINE_HEADER,
  DEFAULT_MAX_BODY_BYTES,
  deadlineFromHeader,
  errorItem,
  HotCounter,
  namespaceOf,
  parseTrpcRequest,
  replyStatus,
  splitByNamespace,
  type TrpcReplyItem,
  type TrpcRequest,
  TrpcRequestError,
  tracingEnabled,
} from '@bindery/api';
import {
  BodyTooLargeError,
  headerValue,
  type RequestHandler,
  readBody,
  sendJson,
  setReplyHeaders,
  writeReplyHead,
} from '@bindery/runtime';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { Authentication } from './authenticate';
import type { LocalSubscriptions } from './local-subscriptions';
import type { ProcedureDirectory } from './procedure-directory';
import { requestTarget } from './request-target';
import type { Upstream } from './upstream';

const gatewayCalls = new HotCounter({
  name: 'bindery_gateway_calls_total',
  help: 'Procedure calls the gateway answered, by namespace and outcome',
  labelNames: ['namespace', 'outcome'] as const,
});

/** W3C trace context: https://www.w3.org/TR/trace-context/#traceparent-header */
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

function traceparentOf(req: IncomingMessage): string {
  // Under OpenTelemetry, the gateway's span (a child of the incoming `traceparent`, if any).
  const current = currentTraceparent();
  if (current) return current;
  const incoming = headerValue(req, 'traceparent');
  if (incoming && TRACEPARENT.test(incoming)) return incoming;
  return `00-${randomHex(16)}-${randomHex(8)}-01`;
}

/**
 * Random bytes drawn from a pool filled a few kilobytes at a time: asking the system for 16 and 8
 * bytes on every request cost the gateway more than the rest of its trace handling.
 */
const randomPool = Buffer.alloc(4096);
let randomPoolOffset = randomPool.length;

function randomHex(bytes: number): string {
  if (randomPoolOffset + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const hex = randomPool.toString('hex', randomPoolOffset, randomPoolOffset + bytes);
  randomPoolOffset += bytes;
  return hex;
}

/**
 * The gateway's `/trpc` endpoint: authenticates the caller once, splits a batch by namespace,
 * sends each part to its service in parallel, and merges the replies in the original order with
 * the status tRPC itself would give. It declares no procedure: a service's new procedure is
 * reachable as soon as the service serves it.
 */
export function createTrpcHandler(options: {
  upstreams: ReadonlyMap<string, Upstream>;
  authenticate: (authorization: string | undefined) => Promise<Authentication>;
  procedures: ProcedureDirectory;
  /** The gateway's own subscriptions, streamed directly rather than forwarded. */
  subscriptions: LocalSubscriptions;
}): RequestHandler {
  const handle: RequestHandler = async (req, res, requestId, headers) => {
    const url = requestTarget(req.url);
    const procedurePaths = url.pathname.slice('/trpc/'.length);
    const batch = url.searchParams.get('batch') === '1';
    const pathsForErrors = procedurePaths.split(',');

    if (req.method === 'GET' && !batch && options.subscriptions.serves(procedurePaths)) {
      // tRPC's own handler writes the event stream's head.
      setReplyHeaders(res, headers);
      const outcome = await options.subscriptions.serve(req, res, {
        path: procedurePaths,
        requestId,
        traceparent: traceparentOf(req),
        caller: async () => {
          const authentication = await options.authenticate(headerValue(req, 'authorization'));
          if (authentication.kind === 'invalid')
            throw new TRPCError({ code: 'UNAUTHORIZED', message: authentication.reason });
          if (authentication.kind === 'unavailable') {
            throw new TRPCError({
              code: 'SERVICE_UNAVAILABLE',
              message: 'API tokens cannot be checked right now; try again',
            });
          }
          return callerOf(req, authentication);
        },
      });
      gatewayCalls.labels(namespaceOf(procedurePaths), outcome).inc();
      return;
    }

    const fail = (code: TRPC_ERROR_CODE_KEY, message: string) => {
      const items = pathsForErrors.map((path) => errorItem(code, message, path));
      reply(res, batch ? items : items.slice(0, 1), batch, headers);
    };

    let request: TrpcRequest;
    let maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    let rawBody: Buffer | undefined;
    try {
      // The rules (body limit, timeout, whether a retry is safe) of the procedures called.
      const reading = options.procedures.startReading(pathsForErrors.map(namespaceOf));
      if (reading) await reading;
      if (req.method === 'POST') {
        maxBodyBytes = options.procedures.maxBodyBytes(pathsForErrors);
        rawBody = await readBody(req, maxBodyBytes);
      }
      request = parseTrpcRequest({
        method: req.method ?? 'GET',
        procedurePaths,
        searchParams: url.searchParams,
        body: rawBody === undefined ? undefined : parseJsonBody(rawBody),
      });
      if (request.calls.some((call) => nestsDeeperThan(call.input, MAX_INPUT_DEPTH))) {
        throw new TrpcRequestError('BAD_REQUEST', `An input nests deeper than ${MAX_INPUT_DEPTH} levels`);
      }
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return fail('PAYLOAD_TOO_LARGE', `The body exceeds ${maxBodyBytes} bytes`);
      }
      if (error instanceof TrpcRequestError) return fail(error.code, error.message);
      throw error;
    }

    const authentication = await options.authenticate(headerValue(req, 'authorization'));
    if (authentication.kind === 'invalid') return fail('UNAUTHORIZED', authentication.reason);
    if (authentication.kind === 'unavailable') {
      return fail('SERVICE_UNAVAILABLE', 'API tokens cannot be checked right now; try again');
    }
    const caller = callerOf(req, authentication);
    const traceparent = traceparentOf(req);
    // A client may say how long it waits; each procedure's own timeout applies besides.
    const deadline = deadlineFromHeader(headerValue(req, DEADLINE_HEADER));

    const groups = splitByNamespace(request.calls);
    const items: TrpcReplyItem[] = new Array(request.calls.length);
    const [onlyNamespace] = groups.keys();
    // An empty body is re-encoded as no input at all (`{}`), which the service reads differently.
    const whole =
      groups.size === 1 && rawBody?.length !== 0 ? options.upstreams.get(onlyNamespace!) : undefined;
    if (whole?.forward) {
      // Every call goes to one service: it gets the request as it came, and its reply comes back as
      // it went when every call succeeded, neither encoded nor decoded again.
      const answer = await whole.forward({
        method: request.method,
        calls: request.calls,
        caller,
        requestId,
        traceparent,
        deadline,
        pathAndQuery: `${url.pathname}${url.search}`,
        body: rawBody,
      });
      if (!Array.isArray(answer)) {
        gatewayCalls.labels(onlyNamespace!, 'ok').inc(request.calls.length);
        writeReplyHead(
          res,
          answer.status,
          { 'content-type': 'application/json', 'content-length': answer.body.length },
          headers,
        );
        res.end(answer.body);
        return;
      }
      answer.forEach((item, index) => {
        items[index] = item;
      });
    }
    await Promise.all(
      [...(whole?.forward ? [] : groups)].map(async ([namespace, members]) => {
        const upstream = options.upstreams.get(namespace);
        const replies = upstream
          ? await upstream.send({
              method: request.method,
              calls: members.map((member) => member.call),
              caller,
              requestId,
              traceparent,
              deadline,
            })
          : members.map(({ call }) =>
              errorItem('NOT_FOUND', `No procedure found on path "${call.path}"`, call.path),
            );
        members.forEach((member, position) => {
          items[member.index] = replies[position]!;
        });
      }),
    );
    for (const [index, item] of items.entries()) {
      const namespace = namespaceOf(request.calls[index]!.path);
      gatewayCalls
        // Only namespaces the gateway serves become label values: callers choose the paths.
        .labels(
          options.upstreams.has(namespace) ? namespace : 'unknown',
          'error' in item ? item.error.data.code : 'ok',
        )
        .inc();
    }
    reply(res, request.batch ? items : items.slice(0, 1), request.batch, headers);
  };
  return inGatewaySpan(handle);
}

const tracer = trace.getTracer('@bindery/services');

/**
 * Handles each request in a `gateway /trpc` span: the upstream batches, and through them every
 * service's spans, are its children. Without an OpenTelemetry SDK, no span at all.
 */
function inGatewaySpan(handle: RequestHandler): RequestHandler {
  return (req, res, requestId, headers) => {
    if (!tracingEnabled()) return handle(req, res, requestId, headers);
    const procedures = new URL(req.url ?? '/', 'http://gateway').pathname.slice('/trpc/'.length);
    return tracer.startActiveSpan(
      'gateway /trpc',
      { attributes: { 'bindery.procedures': procedures.split(','), 'bindery.request_id': requestId } },
      async (span) => {
        try {
          await handle(req, res, requestId, headers);
          span.setAttribute('http.response.status_code', res.statusCode);
          if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        } finally {
          span.end();
        }
      },
    );
  };
}

function callerOf(req: IncomingMessage, authentication: Authentication): Caller {
  return {
    peer: 'gateway',
    relayed: true,
    user: authentication.kind === 'user' ? authentication.user : null,
    ip: req.socket.remoteAddress ?? null,
  };
}

/**
 * How deep an input may nest. JSON.parse takes any depth, but re-encoding a batch for the services
 * (JSON.stringify) overflows the stack at a few thousand levels; no procedure's input needs 100.
 */
const MAX_INPUT_DEPTH = 100;

/** Whether a parsed JSON value nests deeper than `limit`, walked without recursion (it may be deeper than the stack). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new TrpcRequestError('PARSE_ERROR', 'The body is not valid JSON');
  }
}

function reply(
  res: ServerResponse,
  items: TrpcReplyItem[],
  batch: boolean,
  headers: Readonly<Record<string, string>>,
): void {
  sendJson(res, replyStatus(items), batch ? items : items[0], headers);
}
