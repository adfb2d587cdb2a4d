/**
 * Places orders through the gateway and measures how fast the saga confirms them, beside the rate
 * of no-op BullMQ jobs through the same Redis measured in the same run. See README.md beside this
 * file; run with `node scripts/pnpm.mjs bench:orders -- --orders 300 --concurrency 20`.
 */

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createAccount } from '../apps/services/test/support/accounts';
import { startTestPlatform, type TestPlatform } from '../apps/services/test/support/platform';
import { measureNoopJobs } from './noop-jobs';
import { sagaJobCounts, waitUntilQuiet } from './saga-jobs';

export interface OrdersBenchOptions {
  /**
   * Orders to place.
   * @defaultValue 300
   */
  orders: number;
  /**
   * Calls to `orders.create` in flight at once.
   * @defaultValue 20
   */
  concurrency: number;
  /**
   * Customers the orders are spread over, in turn.
   * @defaultValue 10
   */
  customers: number;
  /**
   * No-op jobs the baseline runs.
   * @defaultValue 5000
   */
  noopJobs: number;
  /**
   * How long to wait for the next order to settle before counting the rest as unsettled.
   * @defaultValue 60000
   */
  settleTimeoutMs: number;
  /** Receives a line per phase, for a person watching. */
  progress?: (line: string) => void;
}

export interface OrdersBenchResult {
  options: Omit<OrdersBenchOptions, 'progress'>;
  /** Orders `orders.create` accepted. */
  ordersPlaced: number;
  /** Calls to `orders.create` that failed; those orders are not placed. */
  createErrors: number;
  firstCreateError?: string;
  confirmed: number;
  /** Orders that ended FAILED (or CANCELLED, which nothing here does). */
  failed: number;
  /** Orders still PENDING when the bench stopped waiting. */
  unsettled: number;
  /** From the first `orders.create` call to the last confirmation. */
  elapsedMs: number;
  confirmedPerSecond: number;
  /**
   * From calling `orders.create` to the order's CONFIRMED transition, in milliseconds. The moment
   * is the row's `updated_at` (the saga sets it in the transition), not when the 20 ms poll saw it.
   */
  latencyMs: { p50: number; p99: number };
  /** Jobs the `*-events` queues completed per order placed. */
  jobsPerOrder: number;
  /** Job attempts that failed while the orders ran (each is retried or, at the last, gives up). */
  jobFailures: number;
  /**
   * The no-op jobs' rate: measured before the platform starts and again after it stops, so that
   * a change in the machine's load during the run shows as a spread between the two `runs`.
   */
  baseline: { jobs: number; jobsPerSecond: number; runs: [before: number, after: number] };
  /** `confirmedPerSecond / baseline.jobsPerSecond`: the number to compare between runs and machines. */
  ratio: number;
}

const DEFAULTS: Omit<OrdersBenchOptions, 'progress'> = {
  orders: 300,
  concurrency: 20,
  customers: 10,
  noopJobs: 5000,
  settleTimeoutMs: 60_000,
};

/** No-op jobs run and not counted before the first baseline. */
const WARM_UP_JOBS = 1000;

/** How often the database is asked which orders have settled. */
const POLL_MS = 20;

interface Outcome {
  status: 'CONFIRMED' | 'FAILED' | 'CANCELLED';
  /** When the order left PENDING (its `updated_at`), on this process's clock. */
  atMs: number;
}

/** The `percent`th percentile of `values` by nearest rank (NaN when empty). */
function percentile(values: readonly number[], percent: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)]!;
}

/**
 * How far the database's clock is ahead of this process's, from the quickest of a few round trips,
 * so that `updated_at` can be compared with `Date.now()` even when PostgreSQL runs elsewhere.
 */
async function databaseClockOffsetMs(sql: TestPlatform['sql']): Promise<number> {
  let best = { roundTripMs: Number.POSITIVE_INFINITY, offsetMs: 0 };
  for (let sample = 0; sample < 5; sample++) {
    const sentAt = Date.now();
    const [row] = await sql<{ now: Date }[]>`select clock_timestamp() as now`;
    const receivedAt = Date.now();
    if (receivedAt - sentAt < best.roundTripMs) {
      best = { roundTripMs: receivedAt - sentAt, offsetMs: row!.now.getTime() - (sentAt + receivedAt) / 2 };
    }
  }
  return best.offsetMs;
}

/**
 * Measures the no-op baseline, then the orders on a platform started for the purpose, then the
 * baseline again. Everything it starts is closed again and its Redis keys removed.
 */
export async function runOrdersBench(options: Partial<OrdersBenchOptions> = {}): Promise<OrdersBenchResult> {
  const { progress = () => {}, ...rest } = options;
  const settings = { ...DEFAULTS, ...rest };
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

  progress(`baseline: ${settings.noopJobs} no-op jobs, after a warm-up`);
  // A fresh process runs its first jobs on cold code: without this the first baseline reads low.
  await measureNoopJobs(redisUrl, Math.min(settings.noopJobs, WARM_UP_JOBS));
  const baselineBefore = await measureNoopJobs(redisUrl, settings.noopJobs);

  const orders = await measureOrders(settings, redisUrl, progress);
  progress(`baseline again: ${settings.noopJobs} no-op jobs`);
  const baselineAfter = await measureNoopJobs(redisUrl, settings.noopJobs);
  const noopJobsPerSecond = (baselineBefore.jobsPerSecond + baselineAfter.jobsPerSecond) / 2;
  return {
    options: settings,
    ...orders,
    baseline: {
      jobs: settings.noopJobs,
      jobsPerSecond: noopJobsPerSecond,
      runs: [baselineBefore.jobsPerSecond, baselineAfter.jobsPerSecond],
    },
    ratio: orders.confirmedPerSecond / noopJobsPerSecond,
  };
}

type OrdersMeasurement = Omit<OrdersBenchResult, 'options' | 'baseline' | 'ratio'>;

/**
 * Starts the platform in this process (a fresh database, a private Redis prefix, the sandbox
 * payment provider without latency), places the orders with bounded concurrency and watches
 * `orders.orders` until each settles; closes the platform again.
 */
async function measureOrders(
  settings: Omit<OrdersBenchOptions, 'progress'>,
  redisUrl: string,
  progress: (line: string) => void,
): Promise<OrdersMeasurement> {
  progress('starting the platform');
  const platform = await startTestPlatform({ PAYMENT_SANDBOX_LATENCY_MS: '0', REDIS_URL: redisUrl });
  try {
    const admin = (await platform.signIn(platform.admin.email, platform.admin.password)).client;
    const book = await admin.catalog.books.create.mutate({
      title: 'The Benchmark',
      author: 'Bindery',
      priceCents: 1000,
      stock: settings.orders,
    });
    const customers = await Promise.all(
      Array.from({ length: Math.min(settings.customers, settings.orders) }, () =>
        createAccount(platform, ['customer'], admin),
      ),
    );
    const clockOffsetMs = await databaseClockOffsetMs(platform.sql);
    await waitUntilQuiet(platform);
    const jobsBefore = await sagaJobCounts(platform);

    progress(`placing ${settings.orders} orders, ${settings.concurrency} at a time`);
    const startedAt = new Map<string, number>();
    const outcomes = new Map<string, Outcome>();
    const createErrors: string[] = [];
    // The watcher stops once placing is over and every order placed has settled, or when none has
    // settled for settleTimeoutMs.
    let placing = true;
    const watching = (async () => {
      let lastProgressAt = Date.now();
      while (placing || outcomes.size < startedAt.size) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const pending = [...startedAt.keys()].filter((id) => !outcomes.has(id));
        if (pending.length === 0) continue;
        const rows = await platform.sql<{ id: string; status: Outcome['status']; updated_at: Date }[]>`
          select id, status, updated_at from orders.orders
          where id = any(${pending}::uuid[]) and status <> 'PENDING'`;
        for (const row of rows)
          outcomes.set(row.id, { status: row.status, atMs: row.updated_at.getTime() - clockOffsetMs });
        if (rows.length > 0 || placing) lastProgressAt = Date.now();
        else if (Date.now() - lastProgressAt > settings.settleTimeoutMs) return;
      }
    })();
    let next = 0;
    const placeNext = async () => {
      while (next < settings.orders) {
        const index = next++;
        const customer = customers[index % customers.length]!;
        const callAt = Date.now();
        try {
          const order = await customer.client.orders.create.mutate({
            items: [{ bookId: book.id, quantity: 1 }],
            idempotencyKey: `bench-${index}`,
          });
          startedAt.set(order.id, callAt);
        } catch (error) {
          // Counted, not fatal: a shared PostgreSQL out of connections fails a call now and then.
          createErrors.push(error instanceof Error ? error.message : String(error));
        }
      }
    };
    const placement = Promise.all(Array.from({ length: settings.concurrency }, placeNext)).finally(() => {
      placing = false;
    });
    await Promise.all([placement, watching]);

    progress('waiting for the saga to finish its last jobs');
    await waitUntilQuiet(platform);
    const jobsAfter = await sagaJobCounts(platform);

    const confirmedAt = [...outcomes].filter(([, outcome]) => outcome.status === 'CONFIRMED');
    const latencies = confirmedAt.map(([id, outcome]) => outcome.atMs - startedAt.get(id)!);
    const firstCallAt = Math.min(...startedAt.values());
    const lastConfirmedAt = Math.max(...confirmedAt.map(([, outcome]) => outcome.atMs));
    const elapsedMs = confirmedAt.length > 0 ? lastConfirmedAt - firstCallAt : 0;
    const confirmedPerSecond = elapsedMs > 0 ? confirmedAt.length / (elapsedMs / 1000) : 0;
    return {
      ordersPlaced: startedAt.size,
      createErrors: createErrors.length,
      ...(createErrors[0] ? { firstCreateError: createErrors[0] } : {}),
      confirmed: confirmedAt.length,
      failed: [...outcomes.values()].filter((outcome) => outcome.status !== 'CONFIRMED').length,
      unsettled: startedAt.size - outcomes.size,
      elapsedMs,
      confirmedPerSecond,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      jobsPerOrder: (jobsAfter.completed - jobsBefore.completed) / startedAt.size,
      jobFailures: jobsAfter.failed - jobsBefore.failed,
    };
  } finally {
    await platform.close();
  }
}

/** The result as a small two-column table. */
export function formatOrdersBench(result: OrdersBenchResult): string {
  const rows: [string, string][] = [
    ['orders placed', String(result.ordersPlaced)],
    ...(result.createErrors > 0
      ? [['orders.create errors', String(result.createErrors)] as [string, string]]
      : []),
    ['confirmed', String(result.confirmed)],
    ['failed', String(result.failed)],
    ...(result.unsettled > 0 ? [['unsettled', String(result.unsettled)] as [string, string]] : []),
    ['confirmed orders/s', result.confirmedPerSecond.toFixed(1)],
    ['create → CONFIRMED p50 (ms)', result.latencyMs.p50.toFixed(0)],
    ['create → CONFIRMED p99 (ms)', result.latencyMs.p99.toFixed(0)],
    ['baseline no-op jobs/s', result.baseline.jobsPerSecond.toFixed(0)],
    ['  before / after the orders', result.baseline.runs.map((rate) => rate.toFixed(0)).join(' / ')],
    ['confirmed orders/s ÷ no-op jobs/s', result.ratio.toFixed(4)],
    ['jobs per order', result.jobsPerOrder.toFixed(2)],
    ['jobs per order × ratio', (result.jobsPerOrder * result.ratio).toFixed(3)],
    ['failed job attempts', String(result.jobFailures)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const { orders, concurrency, customers, noopJobs } = result.options;
  return [
    `orders: ${orders} at concurrency ${concurrency} by ${customers} customers; baseline: ${noopJobs} no-op jobs`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value.padStart(10)}`),
    ...(result.firstCreateError ? [`first orders.create error: ${result.firstCreateError}`] : []),
    ...(result.jobFailures > 0 || result.createErrors > 0
      ? [
          'warning: calls or jobs failed and were retried (a PostgreSQL shared with other runs and out of ' +
            'connections, most often); these numbers are not comparable with a clean run',
        ]
      : []),
  ].join('\n');
}

const USAGE =
  'usage: npx tsx --conditions=bindery-source bench/orders.ts [--orders N] [--concurrency C] [--customers K] [--jobs M]';

/** Reads `--orders`, `--concurrency`, `--customers` and `--jobs` (the no-op baseline's count). */
function parseCli(args: string[]): Partial<OrdersBenchOptions> {
  const { values } = parseArgs({
    // `pnpm bench:orders -- --orders 5` passes the `--` along.
    args: args[0] === '--' ? args.slice(1) : args,
    options: {
      orders: { type: 'string' },
      concurrency: { type: 'string' },
      customers: { type: 'string' },
      jobs: { type: 'string' },
    },
  });
  const count = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name}: must be a whole number ≥ 1`);
    return parsed;
  };
  const chosen = {
    orders: count('orders', values.orders),
    concurrency: count('concurrency', values.concurrency),
    customers: count('customers', values.customers),
    noopJobs: count('jobs', values.jobs),
  };
  return Object.fromEntries(Object.entries(chosen).filter(([, value]) => value !== undefined));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let cliOptions: Partial<OrdersBenchOptions> = {};
  try {
    cliOptions = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  // Request logs would cost more than the work measured; warnings (a failed job) still show.
  process.env.LOG_LEVEL ??= 'warn';
  const result = await runOrdersBench({
    ...cliOptions,
    progress: (line) => console.error(`[bench] ${line}`),
  });
  console.log(formatOrdersBench(result));
  console.log(['---- result ----', '```', formatOrdersBench(result), '```'].join('\n'));
}
