import { errors, jwtVerify, SignJWT } from 'jose';
import { type Caller, ROLES, type Role, SERVICE_NAMES, type ServiceName } from './roles';

/**
 * Internal tokens authenticate every hop between Bindery processes. The sender mints one per call,
 * addressed to the target service (`aud`), carrying the end user, the request id and whether the
 * call is relayed from a client. They live for seconds, so a captured one is of little use.
 */
export interface InternalTokenClaims {
  caller: Caller;
  requestId: string;
}

const ALGORITHM = 'HS256';
const ISSUER_PREFIX = 'bindery:';

/**
 * The HMAC key of each secret, imported once: jose would import a raw secret again for every token
 * it signs or verifies, which costs more than the signature itself.
 */
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const hmacKeys = new WeakMap<Uint8Array, Promise<HmacKey>>();

function hmacKey(secret: Uint8Array): Promise<HmacKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      secret as Uint8Array<ArrayBuffer>,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    hmacKeys.set(secret, key);
  }
  return key;
}

/** @defaultValue 30 seconds */
export const INTERNAL_TOKEN_TTL_SECONDS = 30;

export async function mintInternalToken(
  secret: Uint8Array,
  options: { audience: ServiceName; caller: Caller; requestId: string; ttlSeconds?: number },
): Promise<string> {
  const { caller } = options;
  return new SignJWT({
    rid: options.requestId,
    rel: caller.relayed,
    ...(caller.user
      ? { roles: caller.user.roles, ...(caller.user.apiTokenId ? { tok: caller.user.apiTokenId } : {}) }
      : {}),
    ...(caller.ip ? { ip: caller.ip } : {}),
  })
    .setProtectedHeader({ alg: ALGORITHM })
    .setIssuer(ISSUER_PREFIX + caller.peer)
    .setAudience(ISSUER_PREFIX + options.audience)
    .setSubject(caller.user?.id ?? '')
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? INTERNAL_TOKEN_TTL_SECONDS}s`)
    .sign(await hmacKey(secret));
}

export class InternalTokenError extends Error {
  override name = 'InternalTokenError';
}

/** Verifies a token addressed to `audience`; throws InternalTokenError with the reason otherwise. */
export async function verifyInternalToken(
  secret: Uint8Array,
  token: string,
  audience: ServiceName,
): Promise<InternalTokenClaims> {
  try {
    const { payload } = await jwtVerify(token, await hmacKey(secret), {
      algorithms: [ALGORITHM],
      audience: ISSUER_PREFIX + audience,
    });
    const peer = payload.iss?.slice(ISSUER_PREFIX.length) as ServiceName;
    if (!payload.iss?.startsWith(ISSUER_PREFIX) || !SERVICE_NAMES.includes(peer)) {
      throw new InternalTokenError('unknown issuer');
    }
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((role): role is Role => ROLES.includes(role as Role))
      : [];
    const user = payload.sub
      ? { id: payload.sub, roles, ...(typeof payload.tok === 'string' ? { apiTokenId: payload.tok } : {}) }
      : null;
    return {
      caller: {
        peer,
        relayed: payload.rel === true,
        user,
        ip: typeof payload.ip === 'string' ? payload.ip : null,
      },
      requestId: typeof payload.rid === 'string' ? payload.rid : '',
    };
  } catch (error) {
    if (error instanceof InternalTokenError) throw error;
    if (error instanceof errors.JWTExpired) throw new InternalTokenError('internal token expired');
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw new InternalTokenError(`internal token rejected: ${error.claim}`);
    }
    throw new InternalTokenError('internal token invalid');
  }
}
