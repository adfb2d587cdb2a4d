import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import {
  type Caller,
  mintInternalToken,
  publicProcedure,
  router,
  type ServiceName,
  serviceProcedure,
} from '@bindery/api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { staticRegistry } from '../src/discovery/static-registry';
import { MAX_BODY_BYTES } from '../src/http-util';
import { createLogger } from '../src/logger';
import { createRedis } from '../src/redis';
import { type RunningService, startService } from '../src/service-host';

const secret = randomBytes(48);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Log lines of the services under test, read back as objects. */
const logLines: Record<string, unknown>[] = [];
const log = createLogger(
  { service: 'catalog', instance: 'test', level: 'info' },
  { write: (line: string) => void logLines.push(JSON.parse(line)) },
);

let slowCallStarted: () => void = () => {};
const events: string[] = [];

const serviceRouter = router({
  ping: publicProcedure.query(() => 'pong'),
  whoami: publicProcedure.query(({ ctx }) => ({ caller: ctx.caller, requestId: ctx.requestId })),
  echo: publicProcedure.input(z.object({ text: z.string() })).mutation(({ input }) => input.text.length),
  usersOnly: serviceProcedure('users').query(() => 'for users'),
  slow: publicProcedure.query(async () => {
    slowCallStarted();
    await sleep(300);
    events.push('slow call finished');
    return 'done';
  }),
  crash: publicProcedure.query(() => {
    throw new Error('disk full at /var/lib/secret');
  }),
});

const relayedAnonymous: Caller = { peer: 'gateway', relayed: true, user: null, ip: '203.0.113.7' };

/** An internal token, with the request id beside it as peers and the gateway send it. */
async function bearer(
  options: { audience?: ServiceName; caller?: Caller; requestId?: string } = {},
): Promise<Record<string, string>> {
  const token = await mintInternalToken(secret, {
    audience: options.audience ?? 'catalog',
    caller: options.caller ?? relayedAnonymous,
  });
  return {
    authorization: `Bearer ${token}`,
    ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
  };
}

let readinessFailure: Error | null = null;
const redis = createRedis('redis://127.0.0.1:6379', { name: 'bindery-service-host-test' });
let service: RunningService;

beforeAll(async () => {
  service = await startService({
    name: 'catalog',
    log,
    router: serviceRouter,
    internalTokenSecret: secret,
    readiness: {
      redis: () => redis.ping(),
      database: async () => {
        if (readinessFailure) throw readinessFailure;
      },
    },
  });
});
afterAll(async () => {
  await service?.close();
  await redis.quit();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${service.url}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe('startService', () => {
  test('listens on a free port of 127.0.0.1 and says so in the log', () => {
    expect(service.url).toBe(`http://127.0.0.1:${service.port}`);
    expect(service.port).toBeGreaterThan(0);
    expect(service.name).toBe('catalog');
    expect(logLines).toContainEqual(expect.objectContaining({ msg: 'catalog listening', url: service.url }));
  });

  test('without a router or a handler it serves only probes and metrics (a queue worker)', async () => {
    const worker = await startService({ name: 'users-worker', log, internalTokenSecret: secret });
    try {
      expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${worker.url}/metrics`)).status).toBe(200);
      const trpc = await fetch(`${worker.url}/trpc/users.list`);
      expect(trpc.status).toBe(404);
      expect(await trpc.json()).toEqual({ error: 'users-worker serves no API' });
    } finally {
      await worker.close();
    }
  });
});

describe('health endpoints', () => {
  test('/healthz answers 200 while the process lives', async () => {
    expect(await get('/healthz')).toMatchObject({
      status: 200,
      body: { status: 'alive', service: 'catalog' },
    });
  });

  test('/readyz answers 200 when every check passes (one of them pings the real Redis)', async () => {
    const reply = await get('/readyz');
    expect({ status: reply.status, body: reply.body }).toMatchInlineSnapshot(`
      {
        "body": {
          "checks": {
            "database": "ok",
            "redis": "ok",
          },
          "service": "catalog",
          "status": "ready",
        },
        "status": 200,
      }
    `);
  });

  test('/readyz answers 503 with the failing check’s message', async () => {
    readinessFailure = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    try {
      const reply = await get('/readyz');
      expect({ status: reply.status, body: reply.body }).toMatchInlineSnapshot(`
        {
          "body": {
            "checks": {
              "database": "connect ECONNREFUSED 127.0.0.1:5432",
              "redis": "ok",
            },
            "service": "catalog",
            "status": "not-ready",
          },
          "status": 503,
        }
      `);
    } finally {
      readinessFailure = null;
    }
    expect((await get('/readyz')).status).toBe(200);
  });

  test('/readyz gives up on a check that does not answer within 2 s', async () => {
    const hanging = await startService({
      name: 'users',
      log,
      router: serviceRouter,
      internalTokenSecret: secret,
      readiness: { stuck: () => new Promise(() => {}) },
    });
    try {
      const response = await fetch(`${hanging.url}/readyz`);
      expect({ status: response.status, body: await response.json() }).toEqual({
        status: 503,
        body: { status: 'not-ready', service: 'users', checks: { stuck: 'no answer within 2000 ms' } },
      });
    } finally {
      await hanging.close();
    }
  });

  test('/metrics serves Prometheus text that counts tRPC calls', async () => {
    expect((await fetch(`${service.url}/trpc/ping`, { headers: await bearer() })).status).toBe(200);
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(
      /^bindery_rpc_requests_total\{procedure="ping",type="query",outcome="ok"\} [1-9]\d*$/m,
    );
    expect(text).toContain('# TYPE bindery_rpc_request_duration_seconds histogram');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  test('an unknown route answers 404 naming it', async () => {
    expect(await get('/nope')).toMatchObject({ status: 404, body: { error: 'No route /nope' } });
  });

  test('health endpoints accept only GET and HEAD', async () => {
    const response = await fetch(`${service.url}/healthz`, { method: 'POST' });
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 405,
      body: { error: 'Method not allowed' },
    });
    expect((await fetch(`${service.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });
});

describe('/trpc', () => {
  test('a call without Authorization answers 401', async () => {
    const reply = await get('/trpc/ping', { 'x-request-id': 'req-anon' });
    expect({ status: reply.status, body: reply.body }).toMatchInlineSnapshot(`
      {
        "body": {
          "error": {
            "code": -32001,
            "data": {
              "code": "UNAUTHORIZED",
              "httpStatus": 401,
              "path": "ping",
            },
            "message": "catalog accepts only calls with an internal token",
          },
        },
        "status": 401,
      }
    `);
    expect(reply.headers.get('x-request-id')).toBe('req-anon');
  });

  test('an Authorization header that is not a bearer token answers 401', async () => {
    expect((await get('/trpc/ping', { authorization: 'Basic dXNlcjpwYXNz' })).status).toBe(401);
  });

  test('a token addressed to another service answers 401 saying why', async () => {
    const reply = await get('/trpc/ping', await bearer({ audience: 'users' }));
    expect(reply).toMatchObject({
      status: 401,
      body: { error: { message: 'internal token rejected: aud', data: { code: 'UNAUTHORIZED' } } },
    });
  });

  test('a token signed with another secret answers 401', async () => {
    const token = await mintInternalToken(randomBytes(48), {
      audience: 'catalog',
      caller: relayedAnonymous,
    });
    const reply = await get('/trpc/ping', { authorization: `Bearer ${token}` });
    expect(reply).toMatchObject({ status: 401, body: { error: { message: 'internal token invalid' } } });
  });

  test('a valid token answers 200, and the procedure sees its caller and the request id', async () => {
    const caller: Caller = {
      peer: 'gateway',
      relayed: true,
      user: { id: 'u1', roles: ['operator'] },
      ip: '198.51.100.2',
    };
    expect(await get('/trpc/ping', await bearer())).toMatchObject({
      status: 200,
      body: { result: { data: 'pong' } },
    });
    const reply = await get('/trpc/whoami', { ...(await bearer({ caller, requestId: 'req-token' })) });
    expect(reply).toMatchObject({
      status: 200,
      body: { result: { data: { caller, requestId: 'req-token' } } },
    });
  });

  test('the request id is the x-request-id header, echoed on the response, or a new one', async () => {
    const requestId = randomUUID();
    const reply = await get('/trpc/whoami', await bearer({ requestId }));
    expect(reply.body).toMatchObject({ result: { data: { requestId } } });
    expect(reply.headers.get('x-request-id')).toBe(requestId);
    const fresh = await get('/trpc/whoami', await bearer());
    const freshId = (fresh.body as { result: { data: { requestId: string } } }).result.data.requestId;
    expect(freshId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh.headers.get('x-request-id')).toBe(freshId);
  });

  test('a service procedure refuses a relayed caller with 403 and admits its service', async () => {
    expect((await get('/trpc/usersOnly', await bearer())).status).toBe(403);
    const users: Caller = { peer: 'users', relayed: false, user: null, ip: null };
    expect(await get('/trpc/usersOnly', await bearer({ caller: users }))).toMatchObject({
      status: 200,
      body: { result: { data: 'for users' } },
    });
  });

  test('a POST body within 1 MiB is accepted', async () => {
    const text = 'x'.repeat(MAX_BODY_BYTES - 100);
    const response = await fetch(`${service.url}/trpc/echo`, {
      method: 'POST',
      headers: { ...(await bearer()), 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 200,
      body: { result: { data: text.length } },
    });
  });

  test('a POST body over 1 MiB answers 413', async () => {
    const response = await fetch(`${service.url}/trpc/echo`, {
      method: 'POST',
      headers: { ...(await bearer()), 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(MAX_BODY_BYTES) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } },
    });
  });

  test('an unexpected error answers 500 without its message, and is logged with the request id', async () => {
    const reply = await get('/trpc/crash', await bearer({ requestId: 'req-crash' }));
    expect(reply).toMatchObject({ status: 500, body: { error: { message: 'Internal server error' } } });
    expect(JSON.stringify(reply.body)).not.toContain('disk full');
    const logged = logLines.find((line) => line.msg === 'procedure failed' && line.requestId === 'req-crash');
    expect(logged).toMatchObject({
      level: 50,
      procedure: 'crash',
      err: { message: 'disk full at /var/lib/secret' },
    });
  });
});

describe('close', () => {
  test('waits for an in-flight request, then runs onClose, then refuses new connections', async () => {
    const closing = await startService({
      name: 'auth',
      log,
      router: serviceRouter,
      internalTokenSecret: secret,
      onClose: async () => {
        events.push('onClose');
      },
    });
    events.length = 0;
    const started = new Promise<void>((resolve) => {
      slowCallStarted = resolve;
    });
    const headers = await bearer({ audience: 'auth' });
    const inFlight = fetch(`${closing.url}/trpc/slow`, { headers });
    await started;
    const closeStartedAt = Date.now();
    const closed = closing.close();
    expect(closing.close()).toBe(closed);

    const response = await inFlight;
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 200,
      body: { result: { data: 'done' } },
    });
    await closed;
    // Well within the 10 s drain timeout: it waited for the request, not for the timer.
    expect(Date.now() - closeStartedAt).toBeLessThan(2_000);
    expect(events).toEqual(['slow call finished', 'onClose']);
    expect(closing.server.listening).toBe(false);
    await expect(fetch(`${closing.url}/healthz`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    expect(logLines).toContainEqual(expect.objectContaining({ msg: 'auth stopped' }));
  });

  test('while it drains, a kept-alive connection idle meanwhile stays open: a call written on it is answered', async () => {
    // A registered instance goes on serving for its drain delay, telling each caller to close the
    // connection it used. Another caller's idle connection must not be closed when some call ends:
    // a request it is writing then would be lost unread, which it cannot tell from one that ran.
    const draining = await startService({
      name: 'catalog',
      log,
      router: serviceRouter,
      internalTokenSecret: secret,
      registration: {
        registry: staticRegistry({}),
        instanceId: 'draining',
        version: 'test',
        drainDelayMs: 1_000,
      },
    });
    const headers = await bearer();
    const [first, second] = [keptAliveConnection(draining.port), keptAliveConnection(draining.port)];
    try {
      expect(await first.call('/trpc/ping', headers)).toEqual({ status: 200, connection: 'keep-alive' });
      expect(await second.call('/trpc/ping', headers)).toEqual({ status: 200, connection: 'keep-alive' });
      const closed = draining.close();
      await sleep(100);
      expect(await first.call('/trpc/ping', headers)).toEqual({ status: 200, connection: 'close' });
      await sleep(100);
      expect(await second.call('/trpc/ping', headers)).toEqual({ status: 200, connection: 'close' });
      await closed;
    } finally {
      first.destroy();
      second.destroy();
    }
  });

  test('cuts connections still busy after drainTimeoutMs', async () => {
    const impatient = await startService({
      name: 'users',
      log,
      router: serviceRouter,
      internalTokenSecret: secret,
      drainTimeoutMs: 50,
    });
    const started = new Promise<void>((resolve) => {
      slowCallStarted = resolve;
    });
    const headers = await bearer({ audience: 'users' });
    const outcome = new Promise<string>((resolve) => {
      const req = httpRequest(`${impatient.url}/trpc/slow`, { headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(`status ${res.statusCode}`));
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
      req.end();
    });
    events.length = 0;
    await started;
    await impatient.close();
    // Closed before the 300 ms call could finish: the connection was cut, not drained.
    expect(events).toEqual([]);
    expect(await outcome).toBe('error ECONNRESET');
  });
});

/**
 * One kept-alive connection, written and read by hand so that the test knows which connection each
 * call goes on: `call` resolves with the reply's status and `connection` header, or with status 0
 * when the connection ends before a whole reply.
 */
function keptAliveConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  let waiting: ((reply: { status: number; connection: string }) => void) | undefined;
  const settle = (reply: { status: number; connection: string }) => {
    const resolve = waiting;
    waiting = undefined;
    received = '';
    resolve?.(reply);
  };
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
    const headEnd = received.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const head = received.slice(0, headEnd).toLowerCase();
    const length = Number(/\r\ncontent-length: *(\d+)/.exec(head)?.[1] ?? 0);
    if (received.length < headEnd + 4 + length) return;
    settle({
      status: Number(head.slice(9, 12)),
      connection: /\r\nconnection: *([^\r]*)/.exec(head)?.[1] ?? '',
    });
  });
  socket.on('close', () => settle({ status: 0, connection: 'ended before a whole reply' }));
  socket.on('error', () => {});
  return {
    call(path: string, headers: Record<string, string>): Promise<{ status: number; connection: string }> {
      return new Promise((resolve) => {
        if (socket.destroyed) return resolve({ status: 0, connection: 'ended before a whole reply' });
        waiting = resolve;
        const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
        socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${lines.join('')}\r\n`);
      });
    },
    destroy: () => socket.destroy(),
  };
}
