import { connect, type Socket } from 'node:net';
import type { CallAbort, CallAbortListener } from '@bindery/runtime';

/** A whole reply, its body read into memory. Header names are lower case; repeated ones are joined with `, `. */
export interface BufferedReply {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** One request to an instance. */
export interface UpstreamCall {
  method: 'GET' | 'POST';
  /** The request target: path and query, as sent. */
  path: string;
  headers: Readonly<Record<string, string>>;
  body?: string | Buffer | undefined;
}

/**
 * A connection that failed or a reply that could not be read. `code` is `ECONNRESET` when the
 * connection closed before the whole reply came, `HPE_INVALID_RESPONSE` when the reply is not
 * HTTP/1.1, and `CONNECT_TIMEOUT` when no connection was made in time (the request was never sent).
 * A refused connection rejects with Node's own error (`ECONNREFUSED`).
 */
export class UpstreamConnectionError extends Error {
  override name = 'UpstreamConnectionError';
  constructor(
    message: string,
    readonly code: 'ECONNRESET' | 'HPE_INVALID_RESPONSE' | 'CONNECT_TIMEOUT',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface UpstreamConnectionsOptions {
  /**
   * How long an idle connection is kept for the next request; a shorter `Keep-Alive: timeout` from
   * the instance wins, less a second so that it never closes a connection the gateway is reusing.
   * @defaultValue 30_000
   */
  keepAliveMs?: number;
  /** @defaultValue 10_000, as undici's */
  connectTimeoutMs?: number;
}

/** A reply head larger than this is refused: Node's own server limit for request heads. */
const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line, or a trailer line, longer than this is refused. */
const MAX_LINE_BYTES = 1024;

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |\r|$)/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value may hold no control character but tab (RFC 9110 §5.5), and only Latin-1. */
const UNSAFE_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** A request target may hold no space, no control character, and only Latin-1. */
const UNSAFE_TARGET = /[^\x21-\x7e\x80-\xff]/;
const CHUNK_SIZE = /^[0-9a-fA-F]{1,15}(?=[ \t;]|$)/;

/**
 * HTTP/1.1 connections to service instances, kept alive between requests: one request at a time on
 * a connection, and a connection per request in flight. It reads every reply whole, which is all the
 * gateway does with one, and builds nothing per request but the request's text and the reply: no
 * handler objects, header validation passes or streams, which made undici's `Agent` the largest
 * single cost of a forwarded call. It speaks plain `http:` only, as the instances serve.
 */
export class UpstreamConnections {
  readonly #origins = new Map<string, OriginConnections>();
  readonly #keepAliveMs: number;
  readonly #connectTimeoutMs: number;
  #closed = false;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: UpstreamConnectionsOptions = {}) {
    this.#keepAliveMs = options.keepAliveMs ?? 30_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  /**
   * Sends `call` to `origin` (`http://host:port`) and resolves with the whole reply, or rejects with
   * the connection's error or the abort's reason.
   */
  request(origin: string, call: UpstreamCall, abort: CallAbort): Promise<BufferedReply> {
    return new Promise((resolve, reject) => {
      if (this.#closed) throw new Error('The upstream connections are closed');
      if (abort.aborted) throw abortError(abort.reason);
      let connections = this.#origins.get(origin);
      if (!connections) {
        connections = new OriginConnections(origin, this.#keepAliveMs, this.#connectTimeoutMs);
        this.#origins.set(origin, connections);
        this.#sweeper ??= setInterval(() => this.#sweep(), 1_000).unref();
      }
      const message = encodeRequest(connections.host, call);
      const connection = connections.take(Date.now()) ?? connections.open();
      connection.send(message, call.body, resolve, reject, abort);
    });
  }

  /** Closes every idle connection; a connection in use closes once its reply has come. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const connections of this.#origins.values()) connections.close();
    this.#origins.clear();
  }

  /** The origins it keeps connections to, or has requests in progress with. */
  origins(): string[] {
    return [...this.#origins.keys()];
  }

  /** Idle connections open, by origin (for tests and the curious). */
  idleCount(origin: string): number {
    return this.#origins.get(origin)?.idleCount ?? 0;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [origin, connections] of this.#origins) {
      connections.closeExpired(now);
      // An instance that has gone (discovery moves on) leaves nothing behind.
      if (connections.idleCount === 0 && connections.inUse === 0) this.#origins.delete(origin);
    }
  }
}

/** The request's head, with its body's length: text written as Latin-1, checked so that nothing in it can end a line. */
function encodeRequest(host: string, call: UpstreamCall): string {
  if (UNSAFE_TARGET.test(call.path) || !call.path.startsWith('/')) {
    throw new TypeError(`Not a request target: ${JSON.stringify(call.path)}`);
  }
  let head = `${call.method} ${call.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const name in call.headers) {
    const value = call.headers[name]!;
    if (!HEADER_NAME.test(name) || UNSAFE_VALUE.test(value)) {
      throw new TypeError(`Not a valid header: ${JSON.stringify(name)}`);
    }
    head += `${name}: ${value}\r\n`;
  }
  if (call.body !== undefined) {
    head += `content-length: ${typeof call.body === 'string' ? Buffer.byteLength(call.body) : call.body.length}\r\n`;
  } else if (call.method === 'POST') {
    head += 'content-length: 0\r\n';
  }
  return `${head}\r\n`;
}

function abortError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error('The request was aborted', { cause: reason });
}

/** The connections to one instance: the idle ones, the most recently used last. */
class OriginConnections {
  readonly host: string;
  readonly hostname: string;
  readonly port: number;
  readonly #idle: Connection[] = [];
  /** Connections with a request in progress. */
  inUse = 0;
  #closed = false;

  constructor(
    origin: string,
    readonly keepAliveMs: number,
    readonly connectTimeoutMs: number,
  ) {
    const url = new URL(origin);
    if (url.protocol !== 'http:') throw new TypeError(`Only http: instances can be reached, not ${origin}`);
    this.host = url.host;
    // `[::1]` in a URL, `::1` to connect to.
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port === '' ? 80 : Number(url.port);
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** The most recently used idle connection that may still be used, closing those that may not. */
  take(now: number): Connection | undefined {
    for (let connection = this.#idle.pop(); connection; connection = this.#idle.pop()) {
      if (connection.usableAt(now)) return connection;
      connection.destroy();
    }
    return undefined;
  }

  open(): Connection {
    return new Connection(this);
  }

  release(connection: Connection): void {
    if (this.#closed) connection.destroy();
    else this.#idle.push(connection);
  }

  /** Forgets an idle connection that closed. */
  forget(connection: Connection): void {
    const index = this.#idle.indexOf(connection);
    if (index !== -1) this.#idle.splice(index, 1);
  }

  closeExpired(now: number): void {
    // The oldest first: they expire first.
    while (this.#idle.length > 0 && !this.#idle[0]!.usableAt(now)) this.#idle.shift()!.destroy();
  }

  close(): void {
    this.#closed = true;
    for (const connection of this.#idle.splice(0)) connection.destroy();
  }
}

enum Phase {
  /** Waiting for the reply's head (or the next one, after a 1xx). */
  Head,
  /** Reading a body of known length. */
  Length,
  ChunkSize,
  ChunkData,
  /** The CRLF after a chunk's data. */
  ChunkEnd,
  Trailers,
  /** Reading a body that ends when the connection closes. */
  UntilClose,
  Done,
}

/**
 * One connection and the exchange on it, if any. Parsing is incremental: a reply may arrive in any
 * number of pieces, split anywhere.
 */
class Connection implements CallAbortListener {
  readonly #origin: OriginConnections;
  readonly #socket: Socket;
  #connectTimer: NodeJS.Timeout | undefined;
  #idleSince = 0;
  #keepAliveMs: number;
  #closed = false;

  // The exchange in progress.
  #resolve: ((reply: BufferedReply) => void) | undefined;
  #reject: ((error: Error) => void) | undefined;
  #abort: CallAbort | undefined;
  #phase = Phase.Done;
  #pending: Buffer | undefined;
  #statusCode = 0;
  #headers: Record<string, string> = {};
  #body: Buffer[] = [];
  #remaining = 0;
  #trailerBytes = 0;
  #reusable = true;

  constructor(origin: OriginConnections) {
    this.#origin = origin;
    this.#keepAliveMs = origin.keepAliveMs;
    this.#socket = connect({
      host: origin.hostname,
      port: origin.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 60_000,
    });
    this.#connectTimer = setTimeout(() => {
      this.#fail(
        new UpstreamConnectionError(
          `No connection to ${origin.host} within ${origin.connectTimeoutMs} ms`,
          'CONNECT_TIMEOUT',
        ),
      );
    }, origin.connectTimeoutMs);
    this.#socket.once('connect', () => {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = undefined;
    });
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (error) => this.#fail(error));
    // The instance closed its side: not to be used again, even before the socket has closed.
    this.#socket.on('end', () => {
      this.#closed = true;
      if (this.#resolve === undefined) this.#origin.forget(this);
    });
    this.#socket.on('close', () => this.#onClose());
  }

  usableAt(now: number): boolean {
    return !this.#closed && now - this.#idleSince < this.#keepAliveMs;
  }

  send(
    head: string,
    body: string | Buffer | undefined,
    resolve: (reply: BufferedReply) => void,
    reject: (error: Error) => void,
    abort: CallAbort,
  ): void {
    this.#origin.inUse++;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#abort = abort;
    this.#phase = Phase.Head;
    this.#pending = undefined;
    this.#statusCode = 0;
    this.#headers = {};
    this.#body = [];
    this.#trailerBytes = 0;
    abort.listen(this);
    if (body === undefined || body.length === 0) {
      this.#socket.write(head, 'latin1');
    } else {
      // One write of head and body together.
      this.#socket.cork();
      this.#socket.write(head, 'latin1');
      this.#socket.write(body);
      this.#socket.uncork();
    }
  }

  callAborted(reason: unknown): void {
    this.#fail(abortError(reason));
  }

  destroy(): void {
    this.#closed = true;
    clearTimeout(this.#connectTimer);
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#resolve === undefined) {
      // Nothing was asked: whatever the instance says now cannot be matched to a request.
      this.#origin.forget(this);
      this.destroy();
      return;
    }
    try {
      this.#parse(this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk);
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  #onClose(): void {
    this.#closed = true;
    clearTimeout(this.#connectTimer);
    if (this.#resolve === undefined) {
      this.#origin.forget(this);
      return;
    }
    if (this.#phase === Phase.UntilClose) {
      this.#finish();
      return;
    }
    this.#fail(
      new UpstreamConnectionError(
        `${this.#origin.host} closed the connection before the whole reply came`,
        'ECONNRESET',
      ),
    );
  }

  #parse(data: Buffer): void {
    this.#pending = undefined;
    let at = 0;
    for (;;) {
      if (this.#phase === Phase.Done) {
        // Anything after the reply cannot belong to it: the connection is not used again.
        if (at < data.length) this.#reusable = false;
        this.#finish();
        return;
      }
      if (at >= data.length) return;
      switch (this.#phase) {
        case Phase.Head: {
          const end = this.#find(data, at, '\r\n\r\n', MAX_HEAD_BYTES, 'a reply head is too large');
          if (end === -1) return;
          this.#readHead(data.toString('latin1', at, end));
          at = end + 4;
          break;
        }
        case Phase.Length:
        case Phase.ChunkData: {
          const take = Math.min(this.#remaining, data.length - at);
          this.#body.push(data.subarray(at, at + take));
          at += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#phase = this.#phase === Phase.Length ? Phase.Done : Phase.ChunkEnd;
          break;
        }
        case Phase.ChunkSize: {
          const end = this.#find(data, at, '\r\n', MAX_LINE_BYTES, 'a chunk-size line is too long');
          if (end === -1) return;
          const size = CHUNK_SIZE.exec(data.toString('latin1', at, end))?.[0];
          if (size === undefined) throw invalid('a chunk size is not hexadecimal');
          this.#remaining = Number.parseInt(size, 16);
          this.#phase = this.#remaining === 0 ? Phase.Trailers : Phase.ChunkData;
          at = end + 2;
          break;
        }
        case Phase.ChunkEnd: {
          if (data.length - at < 2) {
            this.#pending = data.subarray(at);
            return;
          }
          if (data[at] !== 0x0d || data[at + 1] !== 0x0a) throw invalid('a chunk does not end with CRLF');
          at += 2;
          this.#phase = Phase.ChunkSize;
          break;
        }
        case Phase.Trailers: {
          const end = data.indexOf('\r\n', at, 'latin1');
          if (end === -1) {
            if (this.#trailerBytes + data.length - at > MAX_HEAD_BYTES)
              throw invalid('the trailers are too large');
            this.#pending = data.subarray(at);
            return;
          }
          // Trailers are read past, not kept: no Bindery service sends any.
          this.#trailerBytes += end - at + 2;
          if (this.#trailerBytes > MAX_HEAD_BYTES) throw invalid('the trailers are too large');
          if (end === at) this.#phase = Phase.Done;
          at = end + 2;
          break;
        }
        case Phase.UntilClose: {
          this.#body.push(at === 0 ? data : data.subarray(at));
          at = data.length;
          break;
        }
      }
    }
  }

  /**
   * Where `delimiter` starts in `data` from `at`; or -1, the rest kept for the next chunk, when it
   * has not come yet. More than `limit` bytes before it are refused as `tooLong`.
   */
  #find(data: Buffer, at: number, delimiter: string, limit: number, tooLong: string): number {
    const end = data.indexOf(delimiter, at, 'latin1');
    if ((end === -1 ? data.length : end) - at > limit) throw invalid(tooLong);
    if (end === -1) this.#pending = data.subarray(at);
    return end;
  }

  /** Reads a reply head (without its final CRLF CRLF) and decides how its body is framed (RFC 9112 §6.3). */
  #readHead(text: string): void {
    const status = STATUS_LINE.exec(text);
    if (!status) throw invalid('the status line is not HTTP/1.x');
    const statusCode = Number(status[2]);
    const headers: Record<string, string> = {};
    for (let lineEnd = text.indexOf('\r\n'); lineEnd !== -1; ) {
      const lineStart = lineEnd + 2;
      const next = text.indexOf('\r\n', lineStart);
      lineEnd = next === -1 ? text.length : next;
      const colon = text.indexOf(':', lineStart);
      const name = colon === -1 || colon > lineEnd ? '' : text.slice(lineStart, colon);
      // A name with a space or tab in or before it is also how a folded (continued) line starts.
      if (!HEADER_NAME.test(name)) throw invalid('a header line is malformed');
      const key = name.toLowerCase();
      const value = text.slice(colon + 1, lineEnd).trim();
      headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
      lineEnd = next;
    }
    if (statusCode < 200) {
      // 101 would switch protocols, which the gateway never asks for; any other 1xx is followed by the reply.
      if (statusCode === 101) throw invalid('the instance switched protocols');
      return;
    }
    this.#statusCode = statusCode;
    this.#headers = headers;
    const connection = headers.connection?.toLowerCase();
    this.#reusable =
      status[1] === '1' ? !connection?.includes('close') : connection?.includes('keep-alive') === true;
    const keepAlive = /(?:^|[\s,])timeout=(\d+)/i.exec(headers['keep-alive'] ?? '')?.[1];
    if (keepAlive !== undefined) {
      this.#keepAliveMs = Math.min(this.#origin.keepAliveMs, Number(keepAlive) * 1000 - 1000);
      if (this.#keepAliveMs <= 0) this.#reusable = false;
    }
    const transferEncoding = headers['transfer-encoding'];
    const contentLength = headers['content-length'];
    if (statusCode === 204 || statusCode === 304) {
      this.#phase = Phase.Done;
    } else if (transferEncoding !== undefined) {
      if (/(?:^|,)\s*chunked\s*$/i.test(transferEncoding)) {
        this.#phase = Phase.ChunkSize;
        // Both framings at once is how responses are smuggled: read this one, keep no connection.
        if (contentLength !== undefined) this.#reusable = false;
      } else {
        this.#phase = Phase.UntilClose;
        this.#reusable = false;
      }
    } else if (contentLength !== undefined) {
      if (!/^\d{1,15}$/.test(contentLength)) throw invalid('the content-length is not a number');
      this.#remaining = Number(contentLength);
      this.#phase = this.#remaining === 0 ? Phase.Done : Phase.Length;
    } else {
      this.#phase = Phase.UntilClose;
      this.#reusable = false;
    }
  }

  #finish(): void {
    const resolve = this.#resolve!;
    this.#endExchange();
    const chunks = this.#body;
    this.#body = [];
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (this.#reusable && !this.#closed) {
      this.#idleSince = Date.now();
      this.#origin.release(this);
    } else {
      this.destroy();
    }
    resolve({ statusCode: this.#statusCode, headers: this.#headers, body });
  }

  #fail(error: Error): void {
    this.destroy();
    const reject = this.#reject;
    if (reject === undefined) return;
    this.#endExchange();
    this.#body = [];
    reject(error);
  }

  /** Ends the exchange in progress; the caller settles it. */
  #endExchange(): void {
    this.#abort!.unlisten(this);
    this.#resolve = this.#reject = this.#abort = undefined;
    this.#origin.inUse--;
  }
}

function invalid(what: string): UpstreamConnectionError {
  return new UpstreamConnectionError(
    `The instance's reply is not valid HTTP/1.1: ${what}`,
    'HPE_INVALID_RESPONSE',
  );
}
