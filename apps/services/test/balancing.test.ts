import { randomUUID } from 'node:crypto';
import { DEADLINE_HEADER, mintInternalToken } from '@bindery/api';
import type { BinderyClient } from '@bindery/client';
import { redisRegistry } from '@bindery/runtime';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy';
import { startTestPlatform, type TestPlatform } from './support/platform';
import {
  buildWorkerBundle,
  freePort,
  type ServiceProcessHandle,
  spawnServiceProcess,
} from './support/worker-process';

/**
 * Discovery, balancing and resilience with real catalog processes behind the gateway: instances are
 * killed, restarted, slowed and broken while calls flow, and no call that could be saved is lost.
 */

let bundle: Awaited<ReturnType<typeof buildWorkerBundle>>;
beforeAll(async () => {
  bundle = await buildWorkerBundle();
});
afterAll(() => bundle?.remove());

/** Everything one scenario started, stopped after it whatever happened. */
const started: { processes: ServiceProcessHandle[]; proxies: FaultProxy[]; platform?: TestPlatform } = {
  processes: [],
  proxies: [],
};
afterEach(async () => {
  await Promise.all(started.processes.map((instance) => instance.kill()));
  await Promise.all(started.proxies.map((proxy) => proxy.close()));
  await started.platform?.close();
  started.processes = [];
  started.proxies = [];
  started.platform = undefined;
});

/** A platform without an in-process catalog: the catalog instances are processes the test starts. */
async function platformWithoutCatalog(env: Record<string, string> = {}) {
  const platform = await startTestPlatform(
    { HEALTH_CHECK_INTERVAL_MS: '250', EJECTION_MS: '500', ...env },
    { services: ['users', 'auth', 'orders', 'billing', 'notifications'], workers: [] },
  );
  started.platform = platform;
  const { client } = await platform.signIn(platform.admin.email, platform.admin.password);
  return { platform, admin: client };
}

/** A catalog process; with `proxied`, it registers a fault proxy's URL as its own. */
async function catalogInstance(
  platform: TestPlatform,
  id: string,
  options: { proxied?: boolean; env?: Record<string, string> } = {},
): Promise<{ instance: ServiceProcessHandle; proxy?: FaultProxy }> {
  const env: Record<string, string> = { INSTANCE_ID: id, SHUTDOWN_DRAIN_DELAY_MS: '500', ...options.env };
  let proxy: FaultProxy | undefined;
  if (options.proxied) {
    const port = await freePort();
    proxy = await startFaultProxy(port);
    started.proxies.push(proxy);
    env.CATALOG_PORT = String(port);
    env.ADVERTISE_URL = proxy.url;
  }
  const instance = await spawnServiceProcess(bundle.entry, 'catalog', platform, env);
  started.processes.push(instance);
  return { instance, ...(proxy ? { proxy } : {}) };
}

type CatalogView = Awaited<ReturnType<BinderyClient['system']['topology']['query']>>['services'][number];

/** Polls the gateway's topology until the catalog looks as `done` wants. */
async function untilCatalog(
  admin: BinderyClient,
  done: (catalog: CatalogView) => boolean,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last: CatalogView | undefined;
  while (Date.now() < deadline) {
    const topology = await admin.system.topology.query();
    last = topology.services.find((service) => service.service === 'catalog');
    if (last && done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the catalog never reached the expected state; last seen: ${JSON.stringify(last, null, 2)}`,
  );
}

const readyIds = (catalog: CatalogView) =>
  catalog.instances.filter((instance) => instance.state === 'ready').map((instance) => instance.id);

/** Calls `call` from `concurrency` loops until stopped; counts successes and keeps every failure. */
function steadyStream(call: (sequence: number) => Promise<unknown>, concurrency = 3) {
  let running = true;
  let sequence = 0;
  const outcome = { ok: 0, failures: [] as string[] };
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        await call(sequence++);
        outcome.ok++;
      } catch (error) {
        outcome.failures.push(error instanceof Error ? error.message : String(error));
      }
    }
  });
  return {
    outcome,
    async stop() {
      running = false;
      await Promise.all(loops);
      return outcome;
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('instances that die or restart', () => {
  test('SIGKILL one of three catalog instances under a steady stream of reads: no read fails', async () => {
    const { platform, admin } = await platformWithoutCatalog();
    const instances = await Promise.all(
      ['a', 'b', 'c'].map((id) => catalogInstance(platform, `catalog-${id}`)),
    );
    await untilCatalog(admin, (catalog) => readyIds(catalog).length === 3);

    const reads = steadyStream(() => admin.catalog.books.list.query({ limit: 5 }));
    await pause(700);
    const beforeKill = reads.outcome.ok;
    await instances[1]!.instance.kill();
    await pause(2_000);
    const outcome = await reads.stop();

    expect(outcome.failures).toEqual([]);
    expect(outcome.ok - beforeKill).toBeGreaterThan(20);
    // The killed instance is out of rotation: its probes fail until its registration expires.
    const catalog = await untilCatalog(admin, (view) => !readyIds(view).includes('catalog-b'));
    expect(readyIds(catalog).sort()).toEqual(['catalog-a', 'catalog-c']);
    console.log(
      `[balancing] SIGKILL catalog-b under reads: ${outcome.ok} reads, 0 failed (${outcome.ok - beforeKill} after the kill)`,
    );
  });

  test('a rolling restart (SIGTERM each instance in turn) fails no read and no write', async () => {
    const { platform, admin } = await platformWithoutCatalog();
    let current = await Promise.all(['a', 'b', 'c'].map((id) => catalogInstance(platform, `catalog-${id}`)));
    await untilCatalog(admin, (catalog) => readyIds(catalog).length === 3);

    const run = randomUUID().slice(0, 8);
    const reads = steadyStream(() => admin.catalog.books.list.query({ limit: 5 }), 2);
    const writes = steadyStream(
      (sequence) =>
        admin.catalog.books.create.mutate({
          title: `rolling ${run} ${sequence}`,
          author: 'Rolling',
          priceCents: 100,
        }),
      2,
    );
    const replaced: string[] = [];
    for (const [index, old] of current.entries()) {
      const id = `catalog-${'abc'[index]}2`;
      const fresh = await catalogInstance(platform, id);
      await untilCatalog(admin, (catalog) => readyIds(catalog).includes(id));
      await old.instance.stop();
      replaced.push(id);
      current = current.map((entry) => (entry === old ? fresh : entry));
    }
    await pause(300);
    const [readOutcome, writeOutcome] = [await reads.stop(), await writes.stop()];

    expect(readOutcome.failures).toEqual([]);
    expect(writeOutcome.failures).toEqual([]);
    expect(readOutcome.ok).toBeGreaterThan(20);
    expect(writeOutcome.ok).toBeGreaterThan(10);
    // Every acknowledged write happened exactly once.
    const [row] = await platform.sql<{ count: number }[]>`
      select count(*)::int as count from catalog.books where title like ${`rolling ${run} %`}`;
    const count = row?.count;
    expect(count).toBe(writeOutcome.ok);
    const catalog = await untilCatalog(admin, (view) => view.instances.length === 3);
    expect(readyIds(catalog).sort()).toEqual(replaced.sort());
    console.log(
      `[balancing] rolling restart of 3 catalog instances: ${readOutcome.ok} reads and ${writeOutcome.ok} writes, 0 failed; ${count} books written once each`,
    );
  });
});

describe('instances that are slow or failing', () => {
  test('the latency strategy (p2c over a moving average) avoids an instance that answers slowly', async () => {
    const { platform, admin } = await platformWithoutCatalog();
    await catalogInstance(platform, 'catalog-a');
    await catalogInstance(platform, 'catalog-b');
    const { proxy } = await catalogInstance(platform, 'catalog-slow', { proxied: true });
    proxy!.mode = 'slow';
    proxy!.delayMs = 150;
    await untilCatalog(admin, (catalog) => readyIds(catalog).length === 3);

    const reads = steadyStream(() => admin.catalog.books.list.query({ limit: 1 }), 3);
    await pause(3_000);
    const outcome = await reads.stop();
    const share = proxy!.calls / (outcome.ok + outcome.failures.length);
    expect(outcome.failures).toEqual([]);
    expect(outcome.ok).toBeGreaterThan(100);
    // Spread evenly it would take a third.
    expect(share).toBeLessThan(0.1);
    console.log(
      `[balancing] slow instance (+150 ms): ${proxy!.calls} of ${outcome.ok} reads (${(share * 100).toFixed(1)}%)`,
    );
  });

  test('an instance returning errors is ejected (breaker open), calls go elsewhere, and it is re-admitted after recovery', async () => {
    // Round-robin keeps sending it calls (the latency strategy would shun it after one failure),
    // so its breaker is what takes it out.
    const { platform, admin } = await platformWithoutCatalog({ LB_STRATEGIES: 'catalog=round-robin' });
    await catalogInstance(platform, 'catalog-a');
    await catalogInstance(platform, 'catalog-b');
    const { proxy } = await catalogInstance(platform, 'catalog-sick', { proxied: true });
    await untilCatalog(admin, (catalog) => readyIds(catalog).length === 3);

    proxy!.mode = 'fail';
    const reads = steadyStream(() => admin.catalog.books.list.query({ limit: 1 }), 3);
    const ejected = await untilCatalog(admin, (catalog) =>
      catalog.instances.some((instance) => instance.id === 'catalog-sick' && instance.state === 'ejected'),
    );
    const sick = ejected.instances.find((instance) => instance.id === 'catalog-sick')!;
    expect(sick.breaker).not.toBe('closed');
    expect(sick.ejections).toBeGreaterThanOrEqual(1);

    proxy!.mode = 'pass';
    const callsAtRecovery = proxy!.calls;
    const recovered = await untilCatalog(admin, (catalog) =>
      catalog.instances.some(
        (instance) =>
          instance.id === 'catalog-sick' && instance.state === 'ready' && instance.breaker === 'closed',
      ),
    );
    await pause(500);
    const outcome = await reads.stop();
    expect(outcome.failures).toEqual([]);
    expect(proxy!.calls).toBeGreaterThan(callsAtRecovery);
    console.log(
      `[balancing] failing instance: ejected after ${sick.failures} failures, re-admitted (breaker ${recovered.instances.find((instance) => instance.id === 'catalog-sick')?.breaker}); ${outcome.ok} reads, 0 failed`,
    );
  });
});

describe('strategies and retry safety', () => {
  test('weighted 3:1 sends about 75% of calls to the heavier instance', async () => {
    const { platform, admin } = await platformWithoutCatalog({ LB_STRATEGIES: 'catalog=weighted' });
    await catalogInstance(platform, 'catalog-heavy', { env: { INSTANCE_WEIGHT: '3' } });
    await catalogInstance(platform, 'catalog-light', { env: { INSTANCE_WEIGHT: '1' } });
    const before = await untilCatalog(admin, (catalog) => readyIds(catalog).length === 2);
    expect(before.strategy).toBe('weighted');
    const requestsOf = (catalog: CatalogView, id: string) =>
      catalog.instances.find((instance) => instance.id === id)?.requests ?? 0;

    for (let call = 0; call < 200; call++) await admin.catalog.books.list.query({ limit: 1 });
    const after = await admin.system.topology.query();
    const catalog = after.services.find((service) => service.service === 'catalog')!;
    const heavy = requestsOf(catalog, 'catalog-heavy') - requestsOf(before, 'catalog-heavy');
    const light = requestsOf(catalog, 'catalog-light') - requestsOf(before, 'catalog-light');
    expect(heavy + light).toBeGreaterThanOrEqual(200);
    expect(heavy / (heavy + light)).toBeGreaterThan(0.7);
    expect(heavy / (heavy + light)).toBeLessThan(0.8);
    console.log(
      `[balancing] weighted 3:1: ${heavy} and ${light} calls (${((heavy / (heavy + light)) * 100).toFixed(1)}%)`,
    );
  });

  test('a mutation without an idempotency key is never retried once it reached an instance; a query is', async () => {
    const { platform, admin } = await platformWithoutCatalog({
      LB_STRATEGIES: 'catalog=round-robin',
      // Keep the cutting instance in rotation: this test is about retries, not ejection.
      EJECT_AFTER_FAILURES: '100',
    });
    await catalogInstance(platform, 'catalog-a');
    const { proxy } = await catalogInstance(platform, 'catalog-cut', { proxied: true });
    await untilCatalog(admin, (catalog) => readyIds(catalog).length === 2);
    proxy!.mode = 'drop-after-forward';

    const run = randomUUID().slice(0, 8);
    const results = [];
    for (let sequence = 0; sequence < 6; sequence++) {
      results.push(
        await admin.catalog.books.create
          .mutate({ title: `once ${run} ${sequence}`, author: 'Once', priceCents: 100 })
          .then(
            () => 'ok',
            (error: { data?: { code?: string } }) => error.data?.code ?? 'error',
          ),
      );
    }
    const cut = results.filter((result) => result !== 'ok');
    expect(cut.length).toBeGreaterThanOrEqual(2);
    expect(new Set(cut)).toEqual(new Set(['SERVICE_UNAVAILABLE']));
    // Each create ran exactly once, the ones whose answer was lost included: none was sent twice.
    const rows = await platform.sql<{ title: string; count: number }[]>`
      select title, count(*)::int as count from catalog.books where title like ${`once ${run} %`} group by title`;
    expect(rows).toHaveLength(6);
    expect(rows.every((row) => row.count === 1)).toBe(true);

    // Reads through the same instance are retried on the other one and all succeed.
    const cutBefore = proxy!.calls;
    for (let call = 0; call < 6; call++) await admin.catalog.books.list.query({ limit: 1 });
    expect(proxy!.calls).toBeGreaterThan(cutBefore);
    console.log(
      `[balancing] answers cut after the instance ran the call: ${cut.length} of 6 creates failed (SERVICE_UNAVAILABLE), none repeated; 6 of 6 reads retried to success`,
    );
  });
});

describe('what the gateway knows and passes on', () => {
  test('system.topology lists every instance; system.health warns when instances serve different procedure lists', async () => {
    const { platform, admin } = await platformWithoutCatalog();
    const { instance } = await catalogInstance(platform, 'catalog-new');
    await untilCatalog(admin, (catalog) => readyIds(catalog).length === 1);
    const healthy = await admin.system.health.query();
    expect(healthy.warnings).toEqual([]);

    // An instance of an older build, as it would register during a rollout.
    const registry = redisRegistry({
      url: platform.config.REDIS_URL,
      keyPrefix: platform.config.REDIS_KEY_PREFIX,
    });
    try {
      await registry.register({
        service: 'catalog',
        id: 'catalog-old',
        url: instance.url,
        version: '0.0.9',
        weight: 1,
        startedAt: new Date().toISOString(),
        procedureHash: 'an-older-one',
        state: 'serving',
      });
      const skewed = await untilCatalog(admin, (catalog) => catalog.versionSkew);
      expect(skewed.instances.map((entry) => entry.id).sort()).toEqual(['catalog-new', 'catalog-old']);
      const health = await admin.system.health.query();
      expect(health.warnings).toEqual([
        expect.stringMatching(
          /^catalog: instances serve different procedure lists \(.*0\.0\.9\/an-older-one.*\)/,
        ),
      ]);
      const topology = await admin.system.topology.query();
      expect(topology.services.map((service) => service.service)).toEqual(
        expect.arrayContaining(['auth', 'billing', 'catalog', 'gateway', 'notifications', 'orders', 'users']),
      );
      expect(skewed.instances[0]).toEqual(
        expect.objectContaining({
          state: expect.stringMatching(/^(ready|unready|ejected|draining)$/),
          breaker: 'closed',
          inFlight: expect.any(Number),
          weight: 1,
          version: expect.any(String),
        }),
      );
    } finally {
      await registry.close();
    }
  });

  test('a call whose caller stopped waiting is not started, through the gateway or straight at a service', async () => {
    const { platform, admin } = await platformWithoutCatalog();
    const { instance } = await catalogInstance(platform, 'catalog-a');
    await untilCatalog(admin, (catalog) => readyIds(catalog).length === 1);
    const { accessToken } = await platform.signIn(platform.admin.email, platform.admin.password);
    const title = `abandoned ${randomUUID()}`;
    const body = JSON.stringify({ title, author: 'Nobody', priceCents: 1 });

    const viaGateway = await fetch(`${platform.gatewayUrl}/trpc/catalog.books.create`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        [DEADLINE_HEADER]: '0',
      },
      body,
    });
    expect(viaGateway.status).toBe(408);
    expect(((await viaGateway.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
      'TIMEOUT',
    );

    const me = await admin.auth.me.query();
    const token = await mintInternalToken(platform.keys.internalTokenSecret, {
      audience: 'catalog',
      caller: { peer: 'gateway', relayed: true, user: { id: me.id, roles: ['admin'] }, ip: null },
    });
    const direct = await fetch(`${instance.url}/trpc/catalog.books.create`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        [DEADLINE_HEADER]: '0',
      },
      body,
    });
    expect(direct.status).toBe(408);
    const [row] = await platform.sql<{ count: number }[]>`
      select count(*)::int as count from catalog.books where title = ${title}`;
    expect(row?.count).toBe(0);
  });
});
