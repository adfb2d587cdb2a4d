import { createAccessTokenVerifier, describeProcedures, SERVICE_NAMES, type ServiceName } from '@bindery/api';
import { createLogger, type Keys, type RunningService, startService } from '@bindery/runtime';
import type { AuthRouter } from '../auth/router';
import type { ServiceConfig } from '../config';
import { balancedPeer, registrationOptions, startDiscovery } from '../discovery';
import { createAuthenticator } from './authenticate';
import { createTrpcHandler } from './handle-trpc';
import { localSubscriptions } from './local-subscriptions';
import { platformHealth } from './platform-health';
import { PlatformMonitor } from './platform-monitor';
import { ProcedureDirectory } from './procedure-directory';
import { QueueInspector } from './queues';
import { createSystemRouter } from './system-router';
import { httpUpstream, localUpstream, type Upstream } from './upstream';

/** The services whose namespaces the gateway forwards (every one but itself). */
const UPSTREAM_SERVICES = SERVICE_NAMES.filter(
  (service): service is Exclude<ServiceName, 'gateway'> => service !== 'gateway',
);

/** Starts the gateway: one typed API over every service. */
export async function startGateway(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'gateway', instance: config.INSTANCE_ID });
  const discovery = await startDiscovery(config, log);
  const authPeer = balancedPeer<AuthRouter>(discovery, {
    self: 'gateway',
    target: 'auth',
    internalTokenSecret: keys.internalTokenSecret,
  })({ caller: { user: null, ip: null }, requestId: 'gateway-authentication' });

  // A ready instance of each service, to read its procedure list from.
  const procedures = new ProcedureDirectory(() =>
    Object.fromEntries(
      UPSTREAM_SERVICES.flatMap((service) => {
        const endpoint = discovery.pool(service).instances.find((instance) => instance.state() === 'ready');
        return endpoint ? [[service, endpoint.url]] : [];
      }),
    ),
  );
  const upstreams = new Map<string, Upstream>(
    UPSTREAM_SERVICES.map((service) => [
      service,
      httpUpstream({
        service,
        pool: discovery.pool(service),
        procedures,
        internalTokenSecret: keys.internalTokenSecret,
      }),
    ]),
  );
  const queues = new QueueInspector({ redisUrl: config.REDIS_URL, prefix: `${config.REDIS_KEY_PREFIX}bull` });
  const instances = () => discovery.instances().map(({ service, id, url }) => ({ service, id, url }));
  const health = () => {
    const warnings = discovery
      .topology(UPSTREAM_SERVICES)
      .services.filter((service) => service.versionSkew)
      .map(
        (service) =>
          `${service.service}: instances serve different procedure lists (${[
            ...new Set(service.instances.map((instance) => `${instance.version}/${instance.procedureHash}`)),
          ].join(', ')}); a rollout in progress?`,
      );
    return platformHealth(instances(), ['gateway', ...UPSTREAM_SERVICES], warnings);
  };
  const monitor = new PlatformMonitor({
    instances,
    services: ['gateway', ...UPSTREAM_SERVICES],
    health,
    queueStats: () => queues.stats(),
    log,
    intervalMs: config.GATEWAY_METRICS_INTERVAL_MS,
  });
  const systemRouter = createSystemRouter({
    health,
    topology: () =>
      discovery.topology([
        ...UPSTREAM_SERVICES,
        ...discovery.instances().map((instance) => instance.service),
      ]),
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
    registration: registrationOptions(config, discovery),
    readiness: { redis: () => queues.ping() },
    onClose: async () => {
      await queues.close();
      await Promise.all([...upstreams.values()].map((upstream) => upstream.close?.()));
      await discovery.close();
    },
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
