import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBinderyClient } from '@bindery/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { settled } from './support/orders';
import { freePort } from './support/worker-process';

/**
 * `npm start` as a newcomer runs it: no DATABASE_URL (embedded PGlite served to every process), no
 * REDIS_URL (a private redis-server), development keys generated, migrations and seed applied, every
 * service in its own process, and a clean stop on Ctrl-C.
 */
const servicesDir = fileURLToPath(new URL('..', import.meta.url));
let runner: ChildProcess;
let output = '';
let dataDir: string;
let gatewayUrl: string;

beforeAll(async () => {
  const build = spawnSync(process.execPath, ['build.mjs'], { cwd: servicesDir, encoding: 'utf8' });
  expect(build.status, build.stderr).toBe(0);
  dataDir = mkdtempSync(join(tmpdir(), 'bindery-start-'));
  const ports = Object.fromEntries(
    await Promise.all(
      ['GATEWAY', 'USERS', 'AUTH', 'CATALOG', 'ORDERS', 'BILLING', 'NOTIFICATIONS'].map(
        async (name) => [`${name}_PORT`, String(await freePort())] as const,
      ),
    ),
  );
  gatewayUrl = `http://127.0.0.1:${ports.GATEWAY_PORT}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BINDERY_DATA_DIR: dataDir,
    ...ports,
    LOG_LEVEL: 'warn',
  };
  runner = spawn(process.execPath, [join(servicesDir, 'dist/bin/platform.js'), '--replicas', 'catalog=2'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runner.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  runner.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 90_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (runner.exitCode !== null || Date.now() > deadline)
      throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 120_000);

afterAll(() => {
  if (runner?.exitCode === null) runner.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

test('the platform serves the API on embedded defaults with two catalog instances, then stops cleanly on Ctrl-C', async () => {
  expect(output).toContain('embedded PostgreSQL (PGlite)');
  expect(output).toContain('private redis-server');
  expect(output).toContain('seeded 6 sample books');
  const password = /admin@bindery\.local \/ (\S+)/.exec(output)?.[1];
  expect(password).toBeTruthy();

  const anonymous = createBinderyClient({ url: gatewayUrl });
  const { accessToken } = await anonymous.auth.login.mutate({
    email: 'admin@bindery.local',
    password: password!,
  });
  const client = createBinderyClient({ url: gatewayUrl, token: accessToken });
  const books = await client.catalog.books.list.query({ limit: 100 });
  expect(books.items.length).toBe(6);
  const created = await client.catalog.books.create.mutate({
    title: 'Started',
    author: 'npm start',
    priceCents: 1,
  });
  // Two services at once, over the one embedded database the runner serves.
  const [read, health] = await Promise.all([
    client.catalog.books.byId.query({ id: created.id }),
    client.system.health.query(),
  ]);
  expect(read).toEqual(created);
  expect(health.status).toBe('ok');
  // `--replicas catalog=2`: two catalog instances, both registered and in the gateway's rotation.
  const topology = await client.system.topology.query();
  const catalog = topology.services.find((service) => service.service === 'catalog');
  expect(topology.registry).toBe('redis');
  expect(catalog?.instances.map((instance) => instance.state)).toEqual(['ready', 'ready']);

  // The saga across the worker processes, on the embedded database: an order reaches CONFIRMED.
  const stocked = await client.catalog.books.adjustStock.mutate({ id: created.id, delta: 3 });
  expect(stocked.stock).toBe(3);
  const order = await client.orders.create.mutate({
    items: [{ bookId: created.id, quantity: 2 }],
    idempotencyKey: 'npm-start-order',
  });
  const confirmed = await settled(client, order.id, 30_000);
  expect(confirmed.status).toBe('CONFIRMED');
  expect((await client.catalog.books.byId.query({ id: created.id })).stock).toBe(1);
  const queues = await client.system.queues.list.query();
  expect(queues.find((queue) => queue.name === 'billing-events')?.completed).toBe(1);

  const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));
  runner.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain('[bindery] stopped');
  await expect(fetch(`${gatewayUrl}/healthz`)).rejects.toThrow();
}, 90_000);
