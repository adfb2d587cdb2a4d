import { createRequire } from 'node:module';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase } from '../src/testing';

/**
 * A transaction whose connection the server closes (`pg_terminate_backend`, a restart, an idle
 * timeout), as patches/postgres@3.4.9.patch fixes it. postgres.js rejects `begin` at once, but the
 * transaction's callback runs on, and the pool may already be reconnecting that same connection for
 * another query. Unpatched, the callback's later statements were sent on the reconnected connection:
 * they ran outside any transaction after the caller had been told it rolled back, or, sent while it
 * was still starting up, they left the pool waiting forever (the chaos test's workers, on a pool of
 * two, then never became ready again). Both builds of the package: ESM and CommonJS.
 */

const builds: [string, typeof postgres][] = [
  ['esm', postgres],
  ['cjs', createRequire(import.meta.url)('postgres') as typeof postgres],
];

const POOL_NAME = 'bindery-transaction-test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let admin: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase();
  admin = postgres(database.url, { max: 1, onnotice: () => {} });
  await admin`create table written (run text not null, step int not null)`;
});

afterAll(async () => {
  await admin?.end();
  await database?.drop();
});

/** Settles with what `promise` settled with, or with 'no answer' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'no answer'> {
  return Promise.race([promise, sleep(ms).then(() => 'no answer' as const)]);
}

describe.each(builds)('a transaction whose connection the server closes (%s build)', (build, Postgres) => {
  // How long after the pool starts reconnecting the connection the transaction's callback sends its
  // next statement: before the new socket exists, while it starts up, and once it serves again.
  test.each([0, 1, 2, 3, 4, 6, 8, 12, 20, 40])(
    'its callback going on %s ms into the reconnect writes nothing, and the pool keeps answering',
    async (delayMs) => {
      const sql = Postgres(database.url, {
        max: 1,
        onnotice: () => {},
        connection: { application_name: POOL_NAME },
      });
      const run = `${build}, ${delayMs} ms`;
      try {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let waiting!: () => void;
        const atGate = new Promise<void>((resolve) => {
          waiting = resolve;
        });
        const transaction = sql.begin(async (tx) => {
          await tx`select 1`;
          waiting();
          await gate;
          await tx`insert into written ${tx({ run, step: 1 })}`;
          await tx`insert into written ${tx({ run, step: 2 })}`;
        });
        const outcome = transaction.then(
          () => 'committed',
          (error: { code?: string }) => error.code,
        );
        await atGate;
        const [cut] = await admin<{ terminated: number }[]>`
          select count(*)::int as terminated from (
            select pg_terminate_backend(pid) from pg_stat_activity
            where datname = current_database() and application_name = ${POOL_NAME}
          ) as cut`;
        expect(cut?.terminated).toBe(1);
        expect(await within(outcome, 5_000)).toBe('CONNECTION_CLOSED');

        // Another query reconnects the pool's one connection; the callback goes on meanwhile.
        const other = sql`select 2 as two`.then(([row]) => row?.two);
        await sleep(delayMs);
        release();

        expect(await within(other, 5_000)).toBe(2);
        await sleep(50);
        expect(await admin`select step from written where run = ${run}`).toEqual([]);
        expect(
          await within(
            sql`select 3 as three`.then(([row]) => row?.three),
            5_000,
          ),
        ).toBe(3);
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  );
});
