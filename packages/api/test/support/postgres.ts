import { createDb, type DatabaseHandle } from '@bindery/db';
import { createTestDatabase } from '@bindery/db/testing';

/**
 * A fresh database on the real PostgreSQL holding one small table whose constraints produce each
 * error `toClientError` maps.
 */
export interface ConstraintTable {
  /** drizzle over postgres.js: its errors are drizzle's wrappers around the driver's. */
  db: DatabaseHandle<Record<string, unknown>>['db'];
  /** postgres.js itself: its errors are the driver's own. */
  sql: { unsafe(query: string, params?: unknown[]): Promise<unknown> };
  drop(): Promise<void>;
}

const TABLE_DDL = `
  create table gadgets (
    id serial primary key,
    email text not null,
    sku text,
    owner_id integer,
    slug text,
    code uuid,
    quantity integer not null default 1 constraint gadgets_quantity_positive check (quantity > 0)
  );
  create unique index gadgets_email_unique on gadgets (lower(email));
  create unique index gadgets_sku_unique on gadgets (sku);
  create unique index gadgets_owner_slug_unique on gadgets (owner_id, slug);
`;

export async function createConstraintTable(): Promise<ConstraintTable> {
  const database = await createTestDatabase();
  const handle = createDb({ service: 'catalog', url: database.url, poolSize: 2 });
  const sql = (handle.db as unknown as { $client: ConstraintTable['sql'] }).$client;
  await sql.unsafe(TABLE_DDL);
  return {
    db: handle.db,
    sql,
    drop: async () => {
      await handle.close();
      await database.drop();
    },
  };
}

/** The error `run` rejects with; fails the test when it resolves. */
export async function rejectionOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the call resolved');
}
