import { decodeCursor } from '@bindery/db';
import { TRPCError } from '@trpc/server';

/** Where a list call resumes: the key its cursor encodes, or the start when it has none. */
export function resumeAfter(cursor: string | undefined): { createdAt: Date; id: string } | null {
  if (cursor === undefined) return null;
  const key = decodeCursor(cursor);
  if (!key) throw new TRPCError({ code: 'BAD_REQUEST', message: 'cursor: is not a cursor this API issued' });
  return key;
}
