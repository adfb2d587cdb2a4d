import {
  createAccessTokenVerifier,
  createPeerClient,
  describeProcedures,
  type ServiceName,
} from '@bindery/api';
import { createLogger, type Keys, type RunningService, startService } from '@bindery/runtime';
import type { AuthRouter } from '../auth/router';
import type { ServiceConfig } from '../config';
import { createAuthenticator } from './authenticate';
import { createTrpcHandler } from './handle-trpc';
import { localSubscriptions } from './local-subscriptions';
import { PlatformMonitor } from './platform-monitor';
import { ProcedureDirectory } from './procedure-directory';
import { QueueInspector } from './queues';
import { createSystemRouter } from './system-router';
import { httpUpstream, localUpstream, type Upstream } from './upstream';

/** Starts the gateway: one typed API over every service. */
export async function startGateway(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'gateway', instance: config.INSTANCE_ID });
  const services = config.serviceUrls;
  const authPeer = createPeerClient<AuthRouter>({
    self: 'gateway',
    target: 'auth',
    baseUrl: () => services.auth,
    internalTokenSecret: keys.internalTokenSecret,
  })({ caller: { user: null, ip: null }, requestId: 'gateway-authentication' });

  const upstreams = new Map<string, Upstream>(
    (Object.keys(services) as ServiceName[]).map((service) => [
      service,
      httpUpstream({
        service,
        baseUrl: () => services[service as keyof typeof services],
        internalTokenSecret: keys.internalTokenSecret,
      }),
    ]),
  );
  const procedures = new ProcedureDirectory(() => services);
  const queues = new QueueInspector({ redisUrl: config.REDIS_URL, prefix: `${config.REDIS_KEY_PREFIX}bull` });
  const monitor = new PlatformMonitor({
    services: () => services,
    queueStats: () => queues.stats(),
    log,
    intervalMs: config.GATEWAY_METRICS_INTERVAL_MS,
  });
  const systemRouter = createSystemRouter({
    services: () => services,
    procedures: () => procedures,
    queues,
    monitor,
  });
  for (const procedure of describeProcedures(systemRouter)) procedures.add(procedure);
  upstreams.set('system', localUpstream(systemRouter, log));

  const verifyAccessToken = await createAccessTokenVerifier(keys.accessTokenPublicKeyPem);
  const handleTrpc = createTrpcHandler({
    upstreams,
    procedures,
    subscriptions: localSubscriptions(systemRouter, log),
    authenticate: createAuthenticator({
      verifyAccessToken,
      apiTokenCacheMs: config.GATEWAY_API_TOKEN_CACHE_MS,
      resolveApiToken: async (token) => {
        const resolved = await authPeer.auth.internal.resolveApiToken.query({ token });
        return resolved
          ? { id: resolved.user.id, roles: resolved.user.roles, apiTokenId: resolved.tokenId }
          : null;
      },
    }),
  });
  const running = await startService({
    name: 'gateway',
    log,
    handleTrpc,
    internalTokenSecret: keys.internalTokenSecret,
    host: config.HOST,
    port: config.GATEWAY_PORT,
    readiness: { redis: () => queues.ping() },
    onClose: () => queues.close(),
  });
  monitor.start();
  return {
    ...running,
    // Live streams never end by themselves: end them first, or shutdown would wait out its drain timeout.
    close: async () => {
      await monitor.stop();
      await running.close();
    },
  };
}
