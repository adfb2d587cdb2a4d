import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { type Caller, ROLES, type Role, SERVICE_NAMES, type ServiceName } from './roles';

/**
 * Internal tokens authenticate every hop between Bindery processes. The sender presents one per
 * caller and target service (`aud`), carrying the end user and whether the call is relayed from a
 * client; the request id travels beside it in `x-request-id`. They live for seconds, so a captured
 * one is of little use.
 *
 * They are HS256 JSON Web Tokens (RFC 7519), signed and checked here with node:crypto's HMAC rather
 * than jose: jose's Web Crypto HMAC runs on the thread pool and costs a round trip of promises on
 * every hop, several times the signature itself. Only the one form Bindery mints is accepted: the
 * header `{"alg":"HS256"}` (no other algorithm, no `crit`, no unencoded payload), a signature of
 * exactly 32 bytes compared in constant time, a JSON object payload whose `exp` lies ahead, and the
 * audience asked for. Tokens from any HS256 JWT library with the same secret verify alike.
 *
 * Both ends remember: a sender presents the same token for the same caller and audience until half
 * its lifetime has passed, and a receiver checks a token's signature once and trusts it until it
 * expires, so a stream of calls from one user costs one signature and one check per half-minute.
 * Minting and verifying are synchronous (no promise per hop); verifying throws InternalTokenError.
 */
export interface InternalTokenClaims {
  caller: Caller;
}

const ISSUER_PREFIX = 'bindery:';
/** base64url of `{"alg":"HS256"}`, the protected header of every token minted here. */
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');

/** The HMAC key of each secret, made once rather than for every token. */
const hmacKeys = new WeakMap<Uint8Array, KeyObject>();

function hmacKey(secret: Uint8Array): KeyObject {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = createSecretKey(secret);
    hmacKeys.set(secret, key);
  }
  return key;
}

function signature(secret: Uint8Array, signingInput: string): string {
  return createHmac('sha256', hmacKey(secret)).update(signingInput).digest('base64url');
}

/** @defaultValue 30 seconds */
export const INTERNAL_TOKEN_TTL_SECONDS = 30;

/** How many tokens each cache holds before it forgets the oldest. */
const CACHE_LIMIT = 10_000;

interface MintedToken {
  token: string;
  /** Unix seconds after which a fresh token is minted (half its lifetime). */
  renewAt: number;
}

const mintedTokens = new WeakMap<Uint8Array, Map<string, MintedToken>>();

export function mintInternalToken(
  secret: Uint8Array,
  options: { audience: ServiceName; caller: Caller; ttlSeconds?: number },
): string {
  const { caller } = options;
  const ttlSeconds = options.ttlSeconds ?? INTERNAL_TOKEN_TTL_SECONDS;
  const now = Math.floor(Date.now() / 1000);
  const user = caller.user;
  const key = `${options.audience} ${ttlSeconds} ${caller.peer} ${caller.relayed} ${caller.ip ?? ''} ${user ? `${user.id} ${user.roles.join(',')} ${user.apiTokenId ?? ''}` : ''}`;
  let minted = mintedTokens.get(secret);
  if (!minted) {
    minted = new Map();
    mintedTokens.set(secret, minted);
  }
  const known = minted.get(key);
  if (known && now < known.renewAt) return known.token;
  const payload = Buffer.from(
    JSON.stringify({
      rel: caller.relayed,
      ...(user ? { roles: user.roles, ...(user.apiTokenId ? { tok: user.apiTokenId } : {}) } : {}),
      ...(caller.ip ? { ip: caller.ip } : {}),
      iss: ISSUER_PREFIX + caller.peer,
      aud: ISSUER_PREFIX + options.audience,
      sub: user?.id ?? '',
      iat: now,
      exp: now + ttlSeconds,
    }),
  ).toString('base64url');
  const signingInput = `${HEADER}.${payload}`;
  const token = `${signingInput}.${signature(secret, signingInput)}`;
  remember(minted, key, { token, renewAt: now + Math.floor(ttlSeconds / 2) });
  return token;
}

/** Adds to a bounded cache, forgetting the oldest entry (a Map keeps insertion order) when full. */
function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  cache.delete(key);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}

export class InternalTokenError extends Error {
  override name = 'InternalTokenError';
}

/** Verifies a token addressed to `audience`; throws InternalTokenError with the reason otherwise. */
interface VerifiedToken {
  audience: ServiceName;
  claims: InternalTokenClaims;
  /** The token's `exp`, Unix seconds. */
  expiresAt: number;
}

const verifiedTokens = new WeakMap<Uint8Array, Map<string, VerifiedToken>>();

/** Verifies a token addressed to `audience`; throws InternalTokenError with the reason otherwise. */
export function verifyInternalToken(
  secret: Uint8Array,
  token: string,
  audience: ServiceName,
): InternalTokenClaims {
  const now = Math.floor(Date.now() / 1000);
  let verified = verifiedTokens.get(secret);
  if (!verified) {
    verified = new Map();
    verifiedTokens.set(secret, verified);
  }
  const known = verified.get(token);
  if (known && known.audience === audience && now < known.expiresAt) return known.claims;
  const payload = verifiedPayload(secret, token);
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
    throw new InternalTokenError('internal token invalid');
  }
  if (payload.exp <= now) throw new InternalTokenError('internal token expired');
  if (payload.nbf !== undefined && !(typeof payload.nbf === 'number' && payload.nbf <= now)) {
    throw new InternalTokenError('internal token rejected: nbf');
  }
  const expectedAudience = ISSUER_PREFIX + audience;
  const aud = payload.aud;
  if (aud !== expectedAudience && !(Array.isArray(aud) && aud.includes(expectedAudience))) {
    throw new InternalTokenError('internal token rejected: aud');
  }
  const iss = payload.iss;
  const peer = (typeof iss === 'string' ? iss.slice(ISSUER_PREFIX.length) : '') as ServiceName;
  if (typeof iss !== 'string' || !iss.startsWith(ISSUER_PREFIX) || !SERVICE_NAMES.includes(peer)) {
    throw new InternalTokenError('unknown issuer');
  }
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((role): role is Role => ROLES.includes(role as Role))
    : [];
  const user =
    typeof payload.sub === 'string' && payload.sub
      ? { id: payload.sub, roles, ...(typeof payload.tok === 'string' ? { apiTokenId: payload.tok } : {}) }
      : null;
  // Shared by every call that presents the token: frozen, so no procedure can change another's caller.
  const claims: InternalTokenClaims = deepFreeze({
    caller: {
      peer,
      relayed: payload.rel === true,
      user,
      ip: typeof payload.ip === 'string' ? payload.ip : null,
    },
  });
  remember(verified, token, { audience, claims, expiresAt: payload.exp });
  return claims;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The claims of a token whose header and signature are Bindery's; throws 'internal token invalid' otherwise. */
function verifiedPayload(secret: Uint8Array, token: string): Record<string, unknown> {
  const invalid = () => new InternalTokenError('internal token invalid');
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  if (firstDot === -1 || secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) throw invalid();
  const header = token.slice(0, firstDot);
  if (header !== HEADER && !isPlainHs256Header(header)) throw invalid();
  const given = Buffer.from(token.slice(secondDot + 1));
  const expected = Buffer.from(signature(secret, token.slice(0, secondDot)));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token.slice(firstDot + 1, secondDot), 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw invalid();
  return payload as Record<string, unknown>;
}

/** A header another HS256 library wrote (`typ`, other key order): HS256 and nothing that changes its meaning. */
function isPlainHs256Header(encoded: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return (
      !!header &&
      typeof header === 'object' &&
      (header as Record<string, unknown>).alg === 'HS256' &&
      !('crit' in header) &&
      !('b64' in header)
    );
  } catch {
    return false;
  }
}
