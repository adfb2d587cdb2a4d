import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@bindery/db/testing';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createDb } from '../src/database';
import { migrate, migrationsFolder } from '../src/migrate';
import { SERVICE_SCHEMA_NAMES, type ServiceSchemaName } from '../src/schema/index';

/** Each test gets its own database; everything opened is closed and dropped after it. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDatabase(): Promise<{ url: string; sql: postgres.Sql }> {
  const database = await createTestDatabase();
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  cleanups.push(database.drop, () => sql.end());
  return { url: database.url, sql };
}

function openDb(url: string, service: ServiceSchemaName = 'catalog') {
  const handle = createDb({ service, url, poolSize: 2 });
  cleanups.push(handle.close);
  return handle;
}

function migrationFileCount(service: ServiceSchemaName): number {
  return readdirSync(migrationsFolder(service)).filter((file) => file.endsWith('.sql')).length;
}

/** The tables a service's committed migrations create, as their SQL declares them. */
function declaredTables(service: ServiceSchemaName): string[] {
  const sqlText = readdirSync(migrationsFolder(service))
    .filter((file) => file.endsWith('.sql'))
    .map((file) => readFileSync(join(migrationsFolder(service), file), 'utf8'))
    .join('\n');
  return [...sqlText.matchAll(/CREATE TABLE "[^"]+"\."([^"]+)"/g)].map((match) => match[1]!).sort();
}

async function tablesIn(sql: postgres.Sql, schema: string): Promise<string[]> {
  const rows = await sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = ${schema} order by table_name`;
  return rows.map((row) => row.table_name);
}

describe('migrationsFolder', () => {
  test('is packages/db/migrations/<service>, holding a drizzle journal', () => {
    for (const service of SERVICE_SCHEMA_NAMES) {
      const folder = migrationsFolder(service);
      expect(folder.endsWith(join('packages', 'db', 'migrations', service))).toBe(true);
      const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8'));
      expect(journal.entries.length).toBe(migrationFileCount(service));
    }
  });
});

describe('migrate', () => {
  test('applies the pending migrations once; a second run applies none', async () => {
    const { url, sql } = await freshDatabase();
    const { db } = openDb(url);
    const count = migrationFileCount('catalog');
    expect(count).toBeGreaterThanOrEqual(1);
    expect(await migrate(db, 'catalog')).toEqual({ applied: count });
    expect(await migrate(db, 'catalog')).toEqual({ applied: 0 });
    expect(await tablesIn(sql, 'catalog')).toEqual(declaredTables('catalog'));
  });

  test('records each migration in drizzle’s layout under bindery_migrations.<service>', async () => {
    const { url, sql } = await freshDatabase();
    await migrate(openDb(url).db, 'catalog');
    const rows = await sql<{ hash: string; created_at: string }[]>`
      select hash, created_at from bindery_migrations.catalog order by id`;
    const files = readMigrationFiles({ migrationsFolder: migrationsFolder('catalog') });
    expect(rows).toEqual(files.map((file) => ({ hash: file.hash, created_at: String(file.folderMillis) })));
  });

  test('three processes migrating one service at once apply it exactly once, without error', async () => {
    const { url, sql } = await freshDatabase();
    const handles = [openDb(url), openDb(url), openDb(url)];
    const results = await Promise.all(handles.map((handle) => migrate(handle.db, 'catalog')));
    const applied = results.map((result) => result.applied);
    expect(applied.reduce((sum, count) => sum + count, 0)).toBe(migrationFileCount('catalog'));
    expect(applied.filter((count) => count > 0)).toHaveLength(1);
    expect(await tablesIn(sql, 'catalog')).toEqual(declaredTables('catalog'));
    const [{ count }] =
      (await sql`select count(*)::int as count from bindery_migrations.catalog`) as unknown as [
        { count: number },
      ];
    expect(count).toBe(migrationFileCount('catalog'));
  });

  test('every service migrating into one fresh database at once succeeds, each into its own schema (regression: per-service locks let them race on the shared bookkeeping schema)', async () => {
    const { url, sql } = await freshDatabase();
    const results = await Promise.all(
      SERVICE_SCHEMA_NAMES.map(
        async (service) => [service, await migrate(openDb(url, service).db, service)] as const,
      ),
    );
    expect(Object.fromEntries(results)).toEqual(
      Object.fromEntries(
        SERVICE_SCHEMA_NAMES.map((service) => [service, { applied: migrationFileCount(service) }]),
      ),
    );
    expect(await tablesIn(sql, 'bindery_migrations')).toEqual([...SERVICE_SCHEMA_NAMES].sort());
    expect(await tablesIn(sql, 'users')).toEqual(declaredTables('users'));
    expect(await tablesIn(sql, 'auth')).toEqual(declaredTables('auth'));
    expect(await tablesIn(sql, 'catalog')).toEqual(declaredTables('catalog'));
  });

  describe('with a migration added later', () => {
    let folder: string;
    beforeAll(() => {
      folder = mkdtempSync(join(tmpdir(), 'bindery-migrations-'));
      cpSync(migrationsFolder('catalog'), folder, { recursive: true });
    });
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    function addMigration(tag: string, statements: string[]): void {
      const journalPath = join(folder, 'meta', '_journal.json');
      const journal = JSON.parse(readFileSync(journalPath, 'utf8'));
      const last = journal.entries.at(-1);
      journal.entries.push({
        idx: last.idx + 1,
        version: '7',
        when: last.when + 1000,
        tag,
        breakpoints: true,
      });
      writeFileSync(journalPath, JSON.stringify(journal));
      writeFileSync(join(folder, `${tag}.sql`), statements.join('\n--> statement-breakpoint\n'));
    }

    function removeLastMigration(): void {
      const journalPath = join(folder, 'meta', '_journal.json');
      const journal = JSON.parse(readFileSync(journalPath, 'utf8'));
      const removed = journal.entries.pop();
      writeFileSync(journalPath, JSON.stringify(journal));
      rmSync(join(folder, `${removed.tag}.sql`));
    }

    test('applies only the new one', async () => {
      const { url, sql } = await freshDatabase();
      const { db } = openDb(url);
      expect(await migrate(db, 'catalog', folder)).toEqual({ applied: migrationFileCount('catalog') });
      addMigration('9000_add_shelves', [
        'CREATE TABLE "catalog"."shelves" ("id" serial PRIMARY KEY, "name" text NOT NULL);',
        'ALTER TABLE "catalog"."books" ADD COLUMN "shelf_id" integer;',
      ]);
      try {
        expect(await migrate(db, 'catalog', folder)).toEqual({ applied: 1 });
        expect(await migrate(db, 'catalog', folder)).toEqual({ applied: 0 });
        expect(await tablesIn(sql, 'catalog')).toEqual([...declaredTables('catalog'), 'shelves'].sort());
      } finally {
        removeLastMigration();
      }
    });

    test('a failing migration rolls back entirely: none of its statements and no record remain', async () => {
      const { url, sql } = await freshDatabase();
      const { db } = openDb(url);
      await migrate(db, 'catalog', folder);
      addMigration('9001_broken', [
        'CREATE TABLE "catalog"."half_done" ("id" serial PRIMARY KEY);',
        'ALTER TABLE "catalog"."no_such_table" ADD COLUMN "x" integer;',
      ]);
      try {
        await expect(migrate(db, 'catalog', folder)).rejects.toMatchObject({
          cause: { code: '42P01' },
        });
        expect(await tablesIn(sql, 'catalog')).toEqual(declaredTables('catalog'));
        const [{ count }] =
          (await sql`select count(*)::int as count from bindery_migrations.catalog`) as unknown as [
            { count: number },
          ];
        expect(count).toBe(migrationFileCount('catalog'));
      } finally {
        removeLastMigration();
      }
    });
  });
});
