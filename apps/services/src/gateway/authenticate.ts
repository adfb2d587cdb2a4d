import type { AccessTokenClaims, UserIdentity } from '@bindery/api';

export type Authentication =
  | { kind: 'anonymous' }
  | { kind: 'user'; user: UserIdentity }
  | { kind: 'invalid'; reason: string }
  /** The auth service could not be asked about an API token. */
  | { kind: 'unavailable' };

export interface AuthenticatorOptions {
  verifyAccessToken: (token: string) => Promise<AccessTokenClaims | null>;
  /** Asks the auth service who holds an API token (null: unknown, revoked, expired, or user disabled). */
  resolveApiToken: (token: string) => Promise<UserIdentity | null>;
  /**
   * How long an API token's owner is remembered; a revoked token stops working within it.
   * @defaultValue 10_000
   */
  apiTokenCacheMs?: number;
}

/** API tokens are 70 characters (`bnd_<22>_<43>`); the auth service refuses to look up one over 200. */
const MAX_API_TOKEN_LENGTH = 200;

/**
 * Authenticates the caller from `Authorization: Bearer …`: an access token (verified here with the
 * auth service's public key) or an API token (`bnd_…`, resolved by the auth service and cached
 * briefly). No header means an anonymous caller, who can reach only public procedures.
 */
export function createAuthenticator(options: AuthenticatorOptions) {
  const cacheMs = options.apiTokenCacheMs ?? 10_000;
  const apiTokens = new Map<string, { user: UserIdentity | null; until: number }>();

  async function resolveCached(token: string): Promise<UserIdentity | null> {
    const now = Date.now();
    const cached = apiTokens.get(token);
    if (cached && cached.until > now) return cached.user;
    const user = await options.resolveApiToken(token);
    if (apiTokens.size > 10_000) apiTokens.clear();
    apiTokens.set(token, { user, until: now + cacheMs });
    return user;
  }

  return async (authorization: string | undefined): Promise<Authentication> => {
    if (!authorization) return { kind: 'anonymous' };
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (!token) return { kind: 'invalid', reason: 'The Authorization header must read "Bearer <token>"' };
    if (token.startsWith('bnd_')) {
      // Longer than any token auth issues, and than `auth.internal.resolveApiToken` accepts: asking would fail.
      if (token.length > MAX_API_TOKEN_LENGTH)
        return { kind: 'invalid', reason: 'The API token is unknown, revoked or expired' };
      let user: UserIdentity | null;
      try {
        user = await resolveCached(token);
      } catch {
        return { kind: 'unavailable' };
      }
      return user
        ? { kind: 'user', user }
        : { kind: 'invalid', reason: 'The API token is unknown, revoked or expired' };
    }
    const claims = await options.verifyAccessToken(token);
    return claims
      ? { kind: 'user', user: { id: claims.userId, roles: claims.roles } }
      : { kind: 'invalid', reason: 'The access token is invalid or expired; sign in again' };
  };
}
