import { randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { describe, expect, expectTypeOf, test, vi } from 'vitest';
import {
  INTERNAL_TOKEN_TTL_SECONDS,
  type InternalTokenClaims,
  InternalTokenError,
  mintInternalToken,
  verifyInternalToken,
} from '../src/internal-token';
import type { Caller } from '../src/roles';

const secret = randomBytes(48);

async function rejectionOf(run: () => unknown): Promise<{ name: string; message: string }> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(InternalTokenError);
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('expected verification to fail, but it passed');
}

describe('mint then verify', () => {
  test.each<[string, Caller]>([
    [
      'an anonymous call relayed by the gateway',
      { peer: 'gateway', relayed: true, user: null, ip: '203.0.113.9' },
    ],
    [
      'a signed-in user relayed by the gateway',
      {
        peer: 'gateway',
        relayed: true,
        user: { id: 'user-1', roles: ['admin', 'viewer'] },
        ip: '198.51.100.4',
      },
    ],
    [
      'a user authenticated by an API token',
      {
        peer: 'gateway',
        relayed: true,
        user: { id: 'user-2', roles: ['operator'], apiTokenId: 'tok-9' },
        ip: null,
      },
    ],
    [
      'a service calling on its own account for a user',
      { peer: 'users', relayed: false, user: { id: 'user-3', roles: ['customer'] }, ip: null },
    ],
    ['a service calling with no user at all', { peer: 'catalog', relayed: false, user: null, ip: null }],
    [
      'a user holding no roles',
      { peer: 'gateway', relayed: true, user: { id: 'user-4', roles: [] }, ip: null },
    ],
  ])('round-trips %s', async (_, caller) => {
    const token = await mintInternalToken(secret, { audience: 'auth', caller });
    const claims = await verifyInternalToken(secret, token, 'auth');
    expect(claims).toEqual({ caller });
  });

  test('the token is a short-lived HS256 JWT with issuer and audience named after the services', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await mintInternalToken(secret, {
      audience: 'catalog',
      caller: {
        peer: 'gateway',
        relayed: true,
        user: { id: 'u1', roles: ['admin'], apiTokenId: 't1' },
        ip: '10.0.0.1',
      },
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256' });
    const { iat, exp, ...claims } = decodeJwt(token);
    expect(claims).toMatchInlineSnapshot(`
      {
        "aud": "bindery:catalog",
        "ip": "10.0.0.1",
        "iss": "bindery:gateway",
        "rel": true,
        "roles": [
          "admin",
        ],
        "sub": "u1",
        "tok": "t1",
      }
    `);
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(exp! - iat!).toBe(INTERNAL_TOKEN_TTL_SECONDS);
    expect(INTERNAL_TOKEN_TTL_SECONDS).toBe(30);
  });

  test('ttlSeconds sets the lifetime', async () => {
    const token = await mintInternalToken(secret, {
      audience: 'users',
      caller: { peer: 'auth', relayed: false, user: null, ip: null },
      ttlSeconds: 5,
    });
    const { iat, exp } = decodeJwt(token);
    expect(exp! - iat!).toBe(5);
  });

  test('roles the platform does not know are dropped on verification', async () => {
    const token = await new SignJWT({ rid: 'r', rel: true, roles: ['admin', 'root', 42, 'customer'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('bindery:gateway')
      .setAudience('bindery:users')
      .setSubject('u1')
      .setExpirationTime('30s')
      .sign(secret);
    const { caller } = await verifyInternalToken(secret, token, 'users');
    expect(caller.user?.roles).toEqual(['admin', 'customer']);
  });

  test('claims of the wrong type fall back to safe values', async () => {
    const token = await new SignJWT({ rid: 7, rel: 'yes', roles: 'admin', tok: 5, ip: ['x'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('bindery:gateway')
      .setAudience('bindery:users')
      .setSubject('u1')
      .setExpirationTime('30s')
      .sign(secret);
    expect(await verifyInternalToken(secret, token, 'users')).toEqual({
      caller: { peer: 'gateway', relayed: false, user: { id: 'u1', roles: [] }, ip: null },
    });
  });

  test('verification returns typed claims', () => {
    expectTypeOf(verifyInternalToken).returns.toEqualTypeOf<InternalTokenClaims>();
    expectTypeOf<InternalTokenClaims['caller']>().toEqualTypeOf<Caller>();
  });
});

describe('verification refuses', () => {
  const caller: Caller = { peer: 'gateway', relayed: true, user: { id: 'u1', roles: ['admin'] }, ip: null };

  test('a token addressed to another service', async () => {
    const token = await mintInternalToken(secret, { audience: 'users', caller });
    expect(await rejectionOf(() => verifyInternalToken(secret, token, 'catalog'))).toMatchInlineSnapshot(`
      {
        "message": "internal token rejected: aud",
        "name": "InternalTokenError",
      }
    `);
  });

  test('an expired token', async () => {
    const token = await new SignJWT({ rid: 'r', rel: false })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('bindery:users')
      .setAudience('bindery:auth')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 60)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 30)
      .sign(secret);
    expect(await rejectionOf(() => verifyInternalToken(secret, token, 'auth'))).toEqual({
      name: 'InternalTokenError',
      message: 'internal token expired',
    });
  });

  test('a token minted with no lifetime left', async () => {
    const token = await mintInternalToken(secret, {
      audience: 'auth',
      caller,
      ttlSeconds: 0,
    });
    expect((await rejectionOf(() => verifyInternalToken(secret, token, 'auth'))).message).toBe(
      'internal token expired',
    );
  });

  test('a token signed with another secret', async () => {
    const token = await mintInternalToken(randomBytes(48), { audience: 'auth', caller });
    expect(await rejectionOf(() => verifyInternalToken(secret, token, 'auth'))).toEqual({
      name: 'InternalTokenError',
      message: 'internal token invalid',
    });
  });

  test('a token whose payload was altered after signing', async () => {
    const token = await mintInternalToken(secret, {
      audience: 'auth',
      caller: { ...caller, user: { id: 'u1', roles: ['customer'] } },
    });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    expect(
      (await rejectionOf(() => verifyInternalToken(secret, `${header}.${forged}.${signature}`, 'auth')))
        .message,
    ).toBe('internal token invalid');
  });

  test.each([
    ['garbage', 'not-a-token'],
    ['an empty string', ''],
    ['three dots of nothing', '..'],
  ])('%s', async (_, token) => {
    expect(await rejectionOf(() => verifyInternalToken(secret, token, 'auth'))).toEqual({
      name: 'InternalTokenError',
      message: 'internal token invalid',
    });
  });

  test('an unsigned token (alg none)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({
        iss: 'bindery:gateway',
        aud: 'bindery:auth',
        exp: Math.floor(Date.now() / 1000) + 30,
      }),
    ).toString('base64url');
    expect(
      (await rejectionOf(() => verifyInternalToken(secret, `${header}.${payload}.`, 'auth'))).message,
    ).toBe('internal token invalid');
  });

  test('a token signed with another HMAC algorithm', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuer('bindery:gateway')
      .setAudience('bindery:auth')
      .setExpirationTime('30s')
      .sign(randomBytes(64));
    expect((await rejectionOf(() => verifyInternalToken(secret, token, 'auth'))).message).toBe(
      'internal token invalid',
    );
  });

  test.each([
    ['a process that is not part of Bindery', 'bindery:mailroom'],
    ['an issuer outside the bindery: namespace', 'gateway'],
    ['the bare prefix', 'bindery:'],
  ])('a token from %s', async (_, issuer) => {
    const token = await new SignJWT({ rid: 'r', rel: false })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience('bindery:auth')
      .setExpirationTime('30s')
      .sign(secret);
    expect(await rejectionOf(() => verifyInternalToken(secret, token, 'auth'))).toEqual({
      name: 'InternalTokenError',
      message: 'unknown issuer',
    });
  });

  test('a token with no issuer', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('bindery:auth')
      .setExpirationTime('30s')
      .sign(secret);
    expect((await rejectionOf(() => verifyInternalToken(secret, token, 'auth'))).message).toBe(
      'unknown issuer',
    );
  });
});

describe('interoperates with other HS256 JWT libraries, in the one form Bindery mints', () => {
  const claims = { rid: 'r', rel: true, roles: ['viewer'] };
  const signed = (header: Record<string, unknown>, expiry: string | number = '30s') =>
    new SignJWT(claims)
      .setProtectedHeader(header as { alg: string })
      .setIssuer('bindery:gateway')
      .setAudience(['bindery:users', 'bindery:auth'])
      .setSubject('u1')
      .setExpirationTime(expiry)
      .sign(secret);

  test('a token jose signed with a typ header and an audience list verifies', async () => {
    const token = await signed({ alg: 'HS256', typ: 'JWT' });
    expect(await verifyInternalToken(secret, token, 'auth')).toEqual({
      caller: { peer: 'gateway', relayed: true, user: { id: 'u1', roles: ['viewer'] }, ip: null },
    });
  });

  test('a header with critical extensions is refused', async () => {
    const token = await signed({ alg: 'HS256', crit: ['b64'], b64: true });
    expect((await rejectionOf(() => verifyInternalToken(secret, token, 'auth'))).message).toBe(
      'internal token invalid',
    );
  });

  test('a token with no expiry is refused', async () => {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('bindery:gateway')
      .setAudience('bindery:auth')
      .sign(secret);
    expect((await rejectionOf(() => verifyInternalToken(secret, token, 'auth'))).message).toBe(
      'internal token invalid',
    );
  });

  test('a signature spelled another way (padding, a fourth segment) is refused', async () => {
    const token = await mintInternalToken(secret, {
      audience: 'auth',
      caller: { peer: 'gateway', relayed: false, user: null, ip: null },
    });
    for (const altered of [`${token}=`, `${token}.`, `${token.slice(0, -1)}`]) {
      expect((await rejectionOf(() => verifyInternalToken(secret, altered, 'auth'))).message).toBe(
        'internal token invalid',
      );
    }
  });
});

describe('tokens are minted once per caller and checked once', () => {
  const caller: Caller = {
    peer: 'gateway',
    relayed: true,
    user: { id: 'u9', roles: ['viewer'] },
    ip: '10.0.0.9',
  };

  test('the same caller and audience get the same token until half its lifetime has passed', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-28T12:00:00Z'), toFake: ['Date'] });
    try {
      const first = await mintInternalToken(secret, { audience: 'orders', caller });
      expect(await mintInternalToken(secret, { audience: 'orders', caller })).toBe(first);
      expect(await mintInternalToken(secret, { audience: 'billing', caller })).not.toBe(first);
      expect(
        await mintInternalToken(secret, { audience: 'orders', caller: { ...caller, ip: null } }),
      ).not.toBe(first);
      expect(
        await mintInternalToken(secret, {
          audience: 'orders',
          caller: { ...caller, user: { id: 'u9', roles: ['admin'] } },
        }),
      ).not.toBe(first);
      expect(await mintInternalToken(randomBytes(48), { audience: 'orders', caller })).not.toBe(first);
      vi.setSystemTime(Date.now() + (INTERNAL_TOKEN_TTL_SECONDS / 2) * 1000);
      const renewed = await mintInternalToken(secret, { audience: 'orders', caller });
      expect(renewed).not.toBe(first);
      expect((await verifyInternalToken(secret, renewed, 'orders')).caller).toEqual(caller);
    } finally {
      vi.useRealTimers();
    }
  });

  test('a checked token stays valid only until it expires, and only for its audience', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-28T13:00:00Z'), toFake: ['Date'] });
    try {
      const token = await mintInternalToken(secret, { audience: 'notifications', caller });
      expect((await verifyInternalToken(secret, token, 'notifications')).caller).toEqual(caller);
      expect((await rejectionOf(() => verifyInternalToken(secret, token, 'billing'))).message).toBe(
        'internal token rejected: aud',
      );
      expect(
        (await rejectionOf(() => verifyInternalToken(randomBytes(48), token, 'notifications'))).message,
      ).toBe('internal token invalid');
      vi.setSystemTime(Date.now() + INTERNAL_TOKEN_TTL_SECONDS * 1000);
      expect((await rejectionOf(() => verifyInternalToken(secret, token, 'notifications'))).message).toBe(
        'internal token expired',
      );
    } finally {
      vi.useRealTimers();
    }
  });

  test("the claims a checked token yields are frozen: no call changes another's caller", async () => {
    const token = await mintInternalToken(secret, { audience: 'users', caller });
    const claims = await verifyInternalToken(secret, token, 'users');
    expect(await verifyInternalToken(secret, token, 'users')).toBe(claims);
    expect(() => {
      (claims.caller.user!.roles as string[]).push('admin');
    }).toThrow(TypeError);
    expect(Object.isFrozen(claims.caller)).toBe(true);
  });
});
