import { isBinderyError } from '@bindery/client';

/** Messages per field (`title`, `items.0.quantity`, …); `''` holds those that name no field. */
export type FieldErrors = Record<string, string>;

interface Issue {
  path: string | readonly PropertyKey[];
  message: string;
}

function collect(issues: readonly Issue[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const path = typeof issue.path === 'string' ? issue.path : issue.path.map(String).join('.');
    errors[path] ??= issue.message;
  }
  return errors;
}

/** Field errors of a zod result, keyed as the server keys them. */
export function zodFieldErrors(error: { issues: readonly Issue[] }): FieldErrors {
  return collect(error.issues);
}

/**
 * What the API said about a rejected call, beside the fields it names: `data.issues` for invalid
 * input, else a message that starts with a field (`userId: no active user has this id`).
 */
export function serverFieldErrors(error: unknown): FieldErrors {
  if (!isBinderyError(error)) return { '': 'The console could not reach the API. Try again.' };
  const issues = error.data?.issues;
  if (issues && issues.length > 0) return collect(issues);
  const named = /^([A-Za-z][\w.]*): (.+)$/.exec(error.message);
  if (named) return { [named[1]!]: named[2]! };
  return { '': describeError(error) };
}

/** One sentence for an error that is not about a field. */
export function describeError(error: unknown): string {
  if (!isBinderyError(error)) return 'The console could not reach the API. Try again.';
  switch (error.data?.code) {
    case 'FORBIDDEN':
      return `Not allowed: ${error.message}`;
    case 'UNAUTHORIZED':
      return 'Your session has ended. Sign in again.';
    case 'NOT_FOUND':
      return `Not found: ${error.message}`;
    case 'CONFLICT':
      return `Conflict: ${error.message}`;
    default:
      return error.message;
  }
}
