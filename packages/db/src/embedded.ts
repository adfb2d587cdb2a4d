import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { openPglite } from './database';

export interface EmbeddedDatabaseServer {
  /** A PostgreSQL URL other processes connect to; pass `sharedSession: true` to `createDb` with it. */
  url: string;
  close(): Promise<void>;
}

/**
 * Opens the embedded database under `dataDir` and serves it over the PostgreSQL wire protocol, so
 * several processes (replicas, workers) can share data that only one process may own. The server
 * runs one query at a time and keeps an open transaction to the connection that began it.
 */
export async function serveEmbeddedDatabase(options: {
  dataDir: string;
  /** @defaultValue 0 (any free port) */
  port?: number;
  /** @defaultValue 200 */
  maxConnections?: number;
}): Promise<EmbeddedDatabaseServer> {
  const db = openPglite(options.dataDir);
  await db.waitReady;
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: options.port ?? 0,
    maxConnections: options.maxConnections ?? 200,
  });
  let port = 0;
  server.addEventListener('listening', (event) => {
    port = (event as CustomEvent<{ port: number }>).detail.port;
  });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
