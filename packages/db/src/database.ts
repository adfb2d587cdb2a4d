import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { registerPostgresClient } from './prepared';
import { type ServiceSchemaName, schemas } from './schema/index';

/** A drizzle database over either driver; services use only what both offer. */
export type Database<TSchema extends Record<string, unknown> = Record<string, unknown>> = PgDatabase<
  PgQueryResultHKT,
  TSchema
>;

export type ServiceSchema<TService extends ServiceSchemaName> = (typeof schemas)[TService];

/**
 * How a connection pool is used right now. postgres.js exposes no pool state, so the handle counts
 * what it started: queries and transactions not yet settled (a transaction holds a connection until
 * it ends). postgres.js gives each a connection of its own while it has one free; the rest pipeline
 * behind busy connections or queue.
 */
export interface PoolUsage {
  /** Connections the pool may open. */
  size: number;
  /** Connections busy with a query or a transaction. */
  inUse: number;
  /** Queries and transactions that found no free connection. */
  waiting: number;
}

export interface DatabaseHandle<TSchema extends Record<string, unknown>> {
  db: Database<TSchema>;
  /** `postgres` for a server reached by URL, `pglite` for an embedded database in this process. */
  driver: 'postgres' | 'pglite';
  /** Resolves when the database answers a query; used by `/readyz`. */
  ping(): Promise<void>;
  /** The pool's use now; null for PGlite, which has one session and no pool. */
  pool(): PoolUsage | null;
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

/**
 * Seconds a pool connection waits before it connects again, after `failures` connections of the pool
 * in a row ended in a socket error: doubling from 50 ms up to 2 s, each wait between half and all of
 * that so that the pool's connections do not retry in step. postgres.js's own backoff grows by three
 * times up to 20 s, so a service could stay unready for 20 s after its database came back.
 */
export function reconnectDelaySeconds(failures: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** failures, 2);
}

export function createDb<TService extends ServiceSchemaName>(
  options: CreateDbOptions<TService>,
): DatabaseHandle<ServiceSchema<TService>> {
  const schema = schemas[options.service];
  if (options.url) {
    const size = options.poolSize ?? 10;
    const client = postgres(options.url, {
      max: size,
      prepare: !options.sharedSession,
      backoff: reconnectDelaySeconds,
      onnotice: () => {},
      connection: { application_name: `bindery-${options.service}` },
    });
    const operations = { inFlight: 0 };
    const observed = traced(countOperations(client, operations), connectionAttributes(options.url));
    const db = drizzlePostgres({ client: observed, schema, casing }) as unknown as Database<
      ServiceSchema<TService>
    >;
    registerPostgresClient(db, observed);
    return {
      db,
      driver: 'postgres',
      ping: async () => {
        await client`select 1`;
      },
      pool: () => ({
        size,
        inUse: Math.min(size, operations.inFlight),
        waiting: Math.max(0, operations.inFlight - size),
      }),
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
    pool: () => null,
    close: () => client.close(),
  };
}

/**
 * The client drizzle is given, counting in `operations.inFlight` the queries and transactions it
 * started on the pool that have not settled. Queries inside a transaction run on the transaction's
 * connection and are not counted apart. drizzle sends every query through `unsafe` and awaits it at
 * once; the settle listener is attached with the native `Promise.prototype.then`, which does not
 * itself start a postgres.js query.
 */
function countOperations(client: postgres.Sql, operations: { inFlight: number }): postgres.Sql {
  const settled = () => {
    operations.inFlight--;
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (...args: Parameters<postgres.Sql['unsafe']>) => {
          const query = target.unsafe(...args);
          operations.inFlight++;
          Promise.prototype.then.call(query, settled, settled);
          return query;
        };
      }
      if (property === 'begin') {
        return async (...args: Parameters<postgres.Sql['begin']>) => {
          operations.inFlight++;
          try {
            return await (target.begin as (...beginArgs: unknown[]) => Promise<unknown>)(...args);
          } finally {
            settled();
          }
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

const tracer = trace.getTracer('@bindery/db');

/**
 * Spans for what drizzle sends through postgres.js, which no OpenTelemetry instrumentation covers
 * and which has no hook that sees a query end (its `debug` option sees one start). drizzle runs
 * every statement through `sql.unsafe(text, params)` and every transaction through `sql.begin` or
 * `tx.savepoint`: wrapping those gives a client span per query (its parameterised text, never the
 * values) inside a `transaction` span. Spans are made only under an active span, as the ioredis
 * instrumentation does, so the outbox relays' polling adds none; without an SDK there never is
 * one, and the cost is a context lookup per statement.
 */
function traced<TSql extends postgres.Sql | postgres.TransactionSql>(
  sql: TSql,
  attributes: Attributes,
): TSql {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (...args: Parameters<postgres.Sql['unsafe']>) =>
          tracedQuery(target.unsafe(...args), args[0], attributes);
      }
      if (property === 'begin' || property === 'savepoint') {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => {
          const run = args.pop() as (tx: postgres.TransactionSql) => unknown;
          if (!trace.getSpan(context.active())) return method(...args, run);
          return tracer.startActiveSpan(
            property === 'begin' ? 'transaction' : 'savepoint',
            { attributes },
            async (span) => {
              const inside = context.active();
              try {
                return await method(...args, (tx: postgres.TransactionSql) =>
                  context.with(inside, () => run(traced(tx, attributes))),
                );
              } catch (error) {
                failed(span, error);
                throw error;
              } finally {
                span.end();
              }
            },
          );
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/** Ends a span when the query settles, watched with the native `then`, which does not start it. */
function tracedQuery<TQuery extends PromiseLike<unknown>>(
  query: TQuery,
  text: string,
  attributes: Attributes,
): TQuery {
  const parent = context.active();
  if (!trace.getSpan(parent)) return query;
  const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
  const table = /\b(?:from|into|update)\s+((?:"[^"]+"\.)?"[^"]+")/i.exec(text)?.[1]?.replaceAll('"', '');
  const span = tracer.startSpan(
    table ? `${operation} ${table}` : operation,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        ...attributes,
        'db.operation.name': operation,
        'db.query.text': text,
        ...(table ? { 'db.collection.name': table } : {}),
      },
    },
    parent,
  );
  Promise.prototype.then.call(
    query,
    () => span.end(),
    (error: unknown) => {
      failed(span, error);
      span.end();
    },
  );
  return query;
}

function failed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** What every database span says about the server: https://opentelemetry.io/docs/specs/semconv/database/postgresql/ */
function connectionAttributes(url: string): Attributes {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  return {
    'db.system.name': 'postgresql',
    ...(parsed && parsed.pathname.length > 1
      ? { 'db.namespace': decodeURIComponent(parsed.pathname.slice(1)) }
      : {}),
    ...(parsed?.hostname
      ? { 'server.address': parsed.hostname, 'server.port': Number(parsed.port || 5432) }
      : {}),
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
