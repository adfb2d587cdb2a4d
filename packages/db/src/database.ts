import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { type ServiceSchemaName, schemas } from './schema/index';

/** A drizzle database over either driver; services use only what both offer. */
export type Database<TSchema extends Record<string, unknown> = Record<string, unknown>> = PgDatabase<
  PgQueryResultHKT,
  TSchema
>;

export type ServiceSchema<TService extends ServiceSchemaName> = (typeof schemas)[TService];

export interface DatabaseHandle<TSchema extends Record<string, unknown>> {
  db: Database<TSchema>;
  /** `postgres` for a server reached by URL, `pglite` for an embedded database in this process. */
  driver: 'postgres' | 'pglite';
  /** Resolves when the database answers a query; used by `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateDbOptions<TService extends ServiceSchemaName> {
  /** Which service's tables this handle types. */
  service: TService;
  /**
   * A PostgreSQL URL. When absent, an embedded PGlite database under `dataDir` is opened, owned by
   * this process alone.
   */
  url?: string | undefined;
  /**
   * Set when `url` points at an embedded database served by another process (pglite-socket): its
   * connections share one session, so named prepared statements must not be used.
   * @defaultValue false
   */
  sharedSession?: boolean;
  /** @defaultValue `.data/pglite` */
  dataDir?: string;
  /**
   * Connections in the pool (postgres.js).
   * @defaultValue 10
   */
  poolSize?: number;
}

const casing = 'snake_case';

export function createDb<TService extends ServiceSchemaName>(
  options: CreateDbOptions<TService>,
): DatabaseHandle<ServiceSchema<TService>> {
  const schema = schemas[options.service];
  if (options.url) {
    const client = postgres(options.url, {
      max: options.poolSize ?? 10,
      prepare: !options.sharedSession,
      onnotice: () => {},
      connection: { application_name: `bindery-${options.service}` },
    });
    const db = drizzlePostgres({ client, schema, casing }) as unknown as Database<ServiceSchema<TService>>;
    return {
      db,
      driver: 'postgres',
      ping: async () => {
        await client`select 1`;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const client = openPglite(options.dataDir ?? '.data/pglite');
  const db = drizzlePglite({ client, schema, casing }) as unknown as Database<ServiceSchema<TService>>;
  return {
    db,
    driver: 'pglite',
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.close(),
  };
}

/** Opens (creating when needed) an embedded PostgreSQL under `dataDir`. One process may own it. */
export function openPglite(dataDir: string): PGlite {
  mkdirSync(dataDir, { recursive: true });
  return new PGlite(dataDir);
}

/** The rows of `db.execute(...)`: postgres.js returns them as an array, PGlite as `{ rows }`. */
export function rowsOf(result: unknown): Record<string, unknown>[] {
  return (Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? [])) as Record<
    string,
    unknown
  >[];
}
