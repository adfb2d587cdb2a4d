/**
 * `npm run bench`: every benchmark of this folder, one after the other, each in a process of its
 * own, then `bench/RESULTS.md` rewritten from this run alone. Every figure in it stands beside a
 * baseline measured by the same benchmark in the same run; figures of different runs are never put
 * side by side: if any benchmark fails, RESULTS.md is left as it was and the command fails.
 *
 * `npm run bench -- --quick` runs each for a short time (a smoke run; not for the record).
 */

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

interface Bench {
  file: string;
  title: string;
  what: string;
  args: string[];
  quickArgs: string[];
}

const BENCHES: Bench[] = [
  {
    file: 'balancing.ts',
    title: 'Gateway overhead, balancing over instances',
    what: 'catalog.books.byId straight to one instance (baseline), through a minimal Node proxy, through the gateway with 1 and 3 catalog instances',
    args: ['--seconds', '8'],
    quickArgs: ['--seconds', '1'],
  },
  {
    file: 'batching.ts',
    title: 'Batching through the gateway',
    what: 'K reads as K requests (baseline) against one batched request, to one service and across two',
    args: ['--seconds', '5'],
    quickArgs: ['--seconds', '1'],
  },
  {
    file: 'http-path.ts',
    title: 'The HTTP path: adapters and DB-backed reads',
    what: 'the service adapter and a DB-backed read against raw Node http and raw http + postgres.js',
    args: [],
    quickArgs: ['--quick'],
  },
  {
    file: 'orders.ts',
    title: 'Saga throughput',
    what: 'orders to CONFIRMED through the saga against bare BullMQ no-op jobs through the same Redis',
    args: ['--orders', '300', '--concurrency', '20'],
    quickArgs: ['--orders', '20', '--jobs', '500'],
  },
  {
    file: 'instrumentation.ts',
    title: 'Instrumentation cost',
    what: 'gateway reads with tracing and metrics on against off, alternating rounds',
    args: ['--requests', '4000'],
    quickArgs: ['--requests', '300', '--warmup', '50', '--rounds', '1'],
  },
];

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const quick = process.argv.includes('--quick');

function runBench(bench: Bench): Promise<{ output: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npx',
      [
        'tsx',
        '--conditions=bindery-source',
        `${benchDir}${bench.file}`,
        ...(quick ? bench.quickArgs : bench.args),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench/${bench.file} failed (exit ${code})`));
      const marker = output.indexOf('---- result ----');
      if (marker === -1) return reject(new Error(`bench/${bench.file} printed no result section`));
      resolve({
        output: output.slice(marker + '---- result ----'.length).trim(),
        seconds: Math.round((performance.now() - started) / 1000),
      });
    });
  });
}

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main() {
  const runId = randomBytes(4).toString('hex');
  const startedAt = new Date();
  const loadBefore = loadavg()[0]!.toFixed(2);
  const sections: string[] = [];
  for (const bench of BENCHES) {
    if (!existsSync(`${benchDir}${bench.file}`)) continue;
    console.log(`\n[bench] ${bench.file} (${bench.what})`);
    const { output, seconds } = await runBench(bench);
    sections.push(
      [
        `## ${bench.title}`,
        '',
        `\`bench/${bench.file}\` — ${bench.what}. Took ${seconds} s.`,
        '',
        output,
      ].join('\n'),
    );
  }
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain') === '' ? '' : ' (with uncommitted changes)';
  const cpu = cpus();
  const header = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${quick ? ' -- --quick' : ''}\`, run \`${runId}\`, from ${startedAt.toISOString()} to ${new Date().toISOString()}, at commit \`${commit}\`${dirty}.`,
    `Every figure below was measured in this run beside its own baseline, in the same process tree and`,
    'minutes; a ratio is the only figure to compare across machines. Figures from different runs are',
    'never mixed: the whole file is rewritten by each complete run.',
    '',
    `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}; load average ${loadBefore} before, ${loadavg()[0]!.toFixed(2)} after.`,
    ...(quick ? ['', '**A quick smoke run: too short to quote.**'] : []),
    '',
  ].join('\n');
  writeFileSync(`${benchDir}RESULTS.md`, `${header}\n${sections.join('\n\n')}\n`);
  // Aligned as the repository's formatter wants it, so `npm test`'s lint stays green.
  execFileSync('npx', ['biome', 'format', '--write', `${benchDir}RESULTS.md`], { stdio: 'ignore' });
  console.log(`\n[bench] wrote bench/RESULTS.md (run ${runId})`);
}

main().catch((error: unknown) => {
  console.error(
    `[bench] ${error instanceof Error ? error.message : String(error)}; bench/RESULTS.md left as it was`,
  );
  process.exit(1);
});
