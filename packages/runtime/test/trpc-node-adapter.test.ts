import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import {
  type Caller,
  mintInternalToken,
  notFound,
  publicProcedure,
  roleProcedure,
  router,
} from '@bindery/api';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../src/logger';
import { type RunningService, startService } from '../src/service-host';
import type { TrpcAdapterName } from '../src/trpc-node-adapter';

/**
 * The lean adapter must be indistinguishable from tRPC's stock one: the same router is served by a
 * service host with each, and every case below gets the same status, the same headers that carry
 * meaning and the same body, byte for byte. Framing differs on purpose (the lean adapter sends
 * `content-length`, the stock one chunks), so `content-length`/`transfer-encoding` are not compared.
 */

const secret = randomBytes(48);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the procedures saw of their abort signal, by adapter. */
const aborted: Record<string, boolean[]> = {};
const logLines: Record<TrpcAdapterName, Record<string, unknown>[]> = { lean: [], stock: [] };

const conformanceRouter = router({
  catalog: router({
    echo: publicProcedure
      .input(
        z.object({
          text: z.string().min(1),
          nested: z.object({ count: z.number().int().min(0), tags: z.array(z.string().max(3)) }).optional(),
        }),
      )
      .query(({ input }) => ({ echoed: input.text, nested: input.nested ?? null })),
    noInput: publicProcedure.query(() => 'plain'),
    undefinedOutput: publicProcedure.query(() => undefined),
    nullOutput: publicProcedure.query(() => null),
    date: publicProcedure.query(() => new Date(Date.UTC(2026, 0, 2, 3, 4, 5))),
    unicode: publicProcedure.input(z.string()).query(({ input }) => `«${input}» ✓ \u2028`),
    double: publicProcedure.input(z.object({ n: z.number() })).mutation(({ input }) => input.n * 2),
    touch: publicProcedure.mutation(() => ({ touched: true })),
    optionalInput: publicProcedure
      .input(z.object({ n: z.number() }).optional())
      .query(({ input }) => input?.n ?? 'none'),
    crash: publicProcedure.query(() => {
      throw new Error('disk full at /var/lib/secret');
    }),
    conflict: publicProcedure.mutation(() => {
      throw new TRPCError({ code: 'CONFLICT', message: 'Version 3 was already written' });
    }),
    missing: publicProcedure.input(z.object({ id: z.string() })).query(({ input }) => {
      throw notFound(`Book ${input.id}`);
    }),
    adminOnly: roleProcedure('admin').query(() => 'secret'),
    small: publicProcedure
      .meta({ maxBodyBytes: 64 })
      .input(z.object({ text: z.string() }))
      .mutation(({ input }) => input.text.length),
    smallNoInput: publicProcedure.meta({ maxBodyBytes: 64 }).mutation(() => 'ignored the body'),
    streamLike: publicProcedure.query(() => ({ later: Promise.resolve(1) })),
    bigint: publicProcedure.query(() => ({ value: 10n })),
    status: publicProcedure.query(({ ctx }) => ({ requestId: ctx.requestId, user: ctx.caller.user })),
    waitForAbort: publicProcedure
      .input(z.object({ adapter: z.string() }))
      .query(async ({ input, signal }) => {
        await new Promise<void>((resolve) => {
          if (signal?.aborted) return resolve();
          signal?.addEventListener('abort', () => resolve(), { once: true });
          setTimeout(resolve, 3_000);
        });
        const seen = aborted[input.adapter] ?? [];
        seen.push(signal?.aborted ?? false);
        aborted[input.adapter] = seen;
        return 'finished';
      }),
    // tRPC's middleware semantics, which the lean adapter runs itself.
    contextMerged: publicProcedure
      .use(({ next }) => next({ ctx: { first: 'one' } }))
      .use(({ ctx, next }) => next({ ctx: { second: `${ctx.first}+two` } }))
      .query(({ ctx }) => ({ first: ctx.first, second: ctx.second, requestId: ctx.requestId })),
    inputReplaced: publicProcedure
      .input(z.object({ n: z.number() }))
      .use(({ input, next }) => next({ input: { n: input.n + 1 } }))
      .query(({ input }) => input.n),
    // Chained inputs each parse the raw input; objects merge, and a failing parser is a bad request.
    inputsMerged: publicProcedure
      .input(z.object({ a: z.number() }).loose())
      .input(z.object({ b: z.string() }).loose())
      .query(({ input }) => input),
    inputsAroundMiddleware: publicProcedure
      .input(z.object({ a: z.number() }).loose())
      .use(({ input, next }) => next({ input: { ...input, seen: true } }))
      .input(z.object({ b: z.string() }).loose())
      .query(({ input }) => input),
    rawInputReplaced: publicProcedure
      .use(({ next }) => next({ getRawInput: async () => ({ text: 'replaced' }) }))
      .input(z.object({ text: z.string() }))
      .query(({ input }) => input.text),
    middlewareThrows: publicProcedure
      .use(() => {
        throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Not yet' });
      })
      .query(() => 'unreachable'),
    middlewareForgetsNext: publicProcedure
      .use((async () => undefined) as unknown as Parameters<typeof publicProcedure.use>[0])
      .query(() => 'unreachable'),
    outputChecked: publicProcedure
      .output(z.object({ n: z.number() }))
      .query(() => ({ n: 'not a number' }) as unknown as { n: number }),
    optionsCopied: publicProcedure
      .use((options) => {
        const copy = { ...options };
        return copy.next({
          ctx: { keys: Object.keys(options).sort(), signal: copy.signal instanceof AbortSignal },
        });
      })
      .query(({ ctx, path }) => ({ keys: ctx.keys, signal: ctx.signal, path })),
    ticks: publicProcedure.subscription(async function* () {
      yield 1;
      yield 2;
    }),
  }),
});

const admin: Caller = {
  peer: 'gateway',
  relayed: true,
  user: { id: '00000000-0000-4000-8000-000000000001', roles: ['admin'] },
  ip: '203.0.113.7',
};
const anonymous: Caller = { peer: 'gateway', relayed: true, user: null, ip: null };

const services = {} as Record<TrpcAdapterName, RunningService>;
let adminToken = '';
let anonymousToken = '';
let wrongAudienceToken = '';

beforeAll(async () => {
  for (const adapter of ['lean', 'stock'] as const) {
    const log = createLogger(
      { service: 'catalog', instance: adapter, level: 'info' },
      { write: (line: string) => void logLines[adapter].push(JSON.parse(line)) },
    );
    services[adapter] = await startService({
      name: 'catalog',
      log,
      router: conformanceRouter,
      internalTokenSecret: secret,
      trpcAdapter: adapter,
    });
  }
  adminToken = await mintInternalToken(secret, {
    audience: 'catalog',
    caller: admin,
  });
  anonymousToken = await mintInternalToken(secret, {
    audience: 'catalog',
    caller: anonymous,
  });
  wrongAudienceToken = await mintInternalToken(secret, {
    audience: 'orders',
    caller: admin,
  });
});

afterAll(async () => {
  await Promise.all(Object.values(services).map((service) => service.close()));
});

interface Exchange {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** No authorization header at all (by default the admin's internal token is sent). */
  anonymous?: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function exchange(port: number, call: Exchange): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      'x-request-id': 'conformance',
      ...(call.anonymous ? {} : { authorization: `Bearer ${adminToken}` }),
      ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...call.headers,
    };
    // An empty content type stands for none at all.
    if (headers['content-type'] === '') delete headers['content-type'];
    const req = httpRequest(
      { host: '127.0.0.1', port, method: call.method ?? 'GET', path: call.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(call.body);
  });
}

/** The headers a client acts on; framing (`content-length` or chunks), `date` and `connection` aside. */
function meaningful(headers: Answer['headers']) {
  return {
    'content-type': headers['content-type'],
    vary: headers.vary,
    'cache-control': headers['cache-control'],
    'x-request-id': headers['x-request-id'],
    'x-bindery-instance': headers['x-bindery-instance'] === undefined ? 'absent' : 'present',
  };
}

async function both(call: Exchange): Promise<{ lean: Answer; stock: Answer }> {
  const [lean, stock] = await Promise.all([
    exchange(services.lean.port, call),
    exchange(services.stock.port, call),
  ]);
  return { lean, stock };
}

const json = (value: unknown) => encodeURIComponent(JSON.stringify(value));

/** Every case: name, request, and the status the stock adapter gives (pinned, so a tRPC upgrade shows). */
const cases: [string, Exchange, number][] = [
  ['query with input', { path: `/trpc/catalog.echo?input=${json({ text: 'hi' })}` }, 200],
  ['query without input', { path: '/trpc/catalog.noInput' }, 200],
  ['query answering undefined', { path: '/trpc/catalog.undefinedOutput' }, 200],
  ['query answering null', { path: '/trpc/catalog.nullOutput' }, 200],
  ['query answering a Date', { path: '/trpc/catalog.date' }, 200],
  [
    'unicode and U+2028 in input and output',
    { path: `/trpc/catalog.unicode?input=${json('é 東京 😀')}` },
    200,
  ],
  ['query input with + and %20', { path: '/trpc/catalog.unicode?input=%22a+b%20c%22' }, 200],
  ['a parameter name percent-encoded', { path: `/trpc/catalog.unicode?inp%75t=${json('x')}` }, 200],
  [
    'the first of two inputs counts',
    { path: `/trpc/catalog.unicode?input=${json('a')}&input=${json('b')}` },
    200,
  ],
  ['a malformed percent-encoding', { path: '/trpc/catalog.unicode?input=%22a%E0%A4%A%22' }, 200],
  ['percent-encoding of invalid UTF-8', { path: '/trpc/catalog.unicode?input=%22%FF%22' }, 200],
  ['empty parameters around the input', { path: `/trpc/catalog.unicode?&&input=${json('y')}&&batch` }, 200],
  ['batch given as batch=1 twice', { path: `/trpc/catalog.unicode?batch=0&batch=1&input=${json('z')}` }, 200],
  ['optional input absent', { path: '/trpc/catalog.optionalInput' }, 200],
  ['optional input empty', { path: '/trpc/catalog.optionalInput?input=' }, 200],
  ['context reaches the procedure', { path: '/trpc/catalog.status' }, 200],
  ['middlewares merge the context they pass on', { path: '/trpc/catalog.contextMerged' }, 200],
  ['a middleware replaces the input', { path: `/trpc/catalog.inputReplaced?input=${json({ n: 1 })}` }, 200],
  ['a middleware replaces the raw input', { path: '/trpc/catalog.rawInputReplaced' }, 200],
  ['chained inputs merge', { path: `/trpc/catalog.inputsMerged?input=${json({ a: 1, b: 'x' })}` }, 200],
  ['the second of chained inputs fails', { path: `/trpc/catalog.inputsMerged?input=${json({ a: 1 })}` }, 400],
  [
    'chained inputs around a middleware',
    { path: `/trpc/catalog.inputsAroundMiddleware?input=${json({ a: 1, b: 'x' })}` },
    200,
  ],
  ['a middleware throws', { path: '/trpc/catalog.middlewareThrows' }, 412],
  ['a middleware never calls next', { path: '/trpc/catalog.middlewareForgetsNext' }, 500],
  ['output validation fails', { path: '/trpc/catalog.outputChecked' }, 500],
  ['a middleware sees and copies every option', { path: '/trpc/catalog.optionsCopied' }, 200],
  [
    'a batch through middlewares',
    {
      path: `/trpc/catalog.contextMerged,catalog.middlewareThrows,catalog.inputReplaced?batch=1&input=${json({ 2: { n: 5 } })}`,
    },
    207,
  ],
  [
    'batch of queries',
    {
      path: `/trpc/catalog.noInput,catalog.echo,catalog.nullOutput?batch=1&input=${json({ 1: { text: 'x' } })}`,
    },
    200,
  ],
  ['batch of one', { path: `/trpc/catalog.echo?batch=1&input=${json({ 0: { text: 'one' } })}` }, 200],
  ['batch without input', { path: '/trpc/catalog.noInput,catalog.undefinedOutput?batch=1' }, 200],
  [
    'batch repeating a procedure',
    { path: `/trpc/catalog.echo,catalog.echo?batch=1&input=${json({ 0: { text: 'a' }, 1: { text: 'b' } })}` },
    200,
  ],
  [
    'mixed batch: ok, invalid input, unknown',
    {
      path: `/trpc/catalog.echo,catalog.echo,catalog.nope?batch=1&input=${json({ 0: { text: 'ok' }, 1: { text: '' } })}`,
    },
    207,
  ],
  ['mixed batch: ok and internal error', { path: '/trpc/catalog.noInput,catalog.crash?batch=1' }, 207],
  ['batch of errors with one status', { path: '/trpc/catalog.nope,catalog.other?batch=1' }, 404],
  [
    'batch of different errors',
    { path: `/trpc/catalog.nope,catalog.echo?batch=1&input=${json({ 1: { text: '' } })}` },
    207,
  ],
  ['empty batch', { path: '/trpc/?batch=1' }, 404],
  ['empty batch without slash', { path: '/trpc?batch=1' }, 404],
  ['empty path', { path: '/trpc/' }, 404],
  ['unknown procedure', { path: '/trpc/catalog.nope' }, 404],
  ['unknown procedure over POST', { method: 'POST', path: '/trpc/catalog.nope', body: '{}' }, 404],
  ['comma without batch', { path: '/trpc/catalog.noInput,catalog.nullOutput' }, 404],
  ['prototype key as path', { path: '/trpc/__proto__' }, 404],
  ['malformed path encoding', { path: '/trpc/catalog.%E0%A4%A' }, 400],
  ['encoded path', { path: '/trpc/catalog%2EnoInput' }, 200],
  ['malformed JSON input', { path: '/trpc/catalog.echo?input=%7Bnot-json' }, 400],
  ['malformed JSON batch input', { path: '/trpc/catalog.echo?batch=1&input=%7B' }, 400],
  ['batch input not an object', { path: `/trpc/catalog.echo?batch=1&input=${json([{ text: 'x' }])}` }, 400],
  ['batch input null', { path: '/trpc/catalog.echo?batch=1&input=null' }, 400],
  [
    'zod error with field paths',
    { path: `/trpc/catalog.echo?input=${json({ text: '', nested: { count: -1, tags: ['long'] } })}` },
    400,
  ],
  ['zod error on a wrong type', { path: `/trpc/catalog.echo?input=${json({ text: 5 })}` }, 400],
  ['zod error on a missing input', { path: '/trpc/catalog.echo' }, 400],
  [
    'mutation with body',
    { method: 'POST', path: '/trpc/catalog.double', body: JSON.stringify({ n: 21 }) },
    200,
  ],
  ['mutation, no body and no content type', { method: 'POST', path: '/trpc/catalog.touch' }, 415],
  [
    'mutation without input, empty JSON body',
    { method: 'POST', path: '/trpc/catalog.touch', headers: { 'content-type': 'application/json' } },
    200,
  ],
  [
    'mutation without input, body sent',
    { method: 'POST', path: '/trpc/catalog.touch', body: '{"x":1}' },
    200,
  ],
  [
    'mutation with input, empty body',
    { method: 'POST', path: '/trpc/catalog.double', headers: { 'content-type': 'application/json' } },
    400,
  ],
  ['malformed JSON body', { method: 'POST', path: '/trpc/catalog.double', body: '{"n":' }, 400],
  [
    'body with a byte order mark',
    { method: 'POST', path: '/trpc/catalog.double', body: '\ufeff{"n":2}' },
    200,
  ],
  [
    'invalid UTF-8 in body',
    {
      method: 'POST',
      path: '/trpc/catalog.double',
      body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
    },
    400,
  ],
  [
    'content type with charset and case',
    {
      method: 'POST',
      path: '/trpc/catalog.double',
      headers: { 'content-type': 'Application/JSON; charset=utf-8' },
      body: '{"n":1}',
    },
    200,
  ],
  [
    'batch of mutations',
    {
      method: 'POST',
      path: '/trpc/catalog.double,catalog.touch,catalog.double?batch=1',
      body: JSON.stringify({ 0: { n: 1 }, 2: { n: 3 } }),
    },
    200,
  ],
  [
    'mixed mutation batch',
    {
      method: 'POST',
      path: '/trpc/catalog.double,catalog.conflict,catalog.double?batch=1',
      body: JSON.stringify({ 0: { n: 1 }, 2: { n: 'x' } }),
    },
    207,
  ],
  [
    'mutation batch body not an object',
    { method: 'POST', path: '/trpc/catalog.double?batch=1', body: '"text"' },
    400,
  ],
  [
    'oversized body',
    { method: 'POST', path: '/trpc/catalog.small', body: JSON.stringify({ text: 'x'.repeat(100) }) },
    413,
  ],
  [
    'oversized body in a batch',
    {
      method: 'POST',
      path: '/trpc/catalog.small,catalog.small?batch=1',
      body: JSON.stringify({ 0: { text: 'x'.repeat(100) } }),
    },
    413,
  ],
  [
    'oversized body a procedure never reads',
    { method: 'POST', path: '/trpc/catalog.smallNoInput', body: JSON.stringify({ text: 'x'.repeat(100) }) },
    200,
  ],
  [
    'body within the limit',
    { method: 'POST', path: '/trpc/catalog.small', body: JSON.stringify({ text: 'short' }) },
    200,
  ],
  ['mutation over GET', { path: `/trpc/catalog.double?input=${json({ n: 1 })}` }, 405],
  [
    'query over POST',
    { method: 'POST', path: '/trpc/catalog.echo', body: JSON.stringify({ text: 'x' }) },
    405,
  ],
  [
    'query and mutation in one batch',
    { method: 'POST', path: '/trpc/catalog.echo,catalog.double?batch=1', body: '{}' },
    400,
  ],
  ['PUT', { method: 'PUT', path: '/trpc/catalog.double', body: '{"n":1}' }, 405],
  ['DELETE', { method: 'DELETE', path: '/trpc/catalog.noInput' }, 415],
  [
    'DELETE as JSON',
    { method: 'DELETE', path: '/trpc/catalog.noInput', headers: { 'content-type': 'application/json' } },
    405,
  ],
  ['PATCH', { method: 'PATCH', path: '/trpc/catalog.double', body: '{"n":1}' }, 405],
  ['HEAD', { method: 'HEAD', path: '/trpc/catalog.noInput' }, 204],
  [
    'POST without content type',
    { method: 'POST', path: '/trpc/catalog.double', headers: { 'content-type': '' }, body: '{"n":1}' },
    415,
  ],
  [
    'POST as text/plain',
    {
      method: 'POST',
      path: '/trpc/catalog.double',
      headers: { 'content-type': 'text/plain' },
      body: '{"n":1}',
    },
    415,
  ],
  [
    'POST as form data',
    {
      method: 'POST',
      path: '/trpc/catalog.double',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x--',
    },
    400,
  ],
  [
    'GET with a text/plain content type',
    { path: '/trpc/catalog.noInput', headers: { 'content-type': 'text/plain' } },
    200,
  ],
  ['no internal token', { path: '/trpc/catalog.noInput', anonymous: true }, 401],
  ['no internal token, batch', { path: '/trpc/catalog.noInput,catalog.nope?batch=1', anonymous: true }, 207],
  [
    'a malformed internal token',
    { path: '/trpc/catalog.noInput', anonymous: true, headers: { authorization: 'Bearer not.a.token' } },
    401,
  ],
  [
    'a bearer without token',
    { path: '/trpc/catalog.noInput', anonymous: true, headers: { authorization: 'Bearer ' } },
    401,
  ],
  [
    'a token for another service',
    { path: '/trpc/catalog.noInput', anonymous: true, headers: { authorization: `Bearer ${'WRONG'}` } },
    401,
  ],
  [
    'an anonymous caller on a role procedure',
    { path: '/trpc/catalog.adminOnly', anonymous: true, headers: { authorization: 'ANONYMOUS' } },
    401,
  ],
  ['an admin on a role procedure', { path: '/trpc/catalog.adminOnly' }, 200],
  ['internal error', { path: '/trpc/catalog.crash' }, 500],
  [
    'conflict',
    { method: 'POST', path: '/trpc/catalog.conflict', headers: { 'content-type': 'application/json' } },
    409,
  ],
  ['not found from a procedure', { path: `/trpc/catalog.missing?input=${json({ id: 'b-404' })}` }, 404],
  [
    'deadline already passed',
    { path: '/trpc/catalog.noInput', headers: { 'x-bindery-timeout-ms': '0' } },
    408,
  ],
  ['stream-like output', { path: '/trpc/catalog.streamLike' }, 415],
  ['stream-like output in a batch', { path: '/trpc/catalog.streamLike,catalog.noInput?batch=1' }, 207],
  ['output JSON cannot encode', { path: '/trpc/catalog.bigint' }, 500],
  ['output JSON cannot encode, batch', { path: '/trpc/catalog.bigint,catalog.noInput?batch=1' }, 500],
  [
    'streaming batch (trpc-accept: application/jsonl)',
    {
      path: `/trpc/catalog.noInput,catalog.echo?batch=1&input=${json({ 1: { text: 'x' } })}`,
      headers: { 'trpc-accept': 'application/jsonl' },
    },
    200,
  ],
  [
    'streaming without batch',
    { path: '/trpc/catalog.noInput', headers: { 'trpc-accept': 'application/jsonl' } },
    400,
  ],
  ['subscription over Server-Sent Events', { path: '/trpc/catalog.ticks' }, 200],
  ['subscription in a batch', { path: '/trpc/catalog.ticks,catalog.noInput?batch=1' }, 400],
  ['subscription over POST', { method: 'POST', path: '/trpc/catalog.ticks', body: '{}' }, 200],
  ['fragment in the URL', { path: '/trpc/catalog.echo?input=%7B%22text%22%3A%22a%22%7D#frag' }, 200],
  [
    'query with extra parameters',
    { path: `/trpc/catalog.echo?foo=bar&input=${json({ text: 'y' })}&batch=0` },
    200,
  ],
];

describe('the lean tRPC adapter answers like the stock one', () => {
  test.each(cases)('%s', async (_name, call, expectedStatus) => {
    const authorization =
      call.headers?.authorization === 'Bearer WRONG'
        ? `Bearer ${wrongAudienceToken}`
        : call.headers?.authorization === 'ANONYMOUS'
          ? `Bearer ${anonymousToken}`
          : call.headers?.authorization;
    const request: Exchange = {
      ...call,
      headers: { ...call.headers, ...(authorization === undefined ? {} : { authorization }) },
    };
    const { lean, stock } = await both(request);
    expect(stock.status).toBe(expectedStatus);
    expect(lean.status).toBe(stock.status);
    expect(meaningful(lean.headers)).toEqual(meaningful(stock.headers));
    expect(lean.body).toBe(stock.body);
  });

  test('both log an internal error once, with the procedure', async () => {
    const before = { lean: logLines.lean.length, stock: logLines.stock.length };
    await both({ path: '/trpc/catalog.crash' });
    await sleep(20);
    for (const adapter of ['lean', 'stock'] as const) {
      const failures = logLines[adapter]
        .slice(before[adapter])
        .filter((line) => line.msg === 'procedure failed');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ procedure: 'catalog.crash', requestId: 'conformance' });
    }
  });

  test('the error shape carries field paths and the request id', async () => {
    const { lean } = await both({
      path: `/trpc/catalog.echo?input=${json({ text: '', nested: { count: -1, tags: ['long'] } })}`,
    });
    expect(JSON.parse(lean.body)).toMatchObject({
      error: {
        code: -32600,
        data: {
          code: 'BAD_REQUEST',
          httpStatus: 400,
          path: 'catalog.echo',
          requestId: 'conformance',
          issues: expect.arrayContaining([
            expect.objectContaining({ path: 'text' }),
            expect.objectContaining({ path: 'nested.count' }),
            expect.objectContaining({ path: 'nested.tags.0' }),
          ]),
        },
      },
    });
  });

  test('a client that goes away aborts the signal a procedure holds, with either adapter', async () => {
    for (const adapter of ['lean', 'stock'] as const) {
      const socket = connect(services[adapter].port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(
        `GET /trpc/catalog.waitForAbort?input=${json({ adapter })} HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
          `authorization: Bearer ${adminToken}\r\n\r\n`,
      );
      await sleep(100);
      socket.destroy();
      await expect.poll(() => aborted[adapter], { timeout: 2_000 }).toEqual([true]);
    }
  });

  test('a request body cut short leaves both adapters serving', async () => {
    for (const adapter of ['lean', 'stock'] as const) {
      const socket = connect(services[adapter].port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(
        'POST /trpc/catalog.double HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n' +
          `content-length: 1000\r\nauthorization: Bearer ${adminToken}\r\n\r\n{"n":`,
      );
      await sleep(50);
      socket.destroy();
      const answer = await exchange(services[adapter].port, {
        method: 'POST',
        path: '/trpc/catalog.double',
        body: '{"n":4}',
      });
      expect(answer.body).toBe('{"result":{"data":8}}');
    }
  });

  test('keep-alive: one connection serves many calls, as with the stock adapter', async () => {
    const address = services.lean.server.address() as AddressInfo;
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    for (let index = 0; index < 5; index++) {
      await new Promise<void>((resolve, reject) => {
        httpRequest(
          {
            host: '127.0.0.1',
            port: address.port,
            path: '/trpc/catalog.noInput',
            agent,
            headers: { authorization: `Bearer ${adminToken}` },
          },
          (res) => {
            ports.add(res.socket.localPort ?? 0);
            res.resume();
            res.on('end', () => resolve());
          },
        )
          .on('error', reject)
          .end();
      });
    }
    agent.destroy();
    expect(ports.size).toBe(1);
  });
});
