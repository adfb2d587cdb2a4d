import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { CallAbort } from '@bindery/runtime';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { UpstreamConnections } from '../src/gateway/upstream-connections';

const listening = async <T extends Server | NetServer>(server: T): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const closed = (server: Server | NetServer) => new Promise((resolve) => server.close(resolve));

describe('UpstreamConnections against a Node server', () => {
  let server: Server;
  let origin: string;
  /** The server-side socket of each request, in order. */
  const sockets: Socket[] = [];
  let connections: UpstreamConnections;

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
      sockets.push(req.socket);
      if (req.url === '/chunks') {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-kind': 'chunks' });
        res.write('one,');
        setTimeout(() => res.end('two'), 20);
      } else if (req.url?.startsWith('/echo')) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        res.writeHead(201, {
          'content-type': 'application/json',
          'set-cookie': ['a=1', 'b=2'],
        });
        res.end(
          JSON.stringify({
            method: req.method,
            headers: req.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      } else if (req.url === '/close') {
        res.writeHead(200, { connection: 'close', 'content-length': '4' }).end('bye.');
      } else if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2_000);
      } else if (req.url === '/empty') {
        res.writeHead(204).end();
      } else {
        res.writeHead(404, { 'content-length': '4' }).end('none');
      }
    });
    origin = await listening(server);
  });

  afterEach(async () => {
    await connections.close();
    sockets.length = 0;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await closed(server);
  });

  const send = (path: string, abort = new CallAbort()) =>
    connections.request(origin, { method: 'GET', path, headers: {} }, abort);

  test('collects a reply sent in several chunks, and keeps the connection for the next request', async () => {
    connections = new UpstreamConnections();
    const reply = await send('/chunks');
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['x-kind']).toBe('chunks');
    expect(reply.headers['transfer-encoding']).toBe('chunked');
    expect(reply.body.toString()).toBe('one,two');
    expect(connections.idleCount(origin)).toBe(1);
    const second = await send('/elsewhere');
    expect(second.statusCode).toBe(404);
    expect(second.body.toString()).toBe('none');
    expect(sockets).toHaveLength(2);
    expect(sockets[1]).toBe(sockets[0]);
    expect((await send('/empty')).body).toHaveLength(0);
  });

  test('sends a body with its length, the headers given and the host; repeated reply headers are joined', async () => {
    connections = new UpstreamConnections();
    const text = '{"0":{"title":"Ça va — ok"}}';
    for (const body of [text, Buffer.from(text)]) {
      const reply = await connections.request(
        origin,
        {
          method: 'POST',
          path: '/echo?batch=1',
          headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
          body,
        },
        new CallAbort(),
      );
      expect(reply.statusCode).toBe(201);
      expect(reply.headers['set-cookie']).toBe('a=1, b=2');
      const echoed = JSON.parse(reply.body.toString());
      expect(echoed).toMatchObject({
        method: 'POST',
        body: text,
        headers: {
          host: origin.slice('http://'.length),
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(text)),
          'x-request-id': 'r-1',
        },
      });
    }
    const empty = await connections.request(
      origin,
      { method: 'POST', path: '/echo', headers: {} },
      new CallAbort(),
    );
    expect(JSON.parse(empty.body.toString()).headers['content-length']).toBe('0');
  });

  test('a reply that says `connection: close` is read whole, and its connection is not used again', async () => {
    connections = new UpstreamConnections();
    expect((await send('/close')).body.toString()).toBe('bye.');
    expect(connections.idleCount(origin)).toBe(0);
    expect((await send('/elsewhere')).statusCode).toBe(404);
    expect(sockets[1]).not.toBe(sockets[0]);
  });

  test('a reply cut before its declared length rejects as a reset connection', async () => {
    connections = new UpstreamConnections();
    await expect(send('/cut')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(connections.idleCount(origin)).toBe(0);
  });

  test("the call's abort ends it with its reason, before or during the wait, and closes the connection", async () => {
    connections = new UpstreamConnections();
    const early = new CallAbort();
    early.abort(new Error('caller gave up'));
    await expect(send('/slow', early)).rejects.toThrow('caller gave up');
    const late = new CallAbort();
    const pending = send('/slow', late);
    setTimeout(() => late.abort(new Error('deadline passed')), 50);
    await expect(pending).rejects.toThrow('deadline passed');
    expect(connections.idleCount(origin)).toBe(0);
    expect((await send('/elsewhere')).statusCode).toBe(404);
  });

  test('an idle connection the server closed is forgotten, and the next request opens another', async () => {
    connections = new UpstreamConnections();
    await send('/elsewhere');
    expect(connections.idleCount(origin)).toBe(1);
    sockets[0]!.destroy();
    await expect.poll(() => connections.idleCount(origin)).toBe(0);
    expect((await send('/elsewhere')).statusCode).toBe(404);
  });

  test('a connection in use when the connections close is closed once its reply has come', async () => {
    connections = new UpstreamConnections();
    const pending = send('/chunks');
    await expect.poll(() => sockets.length).toBe(1);
    await connections.close();
    expect((await pending).body.toString()).toBe('one,two');
    expect(connections.idleCount(origin)).toBe(0);
    await expect.poll(() => sockets[0]!.destroyed).toBe(true);
    await expect(send('/elsewhere')).rejects.toThrow('closed');
  });

  test('an idle connection is closed after its keep-alive time, and an origin left unused is forgotten', async () => {
    connections = new UpstreamConnections({ keepAliveMs: 200 });
    await send('/elsewhere');
    expect(connections.idleCount(origin)).toBe(1);
    expect(connections.origins()).toEqual([origin]);
    await expect.poll(() => connections.idleCount(origin), { timeout: 3_000 }).toBe(0);
    await expect.poll(() => connections.origins(), { timeout: 3_000 }).toEqual([]);
    await expect.poll(() => sockets[0]!.destroyed).toBe(true);
    // In use past its keep-alive time, a connection is not swept, and is kept for the next request.
    const slow = send('/slow');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(connections.origins()).toEqual([origin]);
    expect((await slow).body.toString()).toBe('late');
    expect(connections.idleCount(origin)).toBe(1);
  });

  test('a request that could be misread is refused before anything is sent', async () => {
    connections = new UpstreamConnections();
    const refused = (path: string, headers: Record<string, string>) =>
      expect(connections.request(origin, { method: 'GET', path, headers }, new CallAbort())).rejects.toThrow(
        TypeError,
      );
    await refused('/a\r\nx-injected: 1', {});
    await refused('/a b', {});
    await refused('a', {});
    await refused('/a', { 'x-id': 'one\r\nx-injected: 1' });
    await refused('/a', { 'x id': 'one' });
    await refused('/a', { 'x-id': 'snowman ☃' });
    expect(sockets).toHaveLength(0);
    await expect(
      connections.request('https://127.0.0.1:1', { method: 'GET', path: '/', headers: {} }, new CallAbort()),
    ).rejects.toThrow('Only http:');
  });

  test('a refused connection rejects with Node’s ECONNREFUSED', async () => {
    connections = new UpstreamConnections();
    const nobody = createNetServer();
    const address = await listening(nobody);
    await closed(nobody);
    await expect(
      connections.request(address, { method: 'GET', path: '/', headers: {} }, new CallAbort()),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

/**
 * A server that answers every request (read up to its blank line) with `reply(requestIndex)`'s
 * pieces, written one at a time, and closes the connection after the last when `close` is set.
 */
function scriptedServer(reply: (index: number) => { pieces: (string | Buffer)[]; close?: boolean }): {
  server: NetServer;
  connectionsSeen: () => number;
} {
  let index = 0;
  let seen = 0;
  const server = createNetServer((socket) => {
    seen++;
    let pending = '';
    socket.on('data', async (chunk) => {
      pending += chunk.toString('latin1');
      while (pending.includes('\r\n\r\n')) {
        pending = pending.slice(pending.indexOf('\r\n\r\n') + 4);
        const { pieces, close } = reply(index++);
        for (const piece of pieces) {
          socket.write(piece);
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (close) socket.end();
      }
    });
    socket.on('error', () => {});
  });
  return { server, connectionsSeen: () => seen };
}

describe('UpstreamConnections reading HTTP/1.1 replies', () => {
  const servers: NetServer[] = [];
  let connections: UpstreamConnections;

  afterEach(async () => {
    await connections.close();
    for (const server of servers.splice(0)) await closed(server);
  });

  const exchange = async (
    reply: (index: number) => { pieces: (string | Buffer)[]; close?: boolean },
    requests = 1,
  ) => {
    const { server, connectionsSeen } = scriptedServer(reply);
    servers.push(server);
    const origin = await listening(server);
    const results = [];
    for (let count = 0; count < requests; count++) {
      results.push(
        await connections
          .request(origin, { method: 'GET', path: '/trpc/x', headers: {} }, new CallAbort())
          .then(
            (value) => ({ ...value, body: value.body.toString('latin1') }),
            (error: Error & { code?: string }) => ({ error: error.code ?? error.message }),
          ),
      );
    }
    return { results, connectionsSeen: connectionsSeen(), idle: connections.idleCount(origin) };
  };

  const chunked =
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' +
    '4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nx-trailer: 1\r\n\r\n';

  test('a reply split anywhere, however finely, reads the same', async () => {
    const replies = [
      chunked,
      'HTTP/1.1 200 OK\r\ncontent-length: 11\r\nx-a: b\r\n\r\nhello world',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
    ];
    const wholes: unknown[] = [];
    for (const text of replies) {
      connections = new UpstreamConnections();
      wholes.push((await exchange(() => ({ pieces: [text] }))).results[0]);
      await connections.close();
    }
    expect(wholes.map((whole) => (whole as { body: string }).body)).toEqual([
      'Wikipedia in\r\n\r\nchunks.',
      'hello world',
      'ok',
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1, 2),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (which, cuts) => {
          const text = replies[which]!;
          const points = [...new Set(cuts.map((cut) => cut % text.length))].sort((a, b) => a - b);
          const pieces = [0, ...points].map((start, i) => text.slice(start, points[i] ?? text.length));
          connections = new UpstreamConnections();
          const { results, idle } = await exchange(() => ({ pieces: pieces.filter(Boolean) }));
          await connections.close();
          for (const server of servers.splice(0)) await closed(server);
          expect(results[0]).toEqual(wholes[which]);
          expect(idle).toBe(1);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('a reply without a length ends when the connection closes, and the connection is not kept', async () => {
    connections = new UpstreamConnections();
    const { results, idle } = await exchange(() => ({
      pieces: ['HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil ', 'the end'],
      close: true,
    }));
    expect(results[0]).toMatchObject({ statusCode: 200, body: 'until the end' });
    expect(idle).toBe(0);
  });

  test('requests on one connection each get their own reply', async () => {
    connections = new UpstreamConnections();
    const { results, connectionsSeen, idle } = await exchange(
      (index) => ({ pieces: [`HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n${index}`] }),
      3,
    );
    expect(results.map((result) => (result as { body: string }).body)).toEqual(['0', '1', '2']);
    expect(connectionsSeen).toBe(1);
    expect(idle).toBe(1);
  });

  test('a reply that frames its body two ways, or is followed by more bytes, is read but its connection is not kept', async () => {
    connections = new UpstreamConnections();
    const both = await exchange(() => ({
      pieces: [
        'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      ],
    }));
    expect(both.results[0]).toMatchObject({ body: 'ok' });
    expect(both.idle).toBe(0);
    const extra = await exchange(() => ({
      pieces: ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n'],
    }));
    expect(extra.results[0]).toMatchObject({ body: 'ok' });
    expect(extra.idle).toBe(0);
  });

  test('`Keep-Alive: timeout=1` leaves too little time to reuse the connection', async () => {
    connections = new UpstreamConnections();
    const { results, idle } = await exchange(() => ({
      pieces: ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=1\r\n\r\nok'],
    }));
    expect(results[0]).toMatchObject({ body: 'ok' });
    expect(idle).toBe(0);
  });

  test.each([
    ['a status line that is not HTTP/1.x', 'HTTP/2 200 OK\r\n\r\n'],
    ['a header line without a name', 'HTTP/1.1 200 OK\r\n: x\r\ncontent-length: 0\r\n\r\n'],
    ['a folded header line', 'HTTP/1.1 200 OK\r\nx-a: b\r\n  c\r\ncontent-length: 0\r\n\r\n'],
    ['a length that is not a number', 'HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\n\r\nok'],
    ['a chunk size that is not hexadecimal', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk without its CRLF', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n'],
    ['a protocol switch', 'HTTP/1.1 101 Switching Protocols\r\n\r\n'],
    ['a head larger than 16 KiB', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(17_000)}\r\n\r\n`],
  ])('%s is refused as an invalid reply', async (_name, text) => {
    connections = new UpstreamConnections();
    const { results, idle } = await exchange(() => ({ pieces: [text] }));
    expect(results[0]).toEqual({ error: 'HPE_INVALID_RESPONSE' });
    expect(idle).toBe(0);
  });

  test('a reply cut in its chunks, or a connection closed before any reply, rejects as a reset connection', async () => {
    connections = new UpstreamConnections();
    const cut = await exchange(() => ({
      pieces: ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab'],
      close: true,
    }));
    expect(cut.results[0]).toEqual({ error: 'ECONNRESET' });
    const none = await exchange(() => ({ pieces: [], close: true }));
    expect(none.results[0]).toEqual({ error: 'ECONNRESET' });
  });
});
