/**
 * One running instance of a service as the registry knows it. Registered by the instance itself on
 * start, removed on graceful shutdown, and expired by the registry when its heartbeat stops.
 */
export interface ServiceInstance {
  service: string;
  /** Unique among the instances of `service` (the process's `INSTANCE_ID`). */
  id: string;
  /** Base URL peers reach it at (`http://10.0.0.7:4103`). */
  url: string;
  /** The build it runs (package version). */
  version: string;
  /**
   * Its share of traffic under the `weighted` strategy, relative to the other instances.
   * @defaultValue 1
   */
  weight: number;
  /** When the process started, as an ISO timestamp. */
  startedAt: string;
  /**
   * A hash of the procedure list its router serves: instances of one service that disagree are
   * running different versions (a rollout in progress).
   */
  procedureHash: string;
  /** `draining` once it began shutting down: finishing its calls, taking no new ones. */
  state: 'serving' | 'draining';
}

/** What an instance holds after registering: it keeps the entry alive until it deregisters. */
export interface Registration {
  /** Changes the entry (an instance announces it is draining). */
  update(patch: Partial<Pick<ServiceInstance, 'state' | 'weight'>>): Promise<void>;
  /** Removes the entry and stops the heartbeat. */
  deregister(): Promise<void>;
}

/**
 * Where instances are found. Every backend (Redis, etcd, a static list, Kubernetes DNS) offers the
 * same three operations, so the balancer never knows which one runs.
 */
export interface ServiceRegistry {
  /** Which backend this is, for logs and `system.topology`. */
  readonly kind: 'redis' | 'etcd' | 'static' | 'dns';
  /** Announces an instance and keeps it alive with a heartbeat until `deregister`. */
  register(instance: ServiceInstance): Promise<Registration>;
  /**
   * Calls `onChange` with every live instance of every service now and on each change, until the
   * returned function is called.
   */
  watch(onChange: (instances: ServiceInstance[]) => void): Promise<() => void>;
  /** Stops heartbeats and watches and releases the backend's connections. */
  close(): Promise<void>;
}

/** Options every backend that expires silent instances shares. */
export interface HeartbeatOptions {
  /**
   * How long an entry outlives its last heartbeat; an instance that died without deregistering is
   * gone after this long.
   * @defaultValue 10_000
   */
  ttlMs?: number;
  /**
   * How often watchers re-read the whole registry besides change notifications, so an expiry that
   * sent no notification is still seen.
   * @defaultValue a third of `ttlMs`
   */
  resyncMs?: number;
}
