import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does to `/trpc` calls (probes and metrics always pass):
 * - `pass`: forwards them;
 * - `slow`: forwards them after `delayMs`;
 * - `fail`: answers 500 without forwarding, as an instance whose every procedure throws;
 * - `drop-after-forward`: forwards them, lets the instance answer, then cuts the connection, so the
 *   caller cannot know whether the call ran (it did).
 */
export type FaultMode = 'pass' | 'slow' | 'fail' | 'drop-after-forward';

export interface FaultProxy {
  url: string;
  mode: FaultMode;
  delayMs: number;
  /** `/trpc` requests received. */
  calls: number;
  close(): Promise<void>;
}

/** An HTTP proxy on 127.0.0.1 in front of one instance, injecting the fault its `mode` names. */
export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const proxy: FaultProxy = {
    url: '',
    mode: 'pass',
    delayMs: 150,
    calls: 0,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const isCall = (req.url ?? '').startsWith('/trpc');
    const mode = isCall ? proxy.mode : 'pass';
    if (isCall) proxy.calls++;
    if (mode === 'fail') {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            code: -32603,
            message: 'Internal server error',
            data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 },
          },
        }),
      );
      return;
    }
    const send = () => {
      const upstream = forward(
        { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          if (mode === 'drop-after-forward') {
            answer.resume();
            answer.once('end', () => req.socket.destroy());
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.once('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (mode === 'slow') setTimeout(send, proxy.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
