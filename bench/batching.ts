/**
 * What tRPC batching through the gateway saves: K reads of `catalog.books.byId` sent as K requests
 * or as one batched request (`?batch=1`, split by namespace and merged by the gateway), and a
 * batch across two services (catalog and auth), all in one run, as calls per second and ratios.
 * Run with `node scripts/pnpm.mjs bench:batching -- --seconds 5 --size 10 --lanes 8`.
 */

import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { startTestPlatform } from '../apps/services/test/support/platform';

process.env.LOG_LEVEL ??= 'warn';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((argument) => argument !== '--'),
  options: {
    seconds: { type: 'string', default: '5' },
    size: { type: 'string', default: '10' },
    lanes: { type: 'string', default: '8' },
  },
});
const seconds = Number(values.seconds);
const size = Number(values.size);
const lanes = Number(values.lanes);

interface Figure {
  name: string;
  callsPerSecond: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Runs `round` (one HTTP exchange answering `callsPerRound` calls) from every lane for `seconds`. */
async function measure(
  name: string,
  callsPerRound: number,
  requestsPerRound: number,
  round: () => Promise<boolean>,
): Promise<Figure> {
  const latencies: number[] = [];
  let errors = 0;
  const run = async (until: number, record: boolean) => {
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (Date.now() < until) {
          const started = performance.now();
          const ok = await round().catch(() => false);
          if (!record) continue;
          latencies.push(performance.now() - started);
          if (!ok) errors++;
        }
      }),
    );
  };
  await run(Date.now() + 1_000, false);
  const started = performance.now();
  await run(Date.now() + seconds * 1000, true);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const figure = {
    name,
    requestsPerSecond: Math.round((latencies.length * requestsPerRound) / elapsed),
    callsPerSecond: Math.round((latencies.length * callsPerRound) / elapsed),
    p50Ms: Math.round(at(0.5) * 100) / 100,
    p99Ms: Math.round(at(0.99) * 100) / 100,
    errors,
  };
  console.log(`  measured ${name}: ${figure.callsPerSecond} calls/s`);
  return figure;
}

async function main() {
  console.log(`batching bench: ${seconds} s per figure, ${lanes} lanes, batches of ${size}`);
  const platform = await startTestPlatform({ DATABASE_POOL_SIZE: '10' }, { workers: [] });
  try {
    const { accessToken, client } = await platform.signIn(platform.admin.email, platform.admin.password);
    const book = await client.catalog.books.create.mutate({
      title: 'Batched',
      author: 'Bench',
      priceCents: 1,
    });
    const headers = { authorization: `Bearer ${accessToken}` };
    const one = `${platform.gatewayUrl}/trpc/catalog.books.byId?input=${encodeURIComponent(JSON.stringify({ id: book.id }))}`;
    const batchOf = (paths: string[], inputs: Record<string, unknown>) =>
      `${platform.gatewayUrl}/trpc/${paths.join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`;
    const sameService = batchOf(
      Array.from({ length: size }, () => 'catalog.books.byId'),
      Object.fromEntries(Array.from({ length: size }, (_, index) => [index, { id: book.id }])),
    );
    const half = Math.floor(size / 2);
    const twoServices = batchOf(
      Array.from({ length: size }, (_, index) => (index < half ? 'catalog.books.byId' : 'auth.me')),
      Object.fromEntries(Array.from({ length: half }, (_, index) => [index, { id: book.id }])),
    );
    const get = async (url: string) => {
      const response = await fetch(url, { headers });
      await response.arrayBuffer();
      return response.ok;
    };

    const figures = [
      await measure(`${size} reads as ${size} requests`, size, size, async () => {
        const results = await Promise.all(Array.from({ length: size }, () => get(one)));
        return results.every(Boolean);
      }),
      await measure(`${size} reads as one batch (one service)`, size, 1, () => get(sameService)),
      await measure(`${size} reads as one batch (catalog + auth)`, size, 1, () => get(twoServices)),
    ];
    const baseline = figures[0]!.callsPerSecond;
    console.log('');
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
    console.log('---- result ----');
    console.log(`catalog.books.byId through the gateway, ${lanes} lanes, ${seconds} s per figure, same run.`);
    console.log('');
    console.log('| how | calls/s | × unbatched | HTTP requests/s | p50 ms | p99 ms | errors |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const figure of figures) {
      console.log(
        `| ${figure.name} | ${figure.callsPerSecond} | ${(figure.callsPerSecond / baseline).toFixed(2)} | ${figure.requestsPerSecond} | ${figure.p50Ms} | ${figure.p99Ms} | ${figure.errors} |`,
      );
    }
  } finally {
    await platform.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
