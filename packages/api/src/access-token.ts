import { importPKCS8, importSPKI, jwtVerify, SignJWT } from 'jose';
import { ROLES, type Role } from './roles';

/**
 * Access tokens are what a user holds after `auth.login`: an EdDSA-signed JWT that the auth service
 * issues with its private key and the gateway verifies with the public one.
 */
export interface AccessTokenClaims {
  userId: string;
  roles: Role[];
  expiresAt: Date;
}

const ISSUER = 'bindery:auth';
const AUDIENCE = 'bindery:gateway';

export async function createAccessTokenSigner(privateKeyPem: string) {
  const key = await importPKCS8(privateKeyPem, 'EdDSA');
  return async (user: { id: string; roles: readonly Role[] }, ttlSeconds: number) => {
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const token = await new SignJWT({ roles: user.roles })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(key);
    return { token, expiresAt };
  };
}

/** Returns a verifier that resolves the claims of a valid token, or null for any invalid one. */
export async function createAccessTokenVerifier(publicKeyPem: string) {
  const key = await importSPKI(publicKeyPem, 'EdDSA');
  // A client sends the same token with every call until it expires: verify its signature once.
  const verified = new Map<string, AccessTokenClaims>();
  return async (token: string): Promise<AccessTokenClaims | null> => {
    const known = verified.get(token);
    if (known) {
      if (known.expiresAt.getTime() > Date.now()) return known;
      verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['EdDSA'],
      });
      if (!payload.sub || !payload.exp) return null;
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((role): role is Role => ROLES.includes(role))
        : [];
      const claims = { userId: payload.sub, roles, expiresAt: new Date(payload.exp * 1000) };
      // Oldest first out, so that a flood of distinct tokens cannot grow it without bound.
      if (verified.size >= MAX_VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
      verified.set(token, claims);
      return claims;
    } catch {
      return null;
    }
  };
}

/** Access tokens whose signature the verifier remembers. */
const MAX_VERIFIED_TOKENS = 10_000;
