import { createLogger, type Keys, type RunningService, startService } from '@bindery/runtime';
import type { CatalogRouter } from '../catalog/router';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { balancedPeer, registrationOptions, startDiscovery } from '../discovery';
import type { UsersRouter } from '../users/router';
import { createOrdersRouter } from './router';

/** Starts the orders service: orders, their items and the saga's timeline. */
export async function startOrders(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'orders', instance: config.INSTANCE_ID });
  const discovery = await startDiscovery(config, log);
  const database = await openServiceDatabase(config, 'orders');
  const peer = { self: 'orders' as const, internalTokenSecret: keys.internalTokenSecret };
  return startService({
    name: 'orders',
    log,
    router: createOrdersRouter({
      db: database.db,
      users: balancedPeer<UsersRouter>(discovery, { ...peer, target: 'users' }),
      catalog: balancedPeer<CatalogRouter>(discovery, { ...peer, target: 'catalog' }),
      orderTimeoutMs: config.ORDER_TIMEOUT_MS,
    }),
    internalTokenSecret: keys.internalTokenSecret,
    trpcAdapter: config.TRPC_ADAPTER,
    host: config.HOST,
    port: config.ORDERS_PORT,
    registration: registrationOptions(config, discovery),
    readiness: { database: database.ping },
    onClose: async () => {
      await database.close();
      await discovery.close();
    },
  });
}
