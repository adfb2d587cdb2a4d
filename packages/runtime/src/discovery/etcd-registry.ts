import type { Etcd3, Lease } from 'etcd3';
import type { HeartbeatOptions, Registration, ServiceInstance, ServiceRegistry } from './service-registry';

export interface EtcdRegistryOptions extends HeartbeatOptions {
  /** etcd endpoints, such as `http://127.0.0.1:2379`. */
  hosts: string[];
  /** Prefix of the registry's keys (`<prefix>registry/<service>/<id>`). */
  keyPrefix: string;
}

/**
 * The registry on etcd, as Kubernetes itself keeps its state: each instance's key is bound to a
 * lease that the instance keeps alive, so etcd deletes the key when the instance stops answering;
 * watchers follow the prefix with an etcd watch. https://etcd.io/docs/v3.4/learning/api/#lease-api
 *
 * The etcd client (with gRPC and protobuf.js, about 4 MB of heap) loads on first use: every process
 * imports this module through `@bindery/runtime`, and only those configured for etcd need it.
 */
export function etcdRegistry(options: EtcdRegistryOptions): ServiceRegistry {
  const ttlSeconds = Math.max(1, Math.round((options.ttlMs ?? 10_000) / 1000));
  const prefix = `${options.keyPrefix}registry/`;
  let connecting: Promise<Etcd3> | undefined;
  const connect = () => {
    connecting ??= import('etcd3').then(({ Etcd3 }) => new Etcd3({ hosts: options.hosts }));
    return connecting;
  };
  const leases = new Set<Lease>();
  const stops = new Set<() => void>();
  let closed = false;

  async function readAll(): Promise<ServiceInstance[]> {
    const client = await connect();
    const values = await client.getAll().prefix(prefix).strings();
    return Object.values(values).map((value) => JSON.parse(value) as ServiceInstance);
  }

  return {
    kind: 'etcd',
    async register(instance) {
      let current = { ...instance };
      const key = `${prefix}${instance.service}/${instance.id}`;
      const client = await connect();
      let lease: Lease;
      let deregistered = false;
      // A lease lost to a partition or an etcd restart is replaced, and the entry written again.
      const grant = async (): Promise<void> => {
        lease = client.lease(ttlSeconds);
        leases.add(lease);
        lease.on('lost', () => {
          leases.delete(lease);
          if (!deregistered && !closed) setTimeout(() => void grant().catch(() => {}), 500).unref();
        });
        await lease.put(key).value(JSON.stringify(current));
      };
      await grant();
      const registration: Registration = {
        async update(patch) {
          current = { ...current, ...patch };
          await lease.put(key).value(JSON.stringify(current));
        },
        async deregister() {
          deregistered = true;
          leases.delete(lease);
          await lease.revoke().catch(() => client.delete().key(key));
        },
      };
      return registration;
    },
    async watch(onChange) {
      const known = new Map<string, ServiceInstance>();
      const emit = () => onChange([...known.values()]);
      const client = await connect();
      const watcher = await client.watch().prefix(prefix).create();
      watcher.on('put', (entry) => {
        known.set(entry.key.toString(), JSON.parse(entry.value.toString()) as ServiceInstance);
        emit();
      });
      watcher.on('delete', (entry) => {
        known.delete(entry.key.toString());
        emit();
      });
      // After a reconnect the watch resumes from its revision, but a full read is the simple truth.
      const resync = async () => {
        const all = await readAll();
        known.clear();
        for (const instance of all) known.set(`${prefix}${instance.service}/${instance.id}`, instance);
        emit();
      };
      watcher.on('connected', () => void resync().catch(() => {}));
      await resync();
      const stop = () => {
        stops.delete(stop);
        void watcher.cancel();
      };
      stops.add(stop);
      return stop;
    },
    async close() {
      closed = true;
      for (const stop of [...stops]) stop();
      // As Redis's: entries not deregistered outlive the process by their TTL, as if it had died.
      for (const lease of leases) lease.release();
      leases.clear();
      (await connecting)?.close();
    },
  };
}
