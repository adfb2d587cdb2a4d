/** Why a call to a service could not be answered by any of its instances. */
export type UnavailableReason = 'no-instance' | 'circuit-open' | 'overloaded' | 'timeout' | 'failed';

/**
 * A call no instance answered. `reason` says what a client can do: `overloaded` (429, come back
 * later), `timeout` (504), or the service is unavailable (503).
 */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
  constructor(
    readonly service: string,
    readonly reason: UnavailableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An instance answered, but with a failure (5xx): counted against it, retried elsewhere when safe,
 * and handed back to the caller as the service's own answer when every attempt failed.
 */
export class InstanceFailure<T> extends Error {
  override name = 'InstanceFailure';
  constructor(
    readonly result: T,
    readonly instance: string,
  ) {
    super(`${instance} failed the call`);
  }
}

/** Errors that prove a call never reached the instance, so it can go elsewhere whatever it does. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  // The gateway's own upstream connections (UpstreamConnectionError).
  'CONNECT_TIMEOUT',
]);

export function neverReached(error: unknown): boolean {
  if (error instanceof NotSentError) return true;
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The connection was refused: nothing listens there now. */
export function connectionRefused(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    if ((current as { code?: unknown }).code === 'ECONNREFUSED') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** An instance refused a call before doing anything with it (it is draining, or its breaker is open). */
export class NotSentError extends Error {
  override name = 'NotSentError';
}
