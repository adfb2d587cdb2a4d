import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { type Database, rowsOf } from './database';
import type { ServiceSchemaName } from './schema/index';

/** The committed migrations of `service`: `packages/db/migrations/<service>`. */
export function migrationsFolder(service: ServiceSchemaName): string {
  return fileURLToPath(new URL(`../migrations/${service}`, import.meta.url));
}

const MIGRATIONS_SCHEMA = 'bindery_migrations';

/**
 * Applies the service's pending migrations. Safe to run from many processes at once: drizzle's own
 * migrator creates its bookkeeping outside the transaction, so two replicas starting together can
 * clash; here everything runs in one transaction behind an advisory lock. The bookkeeping table has
 * drizzle's layout, so drizzle-kit reads it as its own.
 */
export async function migrate(
  db: Database,
  service: ServiceSchemaName,
  folder: string = migrationsFolder(service),
): Promise<{ applied: number }> {
  const migrations = readMigrationFiles({ migrationsFolder: folder });
  const table = sql`${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier(service)}`;
  return db.transaction(async (tx) => {
    // One lock for every service, not one each: all share the bookkeeping schema, and two sessions
    // running `create schema if not exists` at once clash on pg_namespace (23505).
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('bindery-migrate'))`);
    await tx.execute(sql`create schema if not exists ${sql.identifier(MIGRATIONS_SCHEMA)}`);
    await tx.execute(
      sql`create table if not exists ${table} (id serial primary key, hash text not null, created_at bigint)`,
    );
    const rows = await tx.execute(sql`select created_at from ${table} order by created_at desc limit 1`);
    const lastApplied = Number(rowsOf(rows)[0]?.created_at ?? -1);
    let applied = 0;
    for (const migration of migrations) {
      if (migration.folderMillis <= lastApplied) continue;
      for (const statement of migration.sql) {
        if (statement.trim()) await tx.execute(sql.raw(statement));
      }
      await tx.execute(
        sql`insert into ${table} (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
      );
      applied++;
    }
    return { applied };
  });
}
