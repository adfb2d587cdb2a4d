import type { Keys, RunningService } from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { startWorkers, typedHandlers } from '../worker-host';
import { createPaymentProvider } from './main';
import { billingEventTables, chargeOrder, compensateOrder } from './payments';

/** Billing's side of the saga: charge reserved orders, refund or void ended ones; and its outbox relay. */
export async function startBillingWorkers(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const database = await openServiceDatabase(config, 'billing');
  const { db } = database;
  const { provider, redis } = createPaymentProvider(config);
  return startWorkers('billing', config, keys, {
    outbox: { db, tables: billingEventTables },
    events: typedHandlers('billing', {
      'stock.reserved': (event) => chargeOrder(db, provider, event),
      'order.failed': (event) => compensateOrder(db, provider, event),
      'order.cancelled': (event) => compensateOrder(db, provider, event),
    }),
    readiness: { database: database.ping },
    onClose: async () => {
      await database.close();
      await redis.quit();
    },
  });
}
