/**
 * What tracing and metrics cost on a gateway read: `catalog.books.byId` through the typed client,
 * N reads at concurrency C, with instrumentation off and on in alternating rounds of one run,
 * printed as a ratio. See README.md beside this file; run with
 * `node scripts/pnpm.mjs bench:instrumentation -- --requests 5000 --concurrency 16`.
 *
 * Each round is a child process of its own (OpenTelemetry, once started, stays in its process):
 * `off` is a platform exactly as it runs without `OTEL_EXPORTER_OTLP_ENDPOINT` and nobody scraping;
 * `on` starts the SDK exporting over OTLP/HTTP to a sink in this process, scrapes `/metrics` every
 * `--scrape-ms` and lets the gateway aggregate every instance's metrics at its default interval.
 */

import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startTestPlatform } from '../apps/services/test/support/platform';
import { startTelemetry } from '../packages/runtime/src/index';

type Mode = 'off' | 'on';

export interface InstrumentationBenchOptions {
  /**
   * Reads measured per round.
   * @defaultValue 5000
   */
  requests: number;
  /**
   * Reads in flight at once, each lane with a client of its own (so no two reads share a batch).
   * @defaultValue 16
   */
  concurrency: number;
  /**
   * Reads per round before measuring, not counted.
   * @defaultValue 500
   */
  warmup: number;
  /**
   * Pairs of rounds, `off` then `on`.
   * @defaultValue 2
   */
  rounds: number;
  /**
   * How often an `on` round scrapes `/metrics`, as Prometheus would (its default is 15 s).
   * @defaultValue 1000
   */
  scrapeMs: number;
}

/** One round's numbers, as its child process reports them. */
export interface RoundResult {
  mode: Mode;
  readsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  errors: number;
  /** Reads made in the round, the warm-up included. */
  reads: number;
  /** Spans the OTLP sink received during the round (0 when off). */
  spansExported: number;
}

export interface InstrumentationBenchResult {
  options: InstrumentationBenchOptions;
  rounds: RoundResult[];
  /** Mean reads/s of the `on` rounds ÷ that of the `off` rounds: 1 means free, 0.9 a 10 % cost. */
  throughputRatio: number;
  /** Mean p50 of the `on` rounds ÷ that of the `off` rounds. */
  p50Ratio: number;
}

const DEFAULTS: InstrumentationBenchOptions = {
  requests: 5000,
  concurrency: 16,
  warmup: 500,
  rounds: 2,
  scrapeMs: 1000,
};

function percentile(values: readonly number[], percent: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)]!;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Runs the rounds, each in a child process, and compares them. */
export async function runInstrumentationBench(
  options: Partial<InstrumentationBenchOptions> = {},
  progress: (line: string) => void = () => {},
): Promise<InstrumentationBenchResult> {
  const settings = { ...DEFAULTS, ...options };
  const sink = await startOtlpSink();
  try {
    const rounds: RoundResult[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      for (const mode of ['off', 'on'] as const) {
        progress(`round ${round}/${settings.rounds}, instrumentation ${mode}`);
        const spansBefore = sink.spans;
        const result = await runRoundProcess(mode, settings, sink.url);
        rounds.push({ ...result, spansExported: sink.spans - spansBefore });
      }
    }
    const of = (mode: Mode) => rounds.filter((round) => round.mode === mode);
    return {
      options: settings,
      rounds,
      throughputRatio:
        mean(of('on').map((round) => round.readsPerSecond)) /
        mean(of('off').map((round) => round.readsPerSecond)),
      p50Ratio:
        mean(of('on').map((round) => round.latencyMs.p50)) /
        mean(of('off').map((round) => round.latencyMs.p50)),
    };
  } finally {
    await sink.close();
  }
}

/** Starts this file again as a round (`--round off|on`) and reads the JSON line it prints. */
function runRoundProcess(
  mode: Mode,
  settings: InstrumentationBenchOptions,
  sinkUrl: string,
): Promise<RoundResult> {
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    '--round',
    mode,
    ...Object.entries(settings).flatMap(([name, value]) => [`--${kebab(name)}`, String(value)]),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (mode === 'on') env.OTEL_EXPORTER_OTLP_ENDPOINT = sinkUrl;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`the ${mode} round exited with ${code}: ${stdout}`));
      } else {
        resolve({ ...(JSON.parse(last) as Omit<RoundResult, 'spansExported'>), spansExported: 0 });
      }
    });
  });
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/**
 * A stand-in for an OpenTelemetry collector: accepts OTLP/HTTP JSON exports and counts their spans,
 * so the exporter does all its real work (batching, serialising, sending) and nothing fails.
 */
async function startOtlpSink(): Promise<{ url: string; readonly spans: number; close(): Promise<void> }> {
  let spans = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
        };
        for (const resource of body.resourceSpans ?? [])
          for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
      } catch {
        // A protobuf export (OTEL_EXPORTER_OTLP_PROTOCOL) is accepted without counting.
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get spans() {
      return spans;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One round, in this process: a platform, one book, the warm-up, then the measured reads. */
async function runRound(
  mode: Mode,
  settings: InstrumentationBenchOptions,
): Promise<Omit<RoundResult, 'spansExported'>> {
  const platform = await startTestPlatform(
    {
      PAYMENT_SANDBOX_LATENCY_MS: '0',
      // The test platform's pools are small so that test files can share PostgreSQL; not here.
      DATABASE_POOL_SIZE: '5',
      // The gateway's own scrape of every instance for `system.metrics`: its default when on.
      GATEWAY_METRICS_INTERVAL_MS: mode === 'on' ? '10000' : '300000',
    },
    // Reads need no queue workers; their polling would only add noise to both modes.
    { workers: [], ...(mode === 'on' ? { telemetry: {} } : {}) },
  );
  let scraping: NodeJS.Timeout | undefined;
  try {
    const { accessToken } = await platform.client().auth.login.mutate(platform.admin);
    const book = await platform
      .client(accessToken)
      .catalog.books.create.mutate({ title: 'Bench', author: 'Bench', priceCents: 100, stock: 1 });
    if (mode === 'on') {
      // The platform's services share this process and so one registry: one scrape reads them all.
      scraping = setInterval(() => {
        fetch(`${platform.gatewayUrl}/metrics`).then(
          (response) => response.text(),
          () => '',
        );
      }, settings.scrapeMs);
    }
    const lanes = Array.from({ length: settings.concurrency }, () => platform.client(accessToken));
    const read = async (count: number, latencies?: number[]) => {
      let next = 0;
      let errors = 0;
      await Promise.all(
        lanes.map(async (client) => {
          while (next < count) {
            next++;
            const startedAt = performance.now();
            try {
              await client.catalog.books.byId.query({ id: book.id });
              latencies?.push(performance.now() - startedAt);
            } catch {
              errors++;
            }
          }
        }),
      );
      return errors;
    };
    await read(settings.warmup);
    const latencies: number[] = [];
    const startedAt = performance.now();
    const errors = await read(settings.requests, latencies);
    const elapsedMs = performance.now() - startedAt;
    return {
      mode,
      readsPerSecond: latencies.length / (elapsedMs / 1000),
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      errors,
      reads: settings.warmup + settings.requests,
    };
  } finally {
    clearInterval(scraping);
    await platform.close();
    // Exports what the batch processor still holds, so the sink counts the round's spans.
    if (mode === 'on') await (await startTelemetry({ service: 'bindery-test', instance: 'test' })).shutdown();
  }
}

/** The rounds and the ratios as a table. */
export function formatInstrumentationBench(result: InstrumentationBenchResult): string {
  const { requests, concurrency, warmup, scrapeMs } = result.options;
  const header = ['round', 'mode', 'reads/s', 'p50 ms', 'p99 ms', 'spans/read', 'errors'];
  const rows = result.rounds.map((round, index) => [
    String(Math.floor(index / 2) + 1),
    round.mode,
    round.readsPerSecond.toFixed(0),
    round.latencyMs.p50.toFixed(2),
    round.latencyMs.p99.toFixed(2),
    round.mode === 'on' ? (round.spansExported / round.reads).toFixed(1) : '-',
    String(round.errors),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    `  ${cells.map((cell, column) => cell.padStart(widths[column]!)).join('  ')}`;
  return [
    `catalog.books.byId through the gateway: ${requests} reads at concurrency ${concurrency} per round ` +
      `(after ${warmup} not counted); on = OTLP tracing + /metrics scraped every ${scrapeMs} ms`,
    line(header),
    ...rows.map(line),
    `  reads/s on ÷ off  ${result.throughputRatio.toFixed(3)}   (instrumentation cost ${((1 - result.throughputRatio) * 100).toFixed(1)} % of throughput)`,
    `  p50 on ÷ off      ${result.p50Ratio.toFixed(3)}`,
    ...(result.rounds.some((round) => round.errors > 0)
      ? ['warning: some reads failed; these numbers are not comparable with a clean run']
      : []),
  ].join('\n');
}

const USAGE =
  'usage: npx tsx --conditions=bindery-source bench/instrumentation.ts [--requests N] [--concurrency C] ' +
  '[--warmup W] [--rounds R] [--scrape-ms MS]';

function parseCli(args: string[]): { round?: Mode; options: Partial<InstrumentationBenchOptions> } {
  const { values } = parseArgs({
    args: args[0] === '--' ? args.slice(1) : args,
    options: {
      round: { type: 'string' },
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      'scrape-ms': { type: 'string' },
    },
  });
  const count = (name: string, value: string | undefined, min = 1) => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min)
      throw new Error(`--${name}: must be a whole number ≥ ${min}`);
    return parsed;
  };
  if (values.round !== undefined && values.round !== 'on' && values.round !== 'off') {
    throw new Error('--round: on or off');
  }
  const chosen = {
    requests: count('requests', values.requests),
    concurrency: count('concurrency', values.concurrency),
    warmup: count('warmup', values.warmup, 0),
    rounds: count('rounds', values.rounds),
    scrapeMs: count('scrape-ms', values['scrape-ms'], 10),
  };
  return {
    ...(values.round ? { round: values.round as Mode } : {}),
    options: Object.fromEntries(Object.entries(chosen).filter(([, value]) => value !== undefined)),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  if (cli.round) {
    const result = await runRound(cli.round, { ...DEFAULTS, ...cli.options });
    console.log(JSON.stringify(result));
  } else {
    const result = await runInstrumentationBench(cli.options, (line) => console.error(`[bench] ${line}`));
    console.log(formatInstrumentationBench(result));
    console.log(['---- result ----', '```', formatInstrumentationBench(result), '```'].join('\n'));
  }
}
