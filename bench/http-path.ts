/**
 * The HTTP path of a call, against raw Node baselines measured in the same run (issue 9):
 *
 * - a trivial query through the lean tRPC adapter alone, and through tRPC's stock adapter, against
 *   raw `node:http` returning the same JSON (a bare router, no middleware, as the issue measured the
 *   stock adapter), and the same query in a Bindery service host (internal token, metrics, logging);
 * - `catalog.books.byId` in the real catalog process (internal token check, metrics, logging,
 *   prepared statement) with each adapter, against raw `node:http` + postgres.js selecting by key;
 * - the same read through the gateway against the catalog alone: throughput, and the latency the
 *   gateway adds at a fixed 1,000 req/s (p50/p99); beside it, the same read through a minimal Node
 *   HTTP proxy and through a TCP relay (`relays.ts`): what a hop in front of the catalog costs on
 *   this machine before any of the gateway's own work;
 * - the resident memory (RSS) of every server process under load.
 *
 * Every server is a process of its own. Throughput comes from wrk (Debian's package) when it is on
 * PATH, else from autocannon; the output says which. Each throughput figure is the median of
 * `--rounds` rounds that take every figure in turn, so a change in the machine's load hits all of
 * them alike. Run with `node scripts/pnpm.mjs bench:http-path` (`-- --quick` for a smoke run).
 * See README.md.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { NODE_FLAGS } from '../apps/services/src/processes';
import { startTestPlatform } from '../apps/services/test/support/platform';
import {
  buildBundle,
  buildWorkerBundle,
  type ServiceProcessHandle,
  spawnServiceProcess,
} from '../apps/services/test/support/worker-process';
import { type Caller, mintInternalToken } from '../packages/api/src/index';
import { waitForReadyCatalogs } from './gateway-topology';
import { type OpenLoopResult, runOpenLoop } from './open-loop';
import { type Relay, startRelay } from './relays';

process.env.LOG_LEVEL ??= 'warn';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((argument) => argument !== '--'),
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    rate: { type: 'string', default: '1000' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const seconds = quick ? 1 : Number(values.seconds);
const rounds = quick ? 1 : Number(values.rounds);
const connections = Number(values.connections);
const fixedRate = Number(values.rate);

interface Server {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The bundle of `http-path-servers.ts`, built once per run (see `buildBundle`). */
let serversBundle: { entry: string; remove(): void } | undefined;

async function startServer(mode: string, name: string, env: Record<string, string>): Promise<Server> {
  serversBundle ??= await buildBundle(fileURLToPath(new URL('./http-path-servers.ts', import.meta.url)));
  // With the services' own Node.js flags (heap limits): the memory figures compare like with like.
  const child: ChildProcess = spawn(process.execPath, [...NODE_FLAGS, serversBundle.entry, mode], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { port: number }));
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it listened`)));
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load.

const wrkAvailable = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk prints its version and exits 1.
    return (error as { status?: number }).status === 1;
  }
})();
const loadGenerator = wrkAvailable ? 'wrk' : 'autocannon';

interface Throughput {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Requests answered in the run. */
  requests: number;
  /**
   * CPU time (user + system) each server process spent per request answered, in µs: a figure the
   * machine's other load disturbs far less than throughput, and the cost the ratios come from.
   */
  cpuMicrosPerRequest: Record<string, number>;
}

/** Clock ticks per second of `/proc/<pid>/stat`'s CPU times. */
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) a process has used so far, in µs; 0 once it is gone. */
function cpuMicros(pid: number): number {
  try {
    // The fields after the command name (which may hold spaces) start at the state, field 3.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks;
  } catch {
    return 0;
  }
}

function wrkMs(text: string | undefined): number {
  const match = /([\d.]+)(us|ms|s)/.exec(text ?? '');
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

async function load(
  url: string,
  headers: Record<string, string>,
  durationSeconds: number,
): Promise<Throughput> {
  if (wrkAvailable) {
    const args = ['-t1', `-c${connections}`, `-d${durationSeconds}s`, '--latency'];
    for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', [...args, url]);
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      child.on('error', reject);
      child.on('exit', () => resolve(text));
    });
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
    return {
      requests: Number(/(\d+) requests in/.exec(output)?.[1] ?? 0),
      cpuMicrosPerRequest: {},
      requestsPerSecond: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? 0)),
      p50Ms: wrkMs(/^\s+50%\s+(\S+)/m.exec(output)?.[1]),
      p99Ms: wrkMs(/^\s+99%\s+(\S+)/m.exec(output)?.[1]),
      errors:
        non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0),
    };
  }
  const result = await autocannon({ url, headers, connections, duration: durationSeconds });
  return {
    requests: result.requests.total,
    cpuMicrosPerRequest: {},
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** The bundle of `open-loop.ts`, the fixed-rate load, built once per run. */
let openLoopBundle: { entry: string; remove(): void } | undefined;

/** A fixed-rate open-loop load from a process of its own (see `open-loop.ts`). */
async function fixedRateLatency(
  url: string,
  headers: Record<string, string>,
  requestsPerSecond: number,
  durationSeconds: number,
): Promise<OpenLoopResult> {
  openLoopBundle ??= await buildBundle(fileURLToPath(new URL('./open-loop.ts', import.meta.url)));
  return runOpenLoop(openLoopBundle.entry, NODE_FLAGS, { url, headers, requestsPerSecond, durationSeconds });
}

// ---------------------------------------------------------------------------------------------
// Memory.

const peakRssMb = new Map<string, number>();

/** Samples the resident memory of `servers` until the returned function is called. */
function sampleRss(servers: { name: string; pid: number }[]): () => void {
  const sample = () => {
    for (const server of servers) {
      try {
        const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peakRssMb.set(server.name, Math.max(peakRssMb.get(server.name) ?? 0, Math.round(kb / 1024)));
      } catch {
        // Gone already.
      }
    }
  };
  sample();
  const timer = setInterval(sample, 200);
  return () => {
    clearInterval(timer);
    sample();
  };
}

// ---------------------------------------------------------------------------------------------

interface Figure {
  key: string;
  label: string;
  url: string;
  headers: () => Promise<Record<string, string>>;
  /** The processes that serve it, whose memory counts under this load. */
  servers: { name: string; pid: number }[];
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function measureRounds(figures: Figure[]): Promise<Map<string, Throughput>> {
  const runs = new Map<string, Throughput[]>(figures.map((figure) => [figure.key, []]));
  // Warm-up, not counted: V8 optimizes a server's hot path over its first seconds of load, and a
  // long-running service is measured at its steady rate. A fresh catalog, in 4 s runs back to back:
  // 15.1k, 16.2k, 16.6k, 17.5k req/s, then 17.7k–19.4k; raw http + postgres.js from 19.9k to 22–24k.
  // After 10 s of warm-up the catalog's counted rounds still came out 10–20 % under its later ones.
  for (const figure of figures) await load(figure.url, await figure.headers(), quick ? 1 : 20);
  for (let round = 1; round <= rounds; round++) {
    for (const figure of figures) {
      const stop = sampleRss(figure.servers);
      const cpuBefore = figure.servers.map((server) => cpuMicros(server.pid));
      const result = await load(figure.url, await figure.headers(), seconds);
      figure.servers.forEach((server, index) => {
        result.cpuMicrosPerRequest[server.name] =
          (cpuMicros(server.pid) - cpuBefore[index]!) / Math.max(1, result.requests);
      });
      stop();
      runs.get(figure.key)!.push(result);
      console.error(
        `[bench] round ${round}/${rounds} ${figure.label}: ${result.requestsPerSecond} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${result.errors}`,
      );
    }
  }
  return new Map(
    [...runs].map(([key, results]) => [
      key,
      {
        requestsPerSecond: Math.round(median(results.map((result) => result.requestsPerSecond))),
        p50Ms: median(results.map((result) => result.p50Ms)),
        p99Ms: median(results.map((result) => result.p99Ms)),
        errors: results.reduce((sum, result) => sum + result.errors, 0),
        requests: results.reduce((sum, result) => sum + result.requests, 0),
        cpuMicrosPerRequest: Object.fromEntries(
          Object.keys(results[0]!.cpuMicrosPerRequest).map((name) => [
            name,
            median(results.map((result) => result.cpuMicrosPerRequest[name]!)),
          ]),
        ),
      },
    ]),
  );
}

async function main() {
  console.error(
    `[bench] http-path: ${loadGenerator}, ${connections} connections, ${seconds} s × ${rounds} rounds per figure`,
  );
  const secret = randomBytes(48);
  const bundle = await buildWorkerBundle();
  const platform = await startTestPlatform(
    { DATABASE_POOL_SIZE: '4', HEALTH_CHECK_INTERVAL_MS: '1000' },
    { services: ['users', 'auth'], workers: [] },
  );
  const servers: Server[] = [];
  const services: ServiceProcessHandle[] = [];
  const relays: Relay[] = [];
  try {
    const benchEnv = { BENCH_SECRET: secret.toString('base64'), LOG_LEVEL: 'warn' };
    const raw = await startServer('raw', 'raw node:http', benchEnv);
    const trivialLean = await startServer('trpc-lean', 'trivial, lean adapter', benchEnv);
    const trivialStock = await startServer('trpc-stock', 'trivial, stock adapter', benchEnv);
    const rawDb = await startServer('raw-db', 'raw node:http + postgres.js', {
      ...benchEnv,
      DATABASE_URL: platform.databaseUrl,
      DATABASE_POOL_SIZE: '10',
    });
    const trivialService = await startServer('service-lean', 'trivial, Bindery service host', benchEnv);
    servers.push(raw, trivialLean, trivialStock, trivialService, rawDb);
    // The services' production outbox polling (the test spawner polls every 20 ms, for fast tests).
    const serviceEnv = { LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: '10', OUTBOX_POLL_MS: '100' };
    const catalogLean = await spawnServiceProcess(bundle.entry, 'catalog', platform, {
      ...serviceEnv,
      INSTANCE_ID: 'catalog-lean',
      TRPC_ADAPTER: 'lean',
    });
    services.push(catalogLean);
    const catalogStock = await spawnServiceProcess(bundle.entry, 'catalog', platform, {
      ...serviceEnv,
      INSTANCE_ID: 'catalog-stock',
      TRPC_ADAPTER: 'stock',
    });
    services.push(catalogStock);

    const admin: Caller = {
      peer: 'gateway',
      relayed: true,
      user: { id: '00000000-0000-4000-8000-00000000b001', roles: ['admin'] },
      ip: null,
    };
    // Internal tokens live 30 s: a fresh one for every measurement.
    const internal = (key: Uint8Array) => async () => ({
      authorization: `Bearer ${mintInternalToken(key, { audience: 'catalog', caller: admin })}`,
    });
    const platformToken = internal(platform.keys.internalTokenSecret);
    const benchToken = internal(secret);
    const bookId = await createBook(catalogLean.url, (await platformToken()).authorization);
    const byId = `/trpc/catalog.books.byId?input=${encodeURIComponent(JSON.stringify({ id: bookId }))}`;
    const ping = '/trpc/bench.ping';
    const none = async () => ({});

    const serviceFigures: Figure[] = [
      { key: 'raw', label: raw.name, url: raw.url + ping, headers: none, servers: [raw] },
      {
        key: 'lean',
        label: 'trivial query, lean adapter',
        url: trivialLean.url + ping,
        headers: none,
        servers: [trivialLean],
      },
      {
        key: 'stock',
        label: 'trivial query, stock adapter',
        url: trivialStock.url + ping,
        headers: none,
        servers: [trivialStock],
      },
      {
        key: 'service',
        label: 'trivial query, Bindery service host',
        url: trivialService.url + ping,
        headers: benchToken,
        servers: [trivialService],
      },
      { key: 'rawDb', label: rawDb.name, url: rawDb.url + byId, headers: none, servers: [rawDb] },
      {
        key: 'catalogLean',
        label: 'catalog.books.byId, lean adapter',
        url: catalogLean.url + byId,
        headers: platformToken,
        servers: [{ name: 'catalog (lean)', pid: catalogLean.pid }],
      },
      {
        key: 'catalogStock',
        label: 'catalog.books.byId, stock adapter',
        url: catalogStock.url + byId,
        headers: platformToken,
        servers: [{ name: 'catalog (stock)', pid: catalogStock.pid }],
      },
    ];
    const service = await measureRounds(serviceFigures);

    // The gateway balances over every registered catalog: leave only the lean one.
    await catalogStock.stop();
    const gateway = await spawnServiceProcess(bundle.entry, 'gateway', platform, {
      ...serviceEnv,
      INSTANCE_ID: 'gateway-bench',
    });
    services.push(gateway);
    const { accessToken } = await platform.signIn(platform.admin.email, platform.admin.password);
    const userHeaders = async () => ({ authorization: `Bearer ${accessToken}` });
    await waitForReadyCatalogs(gateway.url, accessToken, 1);
    const httpProxy = await startRelay('http', catalogLean.port, NODE_FLAGS);
    relays.push(httpProxy);
    const tcpRelay = await startRelay('tcp', catalogLean.port, NODE_FLAGS);
    relays.push(tcpRelay);
    // The same read through each relay, with the catalog's own token: what a hop alone costs.
    const throughRelay = (key: string, name: string, relay: Relay): Figure => ({
      key,
      label: `catalog.books.byId through a ${name}`,
      url: relay.url + byId,
      headers: platformToken,
      servers: [
        { name, pid: relay.pid },
        { name: 'catalog (lean)', pid: catalogLean.pid },
      ],
    });
    const gatewayServers = [
      { name: 'gateway', pid: gateway.pid },
      { name: 'catalog (lean)', pid: catalogLean.pid },
    ];
    const gatewayFigures: Figure[] = [
      {
        key: 'direct',
        label: 'catalog.books.byId, catalog alone',
        url: catalogLean.url + byId,
        headers: platformToken,
        servers: [{ name: 'catalog (lean)', pid: catalogLean.pid }],
      },
      {
        key: 'gateway',
        label: 'catalog.books.byId through the gateway',
        url: gateway.url + byId,
        headers: userHeaders,
        servers: gatewayServers,
      },
      throughRelay('httpProxy', 'minimal Node HTTP proxy', httpProxy),
      throughRelay('tcpRelay', 'TCP relay', tcpRelay),
    ];
    const throughGateway = await measureRounds(gatewayFigures);

    const latencySeconds = quick ? 2 : Math.max(5, seconds);
    const latencies = { direct: [] as number[][], gateway: [] as number[][] };
    for (let round = 1; round <= rounds; round++) {
      for (const key of ['direct', 'gateway'] as const) {
        const figure = gatewayFigures.find((candidate) => candidate.key === key)!;
        const stop = sampleRss(figure.servers);
        const result = await fixedRateLatency(figure.url, await figure.headers(), fixedRate, latencySeconds);
        stop();
        latencies[key].push([result.p50Ms, result.p99Ms, result.errors, result.timerLagP99Ms]);
        console.error(
          `[bench] round ${round}/${rounds} ${figure.label} at ${fixedRate} req/s: p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, errors ${result.errors}, load generator's loop delay p99 ${result.timerLagP99Ms.toFixed(2)} ms`,
        );
      }
    }
    const latency = (key: 'direct' | 'gateway', index: 0 | 1) =>
      median(latencies[key].map((run) => run[index]!));
    const latencyRuns = [...latencies.direct, ...latencies.gateway];
    const latencyErrors = latencyRuns.reduce((sum, run) => sum + run[2]!, 0);
    const generatorLagMs = Math.max(...latencyRuns.map((run) => run[3]!));

    printResult({ service, throughGateway, latency, latencyErrors, latencySeconds, generatorLagMs });
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    for (const relay of relays) relay.stop();
    await Promise.all(services.map((handle) => handle.kill()));
    await platform.close();
    bundle.remove();
    serversBundle?.remove();
    openLoopBundle?.remove();
  }
}

function printResult(options: {
  service: Map<string, Throughput>;
  throughGateway: Map<string, Throughput>;
  latency: (key: 'direct' | 'gateway', index: 0 | 1) => number;
  latencyErrors: number;
  latencySeconds: number;
  generatorLagMs: number;
}) {
  const { service, throughGateway, latency } = options;
  const figure = (map: Map<string, Throughput>, key: string) => map.get(key)!;
  const ratio = (value: number, baseline: number) => (value / baseline).toFixed(2);
  const cpu = (value: Throughput) =>
    Object.entries(value.cpuMicrosPerRequest)
      .map(([name, micros]) => `${Math.round(micros)} (${name})`)
      .join(' + ');
  const row = (label: string, value: Throughput, baselineLabel: string, baseline: Throughput, goal: string) =>
    `| ${label} | ${value.requestsPerSecond} | ${baselineLabel} | ${baseline.requestsPerSecond} | **${ratio(value.requestsPerSecond, baseline.requestsPerSecond)}×** | ${goal} | ${cpu(value)} | ${cpu(baseline)} | ${value.p50Ms.toFixed(2)} / ${value.p99Ms.toFixed(2)} | ${value.errors} |`;
  const lines = [
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    '---- result ----',
    `Load from **${loadGenerator}**${wrkAvailable ? '' : ' (wrk not found on PATH)'}, ${connections} connections, ` +
      `median of ${rounds} round(s) of ${seconds} s per figure, every baseline measured in the same run.`,
    '',
    '| figure | req/s | baseline | baseline req/s | ratio | goal | CPU µs per request | baseline CPU µs per request | p50 / p99 ms | errors |',
    '| --- | ---: | --- | ---: | ---: | --- | --- | --- | ---: | ---: |',
    row(
      'trivial query, lean adapter',
      figure(service, 'lean'),
      'raw `node:http`',
      figure(service, 'raw'),
      '≥ 0.6×',
    ),
    row(
      'trivial query, stock adapter',
      figure(service, 'stock'),
      'raw `node:http`',
      figure(service, 'raw'),
      '(issue: 0.13×)',
    ),
    row(
      'trivial query in a service host (token, metrics, logging), lean',
      figure(service, 'service'),
      'raw `node:http`',
      figure(service, 'raw'),
      '—',
    ),
    row(
      '`catalog.books.byId`, lean adapter',
      figure(service, 'catalogLean'),
      'raw http + postgres.js',
      figure(service, 'rawDb'),
      '≥ 0.8×',
    ),
    row(
      '`catalog.books.byId`, stock adapter',
      figure(service, 'catalogStock'),
      'raw http + postgres.js',
      figure(service, 'rawDb'),
      '(issue: 0.34×)',
    ),
    row(
      '`catalog.books.byId` through the gateway',
      figure(throughGateway, 'gateway'),
      'catalog alone',
      figure(throughGateway, 'direct'),
      '≥ 0.7×',
    ),
    row(
      '`catalog.books.byId` through a minimal Node HTTP proxy (no authentication, no parsing)',
      figure(throughGateway, 'httpProxy'),
      'catalog alone',
      figure(throughGateway, 'direct'),
      '—',
    ),
    row(
      '`catalog.books.byId` through a TCP relay (bytes copied, no HTTP)',
      figure(throughGateway, 'tcpRelay'),
      'catalog alone',
      figure(throughGateway, 'direct'),
      '—',
    ),
    '',
    `Gateway ÷ minimal Node HTTP proxy: **${ratio(figure(throughGateway, 'gateway').requestsPerSecond, figure(throughGateway, 'httpProxy').requestsPerSecond)}**. The proxy only reads and writes HTTP, on the same cores as the catalog, PostgreSQL and the load generator: its ratio is what an HTTP hop in front of the catalog costs on this machine before any of the gateway's own work (authentication, splitting, balancing, retries, metrics); the TCP relay's, what the hop's reads and writes alone cost.`,
    '',
    'CPU µs per request: the user and system CPU time each server process used during the run, from `/proc/<pid>/stat`, divided by the requests answered (median of the rounds); the load generator and PostgreSQL are not counted.',
    '',
    `Latency at a fixed ${fixedRate} req/s (open loop, ${options.latencySeconds} s, median of ${rounds} round(s); ${options.latencyErrors} errors):`,
    '',
    '| path | p50 ms | p99 ms |',
    '| --- | ---: | ---: |',
    `| catalog alone | ${latency('direct', 0).toFixed(2)} | ${latency('direct', 1).toFixed(2)} |`,
    `| through the gateway | ${latency('gateway', 0).toFixed(2)} | ${latency('gateway', 1).toFixed(2)} |`,
    `| **added by the gateway** (goal ≤ 0.5 / ≤ 2) | **${(latency('gateway', 0) - latency('direct', 0)).toFixed(2)}** | **${(latency('gateway', 1) - latency('direct', 1)).toFixed(2)}** |`,
    '',
    `The load came from a process of its own over raw keep-alive sockets; its own event loop ran late by up to ${options.generatorLagMs.toFixed(2)} ms at the 99th percentile (the most of any run), which counts in both paths alike.`,
    '',
    'Peak resident memory of each server process under load (goal ≤ 150 MB):',
    '',
    '| process | peak RSS MB |',
    '| --- | ---: |',
    ...[...peakRssMb].map(([name, mb]) => `| ${name} | ${mb} |`),
  ];
  console.log(lines.join('\n'));
}

async function createBook(catalogUrl: string, authorization: string): Promise<string> {
  const response = await fetch(`${catalogUrl}/trpc/catalog.books.create`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Benchmarked', author: 'Bench', priceCents: 100, stock: 1 }),
  });
  const reply = (await response.json()) as { result: { data: { id: string } } };
  return reply.result.data.id;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
