import { Redis } from 'ioredis';

/**
 * A Redis connection for one process. `keyPrefix` isolates deployments and test runs sharing one
 * Redis. BullMQ needs `maxRetriesPerRequest: null`, which suits every other use here too: commands
 * wait for a reconnect instead of failing after a few tries.
 */
export function createRedis(url: string, options: { keyPrefix?: string; name?: string } = {}): Redis {
  return new Redis(url, {
    keyPrefix: options.keyPrefix ?? '',
    maxRetriesPerRequest: null,
    connectionName: options.name ?? 'bindery',
    lazyConnect: false,
  });
}
