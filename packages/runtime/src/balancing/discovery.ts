import type { Registration, ServiceInstance, ServiceRegistry } from '../discovery/service-registry';
import type { Logger } from '../logger';
import { type EndpointView, ServicePool, type ServicePoolOptions, type ServiceView } from './service-pool';
import type { StrategyName } from './strategies';

export interface DiscoveryOptions {
  registry: ServiceRegistry;
  log: Logger;
  /** The strategy of each service; `default` for the others. */
  strategies?: Partial<Record<string, StrategyName>> & { default?: StrategyName };
  /** Policies every pool shares (breakers, bulkhead, retries). */
  pool?: Omit<ServicePoolOptions, 'service' | 'strategy'>;
  /**
   * How often each instance of a service in use is asked `/readyz`; 0 turns active checks off.
   * @defaultValue 2_000
   */
  healthCheckIntervalMs?: number;
}

export interface Topology {
  registry: ServiceRegistry['kind'];
  services: ServiceView[];
}

/**
 * A process's view of the platform: it follows the registry and keeps one balanced pool per service
 * it calls (the gateway calls them all), checking their instances' readiness on an interval.
 */
export class Discovery {
  private readonly pools = new Map<string, ServicePool>();
  private byService = new Map<string, ServiceInstance[]>();
  private stopWatching: (() => void) | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: DiscoveryOptions) {}

  get registry(): ServiceRegistry {
    return this.options.registry;
  }

  /** Follows the registry; resolves once the first view is in. */
  async start(): Promise<void> {
    this.stopWatching = await this.options.registry.watch((instances) => this.update(instances));
    const interval = this.options.healthCheckIntervalMs ?? 2_000;
    if (interval > 0) {
      const loop = () => {
        void this.checkHealth().finally(() => {
          if (this.stopWatching) this.healthTimer = setTimeout(loop, interval).unref();
        });
      };
      this.healthTimer = setTimeout(loop, interval).unref();
    }
  }

  /** The pool of `service`, created on first use. */
  pool(service: string): ServicePool {
    let pool = this.pools.get(service);
    if (!pool) {
      const strategies = this.options.strategies ?? {};
      pool = new ServicePool({
        ...this.options.pool,
        service,
        strategy: strategies[service] ?? strategies.default ?? 'p2c-ewma',
      });
      pool.setInstances(this.byService.get(service) ?? []);
      this.pools.set(service, pool);
    }
    return pool;
  }

  /** Every registered instance of `service` (every service without one), as the registry says now. */
  instances(service?: string): ServiceInstance[] {
    if (service) return this.byService.get(service) ?? [];
    return [...this.byService.values()].flat();
  }

  /** Calls `listener` after each change of the registry's view. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when `service` has at least `count` instances, or rejects after `timeoutMs`. */
  async waitFor(service: string, count = 1, timeoutMs = 10_000): Promise<void> {
    if (this.instances(service).length >= count) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`${service} has ${this.instances(service).length} of ${count} instances`));
      }, timeoutMs);
      const stop = this.onChange(() => {
        if (this.instances(service).length < count) return;
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  }

  register(instance: ServiceInstance): Promise<Registration> {
    return this.options.registry.register(instance);
  }

  /** Every service in use with its instances, their state and the balancer's numbers. */
  topology(services: readonly string[] = [...this.byService.keys()]): Topology {
    return {
      registry: this.options.registry.kind,
      services: [...new Set(services)].sort().map((service) => this.pool(service).view()),
    };
  }

  async close(): Promise<void> {
    this.stopWatching?.();
    this.stopWatching = undefined;
    clearTimeout(this.healthTimer);
    await this.options.registry.close();
  }

  private update(instances: ServiceInstance[]): void {
    const byService = new Map<string, ServiceInstance[]>();
    for (const instance of instances) {
      const list = byService.get(instance.service) ?? [];
      list.push(instance);
      byService.set(instance.service, list);
    }
    for (const list of byService.values()) list.sort((a, b) => a.id.localeCompare(b.id));
    this.byService = byService;
    for (const [service, pool] of this.pools) pool.setInstances(byService.get(service) ?? []);
    for (const listener of this.listeners) listener();
  }

  /** Asks every instance of every pool in use whether it is ready. */
  private async checkHealth(): Promise<void> {
    await Promise.all(
      [...this.pools.values()].flatMap((pool) =>
        pool.instances.map(async (endpoint) => {
          const wasHealthy = endpoint.healthy;
          try {
            const response = await fetch(`${endpoint.url}/readyz`, { signal: AbortSignal.timeout(1_500) });
            endpoint.healthy = response.ok;
            await response.body?.cancel();
          } catch {
            endpoint.healthy = false;
          }
          if (wasHealthy !== endpoint.healthy) {
            this.options.log.info(
              { service: pool.service, instance: endpoint.url, ready: endpoint.healthy },
              endpoint.healthy ? 'instance ready again' : 'instance not ready',
            );
          }
        }),
      ),
    );
  }
}

export type { EndpointView, ServiceView };
