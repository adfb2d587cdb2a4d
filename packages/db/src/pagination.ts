import { and, type Column, desc, type SQL, sql } from 'drizzle-orm';

/** Where a page ends: the sort key of its last row. Opaque to clients (base64url JSON). */
interface CursorKey {
  createdAt: string;
  id: string;
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  const key: CursorKey = { createdAt: row.createdAt.toISOString(), id: row.id };
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key a cursor encodes, or null when the text is not a cursor this API issued. */
export function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorKey>;
    const createdAt = new Date(key.createdAt ?? '');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    if (Number.isNaN(createdAt.getTime()) || typeof key.id !== 'string' || !uuid.test(key.id)) return null;
    return { createdAt, id: key.id };
  } catch {
    return null;
  }
}

/**
 * Keyset pagination, newest first: the condition for rows after `cursor` and the order to read them.
 * Stable under inserts, unlike offsets.
 */
export function newestFirst(
  columns: { createdAt: Column; id: Column },
  after: { createdAt: Date; id: string } | null,
  where: (SQL | undefined)[] = [],
): { where: SQL | undefined; orderBy: SQL[] } {
  const keyset = after
    ? sql`(${columns.createdAt}, ${columns.id}) < (${after.createdAt.toISOString()}, ${after.id})`
    : undefined;
  return { where: and(keyset, ...where), orderBy: [desc(columns.createdAt), desc(columns.id)] };
}

/** Splits `limit + 1` fetched rows into a page and the cursor of the next one. */
export function toPage<TRow extends { createdAt: Date; id: string }, TItem>(
  rows: TRow[],
  limit: number,
  toItem: (row: TRow) => TItem,
): { items: TItem[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(toItem), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
