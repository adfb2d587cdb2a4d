import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { CHROMIUM, e2eEnvironment, PLATFORM_PORTS } from './environment';

const webDir = fileURLToPath(new URL('../..', import.meta.url));
const repositoryRoot = join(webDir, '../..');
/** The built platform of this repository; `E2E_PLATFORM_ENTRY` points at another build of it. */
const platformEntry =
  process.env.E2E_PLATFORM_ENTRY ?? join(repositoryRoot, 'apps/services/dist/bin/platform.js');
const nextBin = join(webDir, 'node_modules/next/dist/bin/next');

/** The server the tests' databases are made on (trust authentication), as the services' tests use it. */
const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function waitForOk(what: string, url: string, child: ChildProcess, log: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}:\n${tail(log)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${what} was not ready at ${url} within ${timeoutMs / 1000} s:\n${tail(log)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-40).join('\n') : '(no log)';
}

function stopChild(child: ChildProcess | undefined, timeoutMs = 20_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts what the tests run against, for real: the built platform (`apps/services/dist/bin/platform.js`)
 * on a fresh database of the PostgreSQL server and its own key prefix in Redis, then the built console
 * (`next start`). Returns the teardown, which stops both and drops the database and the keys.
 */
export default async function globalSetup() {
  if (!existsSync(CHROMIUM)) {
    console.error(`Chromium is missing at ${CHROMIUM}: install it with apt-get install -y chromium`);
    throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium`);
  }
  for (const [file, what] of [
    [platformEntry, 'the platform'],
    [join(webDir, '.next/BUILD_ID'), 'the console'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${what} is not built (${file}): run node scripts/pnpm.mjs build`);
  }
  const environment = e2eEnvironment();
  const ports = [...Object.values(environment.ports), environment.webPort];
  const taken = (
    await Promise.all(ports.map(async (port) => ((await portIsFree(port)) ? null : port)))
  ).filter((port) => port !== null);
  if (taken.length > 0)
    throw new Error(`Ports ${taken.join(', ')} are taken; run again (E2E_PORT_BASE picks others)`);

  const run = randomBytes(5).toString('hex');
  const databaseName = `bindery_e2e_${run}`;
  const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${databaseName}`);
  const databaseUrl = new URL(postgresUrl);
  databaseUrl.pathname = `/${databaseName}`;
  const redisPrefix = `bindery-e2e:${run}:`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bindery-e2e-'));
  const platformLog = join(dataDir, 'platform.log');
  const consoleLog = join(dataDir, 'console.log');

  let platform: ChildProcess | undefined;
  let web: ChildProcess | undefined;
  const teardown = async () => {
    await stopChild(web);
    await stopChild(platform, 30_000);
    await admin.unsafe(`drop database if exists ${databaseName} with (force)`).catch((error: unknown) => {
      console.error(`could not drop ${databaseName}:`, error);
    });
    await admin.end();
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    platform = spawn(process.execPath, ['--enable-source-maps', platformEntry], {
      cwd: repositoryRoot,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl.toString(),
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: redisPrefix,
        BINDERY_DATA_DIR: dataDir,
        BINDERY_ADMIN_EMAIL: environment.admin.email,
        BINDERY_ADMIN_PASSWORD: environment.admin.password,
        BINDERY_CONSOLE: 'off',
        // The Overview's charts move every second rather than every ten.
        GATEWAY_METRICS_INTERVAL_MS: '1000',
        LOG_LEVEL: 'warn',
        ...Object.fromEntries(
          PLATFORM_PORTS.map((name) => [`${name}_PORT`, String(environment.ports[name])]),
        ),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const platformOut = createWriteStream(platformLog);
    platform.stdout?.pipe(platformOut);
    platform.stderr?.pipe(platformOut);
    await waitForOk('the platform', `${environment.gatewayUrl}/readyz`, platform, platformLog);
    // The gateway answers before every service has: the platform says when all of them do.
    const running = Date.now() + 120_000;
    while (!tail(platformLog).includes('Bindery is running')) {
      if (platform.exitCode !== null || Date.now() > running)
        throw new Error(`the platform did not come up:\n${tail(platformLog)}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }

    web = spawn(
      process.execPath,
      [nextBin, 'start', '--port', String(environment.webPort), '--hostname', '127.0.0.1'],
      {
        cwd: webDir,
        env: {
          ...process.env,
          NODE_ENV: 'production',
          GATEWAY_URL: environment.gatewayUrl,
          AUTH_SECRET: randomBytes(32).toString('base64'),
          AUTH_TRUST_HOST: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const webOut = createWriteStream(consoleLog);
    web.stdout?.pipe(webOut);
    web.stderr?.pipe(webOut);
    await waitForOk('the console', `${environment.webUrl}/healthz`, web, consoleLog);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
