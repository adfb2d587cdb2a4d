import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { NODE_FLAGS, type ServiceProcess, type WorkerProcess } from '../../src/processes';
import type { TestPlatform } from './platform';

const servicesDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The process entry bundled as `build.mjs` bundles it, but into a private folder: test files run in
 * parallel, and one that rebuilds `dist` (platform-runner.test.ts) would delete a shared bundle under
 * the workers of another. The folder sits under `node_modules/.cache` so the bundle's npm imports
 * resolve from the services' own dependencies; `remove()` deletes it.
 */
export function buildWorkerBundle(): Promise<{ entry: string; remove(): void }> {
  return buildBundle(join(servicesDir, 'src/bin/service.ts'));
}

/**
 * Any entry (a service process, a benchmark's server) bundled like the services: workspace code in
 * the bundle, npm packages resolved from the services' own dependencies, no names kept. Code run by
 * tsx instead pays for esbuild's `keepNames` on every closure it creates, which a benchmark counts.
 */
export async function buildBundle(entryPoint: string): Promise<{ entry: string; remove(): void }> {
  const cache = join(servicesDir, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const outdir = mkdtempSync(join(cache, 'bindery-worker-'));
  await build({
    entryPoints: [entryPoint],
    outdir: join(outdir, 'bin'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    splitting: true,
    target: 'node20',
    logLevel: 'warning',
    plugins: [
      {
        name: 'external-npm-packages',
        setup(builder) {
          builder.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@bindery/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  // The bundled migrator looks for `../migrations/<service>` beside `bin/`.
  cpSync(join(servicesDir, '../../packages/db/migrations'), join(outdir, 'migrations'), { recursive: true });
  return {
    entry: join(outdir, 'bin', basename(entryPoint).replace(/\.ts$/, '.js')),
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

export interface WorkerProcessHandle {
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when the process has exited, with its exit code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: the process dies mid-job, holding its jobs' locks until they expire. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * A port on 127.0.0.1 that nothing listens on, for a process to be started on. It is drawn from below
 * the kernel's ephemeral range (`ip_local_port_range`), where the local ports of outgoing connections
 * and of `listen(0)` come from: a port from that range can be taken by any connection the tests open
 * between now and the process binding it. Ports handed out before by this process are not handed
 * out again.
 */
export async function freePort(): Promise<number> {
  const floor = 10_000;
  const ephemeralLow = ephemeralPortFloor();
  for (let tries = 0; tries < 50 && ephemeralLow - floor >= 1_000; tries++) {
    const port = floor + Math.floor(Math.random() * (ephemeralLow - floor));
    if (handedOut.has(port)) continue;
    try {
      await listenBriefly(port);
    } catch {
      continue; // Something listens there.
    }
    handedOut.add(port);
    return port;
  }
  // No room below the range: a port from it, as `listen(0)` gives.
  return listenBriefly(0);
}

const handedOut = new Set<number>();

/** The lowest port of the kernel's ephemeral range. */
function ephemeralPortFloor(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (low) return low;
  } catch {
    // Not Linux: its usual range.
  }
  return 32_768;
}

/** Listens on `port` of 127.0.0.1 (0: any free one) and closes again: the port it had, or the listen error. */
function listenBriefly(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .once('error', reject)
      .listen(port, '127.0.0.1', () => {
        const bound = (server.address() as { port: number }).port;
        server.close(() => resolve(bound));
      });
  });
}

/**
 * Starts `node <entry> <service>-worker` as an OS process on the platform's database, Redis prefix,
 * keys and registry, and resolves once its `/readyz` answers 200 (its queue workers exist by then).
 */
export function spawnWorkerProcess(
  entry: string,
  service: WorkerProcess,
  platform: TestPlatform,
  env: Record<string, string> = {},
  readyTimeoutMs = 30_000,
): Promise<WorkerProcessHandle> {
  return spawnServiceProcess(entry, `${service}-worker`, platform, env, readyTimeoutMs);
}

export interface ServiceProcessHandle extends WorkerProcessHandle {
  port: number;
  /** Where it listens (it registers this URL, or ADVERTISE_URL when `env` sets one). */
  url: string;
}

/**
 * Starts `node <entry> <name>` (a service, or `<service>-worker`) as an OS process on the platform's
 * database, Redis prefix, keys and registry, on a free port unless `env` names one, and resolves once
 * its `/readyz` answers 200; it has registered itself by then.
 */
export async function spawnServiceProcess(
  entry: string,
  name: ServiceProcess | `${WorkerProcess}-worker`,
  platform: TestPlatform,
  env: Record<string, string> = {},
  readyTimeoutMs = 30_000,
): Promise<ServiceProcessHandle> {
  const portVariable = name.endsWith('-worker') ? 'WORKER_PORT' : `${name.toUpperCase()}_PORT`;
  const { config } = platform;
  const port = env[portVariable] ? Number(env[portVariable]) : await freePort();
  const child: ChildProcess = spawn(process.execPath, [...NODE_FLAGS, entry, name], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: platform.databaseUrl,
      REDIS_URL: config.REDIS_URL,
      REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
      BINDERY_DATA_DIR: config.BINDERY_DATA_DIR,
      ORDER_TIMEOUT_MS: String(config.ORDER_TIMEOUT_MS),
      OUTBOX_POLL_MS: '20',
      SHUTDOWN_DRAIN_DELAY_MS: '50',
      LOG_LEVEL: 'warn',
      [portVariable]: String(port),
      HEALTH_CHECK_INTERVAL_MS: String(config.HEALTH_CHECK_INTERVAL_MS),
      // As small as the platform's own pools: test files share PostgreSQL's 100 connections.
      DATABASE_POOL_SIZE: String(config.DATABASE_POOL_SIZE),
      // The adapter the platform's own services use (the stock-trpc-adapter test project sets it).
      TRPC_ADAPTER: config.TRPC_ADAPTER,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (!running()) throw new Error(`${name} exited before it was ready:\n${output}`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within ${readyTimeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    output: () => output,
    exited,
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
