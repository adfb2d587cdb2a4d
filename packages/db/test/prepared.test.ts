import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@bindery/db/testing';
import { DrizzleQueryError, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDb, type DatabaseHandle } from '../src/database';
import { migrate } from '../src/migrate';
import { preparedRows } from '../src/prepared';
import { catalog, users } from '../src/schema/index';

type Handles = { catalog: DatabaseHandle<typeof catalog>; users: DatabaseHandle<typeof users> };

/**
 * `preparedRows` must give exactly what drizzle's own `execute` gives for the same prepared select,
 * on every column type the services read this way (uuid, text, a null, integer, timestamps, a text
 * array, an enum, jsonb), on PostgreSQL (its own path) and on PGlite (drizzle's `execute` itself).
 */
describe.each(['postgres', 'pglite'] as const)('preparedRows on %s', (driver) => {
  let handles: Handles;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    if (driver === 'postgres') {
      const database = await createTestDatabase();
      cleanups.push(database.drop);
      handles = {
        catalog: createDb({ service: 'catalog', url: database.url, poolSize: 2 }),
        users: createDb({ service: 'users', url: database.url, poolSize: 2 }),
      };
    } else {
      // One PGlite database per directory, each owned by one handle.
      const dir = mkdtempSync(join(tmpdir(), 'bindery-prepared-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      handles = {
        catalog: createDb({ service: 'catalog', dataDir: join(dir, 'catalog') }),
        users: createDb({ service: 'users', dataDir: join(dir, 'users') }),
      };
    }
    cleanups.push(handles.catalog.close, handles.users.close);
    await migrate(handles.catalog.db, 'catalog');
    await migrate(handles.users.db, 'users');
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** The catalog's by-key read of a book, prepared as `name`. */
  const bookById = (name: string) =>
    handles.catalog.db
      .select()
      .from(catalog.books)
      .where(eq(catalog.books.id, sql.placeholder('id')))
      .prepare(name);

  test('a book, with and without its nullable column, reads as drizzle reads it', async () => {
    const { db } = handles.catalog;
    const { books } = catalog;
    const [withIsbn, withoutIsbn] = await db
      .insert(books)
      .values([
        { title: 'Dune', author: 'Frank Herbert', isbn: '9780441013593', priceCents: 1299, stock: 3 },
        { title: 'Untitled', author: 'Anonymous', priceCents: 0 },
      ])
      .returning();
    const prepared = bookById(`test_book_by_id_${driver}`);
    const byId = preparedRows(db, books, prepared);
    for (const book of [withIsbn!, withoutIsbn!]) {
      const rows = await byId({ id: book.id });
      expect(rows).toEqual(await prepared.execute({ id: book.id }));
      expect(rows).toEqual([book]);
      expect(rows[0]!.createdAt).toBeInstanceOf(Date);
    }
    expect(withoutIsbn!.isbn).toBeNull();
    expect(await byId({ id: '00000000-0000-4000-8000-000000000000' })).toEqual([]);
  });

  test('a user (a text array, an enum) reads as drizzle reads it', async () => {
    const { db } = handles.users;
    const [user] = await db
      .insert(users.users)
      .values({ email: 'reader@example.com', name: 'Reader', roles: ['customer', 'staff'] })
      .returning();
    const prepared = db
      .select()
      .from(users.users)
      .where(eq(users.users.id, sql.placeholder('id')))
      .prepare(`test_user_by_id_${driver}`);
    const rows = await preparedRows(db, users.users, prepared)({ id: user!.id });
    expect(rows).toEqual(await prepared.execute({ id: user!.id }));
    expect(rows).toEqual([user]);
    expect(rows[0]!.roles).toEqual(['customer', 'staff']);
  });

  test('a jsonb column reads as drizzle reads it', async () => {
    const { db } = handles.catalog;
    const { reservations } = catalog;
    const items = [{ bookId: '00000000-0000-4000-8000-0000000000b1', quantity: 2 }];
    const [reservation] = await db
      .insert(reservations)
      .values({ orderId: '00000000-0000-4000-8000-0000000000a1', status: 'reserved', items })
      .returning();
    const prepared = db
      .select()
      .from(reservations)
      .where(eq(reservations.orderId, sql.placeholder('orderId')))
      .prepare(`test_reservation_${driver}`);
    const rows = await preparedRows(db, reservations, prepared)({ orderId: reservation!.orderId });
    expect(rows).toEqual(await prepared.execute({ orderId: reservation!.orderId }));
    expect(rows[0]!.items).toEqual(items);
  });

  test('a failing query fails with the error drizzle gives, naming the query', async () => {
    const { db } = handles.catalog;
    const prepared = bookById(`test_book_bad_id_${driver}`);
    const own = await preparedRows(db, catalog.books, prepared)({ id: 'not-a-uuid' }).catch((error) => error);
    const drizzles = await prepared.execute({ id: 'not-a-uuid' }).catch((error) => error);
    expect(own).toBeInstanceOf(DrizzleQueryError);
    expect(drizzles).toBeInstanceOf(DrizzleQueryError);
    expect(own.message).toBe(drizzles.message);
    expect((own.cause as Error).message).toMatch(/invalid input syntax for type uuid/);
  });
});
