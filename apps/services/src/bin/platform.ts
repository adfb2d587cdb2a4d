import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { passwordSchema } from '@bindery/api';
import { type EmbeddedDatabaseServer, serveEmbeddedDatabase } from '@bindery/db';
import { ConfigError, loadKeys, parseEnv } from '@bindery/runtime';
import { z } from 'zod';
import { loadServiceConfig } from '../config';
import { SERVICES, WORKERS } from '../processes';
import { seed } from '../seed';

/**
 * `npm start`: the whole platform on one machine. Uses DATABASE_URL or serves an embedded database
 * from `.data/pglite`; REDIS_URL or a private redis-server under `.data/redis`; generates development
 * keys; migrates and seeds; then runs every service and the gateway in processes of their own until
 * Ctrl-C, and stops them cleanly.
 */
const serviceEntry = fileURLToPath(new URL('./service.js', import.meta.url));

const log = (line: string) => console.log(`[bindery] ${line}`);
const cleanups: (() => Promise<void> | void)[] = [];
const children = new Map<string, ChildProcess>();
let stopping = false;

async function main() {
  const platformEnv = parseEnv({
    BINDERY_ADMIN_EMAIL: z.email('must be an email address').default('admin@bindery.local'),
    BINDERY_ADMIN_PASSWORD: passwordSchema.optional(),
    REDIS_URL: z.string().optional(),
  });
  const base = loadServiceConfig();
  const dataDir = base.BINDERY_DATA_DIR;
  mkdirSync(dataDir, { recursive: true });
  claimDataDir(dataDir);

  const env: NodeJS.ProcessEnv = { ...process.env, BINDERY_DATA_DIR: dataDir };
  if (!platformEnv.REDIS_URL) env.REDIS_URL = await startPrivateRedis(dataDir);
  if (!base.DATABASE_URL) {
    const embedded: EmbeddedDatabaseServer = await serveEmbeddedDatabase({
      dataDir: join(dataDir, 'pglite'),
    });
    cleanups.push(() => embedded.close());
    env.DATABASE_URL = embedded.url;
    env.DATABASE_SHARED_SESSION = 'true';
    log(`embedded PostgreSQL (PGlite) from ${join(dataDir, 'pglite')}`);
  }
  const config = loadServiceConfig(env);
  await loadKeys({ dataDir });

  const seeded = await seed(config, {
    email: platformEnv.BINDERY_ADMIN_EMAIL,
    password: platformEnv.BINDERY_ADMIN_PASSWORD,
  });
  if (seeded.booksCreated > 0) log(`seeded ${seeded.booksCreated} sample books`);

  const host = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST;
  const urls: Record<string, string> = {
    ...config.serviceUrls,
    gateway: `http://${host}:${config.GATEWAY_PORT}`,
  };
  const processes: { name: string; env: NodeJS.ProcessEnv }[] = Object.keys(SERVICES).map((name) => ({
    name,
    env,
  }));
  for (const service of Object.keys(WORKERS)) {
    const port = await freePort();
    urls[`${service}-worker`] = `http://${host}:${port}`;
    processes.push({ name: `${service}-worker`, env: { ...env, WORKER_PORT: String(port) } });
  }
  for (const { name, env: processEnv } of processes) {
    const child = spawn(process.execPath, ['--enable-source-maps', serviceEntry, name], {
      env: processEnv,
      // The IPC channel lets a child notice this process is gone, however it ended.
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    });
    children.set(name, child);
    child.on('exit', (code, signal) => {
      children.delete(name);
      if (!stopping) {
        log(`${name} exited (${signal ?? `code ${code}`}); stopping the platform`);
        void stop(1);
      }
    });
  }
  await Promise.all(Object.entries(urls).map(([name, url]) => waitUntilReady(name, url)));

  log('Bindery is running:');
  log(`  gateway        ${urls.gateway}/trpc   (the API; health at ${urls.gateway}/readyz)`);
  for (const name of Object.keys(SERVICES).filter((service) => service !== 'gateway')) {
    log(`  ${name.padEnd(14)} ${urls[name]}   (internal)`);
  }
  log(`  workers        ${Object.keys(WORKERS).join(', ')}`);
  if (seeded.generatedPassword) {
    log(`  admin          ${seeded.adminEmail} / ${seeded.generatedPassword}   (generated now, shown once)`);
  } else {
    log(`  admin          ${seeded.adminEmail}`);
  }
  log('Press Ctrl-C to stop.');
}

/** One platform per data directory: two would corrupt the embedded database. */
function claimDataDir(dataDir: string) {
  const pidFile = join(dataDir, 'platform.pid');
  try {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new ConfigError(`Bindery is already running from ${dataDir} (process ${pid}); stop it first.`);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
  }
  writeFileSync(pidFile, String(process.pid));
  cleanups.push(() => rmSync(pidFile, { force: true }));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startPrivateRedis(dataDir: string): Promise<string> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new ConfigError(
      'Redis is needed: set REDIS_URL, or install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis).',
    );
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (redis.exitCode !== null) return resolve();
        redis.once('exit', () => resolve());
        redis.kill('SIGTERM');
      }),
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(`redis-server on port ${port}`, async () => {
    const { Redis } = await import('ioredis');
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
    } finally {
      client.disconnect();
    }
  });
  log(`private redis-server on ${url} (data in ${dir})`);
  return url;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(name: string, url: string) {
  await waitFor(`${name} at ${url}`, async () => {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`${response.status}`);
  });
}

async function waitFor(what: string, attempt: () => Promise<void>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (stopping) throw new Error('stopping');
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`${what} was not ready within ${timeoutMs / 1000} s: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function stop(exitCode: number) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  // The gateway first, so no new work arrives; then the workers finish their jobs; then the services.
  await terminate('gateway');
  await Promise.all(Object.keys(WORKERS).map((service) => terminate(`${service}-worker`)));
  await Promise.all(Object.keys(SERVICES).map((name) => terminate(name)));
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error(error);
    }
  }
  log('stopped');
  process.exit(exitCode);
}

function terminate(name: string): Promise<void> {
  const child = children.get(name);
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));
main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `[bindery] ${error.message}` : error);
  void stop(1);
});
