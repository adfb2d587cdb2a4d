import {
  decodeJwt,
  decodeProtectedHeader,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  SignJWT,
} from 'jose';
import { beforeAll, describe, expect, expectTypeOf, test } from 'vitest';
import {
  type AccessTokenClaims,
  createAccessTokenSigner,
  createAccessTokenVerifier,
} from '../src/access-token';
import type { Role } from '../src/roles';

async function pemKeyPair(): Promise<{ privatePem: string; publicPem: string }> {
  const pair = await generateKeyPair('EdDSA', { extractable: true });
  return { privatePem: await exportPKCS8(pair.privateKey), publicPem: await exportSPKI(pair.publicKey) };
}

let keys: { privatePem: string; publicPem: string };
let sign: Awaited<ReturnType<typeof createAccessTokenSigner>>;
let verify: Awaited<ReturnType<typeof createAccessTokenVerifier>>;

beforeAll(async () => {
  keys = await pemKeyPair();
  sign = await createAccessTokenSigner(keys.privatePem);
  verify = await createAccessTokenVerifier(keys.publicPem);
});

/** A token with the issuer, audience and algorithm of a real one, but whatever claims a test needs. */
async function forge(
  claims: Record<string, unknown>,
  options: { issuer?: string; audience?: string; subject?: string; expiresAt?: number } = {},
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setIssuer(options.issuer ?? 'bindery:auth')
    .setAudience(options.audience ?? 'bindery:gateway')
    .setExpirationTime(options.expiresAt ?? Math.floor(Date.now() / 1000) + 60);
  if (options.subject !== undefined) jwt.setSubject(options.subject);
  return jwt.sign(await importPKCS8(keys.privatePem, 'EdDSA'));
}

describe('sign then verify', () => {
  test('round-trips the user id, roles and expiry', async () => {
    const { token, expiresAt } = await sign({ id: 'user-1', roles: ['admin', 'viewer'] }, 900);
    const claims = await verify(token);
    expect(claims).toEqual({
      userId: 'user-1',
      roles: ['admin', 'viewer'],
      // The token carries whole seconds; the signer reports the unrounded instant.
      expiresAt: new Date(Math.floor(expiresAt.getTime() / 1000) * 1000),
    });
    expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(899_000);
    expect(expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
  });

  test('a user with no roles round-trips with none', async () => {
    const { token } = await sign({ id: 'user-2', roles: [] }, 60);
    expect((await verify(token))?.roles).toEqual([]);
  });

  test('the token is an EdDSA JWT from bindery:auth to bindery:gateway', async () => {
    const { token } = await sign({ id: 'user-3', roles: ['customer'] }, 60);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'JWT' });
    const { iat, exp, ...claims } = decodeJwt(token);
    expect(claims).toMatchInlineSnapshot(`
      {
        "aud": "bindery:gateway",
        "iss": "bindery:auth",
        "roles": [
          "customer",
        ],
        "sub": "user-3",
      }
    `);
    expect(exp! - iat!).toBe(60);
  });

  test('roles the platform does not know are dropped', async () => {
    const token = await forge(
      { roles: ['superuser', 'operator', 7, null, 'customer'] },
      { subject: 'user-4' },
    );
    expect((await verify(token))?.roles).toEqual(['operator', 'customer']);
  });

  test('roles that are not a list count as none', async () => {
    const token = await forge({ roles: 'admin' }, { subject: 'user-5' });
    expect(await verify(token)).toMatchObject({ userId: 'user-5', roles: [] });
  });

  test('the verifier resolves typed claims or null', () => {
    expectTypeOf(verify).returns.resolves.toEqualTypeOf<AccessTokenClaims | null>();
    expectTypeOf<AccessTokenClaims['roles']>().toEqualTypeOf<Role[]>();
  });
});

describe('the verifier answers null for', () => {
  test('a token signed by another key', async () => {
    const other = await pemKeyPair();
    const signOther = await createAccessTokenSigner(other.privatePem);
    const { token } = await signOther({ id: 'user-1', roles: ['admin'] }, 60);
    expect(await verify(token)).toBeNull();
    // The other key's own verifier accepts it: the key is the only difference.
    expect(await (await createAccessTokenVerifier(other.publicPem))(token)).not.toBeNull();
  });

  test('an expired token', async () => {
    const { token } = await sign({ id: 'user-1', roles: ['admin'] }, -10);
    expect(await verify(token)).toBeNull();
  });

  test('a token from another issuer', async () => {
    expect(await verify(await forge({ roles: [] }, { subject: 'u', issuer: 'bindery:users' }))).toBeNull();
  });

  test('a token for another audience', async () => {
    expect(
      await verify(await forge({ roles: [] }, { subject: 'u', audience: 'bindery:catalog' })),
    ).toBeNull();
  });

  test('a token without a subject', async () => {
    expect(await verify(await forge({ roles: ['admin'] }))).toBeNull();
  });

  test('a token whose roles were altered after signing', async () => {
    const { token } = await sign({ id: 'user-1', roles: ['customer'] }, 60);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    expect(await verify(`${header}.${forged}.${signature}`)).toBeNull();
  });

  test('an HS256 token (algorithm confusion)', async () => {
    const token = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('bindery:auth')
      .setAudience('bindery:gateway')
      .setSubject('user-1')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(keys.publicPem));
    expect(await verify(token)).toBeNull();
  });

  test.each(['', 'garbage', 'a.b.c'])('the text %j', async (token) => {
    expect(await verify(token)).toBeNull();
  });
});

describe('keys', () => {
  test('a signer refuses a key that is not a PKCS#8 PEM', async () => {
    await expect(createAccessTokenSigner(keys.publicPem)).rejects.toThrow();
  });

  test('a verifier refuses a key that is not an SPKI PEM', async () => {
    await expect(createAccessTokenVerifier(keys.privatePem)).rejects.toThrow();
  });
});
