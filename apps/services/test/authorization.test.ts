import {
  type Access,
  createAccessTokenSigner,
  mintInternalToken,
  type ProcedureInfo,
  type Role,
} from '@bindery/api';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, createAccount } from './support/accounts';
import { eventually, settled } from './support/orders';
import { startTestPlatform, type TestPlatform } from './support/platform';

/**
 * Every procedure of every service, read from the services themselves (`/procedures`), called
 * through the gateway as every kind of caller: a procedure added tomorrow is covered without editing
 * this test. Inputs are empty, so an allowed call fails validation (400) and changes nothing; what
 * matters is whether the gateway and the service let the caller reach the procedure at all.
 */
let platform: TestPlatform;
let procedures: ProcedureInfo[];
const tokens: Record<string, string | null> = {};
const roles: Record<string, Role[] | null> = {};

beforeAll(async () => {
  platform = await startTestPlatform({ GATEWAY_API_TOKEN_CACHE_MS: '0' });
  const admin = await platform.signIn(platform.admin.email, platform.admin.password);
  const [customer, viewer, operator] = await Promise.all(
    (['customer', 'viewer', 'operator'] as const).map((role) =>
      createAccount(platform, [role], admin.client),
    ),
  );
  const apiToken = await admin.client.auth.tokens.create.mutate({ name: 'matrix' });
  const revoked = await admin.client.auth.tokens.create.mutate({ name: 'revoked' });
  await admin.client.auth.tokens.revoke.mutate({ id: revoked.id });
  Object.assign(tokens, {
    anonymous: null,
    customer: customer!.accessToken,
    viewer: viewer!.accessToken,
    operator: operator!.accessToken,
    admin: admin.accessToken,
    'API token (admin)': apiToken.token,
    'revoked API token': revoked.token,
  });
  Object.assign(roles, {
    anonymous: null,
    customer: ['customer'],
    viewer: ['viewer'],
    operator: ['operator'],
    admin: ['admin'],
    'API token (admin)': ['admin'],
    'revoked API token': 'invalid',
  });
  procedures = await admin.client.system.procedures.query();
});
afterAll(() => platform?.close());

/** What the caller must get: reached (anything but 401/403), UNAUTHORIZED or FORBIDDEN. */
function expected(
  access: Access | null,
  callerRoles: Role[] | null | 'invalid',
): 'reached' | 'UNAUTHORIZED' | 'FORBIDDEN' {
  if (callerRoles === 'invalid') return 'UNAUTHORIZED';
  if (!access) return 'FORBIDDEN';
  switch (access.kind) {
    case 'public':
      return 'reached';
    case 'services':
      // Service-only procedures refuse every call the gateway relays, whoever makes it.
      return 'FORBIDDEN';
    case 'roles':
      if (!callerRoles) return 'UNAUTHORIZED';
      return callerRoles.some((role) => access.roles.includes(role)) ? 'reached' : 'FORBIDDEN';
  }
}

async function call(
  procedure: ProcedureInfo,
  token: string | null,
): Promise<{ status: number; code: string }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const url = `${platform.gatewayUrl}/trpc/${procedure.path}`;
  const response =
    procedure.type === 'mutation'
      ? await fetch(url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: '{}',
        })
      : await fetch(`${url}?input=${encodeURIComponent('{}')}`, { headers });
  const text = await response.text();
  const body =
    procedure.type === 'subscription' ? null : (JSON.parse(text) as { error?: { data?: { code?: string } } });
  return {
    status: response.status,
    code: body?.error?.data?.code ?? (response.ok ? 'OK' : String(response.status)),
  };
}

describe('the authorization matrix, enumerated', () => {
  test('the gateway lists every service’s procedures', async () => {
    const namespaces = new Set(procedures.map((procedure) => procedure.path.split('.')[0]));
    expect([...namespaces].sort()).toEqual([
      'auth',
      'billing',
      'catalog',
      'notifications',
      'orders',
      'system',
      'users',
    ]);
    for (const service of Object.values(platform.services)) {
      const own = (await (await fetch(`${service.url}/procedures`)).json()) as ProcedureInfo[];
      for (const procedure of own) expect(procedures.map((known) => known.path)).toContain(procedure.path);
    }
  });

  test('every procedure, as every caller, is reached or refused exactly as its meta says', async () => {
    const mismatches: string[] = [];
    let calls = 0;
    for (const procedure of procedures.filter((candidate) => candidate.type !== 'subscription')) {
      for (const [caller, token] of Object.entries(tokens)) {
        const want = expected(procedure.access, roles[caller] as Role[] | null | 'invalid');
        const { status, code } = await call(procedure, token);
        calls++;
        const got = code === 'UNAUTHORIZED' || code === 'FORBIDDEN' ? code : 'reached';
        if (got !== want)
          mismatches.push(`${procedure.path} as ${caller}: want ${want}, got ${code} (${status})`);
        if (status >= 500) mismatches.push(`${procedure.path} as ${caller}: ${status} ${code}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(calls).toBeGreaterThan(250);
    const checked = procedures.filter((candidate) => candidate.type !== 'subscription').length;
    console.log(
      `[authorization] ${checked} procedures × ${Object.keys(tokens).length} kinds of caller = ${calls} calls through the gateway, each as its meta says`,
    );
  });

  test('every service refuses direct calls without a valid internal token: none, expired, for another service, another key', async () => {
    const caller = {
      peer: 'gateway' as const,
      relayed: true,
      user: { id: '00000000-0000-4000-8000-000000000000', roles: ['admin' as const] },
      ip: null,
    };
    const secret = platform.keys.internalTokenSecret;
    const failures: string[] = [];
    for (const [name, service] of Object.entries(platform.services)) {
      const procedure = procedures.find(
        (candidate) => candidate.path.startsWith(`${name}.`) && candidate.type === 'query',
      );
      expect(procedure, name).toBeDefined();
      const expired = await new SignJWT({ rid: 'r', rel: true, roles: ['admin'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('bindery:gateway')
        .setAudience(`bindery:${name}`)
        .setSubject(caller.user.id)
        .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(secret);
      const other = name === 'users' ? 'auth' : 'users';
      const cases: Record<string, string | null> = {
        none: null,
        expired,
        [`for ${other}`]: await mintInternalToken(secret, { audience: other, caller }),
        'another key': await mintInternalToken(new Uint8Array(32).fill(9), {
          audience: name as never,
          caller,
        }),
      };
      for (const [kind, token] of Object.entries(cases)) {
        const response = await fetch(
          `${service.url}/trpc/${procedure!.path}?input=${encodeURIComponent('{}')}`,
          {
            headers: token ? { authorization: `Bearer ${token}` } : {},
          },
        );
        if (response.status !== 401) failures.push(`${name} with ${kind}: ${response.status}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('a customer reaches only their own data', () => {
  test('another customer’s profile, order, payment and notifications are refused; their own are not', async () => {
    const admin = await platform.signIn(platform.admin.email, platform.admin.password);
    const [alice, bob] = [
      await createAccount(platform, ['customer']),
      await createAccount(platform, ['customer']),
    ];
    const book = await admin.client.catalog.books.create.mutate({
      title: 'Only mine',
      author: 'Owner',
      priceCents: 500,
      stock: 5,
    });
    const order = await bob.client.orders.create.mutate({
      items: [{ bookId: book.id, quantity: 1 }],
      idempotencyKey: `bob-${bob.id}`,
    });
    const confirmed = await settled(bob.client, order.id);
    expect(confirmed.status).toBe('CONFIRMED');
    // Bob's own data, as a control: the refusals below are about ownership, not about the procedures.
    expect((await bob.client.users.byId.query({ id: bob.id })).id).toBe(bob.id);
    expect((await bob.client.billing.payments.byOrder.query({ orderId: order.id })).orderId).toBe(order.id);
    const bobsMessages = await eventually(
      () => bob.client.notifications.list.query(),
      (page) => page.items.length > 0,
    );

    expect(await codeOf(alice.client.users.byId.query({ id: bob.id }))).toBe('FORBIDDEN');
    expect(await codeOf(alice.client.orders.byId.query({ id: order.id }))).toMatch(/^(NOT_FOUND|FORBIDDEN)$/);
    expect(await codeOf(alice.client.orders.cancel.mutate({ id: order.id }))).toMatch(
      /^(NOT_FOUND|FORBIDDEN)$/,
    );
    expect((await bob.client.orders.byId.query({ id: order.id })).status).toBe('CONFIRMED');
    expect(await codeOf(alice.client.billing.payments.byOrder.query({ orderId: order.id }))).toMatch(
      /^(NOT_FOUND|FORBIDDEN)$/,
    );
    expect(await codeOf(alice.client.notifications.list.query({ userId: bob.id }))).toBe('FORBIDDEN');
    const alicesMessages = await alice.client.notifications.list.query();
    const bobsIds = new Set(bobsMessages.items.map((message) => message.id));
    expect(alicesMessages.items.filter((message) => bobsIds.has(message.id))).toEqual([]);
    expect(alicesMessages.items.every((message) => message.userId === alice.id)).toBe(true);
  });
});

describe('signing in', () => {
  test('a disabled user cannot sign in again, and their access token stops working within its lifetime', async () => {
    const admin = await platform.signIn(platform.admin.email, platform.admin.password);
    const carol = await createAccount(platform, ['operator']);
    const [, payload] = carol.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { iat: number; exp: number };
    // A stateless access token outlives nothing: it ends at most one lifetime after it was issued.
    expect(claims.exp - claims.iat).toBe(platform.config.ACCESS_TOKEN_TTL_SECONDS);

    await admin.client.users.disable.mutate({ id: carol.id });
    expect(
      await codeOf(platform.client().auth.login.mutate({ email: carol.email, password: carol.password })),
    ).toMatch(/^(UNAUTHORIZED|FORBIDDEN)$/);
    // The same token once its lifetime is over (signed with the real key): refused.
    const sign = await createAccessTokenSigner(platform.keys.accessTokenPrivateKeyPem);
    const { token: lapsed } = await sign({ id: carol.id, roles: ['operator'] }, -1);
    expect(await codeOf(platform.client(lapsed).catalog.books.list.query())).toBe('UNAUTHORIZED');
  });
});
