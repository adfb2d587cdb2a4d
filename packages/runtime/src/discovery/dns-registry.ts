import { Resolver } from 'node:dns/promises';
import type { ServiceInstance, ServiceRegistry } from './service-registry';

export interface DnsRegistryOptions {
  /**
   * The DNS name per service. A name starting with `_` is read as SRV records (a Kubernetes headless
   * service with a named port: `_http._tcp.catalog-headless.bindery.svc.cluster.local`), which give
   * each pod's host and port; any other name as A records, reached at `ports[service]`.
   */
  names: Record<string, string>;
  /** The port of each service, for names read as A records. */
  ports: Record<string, number>;
  /**
   * How often the names are resolved again.
   * @defaultValue 5_000
   */
  intervalMs?: number;
  /** DNS servers to ask (`127.0.0.1:5353`); the system's resolvers when unset. */
  servers?: string[];
}

/**
 * Instances from DNS, as Kubernetes publishes the ready pods of a headless service. Nothing is
 * registered (the cluster does that from readiness probes); the names are re-resolved on an interval.
 * https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#srv-records
 */
export function dnsRegistry(options: DnsRegistryOptions): ServiceRegistry {
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  if (options.servers?.length) resolver.setServers(options.servers);
  const timers = new Set<NodeJS.Timeout>();
  const previous = new Map<string, ServiceInstance[]>();

  async function resolveService(service: string, name: string): Promise<ServiceInstance[]> {
    const targets = name.startsWith('_')
      ? (await resolver.resolveSrv(name)).map((record) => ({ host: record.name, port: record.port }))
      : (await resolver.resolve4(name)).map((address) => ({ host: address, port: options.ports[service]! }));
    const addresses = await Promise.all(
      targets.map(async ({ host, port }) => {
        const ip = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : ((await resolver.resolve4(host))[0] ?? host);
        return `${ip}:${port}`;
      }),
    );
    return addresses.map((address) => ({
      service,
      id: address,
      url: `http://${address}`,
      version: 'unknown',
      weight: 1,
      startedAt: new Date(0).toISOString(),
      procedureHash: '',
      state: 'serving' as const,
    }));
  }

  async function readAll(): Promise<ServiceInstance[]> {
    const results = await Promise.all(
      Object.entries(options.names).map(async ([service, name]) => {
        try {
          const instances = await resolveService(service, name);
          previous.set(service, instances);
          return instances;
        } catch (error) {
          // No record: the service has no ready pod. Any other failure keeps the last answer.
          const code = (error as { code?: string }).code;
          if (code === 'ENOTFOUND' || code === 'ENODATA') previous.set(service, []);
          return previous.get(service) ?? [];
        }
      }),
    );
    return results.flat();
  }

  return {
    kind: 'dns',
    async register() {
      return { async update() {}, async deregister() {} };
    },
    async watch(onChange) {
      onChange(await readAll());
      const timer = setInterval(() => void readAll().then(onChange), options.intervalMs ?? 5_000);
      timer.unref();
      timers.add(timer);
      return () => {
        clearInterval(timer);
        timers.delete(timer);
      };
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
    },
  };
}
