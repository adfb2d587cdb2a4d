import { createTestDatabase } from '@bindery/db/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDb, type DatabaseHandle, type ServiceSchema } from '../src/database';
import { migrate } from '../src/migrate';
import { decodeCursor, encodeCursor, newestFirst, toPage } from '../src/pagination';
import { books } from '../src/schema/catalog';

const id = '0b6f1c7e-2f4a-4c1e-9a51-3d2b8e7f6a10';
const createdAt = new Date('2026-03-04T05:06:07.089Z');

describe('encodeCursor / decodeCursor', () => {
  test('round-trips the sort key of a row', () => {
    expect(decodeCursor(encodeCursor({ createdAt, id }))).toEqual({ createdAt, id });
  });

  test('the cursor is base64url JSON of the ISO time and the id, safe in a URL', () => {
    const cursor = encodeCursor({ createdAt, id });
    expect(cursor).toMatch(/^[\w-]+$/);
    expect(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).toEqual({
      createdAt: '2026-03-04T05:06:07.089Z',
      id,
    });
  });

  test('keeps millisecond precision, as the columns store it', () => {
    const decoded = decodeCursor(encodeCursor({ createdAt: new Date(1_700_000_000_123), id }));
    expect(decoded?.createdAt.getTime()).toBe(1_700_000_000_123);
  });

  test('accepts upper-case uuids', () => {
    expect(decodeCursor(encodeCursor({ createdAt, id: id.toUpperCase() }))?.id).toBe(id.toUpperCase());
  });

  const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  test.each([
    ['an empty text', ''],
    ['text that is not base64url JSON', 'definitely not a cursor'],
    ['base64url of text that is not JSON', Buffer.from('{"createdAt":').toString('base64url')],
    ['JSON null', cursorOf(null)],
    ['a JSON number', cursorOf(12)],
    ['a JSON array', cursorOf([createdAt.toISOString(), id])],
    ['a key without an id', cursorOf({ createdAt: createdAt.toISOString() })],
    ['a key without a time', cursorOf({ id })],
    ['an id that is not a uuid', cursorOf({ createdAt: createdAt.toISOString(), id: "1' or '1'='1" })],
    ['an id that is a number', cursorOf({ createdAt: createdAt.toISOString(), id: 42 })],
    ['a uuid with trailing text', cursorOf({ createdAt: createdAt.toISOString(), id: `${id}x` })],
    ['a time that is not a date', cursorOf({ createdAt: 'yesterday', id })],
  ])('rejects %s with null', (_, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
  });

  test('rejects a cursor whose characters were tampered with', () => {
    const cursor = encodeCursor({ createdAt, id });
    const tampered = `${cursor.slice(0, 10)}${cursor[10] === 'A' ? 'B' : 'A'}${cursor.slice(11)}`;
    expect(tampered).not.toBe(cursor);
    expect(decodeCursor(tampered)).toBeNull();
    expect(decodeCursor(cursor.slice(0, -4))).toBeNull();
  });
});

describe('toPage', () => {
  const rows = Array.from({ length: 4 }, (_, index) => ({
    id: `00000000-0000-4000-8000-00000000000${index}`,
    createdAt: new Date(Date.UTC(2026, 0, 10 - index)),
    title: `book ${index}`,
  }));

  test('with limit + 1 rows: the first limit rows and a cursor at the last one returned', () => {
    const page = toPage(rows, 3, (row) => row.title);
    expect(page.items).toEqual(['book 0', 'book 1', 'book 2']);
    expect(decodeCursor(page.nextCursor!)).toEqual({ id: rows[2]!.id, createdAt: rows[2]!.createdAt });
  });

  test('with exactly limit rows: all of them and no next cursor', () => {
    expect(toPage(rows.slice(0, 3), 3, (row) => row.title)).toEqual({
      items: ['book 0', 'book 1', 'book 2'],
      nextCursor: null,
    });
  });

  test('with fewer rows than the limit, or none: no next cursor', () => {
    expect(toPage(rows.slice(0, 1), 3, (row) => row.id)).toEqual({ items: [rows[0]!.id], nextCursor: null });
    expect(toPage([], 3, (row: (typeof rows)[number]) => row.id)).toEqual({ items: [], nextCursor: null });
  });
});

describe('newestFirst over the real PostgreSQL', () => {
  let database: { url: string; drop(): Promise<void> };
  let handle: DatabaseHandle<ServiceSchema<'catalog'>>;
  // Three books share one timestamp: the id breaks the tie, so none is skipped or repeated.
  const times = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z'];
  const seeded: { id: string; createdAt: Date; title: string }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = createDb({ service: 'catalog', url: database.url, poolSize: 2 });
    await migrate(handle.db, 'catalog');
    for (let index = 0; index < 8; index++) {
      const [row] = await handle.db
        .insert(books)
        .values({
          title: `Book ${index}`,
          author: index % 2 ? 'Ann' : 'Bo',
          priceCents: 100,
          createdAt: new Date(times[index % times.length]!),
        })
        .returning({ id: books.id, createdAt: books.createdAt, title: books.title });
      seeded.push(row!);
    }
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  async function readAll(limit: number, where: Parameters<typeof newestFirst>[2] = []) {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const after: ReturnType<typeof decodeCursor> = cursor ? decodeCursor(cursor) : null;
      const query = newestFirst({ createdAt: books.createdAt, id: books.id }, after, where);
      const rows = await handle.db
        .select()
        .from(books)
        .where(query.where)
        .orderBy(...query.orderBy)
        .limit(limit + 1);
      const page = toPage(rows, limit, (row) => row.title);
      pages.push(page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return pages;
  }

  const newestFirstOrder = (rows: typeof seeded) =>
    [...rows]
      .sort(
        (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0),
      )
      .map((row) => row.title);

  test('visits every row once, newest first, with ties broken by id', async () => {
    const pages = await readAll(3);
    expect(pages.map((page) => page.length)).toEqual([3, 3, 2]);
    expect(pages.flat()).toEqual(newestFirstOrder(seeded));
  });

  test('a page size that divides the rows evenly ends without an empty page', async () => {
    expect((await readAll(4)).map((page) => page.length)).toEqual([4, 4]);
  });

  test('extra conditions combine with the keyset', async () => {
    const pages = await readAll(2, [eq(books.author, 'Ann')]);
    expect(pages.flat()).toEqual(newestFirstOrder(seeded.filter((_, index) => index % 2 === 1)));
  });
});
