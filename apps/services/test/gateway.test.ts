import { mintInternalToken } from '@bindery/api';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EVERY_PROCESS, startTestPlatform, type TestPlatform } from './support/platform';

let platform: TestPlatform;
let token: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  token = (await platform.signIn(platform.admin.email, platform.admin.password)).accessToken;
});
afterAll(() => platform?.close());

function gateway(path: string, init: RequestInit & { auth?: boolean } = {}) {
  const headers = new Headers(init.headers);
  if (init.auth !== false) headers.set('authorization', `Bearer ${token}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${platform.gatewayUrl}/trpc/${path}`, { ...init, headers });
}

describe('the gateway binds the services into one API', () => {
  test('a batch across catalog and auth is split, sent in parallel and answered in order', async () => {
    const input = encodeURIComponent(JSON.stringify({ 0: { limit: 1 }, 2: { limit: 2 } }));
    const response = await gateway(`catalog.books.list,auth.me,catalog.books.list?batch=1&input=${input}`);
    expect(response.status).toBe(200);
    const [books, me, books2] = (await response.json()) as [
      { result: { data: { items: unknown[] } } },
      { result: { data: { email: string } } },
      { result: { data: { items: unknown[] } } },
    ];
    expect(me.result.data.email).toBe(platform.admin.email);
    expect(books.result.data.items.length).toBeLessThanOrEqual(1);
    expect(books2.result.data).toHaveProperty('items');
  });

  test('the typed client batches calls made together and gets each result', async () => {
    const { client } = await platform.signIn(platform.admin.email, platform.admin.password);
    const [me, books, health] = await Promise.all([
      client.auth.me.query(),
      client.catalog.books.list.query({ limit: 5 }),
      client.system.health.query(),
    ]);
    expect(me.roles).toEqual(['admin']);
    expect(books.items).toBeInstanceOf(Array);
    expect(health.status).toBe('ok');
    expect(health.instances.map((instance) => instance.service).sort()).toEqual(EVERY_PROCESS);
  });

  test('a batch mixing success and failure answers 207 with each outcome in place', async () => {
    const input = encodeURIComponent(JSON.stringify({ 1: { id: 'not-a-uuid' } }));
    const response = await gateway(`auth.me,catalog.books.byId,nowhere.at.all?batch=1&input=${input}`);
    expect(response.status).toBe(207);
    const items = (await response.json()) as Record<string, { data: { code: string; httpStatus: number } }>[];
    expect(items[0]).toHaveProperty('result');
    expect(items[1]?.error?.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(items[2]?.error?.data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
  });

  test('unknown procedures are 404, in a known or an unknown namespace', async () => {
    for (const path of ['catalog.books.nope', 'nope.books.list', 'catalog']) {
      const response = await gateway(path);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { data: { code: 'NOT_FOUND' } } });
    }
  });

  test('malformed JSON, a bad input parameter and an oversized body are clear 4xx and change nothing', async () => {
    const before = await platform.countRows('catalog.books');
    const malformed = await gateway('catalog.books.create', { method: 'POST', body: '{"title":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchInlineSnapshot(`
      {
        "error": {
          "code": -32700,
          "data": {
            "code": "PARSE_ERROR",
            "httpStatus": 400,
            "path": "catalog.books.create",
          },
          "message": "The body is not valid JSON",
        },
      }
    `);
    const badQuery = await gateway('catalog.books.list?input=%7Bnope');
    expect(badQuery.status).toBe(400);

    const body = JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024), author: 'Big', priceCents: 1 });
    const tooLarge = await gateway('catalog.books.create', { method: 'POST', body });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({
      error: { data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } },
    });
    expect(await platform.countRows('catalog.books')).toBe(before);
  });

  test('a query sent as a mutation is refused', async () => {
    const response = await gateway('catalog.books.list', { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
  });

  test('an invalid or expired access token is 401 for every call of the batch', async () => {
    const response = await gateway('auth.me,catalog.books.list?batch=1', {
      auth: false,
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(response.status).toBe(401);
    const items = (await response.json()) as unknown[];
    expect(items).toHaveLength(2);
    const malformedHeader = await gateway('auth.me', {
      auth: false,
      headers: { authorization: 'Basic abc' },
    });
    expect(malformedHeader.status).toBe(401);
  });

  test('every answer carries a request id; an incoming one is kept', async () => {
    const response = await gateway('auth.me', { headers: { 'x-request-id': 'trace-me-123' } });
    expect(response.headers.get('x-request-id')).toBe('trace-me-123');
    expect((await gateway('auth.me')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('the gateway serves /healthz, /readyz and /metrics', async () => {
    expect((await fetch(`${platform.gatewayUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${platform.gatewayUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${platform.gatewayUrl}/metrics`)).text();
    expect(metrics).toContain('bindery_gateway_calls_total');
    expect(metrics).toContain('bindery_gateway_upstream_duration_seconds');
    expect(metrics).toContain('process_resident_memory_bytes');
  });
});

describe('services accept only calls with a valid internal token', () => {
  const caller = { peer: 'gateway' as const, relayed: true, user: null, ip: null };

  async function callCatalog(authorization?: string) {
    const response = await fetch(`${platform.services.catalog.url}/trpc/catalog.books.list`, {
      headers: authorization ? { authorization } : {},
    });
    return { status: response.status, body: (await response.json()) as { error?: { message: string } } };
  }

  test('no token, a token for another service, an expired one or one signed by another key: 401', async () => {
    expect((await callCatalog()).status).toBe(401);
    const forUsers = await mintInternalToken(platform.keys.internalTokenSecret, {
      audience: 'users',
      caller,
    });
    expect(await callCatalog(`Bearer ${forUsers}`)).toMatchObject({
      status: 401,
      body: { error: { message: 'internal token rejected: aud' } },
    });
    const expired = await new SignJWT({ rid: 'r', rel: true })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('bindery:gateway')
      .setAudience('bindery:catalog')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(platform.keys.internalTokenSecret);
    expect(await callCatalog(`Bearer ${expired}`)).toMatchObject({
      status: 401,
      body: { error: { message: 'internal token expired' } },
    });
    const otherKey = await mintInternalToken(new Uint8Array(32).fill(7), {
      audience: 'catalog',
      caller,
    });
    expect((await callCatalog(`Bearer ${otherKey}`)).status).toBe(401);
    // A user's access token is not an internal token either.
    expect((await callCatalog(`Bearer ${token}`)).status).toBe(401);
  });

  test('a valid internal token gets through, and its user decides what is allowed', async () => {
    const anonymous = await mintInternalToken(platform.keys.internalTokenSecret, {
      audience: 'catalog',
      caller,
    });
    expect((await callCatalog(`Bearer ${anonymous}`)).status).toBe(401);
    const asViewer = await mintInternalToken(platform.keys.internalTokenSecret, {
      audience: 'catalog',
      caller: { ...caller, user: { id: '00000000-0000-4000-8000-000000000000', roles: ['viewer'] } },
    });
    expect((await callCatalog(`Bearer ${asViewer}`)).status).toBe(200);
  });
});
