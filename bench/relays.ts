/**
 * The smallest things that can stand between a client and a service, as baselines for the gateway,
 * each a process of its own:
 *
 * - `http`: a minimal Node HTTP reverse proxy: keep-alive to one upstream, the request and reply
 *   piped through untouched (no authentication, no parsing of the call, no balancing);
 * - `tcp`: a TCP relay that copies bytes both ways, a connection upstream for each client
 *   connection, without reading HTTP at all: what the extra hop alone (its reads, writes and
 *   wake-ups on this machine's cores) costs.
 *
 * The gateway reads and writes HTTP at least as the `http` proxy does (with a lighter client of its
 * own); no hop in Node does less than the `tcp` relay.
 */

import { type ChildProcess, spawn } from 'node:child_process';

const HTTP_PROXY = `
const http = require('node:http');
const target = Number(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
http.createServer((req, res) => {
  const upstream = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}).listen(0, '127.0.0.1', function () { process.send({ port: this.address().port }); });
`;

const TCP_RELAY = `
const net = require('node:net');
const target = Number(process.argv[1]);
net.createServer((client) => {
  const upstream = net.connect(target, '127.0.0.1');
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}).listen(0, '127.0.0.1', function () { process.send({ port: this.address().port }); });
`;

export interface Relay {
  url: string;
  pid: number;
  stop(): void;
}

/** Starts a relay of `kind`, on a port of its own choosing, in front of `127.0.0.1:<targetPort>`. */
export async function startRelay(
  kind: 'http' | 'tcp',
  targetPort: number,
  nodeFlags: readonly string[] = [],
): Promise<Relay> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeFlags, '-e', kind === 'http' ? HTTP_PROXY : TCP_RELAY, String(targetPort)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  // It tells its port over IPC once it listens.
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { port: number }));
    child.once('exit', (code) => reject(new Error(`the ${kind} relay exited (${code}) before it listened`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill('SIGKILL') };
}
