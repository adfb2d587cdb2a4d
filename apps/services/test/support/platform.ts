import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BinderyClient, createBinderyClient } from '@bindery/client';
import { createTestDatabase } from '@bindery/db/testing';
import {
  type Keys,
  loadKeys,
  type RunningService,
  type SpanExporter,
  setLogDestination,
  startTelemetry,
} from '@bindery/runtime';
import { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import postgres from 'postgres';
import { loadServiceConfig, type ServiceConfig } from '../../src/config';
import { SERVICES, type ServiceProcess, WORKERS, type WorkerProcess } from '../../src/processes';
import { seed } from '../../src/seed';

/** Every process a test platform runs with all its workers, as `system.health` lists them (sorted). */
export const EVERY_PROCESS = [
  ...Object.keys(SERVICES),
  ...Object.keys(WORKERS).map((service) => `${service}-worker`),
].sort();

export interface TestPlatform {
  gatewayUrl: string;
  /** The services running in this process (see `options.services`). */
  services: Record<Exclude<ServiceProcess, 'gateway'>, RunningService>;
  /** The queue workers running in this process (see `options.workers`). */
  workers: Partial<Record<WorkerProcess, RunningService>>;
  /** Starts a worker again after a test stopped it. */
  restartWorker(name: WorkerProcess): Promise<RunningService>;
  config: ServiceConfig;
  keys: Keys;
  databaseUrl: string;
  admin: { email: string; password: string };
  /** A client through the gateway, as `token` (anonymous without one). */
  client(token?: string | null): BinderyClient;
  /** Rows in a service's table, read straight from Postgres to prove what a call did or did not change. */
  countRows(table: string): Promise<number>;
  /** Runs SQL against the platform's database, for assertions. */
  sql: postgres.Sql;
  /** Signs in through the gateway and returns a client holding the access token. */
  signIn(email: string, password: string): Promise<{ client: BinderyClient; accessToken: string }>;
  close(): Promise<void>;
}

/**
 * Every service and the gateway on free ports in this process, on a fresh database of the real
 * PostgreSQL and a private key prefix of the real Redis: test files run in parallel and again.
 */
export async function startTestPlatform(
  env: Record<string, string> = {},
  options: {
    /** Which queue workers to run in this process; tests that run workers as processes pass fewer. */
    workers?: WorkerProcess[];
    /** Which services to run in this process (the gateway always runs); tests that run instances as processes pass fewer. */
    services?: Exclude<ServiceProcess, 'gateway'>[];
    /**
     * Starts OpenTelemetry first (`startTelemetry`: once per process, shared by every service here),
     * exporting to `spanExporter`, or over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
     * @defaultValue no tracing, as in a process without an exporter
     */
    telemetry?: { spanExporter?: SpanExporter };
    /** Receives the log lines of every service and worker started here, instead of stdout. */
    logDestination?: DestinationStream;
  } = {},
): Promise<TestPlatform> {
  if (options.telemetry)
    await startTelemetry({ service: 'bindery-test', instance: 'test', ...options.telemetry });
  if (options.logDestination) setLogDestination(options.logDestination);
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bindery-test-'));
  const config = loadServiceConfig({
    DATABASE_URL: database.url,
    BINDERY_DATA_DIR: dataDir,
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `bindery-test:${randomBytes(6).toString('hex')}:`,
    ...Object.fromEntries(
      ['GATEWAY', 'USERS', 'AUTH', 'CATALOG', 'ORDERS', 'BILLING', 'NOTIFICATIONS'].map((name) => [
        `${name}_PORT`,
        '0',
      ]),
    ),
    OUTBOX_POLL_MS: '20',
    // Test files run in parallel against one PostgreSQL (100 connections): keep each platform small.
    DATABASE_POOL_SIZE: '2',
    PAYMENT_SANDBOX_LATENCY_MS: '5',
    // Test platforms stop often: a short goodbye is enough for callers in one process.
    SHUTDOWN_DRAIN_DELAY_MS: '50',
    // CI runs the integration files once more with tRPC's stock adapter (see vitest.config.ts).
    ...(process.env.TRPC_ADAPTER ? { TRPC_ADAPTER: process.env.TRPC_ADAPTER } : {}),
    ...env,
  });
  const keys = await loadKeys({ dataDir, env: {} });
  const admin = { email: 'admin@bindery.test', password: 'correct horse battery staple' };
  const services = {} as TestPlatform['services'];
  const inProcess =
    options.services ??
    (Object.keys(SERVICES).filter((service) => service !== 'gateway') as Exclude<
      ServiceProcess,
      'gateway'
    >[]);
  for (const name of inProcess) {
    services[name] = await SERVICES[name](config, keys);
  }
  const gateway = await SERVICES.gateway(config, keys);
  const workers = {} as TestPlatform['workers'];
  for (const name of options.workers ?? (Object.keys(WORKERS) as WorkerProcess[])) {
    workers[name] = await WORKERS[name](config, keys);
  }
  await seed(config, admin, { sampleBooks: false });

  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const client = (token?: string | null) => createBinderyClient({ url: gateway.url, token: token ?? null });
  return {
    gatewayUrl: gateway.url,
    services,
    workers,
    sql,
    async restartWorker(name) {
      const worker = await WORKERS[name](config, keys);
      workers[name] = worker;
      return worker;
    },
    config,
    keys,
    databaseUrl: database.url,
    admin,
    client,
    async countRows(table) {
      const [row] = await sql<{ count: number }[]>`select count(*)::int as count from ${sql(table)}`;
      return row!.count;
    },
    async signIn(email, password) {
      const { accessToken } = await client().auth.login.mutate({ email, password });
      return { client: client(accessToken), accessToken };
    },
    async close() {
      await gateway.close();
      await Promise.all(Object.values(workers).map((worker) => worker?.close()));
      await Promise.all(Object.values(services).map((service) => service.close()));
      await sql.end();
      await deleteKeys(config.REDIS_URL, config.REDIS_KEY_PREFIX);
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
      if (options.logDestination) setLogDestination(undefined);
    },
  };
}

/** Removes every Redis key a test platform made. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
