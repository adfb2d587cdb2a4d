import { type Database, decodeCursor, newestFirst, toPage } from '@bindery/db';
import { TRPCError } from '@trpc/server';
import type { Column, SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/** Where a list call resumes: the key its cursor encodes, or the start when it has none. */
export function resumeAfter(cursor: string | undefined): { createdAt: Date; id: string } | null {
  if (cursor === undefined) return null;
  const key = decodeCursor(cursor);
  if (!key) throw new TRPCError({ code: 'BAD_REQUEST', message: 'cursor: is not a cursor this API issued' });
  return key;
}

/**
 * One page of a list call, newest first: every column of `table`'s rows that pass `filters`, after
 * the cursor's key, one row more than asked (to know whether a next page exists); `toItems` turns
 * the page's rows into what the API returns, in order.
 */
export async function listNewestFirst<
  TTable extends PgTable & { createdAt: Column; id: Column; $inferSelect: { createdAt: Date; id: string } },
  TItem,
>(
  db: Pick<Database, 'select'>,
  table: TTable,
  input: { cursor?: string | undefined; limit: number },
  filters: (SQL | undefined)[],
  toItems: (rows: TTable['$inferSelect'][]) => TItem[] | Promise<TItem[]>,
): Promise<{ items: TItem[]; nextCursor: string | null }> {
  const { where, orderBy } = newestFirst(table, resumeAfter(input.cursor), filters);
  // drizzle cannot type a select from a table it knows only by this constraint: the rows are its rows.
  const rows = (await db
    .select()
    .from(table as PgTable)
    .where(where)
    .orderBy(...orderBy)
    .limit(input.limit + 1)) as TTable['$inferSelect'][];
  const { items: pageRows, nextCursor } = toPage(rows, input.limit, (row) => row);
  return { items: await toItems(pageRows), nextCursor };
}
