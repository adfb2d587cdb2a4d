import { createDb } from '@bindery/db';
import { createTRPCClient, httpSubscriptionLink } from '@trpc/client';
import { sql } from 'drizzle-orm';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { histogramQuantile } from '../src/gateway/histogram-quantile';
import type { PlatformSnapshot } from '../src/gateway/platform-monitor';
import { type PrometheusSample, parsePrometheusText } from '../src/gateway/prometheus-text';
import type { AppRouter } from '../src/router';
import { codeOf, createAccount, type TestAccount } from './support/accounts';
import { eventually, settled } from './support/orders';
import { EVERY_PROCESS, startTestPlatform, type TestPlatform } from './support/platform';

/**
 * Metrics after real traffic. The test platform runs every service, worker and the gateway in this
 * one process, so they share prom-client's global registry and every `/metrics` here answers the
 * same samples: in production each process exports only its own. The assertions therefore read
 * each series from the process that would export it, check that every process answers valid text,
 * and compare business counters as deltas over the traffic this file makes.
 */
let platform: TestPlatform;
let admin: TestAccount['client'];
let adminToken: string;
let customer: TestAccount;

const SCRAPE_INTERVAL_MS = 200;

beforeAll(async () => {
  platform = await startTestPlatform({ GATEWAY_METRICS_INTERVAL_MS: String(SCRAPE_INTERVAL_MS) });
  const signedIn = await platform.signIn(platform.admin.email, platform.admin.password);
  admin = signedIn.client;
  adminToken = signedIn.accessToken;
  customer = await createAccount(platform, ['customer'], admin);
});
afterAll(() => platform?.close());

async function scrape(url: string): Promise<{ text: string; samples: PrometheusSample[] }> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { text, samples: parsePrometheusText(text) };
}

/** The value of the one sample named `name` with exactly `labels`; undefined when there is none. */
function sampleValue(
  samples: PrometheusSample[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return samples.find(
    (sample) => sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === wanted,
  )?.value;
}

/** Every sample belongs to a family declared by `# TYPE` (histograms as `_bucket`, `_sum`, `_count`). */
function expectDeclaredFamilies(text: string, samples: PrometheusSample[]): void {
  const types = new Map(
    [...text.matchAll(/^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/gm)].map((match) => [
      match[1]!,
      match[2]!,
    ]),
  );
  for (const { name } of samples) {
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(family), `${name} has a # TYPE line`).toBe(true);
  }
}

const BUSINESS = [
  ['bindery_orders_total', 'outcome', ['created', 'confirmed', 'failed', 'cancelled']],
  ['bindery_payments_total', 'outcome', ['captured', 'declined', 'refunded']],
  ['bindery_payment_amount_cents_total', 'kind', ['captured', 'refunded']],
] as const;

async function businessCounters(): Promise<Record<string, number>> {
  const { samples } = await scrape(platform.services.orders.url);
  return Object.fromEntries(
    BUSINESS.flatMap(([name, label, values]) =>
      values.map((value) => [`${name}{${value}}`, sampleValue(samples, name, { [label]: value }) ?? 0]),
    ),
  );
}

function minus(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

describe('metrics after traffic', () => {
  let before: Record<string, number>;
  const placed: { id: string; totalCents: number }[] = [];
  let cancelledCents = 0;

  beforeAll(async () => {
    before = await businessCounters();
    const book = await admin.catalog.books.create.mutate({
      title: 'Metered book',
      author: 'Tester',
      priceCents: 1250,
      stock: 20,
    });
    const order = (quantity: number, paymentToken = 'tok_visa') =>
      customer.client.orders.create.mutate({
        items: [{ bookId: book.id, quantity }],
        idempotencyKey: `metrics-${Math.random()}`,
        paymentToken,
      });
    const orders = await Promise.all([order(1), order(2), order(3), order(1, 'tok_chargeDeclined')]);
    placed.push(...orders);
    const outcomes = await Promise.all(orders.map((created) => settled(customer.client, created.id)));
    expect(outcomes.map((done) => done.status)).toEqual(['CONFIRMED', 'CONFIRMED', 'CONFIRMED', 'FAILED']);
    await customer.client.orders.cancel.mutate({ id: orders[2]!.id });
    cancelledCents = orders[2]!.totalCents;
    await eventually(
      () => customer.client.billing.payments.byOrder.query({ orderId: orders[2]!.id }),
      (payment) => payment.status === 'refunded',
    );
    // A failed call, so error rates have something to count.
    expect(await codeOf(admin.orders.byId.query({ id: '00000000-0000-4000-8000-000000000000' }))).toBe(
      'NOT_FOUND',
    );
  });

  test('every process answers /metrics in the Prometheus text format, with process metrics', async () => {
    const processes = {
      gateway: platform.gatewayUrl,
      ...Object.fromEntries(Object.entries(platform.services).map(([name, service]) => [name, service.url])),
      ...Object.fromEntries(
        Object.entries(platform.workers).map(([name, worker]) => [`${name}-worker`, worker!.url]),
      ),
    };
    expect(Object.keys(processes)).toHaveLength(12);
    for (const [name, url] of Object.entries(processes)) {
      const { text, samples } = await scrape(url);
      expectDeclaredFamilies(text, samples);
      const names = new Set(samples.map((sample) => sample.name));
      for (const metric of [
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_seconds',
      ]) {
        expect(names.has(metric), `${name} exports ${metric}`).toBe(true);
      }
    }
  });

  test('services count each procedure call by type and outcome, with a latency histogram', async () => {
    const { samples } = await scrape(platform.services.orders.url);
    const created = { procedure: 'orders.create', type: 'mutation', outcome: 'ok' };
    expect(sampleValue(samples, 'bindery_rpc_requests_total', created)).toBeGreaterThanOrEqual(4);
    expect(
      sampleValue(samples, 'bindery_rpc_request_duration_seconds_bucket', { ...created, le: '+Inf' }),
    ).toBeGreaterThanOrEqual(4);
    expect(sampleValue(samples, 'bindery_rpc_request_duration_seconds_sum', created)).toBeGreaterThan(0);
    expect(
      sampleValue(samples, 'bindery_rpc_requests_total', {
        procedure: 'orders.byId',
        type: 'query',
        outcome: 'NOT_FOUND',
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  test('the gateway counts upstream calls per service and instance, and its own calls per namespace', async () => {
    const { samples } = await scrape(platform.gatewayUrl);
    const upstream = { service: 'orders', service_instance: platform.services.orders.url, outcome: 'ok' };
    expect(sampleValue(samples, 'bindery_gateway_upstream_requests_total', upstream)).toBeGreaterThanOrEqual(
      5,
    );
    expect(
      sampleValue(samples, 'bindery_gateway_upstream_duration_seconds_count', upstream),
    ).toBeGreaterThanOrEqual(5);
    expect(
      sampleValue(samples, 'bindery_gateway_calls_total', { namespace: 'orders', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(5);
    expect(
      sampleValue(samples, 'bindery_gateway_calls_total', { namespace: 'orders', outcome: 'NOT_FOUND' }),
    ).toBeGreaterThanOrEqual(1);
  });

  test('services count their calls to peers per target service and instance, with a duration histogram', async () => {
    const { samples } = await scrape(platform.services.orders.url);
    const toUsers = {
      caller: 'orders',
      service: 'users',
      service_instance: platform.services.users.url,
      outcome: '2xx',
    };
    // Every orders.create checks the customer with users and prices the items with catalog: 4 orders.
    expect(sampleValue(samples, 'bindery_peer_requests_total', toUsers)).toBeGreaterThanOrEqual(4);
    expect(
      sampleValue(samples, 'bindery_peer_request_duration_seconds_count', {
        caller: 'orders',
        service: 'catalog',
        outcome: '2xx',
      }),
    ).toBeGreaterThanOrEqual(4);
  });

  test('the gateway exports every queue’s depth and oldest waiting job’s age', async () => {
    const { samples } = await scrape(platform.gatewayUrl);
    for (const state of ['waiting', 'active', 'delayed', 'failed']) {
      expect(
        sampleValue(samples, 'bindery_queue_jobs', { queue: 'billing-events', state }),
      ).toBeGreaterThanOrEqual(0);
    }
    expect(
      sampleValue(samples, 'bindery_queue_oldest_waiting_job_age_seconds', { queue: 'orders-maintenance' }),
    ).toBeGreaterThanOrEqual(0);
  });

  test('workers count jobs per queue, job name and outcome, with a duration histogram', async () => {
    const { samples } = await scrape(platform.workers.billing!.url);
    const job = { queue: 'billing-events', name: 'stock.reserved' };
    expect(
      sampleValue(samples, 'bindery_jobs_total', { ...job, outcome: 'completed' }),
    ).toBeGreaterThanOrEqual(4);
    expect(sampleValue(samples, 'bindery_job_duration_seconds_count', job)).toBeGreaterThanOrEqual(4);
  });

  test('services export their database pool: size, connections in use, waiting', async () => {
    const { samples } = await scrape(platform.services.orders.url);
    // The orders service and the orders worker each hold a pool; here both are in this process.
    expect(sampleValue(samples, 'bindery_db_pool_connections_max', { service: 'orders' })).toBe(
      2 * platform.config.DATABASE_POOL_SIZE,
    );
    expect(
      sampleValue(samples, 'bindery_db_pool_connections_in_use', { service: 'orders' }),
    ).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, 'bindery_db_pool_waiting', { service: 'orders' })).toBeGreaterThanOrEqual(0);
  });

  test('business counters match the orders placed, paid, failed, cancelled and refunded', async () => {
    const confirmedCents = placed.slice(0, 3).reduce((sum, order) => sum + order.totalCents, 0);
    const expected = {
      'bindery_orders_total{created}': 4,
      'bindery_orders_total{confirmed}': 3,
      'bindery_orders_total{failed}': 1,
      'bindery_orders_total{cancelled}': 1,
      'bindery_payments_total{captured}': 3,
      'bindery_payments_total{declined}': 1,
      'bindery_payments_total{refunded}': 1,
      'bindery_payment_amount_cents_total{captured}': confirmedCents,
      'bindery_payment_amount_cents_total{refunded}': cancelledCents,
    };
    // Workers count right after their transaction commits, which a client may see a moment earlier.
    const counted = await eventually(
      async () => minus(await businessCounters(), before),
      (delta) => JSON.stringify(delta) === JSON.stringify(expected),
      5_000,
    );
    expect(counted).toEqual(expected);
  });

  test('system.metrics gives each service its request rate, error rate and p50/p99 latency', async () => {
    const metrics = await eventually(
      () => admin.system.metrics.query(),
      (current) =>
        (current.services.find((service) => service.service === 'orders')?.window?.errorsPerSecond ?? 0) > 0,
      10_000,
    );
    expect(metrics).toMatchObject({ intervalMs: SCRAPE_INTERVAL_MS, windowMs: 90 * SCRAPE_INTERVAL_MS });
    expect(metrics.services.map((service) => service.service).sort()).toEqual(EVERY_PROCESS);
    const orders = metrics.services.find((service) => service.service === 'orders')!;
    expect(orders.instances).toEqual([
      { id: platform.config.INSTANCE_ID, url: platform.services.orders.url, up: true },
    ]);
    expect(orders.points.length).toBeGreaterThan(0);
    expect(orders.points.length).toBeLessThanOrEqual(90);
    const window = orders.window!;
    expect(window.requestsPerSecond).toBeGreaterThan(0);
    expect(window.errorsPerSecond).toBeLessThan(window.requestsPerSecond);
    expect(window.errorRatio).toBeGreaterThan(0);
    expect(window.errorRatio).toBeLessThan(1);
    expect(window.p50Ms).toBeGreaterThan(0);
    expect(window.p99Ms).toBeGreaterThanOrEqual(window.p50Ms!);
    expect(window.p99Ms).toBeLessThan(10_000);
    for (const point of orders.points) {
      expect(Date.parse(point.at)).not.toBeNaN();
      expect(point.requestsPerSecond).toBeGreaterThanOrEqual(0);
      if (point.requestsPerSecond === 0) expect(point).toMatchObject({ errorRatio: null, p50Ms: null });
    }
  });

  test('staff only: a customer may not read system.metrics', async () => {
    expect(await codeOf(customer.client.system.metrics.query())).toBe('FORBIDDEN');
  });
});

describe('system.live', () => {
  /** A client that subscribes over Server-Sent Events through the gateway, as `token`. */
  function liveClient(token: string | null) {
    return createTRPCClient<AppRouter>({
      links: [
        httpSubscriptionLink({
          url: `${platform.gatewayUrl}/trpc`,
          // Node 20 has no EventSource; this one lets the request carry the Authorization header.
          EventSource,
          eventSourceOptions: () => ({
            fetch: (input, init) =>
              fetch(input, {
                ...init,
                headers: { ...init.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
              }),
          }),
        }),
      ],
    });
  }

  test('pushes a snapshot of health, metrics and queues, then another after each scrape', async () => {
    const snapshots: PlatformSnapshot[] = [];
    let failure: unknown;
    const subscription = liveClient(adminToken).system.live.subscribe(undefined, {
      onData: (tracked) => snapshots.push(tracked.data),
      onError: (error) => {
        failure = error;
      },
    });
    try {
      await eventually(
        async () => snapshots.length,
        (count) => count >= 2 || failure !== undefined,
        10_000,
      );
      expect(failure).toBeUndefined();
      const [first, second] = snapshots;
      expect(first!.health.instances.map((instance) => instance.service).sort()).toEqual(EVERY_PROCESS);
      expect(first!.health.status).toBe('ok');
      expect(first!.queues?.map((queue) => queue.name)).toContain('orders-events');
      expect(first!.metrics.services).toHaveLength(EVERY_PROCESS.length);
      expect(Date.parse(second!.metrics.scrapedAt!)).toBeGreaterThan(Date.parse(first!.metrics.scrapedAt!));
    } finally {
      subscription.unsubscribe();
    }
  });

  test('is refused to an anonymous caller and to a customer', async () => {
    const refusal = (token: string | null) =>
      new Promise<string>((resolve) => {
        const subscription = liveClient(token).system.live.subscribe(undefined, {
          onData: () => {
            subscription.unsubscribe();
            resolve('OK');
          },
          onError: (error) => resolve(error.data?.code ?? error.message),
        });
      });
    expect(await refusal(null)).toBe('UNAUTHORIZED');
    expect(await refusal(customer.accessToken)).toBe('FORBIDDEN');
    expect(await refusal('not-a-token')).toBe('UNAUTHORIZED');
  });
});

describe('database pool usage', () => {
  test('counts connections in use, and queries waiting once every connection is busy', async () => {
    const handle = createDb({ service: 'orders', url: platform.databaseUrl, poolSize: 2 });
    let release = () => {};
    try {
      expect(handle.pool()).toEqual({ size: 2, inUse: 0, waiting: 0 });
      const transaction = handle.db.transaction(
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      );
      // drizzle runs a query when it is awaited.
      const sleeps = [1, 2].map(async () => handle.db.execute(sql`select pg_sleep(0.2)`));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(handle.pool()).toEqual({ size: 2, inUse: 2, waiting: 1 });
      release();
      await Promise.all([transaction, ...sleeps]);
      expect(handle.pool()).toEqual({ size: 2, inUse: 0, waiting: 0 });
    } finally {
      release();
      await handle.close();
    }
  });
});

describe('aggregation helpers', () => {
  test('histogramQuantile interpolates inside the bucket holding the rank, like PromQL', () => {
    const buckets = new Map([
      [0.1, 50],
      [0.5, 90],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.05);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.3);
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.95);
    expect(
      histogramQuantile(
        0.99,
        new Map([
          [0.1, 0],
          [Number.POSITIVE_INFINITY, 0],
        ]),
      ),
    ).toBeNull();
    // A rank among the observations above the highest bound answers that bound.
    expect(
      histogramQuantile(
        0.99,
        new Map([
          [0.1, 1],
          [Number.POSITIVE_INFINITY, 10],
        ]),
      ),
    ).toBe(0.1);
  });

  test('parsePrometheusText reads escaped label values, special values (as prom-client writes them) and timestamps, and names a bad line', () => {
    expect(
      parsePrometheusText(
        [
          '# HELP x_total A counter',
          '# TYPE x_total counter',
          'x_total{path="a\\"b\\\\c\\nd",le="+Inf"} 3 1700000000000',
          'y NaN',
          'z{} -Inf',
          'lag_seconds Nan',
        ].join('\n'),
      ),
    ).toEqual([
      { name: 'x_total', labels: { path: 'a"b\\c\nd', le: '+Inf' }, value: 3 },
      { name: 'y', labels: {}, value: Number.NaN },
      { name: 'z', labels: {}, value: Number.NEGATIVE_INFINITY },
      { name: 'lag_seconds', labels: {}, value: Number.NaN },
    ]);
    expect(() => parsePrometheusText('ok 1\nbad{label="open} 1')).toThrow(/^line 2: /);
  });
});
