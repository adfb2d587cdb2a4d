/**
 * The servers `bench/http-path.ts` measures, each a process of its own: `node <bundle> <mode>`,
 * bundled by the benchmark as the services are bundled (see `buildBundle`), so no loader runs in
 * them. It tells its parent the port it listens on over IPC.
 *
 * - `raw`: raw `node:http` answering the trivial query's JSON;
 * - `raw-db`: raw `node:http` + postgres.js, the by-key read as plainly as Node does it;
 * - `trpc-lean`, `trpc-stock`: a bare tRPC router (no middleware) behind each adapter alone;
 * - `service-lean`: the trivial query in a Bindery service host (internal token, metrics, logging).
 */

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { initTRPC } from '@trpc/server';
import { publicProcedure, router } from '../packages/api/src/index';
import { createLogger, startService, type TrpcAdapterName } from '../packages/runtime/src/index';
import { leanTrpcNodeHandler, stockTrpcNodeHandler } from '../packages/runtime/src/trpc-node-adapter';

/** postgres.js, resolved where the bundle runs: from the services' own dependencies. */
const postgres = createRequire(import.meta.url)('postgres') as (
  url: string,
  options: { max: number },
) => (strings: TemplateStringsArray, ...values: unknown[]) => Promise<Record<string, unknown>[]>;

export const TRIVIAL_REPLY = '{"result":{"data":"pong"}}';

export async function serve(mode: string): Promise<void> {
  let port: number;
  if (mode === 'raw') {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': TRIVIAL_REPLY.length });
      res.end(TRIVIAL_REPLY);
    });
    port = await listen(server);
  } else if (mode === 'raw-db') {
    // The by-key read as plainly as Node does it: parse the input, one select, the same JSON reply.
    const sql = postgres(process.env.DATABASE_URL!, { max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
    const server = createServer((req, res) => {
      const input = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('input') ?? '{}';
      const { id } = JSON.parse(input) as { id: string };
      sql`select * from catalog.books where id = ${id}`.then(
        ([row]) => {
          const book = row && {
            id: row.id,
            title: row.title,
            author: row.author,
            isbn: row.isbn,
            priceCents: row.price_cents,
            stock: row.stock,
            createdAt: (row.created_at as Date).toISOString(),
            updatedAt: (row.updated_at as Date).toISOString(),
          };
          const body = JSON.stringify({ result: { data: book } });
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          });
          res.end(body);
        },
        () => {
          res.writeHead(500).end();
        },
      );
    });
    port = await listen(server);
  } else if (mode.startsWith('trpc-')) {
    // The adapter alone: a bare tRPC router (no middleware), as the stock figure measured it.
    const t = initTRPC.create();
    const bare = t.router({ bench: t.router({ ping: t.procedure.query(() => 'pong') }) });
    const handle = mode === 'trpc-lean' ? leanTrpcNodeHandler : stockTrpcNodeHandler;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0]!.slice('/trpc/'.length);
      void handle({ router: bare, req, res, path, maxBodySize: 1 << 20, createContext: async () => ({}) });
    });
    port = await listen(server);
  } else {
    // A Bindery service host: internal token check, metrics, logging, the platform's middleware.
    const adapter = mode.replace('service-', '') as TrpcAdapterName;
    const running = await startService({
      name: 'catalog',
      log: createLogger({ service: 'bench', instance: mode }),
      router: router({ bench: router({ ping: publicProcedure.query(() => 'pong') }) }),
      internalTokenSecret: Buffer.from(process.env.BENCH_SECRET!, 'base64'),
      trpcAdapter: adapter,
    });
    port = running.port;
  }
  process.send?.({ port });
}

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

if (process.argv[2]) {
  process.env.LOG_LEVEL ??= 'warn';
  serve(process.argv[2]).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
