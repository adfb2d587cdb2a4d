/**
 * An open-loop load at a fixed rate, in a process of its own: requests start on schedule whether or
 * not earlier ones have answered, and each one's latency runs from its scheduled start (so a stall
 * anywhere counts for every request it delays, as wrk2 counts it). wrk cannot hold a rate.
 *
 * It speaks HTTP/1.1 over raw keep-alive sockets: the request is encoded once, and a reply is read
 * by its status line and `content-length`, which every server the benchmarks measure sends. Node's
 * own HTTP client cost several times as much CPU per request, on the same two cores as the servers
 * it measured. A connection is opened whenever no idle one is free, up to 64; past that, requests
 * wait for one (see `MAX_CONNECTIONS`).
 *
 * `node <bundle> '<json options>'` sends its result to the parent over IPC (see `runOpenLoop`).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

export interface OpenLoopOptions {
  url: string;
  headers: Record<string, string>;
  requestsPerSecond: number;
  durationSeconds: number;
}

export interface OpenLoopResult {
  p50Ms: number;
  p99Ms: number;
  /** Replies other than 200, and connections that failed. */
  errors: number;
  sent: number;
  /** How late the generator's own timer ran, at the 99th percentile: its own share of the latency. */
  timerLagP99Ms: number;
}

/** Runs the load from `entry` (this file, bundled) in a child process and resolves with its result. */
export function runOpenLoop(
  entry: string,
  nodeFlags: string[],
  options: OpenLoopOptions,
): Promise<OpenLoopResult> {
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, entry, JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as OpenLoopResult));
    child.once('exit', (code) => reject(new Error(`the open-loop load exited (${code}) without a result`)));
  });
}

/**
 * Connections at most, as many clients' pools hold (the load this replaced used Node's Agent with 64
 * sockets): past it, requests wait for one client-side, their latency still counted from their
 * schedule, instead of every stall opening dozens of connections that a service's bulkhead refuses.
 */
const MAX_CONNECTIONS = 64;

class Connection {
  readonly socket: Socket;
  /** Scheduled start of each request sent and not yet answered (one at a time: no pipelining). */
  private scheduledAt = 0;
  private pending = '';

  constructor(
    port: number,
    host: string,
    private readonly load: Load,
  ) {
    this.socket = connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => this.read(chunk));
    this.socket.on('error', () => this.load.failed(this));
    this.socket.on('close', () => this.load.failed(this));
  }

  send(scheduledAt: number, request: Buffer): void {
    this.scheduledAt = scheduledAt;
    this.socket.write(request);
  }

  private read(chunk: string): void {
    this.pending += chunk;
    const headEnd = this.pending.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const head = this.pending.slice(0, headEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      // Not a reply this client reads (chunked): counted as an error, and the connection dropped.
      this.socket.destroy();
      return;
    }
    const end = headEnd + 4 + Number(length[1]);
    if (this.pending.length < end) return;
    this.pending = this.pending.slice(end);
    const closes = /\r\nconnection: *close/i.test(head);
    this.load.answered(this, this.scheduledAt, head.startsWith('HTTP/1.1 200 '), closes);
    if (closes) this.socket.end();
  }
}

class Load {
  readonly latencies: number[] = [];
  errors = 0;
  private readonly idle: Connection[] = [];
  private readonly busy = new Set<Connection>();
  /** Scheduled starts of requests waiting for a connection, oldest first. */
  private readonly waiting: number[] = [];
  private readonly request: Buffer;
  private readonly target: URL;
  private answeredOrFailed = 0;
  private onDone: (() => void) | undefined;

  constructor(
    options: OpenLoopOptions,
    private readonly total: number,
  ) {
    this.target = new URL(options.url);
    const headers = Object.entries(options.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    this.request = Buffer.from(
      `GET ${this.target.pathname}${this.target.search} HTTP/1.1\r\nhost: ${this.target.host}\r\n${headers}\r\n`,
      'latin1',
    );
  }

  fire(scheduledAt: number): void {
    let connection = this.idle.pop();
    if (!connection) {
      if (this.busy.size >= MAX_CONNECTIONS) {
        // Waits for a connection; its latency still runs from its scheduled start.
        this.waiting.push(scheduledAt);
        return;
      }
      connection = new Connection(Number(this.target.port), this.target.hostname, this);
    }
    this.busy.add(connection);
    connection.send(scheduledAt, this.request);
  }

  /** A connection is free again: it takes the oldest waiting request, or goes idle. */
  private free(connection: Connection): void {
    const waited = this.waiting.shift();
    if (waited === undefined) {
      this.busy.delete(connection);
      this.idle.push(connection);
    } else {
      connection.send(waited, this.request);
    }
  }

  answered(connection: Connection, scheduledAt: number, ok: boolean, closes: boolean): void {
    if (ok) this.latencies.push(performance.now() - scheduledAt);
    else this.errors++;
    if (closes) {
      this.busy.delete(connection);
      const waited = this.waiting.shift();
      if (waited !== undefined) this.fire(waited);
    } else {
      this.free(connection);
    }
    this.settle();
  }

  failed(connection: Connection): void {
    const idleAt = this.idle.indexOf(connection);
    if (idleAt !== -1) this.idle.splice(idleAt, 1);
    if (!this.busy.delete(connection)) return;
    this.errors++;
    const waited = this.waiting.shift();
    if (waited !== undefined) this.fire(waited);
    this.settle();
  }

  finished(): Promise<void> {
    return new Promise((resolve) => {
      this.onDone = resolve;
      if (this.answeredOrFailed === this.total) resolve();
    });
  }

  close(): void {
    for (const connection of [...this.idle, ...this.busy]) connection.socket.destroy();
  }

  private settle(): void {
    this.answeredOrFailed++;
    if (this.answeredOrFailed === this.total) this.onDone?.();
  }
}

async function main(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.round(options.requestsPerSecond * options.durationSeconds);
  const load = new Load(options, total);
  const timerLag = monitorEventLoopDelay({ resolution: 1 });
  timerLag.enable();
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(
      total,
      Math.floor(((performance.now() - started) / 1000) * options.requestsPerSecond),
    );
    while (sent < due) {
      load.fire(started + (sent / options.requestsPerSecond) * 1000);
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await load.finished();
  timerLag.disable();
  load.close();
  const latencies = load.latencies.sort((a, b) => a - b);
  const at = (quantile: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))] ?? Number.NaN;
  return {
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors: load.errors,
    sent,
    timerLagP99Ms: timerLag.percentile(99) / 1e6,
  };
}

// Run as a process of its own (bundled), not when imported for `runOpenLoop`.
const script = process.argv[1];
if (script && import.meta.url === pathToFileURL(script).href) {
  main(JSON.parse(process.argv[2] ?? '{}') as OpenLoopOptions).then(
    (result) => {
      process.send?.(result);
      process.disconnect?.();
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
