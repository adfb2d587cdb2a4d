import { existsSync, readFileSync } from 'node:fs';
import { createPeerClient, type ServiceName } from '@bindery/api';
import {
  balancedFetch,
  Discovery,
  dnsRegistry,
  etcdRegistry,
  type InstanceRegistrationOptions,
  type Logger,
  redisRegistry,
  type ServiceRegistry,
  staticRegistry,
} from '@bindery/runtime';
import type { AnyRouter } from '@trpc/server';
import type { ServiceConfig } from './config';

/** The build every process registers as its version: this package's, from src/ or a dist/ bundle. */
const VERSION =
  ['../package.json', '../../package.json']
    .map((path) => new URL(path, import.meta.url))
    .filter((url) => existsSync(url))
    .map((url) => JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string })
    .find((manifest) => manifest.name === '@bindery/services')?.version ?? 'unknown';

/** The registry DISCOVERY names, on its configuration. */
export function createRegistry(config: ServiceConfig): ServiceRegistry {
  const heartbeat = { ttlMs: config.DISCOVERY_TTL_MS };
  switch (config.DISCOVERY) {
    case 'redis':
      return redisRegistry({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, ...heartbeat });
    case 'etcd':
      return etcdRegistry({
        hosts: config.DISCOVERY_ETCD_ENDPOINTS.split(',').map((host) => host.trim()),
        keyPrefix: `/${config.REDIS_KEY_PREFIX.replace(/:$/, '')}/`,
        ...heartbeat,
      });
    case 'static':
      return staticRegistry(config.serviceUrls);
    case 'dns':
      return dnsRegistry({
        names: Object.fromEntries(
          Object.keys(config.servicePorts).map((service) => [
            service,
            config.DISCOVERY_DNS_NAME.replaceAll('{service}', service),
          ]),
        ),
        ports: config.servicePorts,
        intervalMs: config.DISCOVERY_DNS_INTERVAL_MS,
        ...(config.DISCOVERY_DNS_SERVERS ? { servers: config.DISCOVERY_DNS_SERVERS.split(',') } : {}),
      });
  }
}

/** Follows the registry and balances this process's calls to its peers, with the configured policies. */
export async function startDiscovery(config: ServiceConfig, log: Logger): Promise<Discovery> {
  const discovery = new Discovery({
    registry: createRegistry(config),
    log,
    strategies: { default: config.LB_STRATEGY, ...config.LB_STRATEGIES },
    healthCheckIntervalMs: config.HEALTH_CHECK_INTERVAL_MS,
    pool: {
      consecutiveFailures: config.EJECT_AFTER_FAILURES,
      ejectionMs: config.EJECTION_MS,
      maxConcurrent: config.MAX_CONCURRENT_PER_INSTANCE,
      retryBudgetRatio: config.RETRY_BUDGET_RATIO,
    },
  });
  await discovery.start();
  return discovery;
}

/** How this process announces itself to the registry (see `startService`). */
export function registrationOptions(
  config: ServiceConfig,
  discovery: Discovery,
): InstanceRegistrationOptions {
  return {
    registry: discovery.registry,
    instanceId: config.INSTANCE_ID,
    version: VERSION,
    weight: config.INSTANCE_WEIGHT,
    advertiseUrl: config.ADVERTISE_URL,
    drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
  };
}

/** A typed client for `target`, balanced over its instances: `peer(ctx).users.byId.query(...)`. */
export function balancedPeer<TRouter extends AnyRouter>(
  discovery: Discovery,
  options: { self: ServiceName; target: ServiceName; internalTokenSecret: Uint8Array },
) {
  return createPeerClient<TRouter>({
    ...options,
    baseUrl: `http://${options.target}.bindery`,
    fetch: balancedFetch(discovery.pool(options.target)),
  });
}
