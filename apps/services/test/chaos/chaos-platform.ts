import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@bindery/db/testing';
import { loadKeys } from '@bindery/runtime';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { loadServiceConfig } from '../../src/config';
import { SERVICES, type ServiceProcess, WORKERS, type WorkerProcess } from '../../src/processes';
import { seed } from '../../src/seed';
import { buildWorkerBundle, freePort } from '../support/worker-process';

/**
 * The whole platform as real processes for fault injection: every service, the gateway and every
 * service's queue worker, each `node <bundle>/bin/service.js <name>`, on a database of its own and a
 * private `redis-server` (AOF persistence on) on a free port. Every process it starts is killed when
 * `close()` runs or, failing that, when the test process exits.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every pid started here, so that an exit hook can kill what a failed test left behind. */
const started = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(1);
    });
  }
}

/** Polls `attempt` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${lastError ? ` (${String(lastError)})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** What `GET <url>/readyz` says (its checks), for messages. */
export async function readyzBody(url: string): Promise<string> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return `${response.status} ${await response.text()}`;
  } catch (error) {
    return String(error);
  }
}

/** The status of `GET <url>/readyz`, or 0 when nothing answers within 5 s. */
export async function readyzStatus(url: string): Promise<number> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** One OS process of the platform (or the private Redis), which the test can kill, pause and start again. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private log = '';
  private exitedPromise: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly url: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    /** Resolves once the process serves; throws if it does not in time. */
    private readonly ready: (process: ManagedProcess) => Promise<void>,
  ) {}

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How it ended: `exited (<code or signal>)`, or `running`. */
  get exitStatus(): string {
    if (!this.child) return 'never started';
    return this.running ? 'running' : `exited (${this.child.exitCode ?? this.child.signalCode})`;
  }

  /** The last 20,000 characters the process wrote. */
  output(): string {
    return this.log;
  }

  async start(): Promise<void> {
    installExitHook();
    const child = spawn(this.command, this.args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    started.add(child.pid!);
    const append = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exitedPromise = new Promise((resolve) =>
      child.once('exit', () => {
        started.delete(child.pid!);
        resolve();
      }),
    );
    try {
      await Promise.race([
        this.ready(this),
        this.exitedPromise.then(() => {
          throw new Error(`exited (${child.exitCode ?? child.signalCode})`);
        }),
      ]);
    } catch (error) {
      throw new Error(`${this.name} did not start: ${String(error)}\n${this.log.slice(-3_000)}`);
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child!.kill(signal);
  }

  /** Sends `signal` and waits for the process to exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGCONT');
    this.child!.kill(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exitedPromise;
    clearTimeout(timer);
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }
}

export interface ChaosPlatform {
  gatewayUrl: string;
  /** Every process by name: the services, `gateway`, `<service>-worker`, and `redis`. */
  processes: Map<string, ManagedProcess>;
  redis: ManagedProcess;
  redisUrl: string;
  redisKeyPrefix: string;
  databaseName: string;
  /** The platform's database, for assertions (two connections). */
  sql: postgres.Sql;
  /** A connection to the server's maintenance database, to act on the platform's from outside. */
  serverSql: postgres.Sql;
  admin: { email: string; password: string };
  close(): Promise<void>;
}

export interface ChaosPlatformOptions {
  /** How long an order may stay PENDING before it is failed and compensated. */
  orderTimeoutMs: number;
}

/** Starts redis-server, the services, the gateway and the workers as processes; resolves when all are ready. */
export async function startChaosPlatform(options: ChaosPlatformOptions): Promise<ChaosPlatform> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const processes = new Map<string, ManagedProcess>();
  const close = async () => {
    for (const managed of [...processes.values()].reverse()) await managed.stop('SIGKILL').catch(() => {});
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(error);
      }
    }
  };
  try {
    const bundle = await buildWorkerBundle();
    cleanups.push(() => bundle.remove());
    const dataDir = mkdtempSync(join(tmpdir(), 'bindery-chaos-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));

    const redisDir = join(dataDir, 'redis');
    mkdirSync(redisDir, { recursive: true });
    const redisPort = await freePort();
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    const redis = new ManagedProcess(
      'redis',
      redisUrl,
      'redis-server',
      [
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
        '--dir',
        redisDir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
      ],
      { PATH: process.env.PATH },
      async () => {
        await waitFor('redis PING', () => pingRedis(redisUrl), 15_000);
      },
    );
    await redis.start();
    processes.set('redis', redis);

    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const databaseName = new URL(database.url).pathname.slice(1);
    const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const serverSql = postgres(serverUrl, { max: 1, onnotice: () => {}, idle_timeout: 5 });
    cleanups.push(() => serverSql.end({ timeout: 5 }));

    const ports: Record<string, number> = {};
    for (const name of Object.keys(SERVICES)) ports[name] = await freePort();
    const urlOf = (name: string) => `http://127.0.0.1:${ports[name]}`;
    const redisKeyPrefix = 'chaos:';
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      // PostgreSQL allows 100 connections, shared with the test files running beside this one.
      DATABASE_POOL_SIZE: '2',
      PGIDLE_TIMEOUT: '5',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: redisKeyPrefix,
      BINDERY_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      // Discovery through the registry in the same redis-server the scenarios restart.
      DISCOVERY: 'redis',
      SHUTDOWN_DRAIN_DELAY_MS: '300',
      ORDER_TIMEOUT_MS: String(options.orderTimeoutMs),
      OUTBOX_POLL_MS: '50',
      PAYMENT_SANDBOX_LATENCY_MS: '5',
      GATEWAY_METRICS_INTERVAL_MS: '60000',
      ...Object.fromEntries(
        Object.keys(SERVICES).flatMap((name) => [[`${name.toUpperCase()}_PORT`, String(ports[name])]]),
      ),
    };

    // Keys first (every process reads the same files), then the first admin, as `npm start` does.
    await loadKeys({ dataDir, env: {} });
    const admin = { email: 'admin@bindery.chaos', password: 'correct horse battery staple' };
    await seed(loadServiceConfig(env), admin, { sampleBooks: false });

    const entry = bundle.entry;
    const managed = (name: string, url: string, extraEnv: NodeJS.ProcessEnv = {}) =>
      new ManagedProcess(name, url, process.execPath, [entry, name], { ...env, ...extraEnv }, (self) =>
        waitFor(
          `${name} /readyz`,
          async () => {
            if (!self.running) throw new Error('exited');
            return (await readyzStatus(url)) === 200 ? true : undefined;
          },
          60_000,
        ).then(() => {}),
      );
    const services = (Object.keys(SERVICES) as ServiceProcess[]).filter((name) => name !== 'gateway');
    for (const name of services) processes.set(name, managed(name, urlOf(name)));
    await Promise.all(services.map((name) => processes.get(name)!.start()));
    const gateway = managed('gateway', urlOf('gateway'));
    processes.set('gateway', gateway);
    await gateway.start();
    const workers = Object.keys(WORKERS) as WorkerProcess[];
    for (const name of workers) {
      const port = await freePort();
      processes.set(
        `${name}-worker`,
        managed(`${name}-worker`, `http://127.0.0.1:${port}`, { WORKER_PORT: String(port) }),
      );
    }
    await Promise.all(workers.map((name) => processes.get(`${name}-worker`)!.start()));

    const sql = postgres(database.url, { max: 2, onnotice: () => {}, idle_timeout: 5 });
    cleanups.push(() => sql.end({ timeout: 5 }));
    return {
      gatewayUrl: urlOf('gateway'),
      processes,
      redis,
      redisUrl,
      redisKeyPrefix,
      databaseName,
      sql,
      serverSql,
      admin,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function pingRedis(url: string): Promise<true | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? true : undefined;
  } finally {
    client.disconnect();
  }
}
