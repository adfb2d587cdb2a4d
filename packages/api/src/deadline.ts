import { TRPCError } from '@trpc/server';

/**
 * The time a caller still waits for an answer, in milliseconds, sent with every call between
 * processes (as gRPC's `grpc-timeout`): a relative time, so clocks need not agree.
 */
export const DEADLINE_HEADER = 'x-bindery-timeout-ms';

/**
 * Set on a 503 by an instance that refused a call without doing anything with it (it is draining):
 * the caller may send the call to another instance, whatever the call does.
 */
export const NOT_PROCESSED_HEADER = 'x-bindery-not-processed';

/** The base URL of the instance that answered a call, set by every service on its replies. */
export const INSTANCE_HEADER = 'x-bindery-instance';

/** The deadline a call's header sets, as a `Date.now()` time; undefined without a valid header. */
export function deadlineFromHeader(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const remaining = Number(value);
  return Number.isFinite(remaining) ? now + remaining : undefined;
}

/** Milliseconds left before `deadline`, at most `ceilingMs`. */
export function remainingMs(deadline: number | undefined, ceilingMs: number, now = Date.now()): number {
  return deadline === undefined ? ceilingMs : Math.min(ceilingMs, deadline - now);
}

/** Refuses to start work its caller no longer waits for. */
export function assertBeforeDeadline(deadline: number | undefined, now = Date.now()): void {
  if (deadline !== undefined && now >= deadline) {
    throw new TRPCError({
      code: 'TIMEOUT',
      message: 'The caller stopped waiting before this call could start',
    });
  }
}
