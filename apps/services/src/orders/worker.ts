import type { Keys, RunningService } from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { startWorkers } from '../worker-host';
import { ordersEventTables } from './orders';
import { expireOverdueOrders, ordersSagaHandlers } from './saga';

const MAINTENANCE_QUEUE = 'orders-maintenance';

/** The orders side of the saga, the order deadline sweep and the outbox relay. */
export async function startOrdersWorkers(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const database = await openServiceDatabase(config, 'orders');
  const { db } = database;
  return startWorkers('orders', config, keys, {
    outbox: { db, tables: ordersEventTables },
    events: { consumer: 'orders', handlers: ordersSagaHandlers(db) as never },
    queues: [{ name: MAINTENANCE_QUEUE, handle: () => expireOverdueOrders(db, config.ORDER_TIMEOUT_MS) }],
    // One schedule however many replicas run: upserting the same scheduler id is idempotent.
    onStart: async (queues) => {
      await queues
        .get(MAINTENANCE_QUEUE)
        .upsertJobScheduler(
          'expire-overdue-orders',
          { every: Math.max(1_000, Math.min(30_000, Math.floor(config.ORDER_TIMEOUT_MS / 4))) },
          { name: 'expire-overdue-orders' },
        );
    },
    readiness: { database: database.ping },
    onClose: database.close,
  });
}
