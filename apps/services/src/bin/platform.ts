import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { passwordSchema } from '@bindery/api';
import { type EmbeddedDatabaseServer, serveEmbeddedDatabase } from '@bindery/db';
import { ConfigError, createLogger, loadKeys, parseEnv } from '@bindery/runtime';
import { z } from 'zod';
import { loadServiceConfig } from '../config';
import { startDiscovery } from '../discovery';
import { NODE_FLAGS, SERVICES, WORKERS } from '../processes';
import { seed } from '../seed';

/**
 * `npm start`: the whole platform on one machine. Uses DATABASE_URL or serves an embedded database
 * from `.data/pglite`; REDIS_URL or a private redis-server under `.data/redis`; generates development
 * keys; migrates and seeds; then runs every service and the gateway in processes of their own until
 * Ctrl-C, and stops them cleanly.
 */
const serviceEntry = fileURLToPath(new URL('./service.js', import.meta.url));

const log = (line: string) => console.log(`[bindery] ${line}`);
const quietLog = createLogger({ service: 'platform', instance: 'npm-start' });
const cleanups: (() => Promise<void> | void)[] = [];
const children = new Map<string, ChildProcess>();
let stopping = false;

async function main() {
  const platformEnv = parseEnv({
    BINDERY_ADMIN_EMAIL: z.email('must be an email address').default('admin@bindery.local'),
    BINDERY_ADMIN_PASSWORD: passwordSchema.optional(),
    REDIS_URL: z.string().optional(),
    /** Instances per process: `catalog=3,users=2` (also `npm start -- --replicas catalog=3`). */
    BINDERY_REPLICAS: z.string().default(''),
  });
  const replicas = parseReplicas(replicasArgument() ?? platformEnv.BINDERY_REPLICAS);
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
  const gatewayUrl = `http://${host}:${config.GATEWAY_PORT}`;
  // The platform follows the registry too, to know when every instance has come up.
  const discovery = await startDiscovery(
    loadServiceConfig({ ...env, HEALTH_CHECK_INTERVAL_MS: '0' }),
    quietLog,
  );
  cleanups.push(() => discovery.close());
  const processes: { name: string; process: string; env: NodeJS.ProcessEnv }[] = [];
  for (const service of [...Object.keys(SERVICES), ...Object.keys(WORKERS).map((name) => `${name}-worker`)]) {
    const count = replicas.get(service) ?? 1;
    for (let replica = 1; replica <= count; replica++) {
      const replicaEnv: NodeJS.ProcessEnv = { ...env };
      // The first instance keeps the service's port; the others take free ones and register them.
      if (service.endsWith('-worker')) replicaEnv.WORKER_PORT = '0';
      else if (replica > 1) replicaEnv[`${service.toUpperCase()}_PORT`] = '0';
      processes.push({
        name: count > 1 ? `${service}#${replica}` : service,
        process: service,
        env: replicaEnv,
      });
    }
  }
  for (const { name, process: processName, env: processEnv } of processes) {
    const child = spawn(process.execPath, [...NODE_FLAGS, serviceEntry, processName], {
      env: processEnv,
      // The IPC channel lets a child notice this process is gone, however it ended.
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      // A process group of its own: Ctrl-C in a terminal signals the whole foreground group at
      // once, and the stop order below (gateway, workers, services, then Redis) would be lost.
      detached: true,
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
  const expected = new Map<string, number>();
  for (const { process: processName } of processes)
    expected.set(processName, (expected.get(processName) ?? 0) + 1);
  await Promise.all(
    [...expected].map(([service, count]) =>
      waitFor(`${count} instance(s) of ${service}`, () => discovery.waitFor(service, count, 2_000)),
    ),
  );
  await Promise.all(discovery.instances().map((instance) => waitUntilReady(instance.service, instance.url)));
  const consoleUrl = await startConsole(env, gatewayUrl, host, dataDir);
  // Ctrl-C while the console was starting: the platform is stopping, not running.
  if (stopping) return;

  log('Bindery is running:');
  log(`  gateway        ${gatewayUrl}/trpc   (the API; health at ${gatewayUrl}/readyz)`);
  if (consoleUrl) log(`  console        ${consoleUrl}   (sign in as the admin below)`);
  for (const name of Object.keys(SERVICES).filter((service) => service !== 'gateway')) {
    const urls = discovery.instances(name).map((instance) => instance.url);
    log(`  ${name.padEnd(14)} ${urls.join(', ')}   (internal)`);
  }
  log(`  workers        ${Object.keys(WORKERS).join(', ')}`);
  log(`  discovery      ${config.DISCOVERY}; balancing ${config.LB_STRATEGY}; topology: system.topology`);
  if (seeded.generatedPassword) {
    log(`  admin          ${seeded.adminEmail} / ${seeded.generatedPassword}   (generated now, shown once)`);
  } else {
    log(`  admin          ${seeded.adminEmail}`);
  }
  log('Press Ctrl-C to stop.');
}

/** `--replicas catalog=3,users=2` from the command line, if given. */
function replicasArgument(): string | undefined {
  const index = process.argv.indexOf('--replicas');
  if (index !== -1) return process.argv[index + 1] ?? '';
  return process.argv.find((argument) => argument.startsWith('--replicas='))?.slice('--replicas='.length);
}

/** Reads `catalog=3,users=2`; a process not named runs once. The gateway owns its port: one only. */
function parseReplicas(text: string): Map<string, number> {
  const known = [...Object.keys(SERVICES), ...Object.keys(WORKERS).map((name) => `${name}-worker`)];
  const replicas = new Map<string, number>();
  for (const entry of text.split(',').filter((part) => part.trim())) {
    const [name = '', countText = ''] = entry.split('=').map((part) => part.trim());
    const count = Number(countText);
    if (!known.includes(name) || !Number.isInteger(count) || count < 1 || count > 16) {
      throw new ConfigError(
        `--replicas: "${entry}" must be <process>=<1..16> with a process among ${known.join(', ')}`,
      );
    }
    if (name === 'gateway' && count > 1) {
      throw new ConfigError(
        '--replicas: one gateway per machine (it owns GATEWAY_PORT); put a load balancer in front of several',
      );
    }
    replicas.set(name, count);
  }
  return replicas;
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
      // Out of the terminal's process group: it stops last, once every process that uses it has.
      detached: true,
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

/**
 * The operator console (apps/web), once built: its standalone Next.js server on WEB_PORT (3000),
 * talking to the gateway. Auth.js encrypts sessions with AUTH_SECRET: set it, or a development one
 * is generated once under the data directory; production refuses to start without one.
 * `BINDERY_CONSOLE=off` leaves it out (the console's end-to-end tests run their own).
 */
async function startConsole(
  env: NodeJS.ProcessEnv,
  gatewayUrl: string,
  host: string,
  dataDir: string,
): Promise<string | null> {
  const server = fileURLToPath(new URL('../../../web/.next/standalone/apps/web/server.js', import.meta.url));
  if (env.BINDERY_CONSOLE === 'off') return null;
  if (!existsSync(server)) {
    log('console is not built: node scripts/pnpm.mjs build builds it');
    return null;
  }
  const consoleEnv = parseEnv(
    {
      WEB_PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
      AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
      NODE_ENV: z.string().optional(),
    },
    env,
  );
  let secret = consoleEnv.AUTH_SECRET;
  if (!secret) {
    if (consoleEnv.NODE_ENV === 'production') {
      throw new ConfigError(
        "AUTH_SECRET must be set in production (the console's session key): openssl rand -base64 32",
      );
    }
    const secretFile = join(dataDir, 'console-auth-secret');
    if (!existsSync(secretFile))
      writeFileSync(secretFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    secret = readFileSync(secretFile, 'utf8').trim();
  }
  const url = `http://${host}:${consoleEnv.WEB_PORT}`;
  const child = spawn(process.execPath, [server], {
    env: {
      ...env,
      NODE_ENV: 'production',
      PORT: String(consoleEnv.WEB_PORT),
      HOSTNAME: host,
      GATEWAY_URL: gatewayUrl,
      AUTH_SECRET: secret,
      AUTH_TRUST_HOST: 'true',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.set('console', child);
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  child.on('exit', (code, signal) => {
    children.delete('console');
    if (!stopping) log(`console exited (${signal ?? `code ${code}`}); the API keeps running`);
  });
  await waitFor(`the console at ${url}`, async () => {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`${response.status}`);
  });
  return url;
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
  const named = (match: (process: string) => boolean) =>
    [...children.keys()].filter((name) => match(name.split('#')[0]!));
  await Promise.all(named((name) => name === 'gateway').map(terminate));
  await Promise.all(named((name) => name.endsWith('-worker')).map(terminate));
  await Promise.all([...children.keys()].map(terminate));
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
