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
  return async (token: string): Promise<AccessTokenClaims | null> => {
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
      return { userId: payload.sub, roles, expiresAt: new Date(payload.exp * 1000) };
    } catch {
      return null;
    }
  };
}
