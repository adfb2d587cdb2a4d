import type { Keys, RunningService } from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { startWorkers, typedHandlers } from '../worker-host';
import { catalogEventTables, releaseStock, reserveStock } from './stock';

/** The catalog's background work: stock reservations for the order saga, and its outbox relay. */
export async function startCatalogWorkers(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const database = await openServiceDatabase(config, 'catalog');
  const { db } = database;
  return startWorkers('catalog', config, keys, {
    outbox: { db, tables: catalogEventTables },
    events: typedHandlers('catalog', {
      'order.created': (event) => reserveStock(db, event),
      'order.failed': (event) => releaseStock(db, event),
      'order.cancelled': (event) => releaseStock(db, event),
    }),
    readiness: { database: database.ping },
    onClose: database.close,
  });
}
