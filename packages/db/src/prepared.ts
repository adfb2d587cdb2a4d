import { type Column, DrizzleQueryError, fillPlaceholders, getTableColumns, type Table } from 'drizzle-orm';
import type postgres from 'postgres';
import type { Database } from './database';

/**
 * The postgres.js client under each drizzle database `createDb` opened on a PostgreSQL server: the
 * one drizzle itself sends through, counted and traced.
 */
const postgresClients = new WeakMap<object, postgres.Sql>();

/** Called by `createDb` for a database on a PostgreSQL server. */
export function registerPostgresClient(db: object, client: postgres.Sql): void {
  postgresClients.set(db, client);
}

/** A prepared `db.select().from(table)…` (drizzle's `.prepare(name)`), as this module reads it. */
export interface PreparedTableSelect<TRow> {
  execute(placeholders?: Record<string, unknown>): Promise<TRow[]>;
  getQuery(): { sql: string; params: unknown[] };
}

/**
 * Runs a prepared select of a table's whole rows (`db.select().from(table)…prepare(name)`) as
 * drizzle's `execute` does, with the work drizzle repeats on every call done once here.
 *
 * drizzle's `execute` runs three nested async steps and, for every row, walks its selected fields
 * checking what kind each is before it picks the decoder, then rebuilds the row column by column.
 * Here the statement's text and each column's decoder are looked up once, at preparation; a call
 * sends the statement through the same postgres.js client drizzle uses (prepared on each
 * connection, counted and traced alike) and decodes each value with the column's own
 * `mapFromDriverValue`, as drizzle does, so the rows are the same. A query error is drizzle's own
 * `DrizzleQueryError`, as from `execute`.
 *
 * On PGlite, which has no postgres.js client, it is drizzle's `execute` itself.
 */
export function preparedRows<TTable extends Table, TRow extends TTable['$inferSelect']>(
  db: Database,
  table: TTable,
  prepared: PreparedTableSelect<TRow>,
): (placeholders: Record<string, unknown>) => Promise<TRow[]> {
  const client = postgresClients.get(db);
  if (!client) return (placeholders) => prepared.execute(placeholders);
  const { sql: text, params } = prepared.getQuery();
  // `db.select().from(table)` selects the table's columns in the order they were declared.
  const columns = Object.entries(getTableColumns(table) as Record<string, Column>);
  const keys = columns.map(([key]) => key);
  const decoders = columns.map(([, column]) => column);
  const toRow = (values: unknown[]): TRow => {
    const row: Record<string, unknown> = {};
    for (let index = 0; index < keys.length; index++) {
      const value = values[index];
      row[keys[index]!] = value === null ? null : decoders[index]!.mapFromDriverValue(value);
    }
    return row as TRow;
  };
  return async (placeholders) => {
    const values = fillPlaceholders(params, placeholders);
    let rows: unknown[][];
    try {
      // A client opened without prepared statements (a shared embedded session) keeps to that:
      // postgres.js names a statement only when both the client and the query allow it.
      rows = await client
        .unsafe(text, values as postgres.ParameterOrJSON<never>[], { prepare: true })
        .values();
    } catch (error) {
      throw new DrizzleQueryError(text, values, error as Error);
    }
    // A loop rather than `rows.map`: postgres.js's rows are an Array subclass, so `map` would build
    // another of it, through its constructor, slowly.
    const result: TRow[] = new Array(rows.length);
    for (let index = 0; index < rows.length; index++) result[index] = toRow(rows[index]!);
    return result;
  };
}
