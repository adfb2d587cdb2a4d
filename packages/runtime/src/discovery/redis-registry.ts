import type { Redis } from 'ioredis';
import { createRedis } from '../redis';
import type { HeartbeatOptions, Registration, ServiceInstance, ServiceRegistry } from './service-registry';

export interface RedisRegistryOptions extends HeartbeatOptions {
  url: string;
  /** Prefix of the registry's keys and channel, as the platform's other Redis keys. */
  keyPrefix: string;
}

/**
 * The registry in the Redis the platform already uses. Each instance is a key with a TTL that its
 * heartbeat renews, indexed in a sorted set by expiry time; every change is published on one
 * channel, and watchers also re-read on an interval to see entries that simply expired.
 */
export function redisRegistry(options: RedisRegistryOptions): ServiceRegistry {
  const ttlMs = options.ttlMs ?? 10_000;
  const resyncMs = options.resyncMs ?? Math.ceil(ttlMs / 3);
  const index = `${options.keyPrefix}registry:instances`;
  const channel = `${options.keyPrefix}registry:changes`;
  const entryKey = (instance: Pick<ServiceInstance, 'service' | 'id'>) =>
    `${options.keyPrefix}registry:instance:${instance.service}:${instance.id}`;
  const redis = createRedis(options.url, { name: 'bindery-registry' });
  // ioredis reconnects by itself; a registry that cannot reach Redis keeps its last view meanwhile.
  redis.on('error', () => {});
  let closed = false;
  const subscribers = new Set<Redis>();
  const timers = new Set<NodeJS.Timeout>();

  async function write(instance: ServiceInstance): Promise<void> {
    const key = entryKey(instance);
    await redis
      .multi()
      .set(key, JSON.stringify(instance), 'PX', ttlMs)
      .zadd(index, Date.now() + ttlMs, key)
      .exec();
  }

  async function readAll(): Promise<ServiceInstance[]> {
    const now = Date.now();
    await redis.zremrangebyscore(index, '-inf', now);
    const keys = await redis.zrangebyscore(index, now, '+inf');
    if (keys.length === 0) return [];
    const values = await redis.mget(...keys);
    return values.flatMap((value) => (value ? [JSON.parse(value) as ServiceInstance] : []));
  }

  return {
    kind: 'redis',
    async register(instance) {
      let current = { ...instance };
      await write(current);
      await redis.publish(channel, current.id);
      const heartbeat = setInterval(() => void write(current).catch(() => {}), Math.ceil(ttlMs / 3));
      heartbeat.unref();
      timers.add(heartbeat);
      const registration: Registration = {
        async update(patch) {
          current = { ...current, ...patch };
          await write(current);
          await redis.publish(channel, current.id);
        },
        async deregister() {
          clearInterval(heartbeat);
          timers.delete(heartbeat);
          const key = entryKey(current);
          await redis.multi().del(key).zrem(index, key).exec();
          await redis.publish(channel, current.id);
        },
      };
      return registration;
    },
    async watch(onChange) {
      const subscriber = redis.duplicate({ connectionName: 'bindery-registry-watch' });
      subscriber.on('error', () => {});
      subscribers.add(subscriber);
      // Reads are sent in order on one connection, so a later read sees a later state: apply a
      // result only if no later read has been applied before it.
      let started = 0;
      let applied = 0;
      const refresh = async () => {
        if (closed) return;
        const sequence = ++started;
        const instances = await readAll();
        if (sequence < applied) return;
        applied = sequence;
        onChange(instances);
      };
      const refreshQuietly = () => void refresh().catch(() => {});
      subscriber.on('message', refreshQuietly);
      // After a Redis restart the subscription is renewed by ioredis; read again to catch up.
      subscriber.on('ready', refreshQuietly);
      await subscriber.subscribe(channel);
      await refresh();
      const timer = setInterval(refreshQuietly, resyncMs);
      timer.unref();
      timers.add(timer);
      return () => {
        clearInterval(timer);
        timers.delete(timer);
        subscribers.delete(subscriber);
        subscriber.disconnect();
      };
    },
    async close() {
      closed = true;
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      for (const subscriber of subscribers) subscriber.disconnect();
      subscribers.clear();
      // QUIT waits for a reconnect that may never come (commands queue while Redis is down).
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
