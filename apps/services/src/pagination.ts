import { decodeCursor, newestFirst, toPage } from '@bindery/db';
import { TRPCError } from '@trpc/server';
import type { Column, SQL } from 'drizzle-orm';

/** Where a list call resumes: the key its cursor encodes, or the start when it has none. */
export function resumeAfter(cursor: string | undefined): { createdAt: Date; id: string } | null {
  if (cursor === undefined) return null;
  const key = decodeCursor(cursor);
  if (!key) throw new TRPCError({ code: 'BAD_REQUEST', message: 'cursor: is not a cursor this API issued' });
  return key;
}

/**
 * One page of a list call, newest first: `read` runs the select with the page's condition, order and
 * limit (one row more than asked, to know whether a next page exists); `toItems` turns the page's
 * rows into what the API returns, in order.
 */
export async function listNewestFirst<TRow extends { createdAt: Date; id: string }, TItem>(
  input: { cursor?: string | undefined; limit: number },
  columns: { createdAt: Column; id: Column },
  filters: (SQL | undefined)[],
  read: (query: { where: SQL | undefined; orderBy: SQL[]; limit: number }) => Promise<TRow[]>,
  toItems: (rows: TRow[]) => TItem[] | Promise<TItem[]>,
): Promise<{ items: TItem[]; nextCursor: string | null }> {
  const rows = await read({
    ...newestFirst(columns, resumeAfter(input.cursor), filters),
    limit: input.limit + 1,
  });
  const { items: pageRows, nextCursor } = toPage(rows, input.limit, (row) => row);
  return { items: await toItems(pageRows), nextCursor };
}
