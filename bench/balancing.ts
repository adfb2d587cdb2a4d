/**
 * What the gateway's discovery, balancing and resilience cost on a read, and what more instances
 * give: `catalog.books.byId` at concurrency C for D seconds per figure, all in one run:
 *
 * - straight to one catalog instance (with an internal token): the baseline;
 * - through a minimal Node HTTP proxy (keep-alive, no parsing) in front of that instance;
 * - through the gateway with 1 catalog instance;
 * - through the gateway with 3 catalog instances.
 *
 * Every server is a process of its own; the load comes from autocannon in this process. Run with
 * `node scripts/pnpm.mjs bench:balancing -- --seconds 10 --connections 32`. See README.md.
 */

import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startTestPlatform } from '../apps/services/test/support/platform';
import {
  buildWorkerBundle,
  freePort,
  spawnServiceProcess,
} from '../apps/services/test/support/worker-process';
import { mintInternalToken } from '../packages/api/src/index';
import { waitForReadyCatalogs } from './gateway-topology';
import { type Relay, startRelay } from './relays';

process.env.LOG_LEVEL ??= 'warn';

const { values } = parseArgs({
  // `pnpm bench:balancing -- --seconds 10` passes the `--` on.
  args: process.argv.slice(2).filter((argument) => argument !== '--'),
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

interface Figure {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function measure(name: string, url: string, headers: Record<string, string>): Promise<Figure> {
  // A short warm-up, not counted: JIT, connection pools, the balancer's latency averages.
  await autocannon({ url, headers, connections, duration: 1 });
  const result = await autocannon({ url, headers, connections, duration: seconds });
  const figure = {
    name,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
  console.log(
    `  measured ${name}: ${figure.requestsPerSecond} req/s, p50 ${figure.p50Ms} ms, p99 ${figure.p99Ms} ms`,
  );
  return figure;
}

async function main() {
  console.log(`balancing bench: ${seconds} s per figure, ${connections} connections, autocannon`);
  const bundle = await buildWorkerBundle();
  const platform = await startTestPlatform(
    { DATABASE_POOL_SIZE: '10', HEALTH_CHECK_INTERVAL_MS: '1000' },
    { services: ['users', 'auth'], workers: [] },
  );
  const quiet = { LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: '10' };
  const processes: { kill(): Promise<void> }[] = [];
  let proxy: Relay | undefined;
  try {
    const first = await spawnServiceProcess(bundle.entry, 'catalog', platform, {
      ...quiet,
      INSTANCE_ID: 'catalog-1',
    });
    processes.push(first);
    const gatewayPort = await freePort();
    const gateway = await spawnServiceProcess(bundle.entry, 'gateway', platform, {
      ...quiet,
      GATEWAY_PORT: String(gatewayPort),
      INSTANCE_ID: 'gateway-bench',
    });
    processes.push(gateway);
    const { accessToken, client } = await platform.signIn(platform.admin.email, platform.admin.password);
    const book = await createBook(gateway.url, accessToken);
    const path = `/trpc/catalog.books.byId?input=${encodeURIComponent(JSON.stringify({ id: book }))}`;
    const me = await client.auth.me.query();
    const internalHeaders = async () => ({
      authorization: `Bearer ${mintInternalToken(platform.keys.internalTokenSecret, {
        audience: 'catalog',
        caller: { peer: 'gateway', relayed: true, user: { id: me.id, roles: ['admin'] }, ip: null },
      })}`,
    });
    const userHeaders = { authorization: `Bearer ${accessToken}` };
    await waitForReadyCatalogs(gateway.url, accessToken, 1);

    proxy = await startRelay('http', first.port);
    const figures: Figure[] = [];
    // Internal tokens live 30 s: mint one per figure.
    figures.push(await measure('direct to one instance', first.url + path, await internalHeaders()));
    figures.push(await measure('minimal Node proxy → 1 instance', proxy.url + path, await internalHeaders()));
    figures.push(await measure('gateway → 1 instance', gateway.url + path, userHeaders));
    for (const id of ['catalog-2', 'catalog-3'])
      processes.push(
        await spawnServiceProcess(bundle.entry, 'catalog', platform, { ...quiet, INSTANCE_ID: id }),
      );
    await waitForReadyCatalogs(gateway.url, accessToken, 3);
    figures.push(await measure('gateway → 3 instances', gateway.url + path, userHeaders));
    figures.push(await measure('direct to one instance (again)', first.url + path, await internalHeaders()));

    const baseline = (figures[0]!.requestsPerSecond + figures[4]!.requestsPerSecond) / 2;
    console.log('');
    console.log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    );
    console.log('---- result ----');
    console.log(
      `catalog.books.byId, ${connections} connections, ${seconds} s per figure (autocannon), same run; ` +
        `baseline: straight to one instance, mean of the first and last figure (${Math.round(baseline)} req/s).`,
    );
    console.log('');
    console.log('| path | req/s | × direct | p50 ms | p99 ms | errors |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const figure of figures) {
      console.log(
        `| ${figure.name} | ${figure.requestsPerSecond} | ${(figure.requestsPerSecond / baseline).toFixed(2)} | ${figure.p50Ms} | ${figure.p99Ms} | ${figure.errors} |`,
      );
    }
    const viaGateway = figures[2]!;
    const viaProxy = figures[1]!;
    console.log('');
    console.log(
      `gateway ÷ minimal proxy (1 instance): ${(viaGateway.requestsPerSecond / viaProxy.requestsPerSecond).toFixed(2)}; ` +
        `gateway 3 ÷ 1 instances: ${(figures[3]!.requestsPerSecond / viaGateway.requestsPerSecond).toFixed(2)}`,
    );
  } finally {
    proxy?.stop();
    await Promise.all(processes.map((process) => process.kill()));
    await platform.close();
    bundle.remove();
  }
}

async function createBook(gatewayUrl: string, token: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/trpc/catalog.books.create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
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
