import { TRPCClientError } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import type { ZodError } from 'zod';

/** One failed rule of an input, addressed by its field path (`items.0.quantity`). */
export interface FieldIssue {
  path: string;
  message: string;
}

export function zodIssues(error: ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    // An unknown field is reported at its own path, so a form can show it beside the field.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'is not a known field' }));
    }
    return [{ path: path.join('.'), message: issue.message }];
  });
}

/** A message a person can act on: each field path with its rule. */
export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
}

/** What PostgreSQL says about a failed statement; drivers expose these fields by these names. */
interface PgErrorFields {
  code: string;
  detail: string;
  column: string;
  constraint: string;
}

/** PostgreSQL SQLSTATE codes that mean the caller asked for something the data forbids. */
const PG_CLIENT_ERRORS: Record<string, { code: TRPCError['code']; describe: (pg: PgErrorFields) => string }> =
  {
    '23505': { code: 'CONFLICT', describe: (pg) => conflictMessage(pg.detail) },
    '23503': { code: 'BAD_REQUEST', describe: () => 'A referenced record does not exist' },
    '23514': {
      code: 'BAD_REQUEST',
      describe: (pg) =>
        `A value breaks the rule ${pg.constraint ? `"${pg.constraint}"` : 'of a check constraint'}`,
    },
    '23502': { code: 'BAD_REQUEST', describe: (pg) => `${pg.column || 'A required value'}: is required` },
    '22P02': { code: 'BAD_REQUEST', describe: () => 'A value has the wrong format' },
    '22003': { code: 'BAD_REQUEST', describe: () => 'A number is out of range' },
    '22001': { code: 'BAD_REQUEST', describe: () => 'A value is too long' },
    // PostgreSQL text cannot hold a NUL character (U+0000); JSON strings can.
    '22021': { code: 'BAD_REQUEST', describe: () => 'A value holds a character that cannot be stored (NUL)' },
    '40001': { code: 'CONFLICT', describe: () => 'The record changed concurrently; try again' },
    '40P01': { code: 'CONFLICT', describe: () => 'The record changed concurrently; try again' },
    // The database cannot serve now (too many connections, shutting down): the caller may retry.
    '53300': { code: 'SERVICE_UNAVAILABLE', describe: () => 'The database is busy; try again' },
    '57P01': { code: 'SERVICE_UNAVAILABLE', describe: () => 'The database is restarting; try again' },
    '57P03': { code: 'SERVICE_UNAVAILABLE', describe: () => 'The database is starting; try again' },
    // `database "…" is not currently accepting connections` (ALTER DATABASE … ALLOW_CONNECTIONS false).
    '55000': {
      code: 'SERVICE_UNAVAILABLE',
      describe: () => 'The database is not accepting connections; try again',
    },
  };

/** Network errors on the way to the database: the caller may retry. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

function conflictMessage(detail: string): string {
  // PostgreSQL says `Key (lower(email))=(a@b.c) already exists.`; name the field, never echo the value.
  const key = /Key \((?:lower\()?([\w, ]+?)\)?\)=/.exec(detail)?.[1];
  return key ? `A record with this ${key} already exists` : 'A record with these values already exists';
}

function hasCode(error: unknown, codes: ReadonlySet<string>): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && codes.has(code)) return true;
    current = cause;
  }
  return false;
}

/** Finds a PostgreSQL error (postgres.js, PGlite, or wrapped by drizzle) in a cause chain. */
function findPgError(error: unknown): PgErrorFields | null {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const candidate = current as Record<string, unknown>;
    if (typeof candidate.code === 'string' && /^(?=.*\d)[0-9A-Z]{5}$/.test(candidate.code)) {
      return {
        code: candidate.code,
        detail: text(candidate.detail),
        // postgres.js names them column_name and constraint_name; PGlite column and constraint.
        column: text(candidate.column_name ?? candidate.column),
        constraint: text(candidate.constraint_name ?? candidate.constraint),
      };
    }
    current = candidate.cause;
  }
  return null;
}

/**
 * Turns an error the caller caused (a unique clash, a bad reference) into the tRPC error that says so.
 * Returns null for anything else, which stays an internal error.
 */
export function toClientError(error: unknown): TRPCError | null {
  if (error instanceof TRPCClientError) return fromPeerError(error);
  const pg = findPgError(error);
  if (!pg) {
    return hasCode(error, UNREACHABLE)
      ? new TRPCError({
          code: 'SERVICE_UNAVAILABLE',
          message: 'The database is unavailable; try again',
          cause: error,
        })
      : null;
  }
  const known = PG_CLIENT_ERRORS[pg.code];
  return known ? new TRPCError({ code: known.code, message: known.describe(pg), cause: error }) : null;
}

export function notFound(what: string): TRPCError {
  return new TRPCError({ code: 'NOT_FOUND', message: `${what} not found` });
}

/**
 * A failed call to a peer service, as this service's own error: the peer's code and message when it
 * answered (its 400 is still the caller's 400), SERVICE_UNAVAILABLE when it could not be reached.
 */
function fromPeerError(error: TRPCClientError<never>): TRPCError {
  const data = error.data as { code?: TRPCError['code'] } | undefined;
  if (data?.code && data.code !== 'INTERNAL_SERVER_ERROR') {
    return new TRPCError({ code: data.code, message: error.message, cause: error });
  }
  return new TRPCError({
    code: data?.code ? 'BAD_GATEWAY' : 'SERVICE_UNAVAILABLE',
    message: 'A service this call needs is unavailable; try again',
    cause: error,
  });
}
