import type { ServiceInstance, ServiceRegistry } from './service-registry';

/**
 * A fixed list of instances from configuration: `{ catalog: ['http://a:4103', 'http://b:4103'] }`.
 * Registering is a no-op (nobody else would read it); instances never change.
 */
export function staticRegistry(services: Record<string, readonly string[]>): ServiceRegistry {
  const instances: ServiceInstance[] = Object.entries(services).flatMap(([service, urls]) =>
    urls.map((url) => ({
      service,
      id: new URL(url).host,
      url: url.replace(/\/+$/, ''),
      version: 'unknown',
      weight: 1,
      startedAt: new Date(0).toISOString(),
      procedureHash: '',
      state: 'serving' as const,
    })),
  );
  return {
    kind: 'static',
    async register() {
      return { async update() {}, async deregister() {} };
    },
    async watch(onChange) {
      onChange(instances);
      return () => {};
    },
    async close() {},
  };
}
