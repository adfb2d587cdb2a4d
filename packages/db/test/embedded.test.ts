import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDb, type DatabaseHandle, rowsOf, type ServiceSchema } from '../src/database';
import { type EmbeddedDatabaseServer, serveEmbeddedDatabase } from '../src/embedded';
import { migrate, migrationsFolder } from '../src/migrate';
import { books } from '../src/schema/catalog';

const migrationCount = (service: 'catalog') =>
  readdirSync(migrationsFolder(service)).filter((file) => file.endsWith('.sql')).length;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
type CatalogHandle = DatabaseHandle<ServiceSchema<'catalog'>>;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bindery-embedded-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function titles(handle: CatalogHandle): Promise<string[]> {
  const rows = await handle.db.select({ title: books.title }).from(books).orderBy(asc(books.title));
  return rows.map((row) => row.title);
}

describe('an embedded database served to two handles', () => {
  let server: EmbeddedDatabaseServer;
  let first: CatalogHandle;
  let second: CatalogHandle;

  beforeAll(async () => {
    server = await serveEmbeddedDatabase({ dataDir: join(dir, 'served') });
    first = createDb({ service: 'catalog', url: server.url, sharedSession: true, poolSize: 3 });
    second = createDb({ service: 'catalog', url: server.url, sharedSession: true, poolSize: 3 });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await server?.close();
  });

  test('serves a PostgreSQL URL on 127.0.0.1 and a free port', () => {
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(server.url).not.toMatch(/:0\//);
    expect(first.driver).toBe('postgres');
  });

  test('migrates through one handle; the other sees the tables', async () => {
    await first.ping();
    await second.ping();
    expect(await migrate(first.db, 'catalog')).toEqual({ applied: migrationCount('catalog') });
    expect(await migrate(second.db, 'catalog')).toEqual({ applied: 0 });
    expect(await titles(second)).toEqual([]);
  });

  test('what one handle writes the other reads', async () => {
    await first.db
      .insert(books)
      .values({ title: 'Dune', author: 'Frank Herbert', priceCents: 999, isbn: '111' });
    await second.db.insert(books).values({ title: 'Emma', author: 'Jane Austen', priceCents: 500 });
    expect(await titles(first)).toEqual(['Dune', 'Emma']);
    expect(await titles(second)).toEqual(['Dune', 'Emma']);
  });

  test('two transactions from the two handles at once both commit, neither seeing the other half-done', async () => {
    const seenBySecondDuringFirst: string[][] = [];
    await Promise.all([
      first.db.transaction(async (tx) => {
        await tx.insert(books).values({ title: 'T1-a', author: 'one', priceCents: 1 });
        await sleep(50);
        await tx.insert(books).values({ title: 'T1-b', author: 'one', priceCents: 1 });
      }),
      (async () => {
        await sleep(10);
        // Issued while the first transaction is open: it must see both of its rows or neither.
        seenBySecondDuringFirst.push((await titles(second)).filter((title) => title.startsWith('T1')));
        await second.db.transaction(async (tx) => {
          await tx.insert(books).values({ title: 'T2-a', author: 'two', priceCents: 1 });
          await sleep(50);
          await tx.update(books).set({ stock: 5 }).where(sql`${books.title} = 'T1-a'`);
          await tx.insert(books).values({ title: 'T2-b', author: 'two', priceCents: 1 });
        });
      })(),
    ]);
    expect([[], ['T1-a', 'T1-b']]).toContainEqual(seenBySecondDuringFirst[0]);
    expect(await titles(first)).toEqual(['Dune', 'Emma', 'T1-a', 'T1-b', 'T2-a', 'T2-b']);
    const [updated] = await first.db
      .select({ stock: books.stock })
      .from(books)
      .where(sql`${books.title} = 'T1-a'`);
    expect(updated?.stock).toBe(5);
  });

  test('a transaction rolled back on one handle leaves no trace while the other commits', async () => {
    const results = await Promise.allSettled([
      first.db.transaction(async (tx) => {
        await tx.insert(books).values({ title: 'Gone-1', author: 'x', priceCents: 1 });
        await sleep(30);
        await tx.insert(books).values({ title: 'Gone-2', author: 'x', priceCents: -1 });
      }),
      second.db.transaction(async (tx) => {
        await tx.insert(books).values({ title: 'Kept', author: 'y', priceCents: 1 });
      }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ cause: { code: '23514' } });
    expect(await titles(second)).toEqual(['Dune', 'Emma', 'Kept', 'T1-a', 'T1-b', 'T2-a', 'T2-b']);
    // The session is usable again afterwards.
    await first.ping();
  });

  test('a unique violation arrives as drizzle’s wrapper around the driver error', async () => {
    await expect(
      second.db.insert(books).values({ title: 'Copy', author: 'z', priceCents: 1, isbn: '111' }),
    ).rejects.toMatchObject({ cause: { code: '23505', detail: 'Key (isbn)=(111) already exists.' } });
  });

  test('rowsOf reads postgres.js results (an array)', async () => {
    const result = await first.db.execute(sql`select 1 as one, 'two' as two`);
    expect(rowsOf(result)).toEqual([{ one: 1, two: 'two' }]);
  });
});

describe('createDb without a URL: PGlite in this process', () => {
  let handle: CatalogHandle;

  beforeAll(() => {
    handle = createDb({ service: 'catalog', dataDir: join(dir, 'in-process', 'nested') });
  });
  afterAll(() => handle?.close());

  test('creates the data directory, answers ping, migrates and stores rows', async () => {
    expect(handle.driver).toBe('pglite');
    await handle.ping();
    expect(await migrate(handle.db, 'catalog', migrationsFolder('catalog'))).toEqual({
      applied: migrationCount('catalog'),
    });
    expect(await migrate(handle.db, 'catalog')).toEqual({ applied: 0 });
    const [book] = await handle.db
      .insert(books)
      .values({ title: 'Dune', author: 'Frank Herbert', priceCents: 999 })
      .returning();
    expect(book).toMatchObject({ title: 'Dune', stock: 0, priceCents: 999 });
    expect(book?.createdAt).toBeInstanceOf(Date);
    expect(await titles(handle)).toEqual(['Dune']);
  });

  test('rowsOf reads PGlite results ({ rows })', async () => {
    const result = await handle.db.execute(sql`select 1 as one, 'two' as two`);
    expect(Array.isArray(result)).toBe(false);
    expect(rowsOf(result)).toEqual([{ one: 1, two: 'two' }]);
  });
});

describe('rowsOf', () => {
  test('an object without rows gives none', () => {
    expect(rowsOf({})).toEqual([]);
  });
});
