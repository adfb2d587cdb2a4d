import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import {
  type Context,
  DEADLINE_HEADER,
  DEFAULT_MAX_BODY_BYTES,
  deadlineFromHeader,
  describeProcedures,
  INSTANCE_HEADER,
  InternalTokenError,
  NOT_PROCESSED_HEADER,
  type ServiceName,
  verifyInternalToken,
} from '@bindery/api';
import type { AnyTRPCRouter } from '@trpc/server';
import { TRPCError } from '@trpc/server';
import { collectDefaultMetrics, register } from 'prom-client';
import type { Registration, ServiceRegistry } from './discovery/service-registry';
import { sendJson } from './http-util';
import { type Logger, RequestLogger } from './logger';
import { leanTrpcNodeHandler, stockTrpcNodeHandler, type TrpcAdapterName } from './trpc-node-adapter';
import { withTimeout } from './with-timeout';

/**
 * Serves `/trpc` itself (the gateway) instead of mounting a router. Every reply it writes carries
 * `headers` (the request id, the instance that answered), best in the same `writeHead`
 * (`writeReplyHead`).
 */
export type RequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  headers: Readonly<Record<string, string>>,
) => Promise<void>;

export interface StartServiceOptions {
  /** The service, or `<service>-worker` for a queue worker process. */
  name: ServiceName | `${ServiceName}-worker`;
  log: Logger;
  /**
   * The router mounted at `/trpc`; each call must carry an internal token addressed to `name`.
   * Without a router or `handleTrpc`, the process serves only `/healthz`, `/readyz` and `/metrics`.
   */
  router?: AnyTRPCRouter;
  /** Handles `/trpc` instead of `router`. */
  handleTrpc?: RequestHandler;
  internalTokenSecret: Uint8Array;
  /** @defaultValue 0 (any free port) */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** Checks `/readyz` runs; each resolves when its dependency answers. */
  readiness?: Record<string, () => Promise<unknown>>;
  /** Releases what the service holds (database, Redis) after the server has drained. */
  onClose?: () => Promise<void>;
  /**
   * How long shutdown waits for in-flight requests before cutting connections.
   * @defaultValue 10_000
   */
  drainTimeoutMs?: number;
  /** Registers the instance once it listens, so that peers and the gateway find it. */
  registration?: InstanceRegistrationOptions;
  /**
   * Which adapter serves `router`: `lean` speaks tRPC's HTTP protocol straight from Node's request
   * and response (see `trpc-node-adapter.ts`); `stock` is tRPC's own `nodeHTTPRequestHandler`.
   * Clients cannot tell them apart.
   * @defaultValue 'lean'
   */
  trpcAdapter?: TrpcAdapterName;
}

export interface InstanceRegistrationOptions {
  registry: Pick<ServiceRegistry, 'register'>;
  instanceId: string;
  /** The build it runs. */
  version: string;
  /** @defaultValue 1 */
  weight?: number;
  /** The URL peers reach it at, when not the one it listens on (behind NAT or a proxy). */
  advertiseUrl?: string | undefined;
  /**
   * How long a draining instance goes on serving after it announced it is leaving, so that every
   * caller has seen the announcement before it stops taking calls.
   * @defaultValue 1_000
   */
  drainDelayMs?: number;
}

export interface RunningService {
  name: StartServiceOptions['name'];
  url: string;
  port: number;
  server: Server;
  /** Stops accepting, finishes in-flight requests, then runs `onClose`. */
  close(): Promise<void>;
}

let defaultMetricsStarted = false;

/**
 * The host every Bindery process runs in: the tRPC endpoint, `/healthz` (alive), `/readyz` (its
 * dependencies answer), `/metrics` (Prometheus), a 1 MiB body limit and graceful shutdown.
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { log, name } = options;
  if (!defaultMetricsStarted) {
    collectDefaultMetrics({ register });
    defaultMetricsStarted = true;
  }
  let closing = false;
  // Past the drain delay, a call that still arrives (on a kept-alive connection) is refused untouched.
  let refusing = false;
  // A process with neither (a queue worker) serves only its probes and metrics.
  const trpc: RequestHandler =
    options.handleTrpc ??
    (options.router
      ? routerHandler(options, log)
      : async (_req, res, _requestId, headers) =>
          sendJson(res, 404, { error: `${name} serves no API` }, headers));

  // Once it refuses calls, a kept-alive connection would otherwise idle until the drain timer cuts
  // it: it is closed once its response is done. Not during the drain delay: a caller that has not
  // yet seen the instance draining may be writing a request on an idle connection, and closing that
  // connection under it loses the request unread, which the caller cannot tell from one that ran
  // (so it may not retry a mutation). Until then every /trpc reply says `connection: close`, which
  // ends its own connection. One function for every response, not a closure made per request.
  const closeIdleWhileRefusing = () => {
    if (refusing) server.closeIdleConnections();
  };
  // A service reads the gateway's requests, whose inputs grow when encoded again: it accepts longer
  // request lines and headers than the 16 KiB the gateway itself (Node's default) takes from clients.
  const server = createServer({ maxHeaderSize: options.router ? 64 * 1024 : undefined }, (req, res) => {
    const requestId = headerValue(req, 'x-request-id') ?? randomUUID();
    const path = (req.url ?? '/').split('?', 1)[0]!;
    res.on('finish', closeIdleWhileRefusing);
    // What every /trpc reply carries: its request id and the instance that answered.
    const trpcHeaders: Record<string, string> | undefined =
      path.startsWith('/trpc/') || path === '/trpc'
        ? { 'x-request-id': requestId, [INSTANCE_HEADER]: advertisedUrl }
        : undefined;
    const respond = async () => {
      if (trpcHeaders) {
        if (closing) trpcHeaders.connection = 'close';
        if (refusing) {
          trpcHeaders[NOT_PROCESSED_HEADER] = '1';
          return sendJson(
            res,
            503,
            {
              error: {
                code: -32603,
                message: `${name} is shutting down; call another instance`,
                data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503 },
              },
            },
            trpcHeaders,
          );
        }
        if (!options.handleTrpc) return trpc(req, res, requestId, trpcHeaders);
        // The gateway logs each request it answers; a router logs each procedure call instead.
        const startedAt = performance.now();
        await trpc(req, res, requestId, trpcHeaders);
        if (!log.isLevelEnabled('info')) return;
        const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
        return log.info(
          { requestId, method: req.method, path, status: res.statusCode, durationMs },
          'request answered',
        );
      }
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendJson(res, 405, { error: 'Method not allowed' });
      switch (path) {
        case '/healthz':
          return sendJson(res, 200, { status: 'alive', service: name });
        case '/readyz': {
          if (closing) return sendJson(res, 503, { status: 'shutting-down', service: name });
          const checks = await runChecks(options.readiness ?? {});
          const ready = Object.values(checks).every((check) => check === 'ok');
          return sendJson(res, ready ? 200 : 503, {
            status: ready ? 'ready' : 'not-ready',
            service: name,
            checks,
          });
        }
        case '/procedures':
          // Every procedure with its rules, for the gateway (body limits, timeouts) and the console.
          return sendJson(res, 200, options.router ? describeProcedures(options.router) : []);
        case '/metrics': {
          const body = await register.metrics();
          res.writeHead(200, { 'content-type': register.contentType });
          return res.end(body);
        }
        default:
          return sendJson(res, 404, { error: `No route ${path}` });
      }
    };
    respond().catch((error: unknown) => {
      log.error({ err: error, requestId, path }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal server error', requestId }, trpcHeaders);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : (options.host ?? '127.0.0.1')}:${port}`;
  // Bound to every interface (a container), peers reach it by its hostname, not by loopback.
  const advertisedUrl =
    options.registration?.advertiseUrl ??
    (options.host === '0.0.0.0' || options.host === '::' ? `http://${hostname()}:${port}` : url);
  log.info({ url }, `${name} listening`);
  const registration = options.registration
    ? await registerInstance(options.registration, name, advertisedUrl, options.router)
    : undefined;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      if (registration) {
        // Announce, keep serving while callers take note, then leave: no caller loses a call.
        // A registry that cannot be reached (Redis stopped first) must not hold the shutdown: the
        // entry expires by itself.
        await withTimeout(registration.update({ state: 'draining' }), 2_000).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, options.registration?.drainDelayMs ?? 1_000));
        await withTimeout(registration.deregister(), 2_000).catch((error: unknown) =>
          log.warn({ err: error }, 'deregister failed; the registry entry will expire'),
        );
      }
      refusing = true;
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), options.drainTimeoutMs ?? 10_000);
      await drained;
      clearTimeout(timer);
      await options.onClose?.();
      log.info(`${name} stopped`);
    })();
    return closed;
  };
  return { name, url, port, server, close };
}

async function registerInstance(
  options: InstanceRegistrationOptions,
  service: string,
  url: string,
  router: AnyTRPCRouter | undefined,
): Promise<Registration> {
  const procedures = router ? describeProcedures(router) : [];
  return options.registry.register({
    service,
    id: options.instanceId,
    url,
    version: options.version,
    weight: options.weight ?? 1,
    startedAt: new Date().toISOString(),
    procedureHash: createHash('sha256').update(JSON.stringify(procedures)).digest('hex').slice(0, 12),
    state: 'serving',
  });
}

function routerHandler(options: StartServiceOptions, log: Logger): RequestHandler {
  const router = options.router!;
  const bodyLimits = new Map(
    describeProcedures(router).map((procedure) => [procedure.path, procedure.maxBodyBytes]),
  );
  const handle = options.trpcAdapter === 'stock' ? stockTrpcNodeHandler : leanTrpcNodeHandler;
  const unauthorized = `${options.name} accepts only calls with an internal token`;
  return (req, res, requestId, headers) => {
    const path = (req.url ?? '/').split('?', 1)[0]!.slice('/trpc/'.length);
    // A batch may send as much as the most generous of its procedures allows; GET and HEAD send none.
    const maxBodySize =
      req.method === 'GET' || req.method === 'HEAD'
        ? DEFAULT_MAX_BODY_BYTES
        : Math.max(
            ...safeDecode(path)
              .split(',')
              .map((procedure) => bodyLimits.get(procedure) ?? DEFAULT_MAX_BODY_BYTES),
          );
    return handle<Context>({
      router,
      req,
      res,
      path,
      maxBodySize,
      headers,
      createContext: async (): Promise<Context> => {
        const token = bearerToken(headerValue(req, 'authorization'));
        if (!token) throw new TRPCError({ code: 'UNAUTHORIZED', message: unauthorized });
        try {
          const claims = verifyInternalToken(options.internalTokenSecret, token, options.name as ServiceName);
          return {
            caller: claims.caller,
            requestId,
            traceparent: headerValue(req, 'traceparent'),
            deadline: deadlineFromHeader(headerValue(req, DEADLINE_HEADER)),
            log: new RequestLogger(log, requestId),
          };
        } catch (error) {
          const reason = error instanceof InternalTokenError ? error.message : 'internal token invalid';
          throw new TRPCError({ code: 'UNAUTHORIZED', message: reason });
        }
      },
      onError({ error, path: procedure, ctx }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') {
          if (ctx) ctx.log.error({ err: error.cause ?? error, procedure }, 'procedure failed');
          else log.error({ err: error.cause ?? error, procedure, requestId }, 'procedure failed');
        }
      },
    });
  };
}

/** The token of an `Authorization: Bearer <token>` header. */
function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization?.startsWith('Bearer ') || authorization.length === 'Bearer '.length) return undefined;
  return authorization.slice('Bearer '.length);
}

async function runChecks(checks: Record<string, () => Promise<unknown>>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([checkName, check]) => {
      try {
        await withTimeout(check(), 2_000);
        return [checkName, 'ok'] as const;
      } catch (error) {
        return [checkName, error instanceof Error ? error.message : 'failed'] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Runs `close` once on SIGTERM or SIGINT, then exits. A process started by `npm start` (with an IPC
 * channel) also stops when that parent is gone, even if it was killed without a chance to stop us.
 */
export function closeOnSignals(close: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (process.send) process.once('disconnect', () => stop('SIGTERM'));
}
