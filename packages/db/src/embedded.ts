import { createServer, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { openPglite } from './database';

export interface EmbeddedDatabaseServer {
  /** A PostgreSQL URL other processes connect to; pass `sharedSession: true` to `createDb` with it. */
  url: string;
  close(): Promise<void>;
}

const SSL_REQUEST = 80_877_103;
const CANCEL_REQUEST = 80_877_102;

/**
 * Opens the embedded database under `dataDir` and serves it over the PostgreSQL wire protocol, so
 * several processes (replicas, workers) can share data that only one process may own.
 *
 * PGlite has one session. `@electric-sql/pglite-socket` multiplexes connections onto it message by
 * message, which lets one client's Parse/Bind/Execute interleave with another's and clobber the
 * unnamed statement ("bind message supplies 2 parameters, but prepared statement "" requires 0").
 * Here a connection holds the session from its first message to its Sync (or simple Query), and
 * for as long as it has a transaction open, so each client sees the protocol as it expects.
 */
export async function serveEmbeddedDatabase(options: {
  dataDir: string;
  /** @defaultValue 0 (any free port) */
  port?: number;
}): Promise<EmbeddedDatabaseServer> {
  const db = openPglite(options.dataDir);
  await db.waitReady;
  const session = new SessionLock();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    void serveConnection(db, session, socket).finally(() => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await session.idle();
      await db.close();
    },
  };
}

/** Who holds PGlite's one session; the others wait their turn in arrival order. */
class SessionLock {
  private holder: symbol | null = null;
  private readonly waiting: { owner: symbol; grant: () => void }[] = [];

  async acquire(owner: symbol): Promise<void> {
    if (this.holder === owner) return;
    if (this.holder === null) {
      this.holder = owner;
      return;
    }
    await new Promise<void>((grant) => this.waiting.push({ owner, grant }));
  }

  release(owner: symbol): void {
    if (this.holder !== owner) return;
    const next = this.waiting.shift();
    this.holder = next?.owner ?? null;
    next?.grant();
  }

  holds(owner: symbol): boolean {
    return this.holder === owner;
  }

  async idle(): Promise<void> {
    while (this.holder !== null) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function serveConnection(db: PGlite, session: SessionLock, socket: Socket): Promise<void> {
  const owner = Symbol('connection');
  socket.setNoDelay(true);
  let buffer = Buffer.alloc(0);
  let started = false;
  let closed = false;
  let work = Promise.resolve();

  const run = async (messages: Buffer[], releasable: boolean) => {
    await session.acquire(owner);
    try {
      for (const message of messages) {
        if (closed) break;
        await db.execProtocolRawStream(new Uint8Array(message), {
          onRawData: (chunk) => {
            if (!closed) socket.write(Buffer.from(chunk));
          },
        });
      }
    } catch {
      socket.destroy();
    } finally {
      // Keep the session through an open transaction and between a Flush and its Sync.
      if (closed || (releasable && !db.isInTransaction())) session.release(owner);
    }
  };

  let group: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (!started) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        const message = Buffer.from(buffer.subarray(0, length));
        buffer = buffer.subarray(length);
        if (code === SSL_REQUEST) {
          socket.write('N');
          continue;
        }
        if (code === CANCEL_REQUEST) {
          socket.end();
          return;
        }
        started = true;
        work = work.then(() => run([message], true));
        continue;
      }
      if (buffer.length < 5) return;
      const length = buffer.readInt32BE(1) + 1;
      if (buffer.length < length) return;
      const message = Buffer.from(buffer.subarray(0, length));
      buffer = buffer.subarray(length);
      const type = String.fromCharCode(message[0]!);
      if (type === 'X') {
        socket.end();
        return;
      }
      group.push(message);
      // Sync and simple Query end a unit of work; Flush asks for output but keeps the session.
      if (type === 'S' || type === 'Q' || type === 'H') {
        const messages = group;
        group = [];
        work = work.then(() => run(messages, type !== 'H'));
      }
    }
  });

  await new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('error', () => socket.destroy());
  });
  closed = true;
  await work;
  if (session.holds(owner)) {
    if (db.isInTransaction()) await db.exec('rollback').catch(() => {});
    session.release(owner);
  }
}
