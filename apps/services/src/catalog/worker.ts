import type { Keys, RunningService } from '@bindery/runtime';
import type { Job } from 'bullmq';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { startWorkers, typedHandlers } from '../worker-host';
import { BOOK_IMPORT_QUEUE, type BookImportJobData, runBookImport } from './import';
import { catalogEventTables, releaseStock, reserveStock } from './stock';

/** The catalog's background work: stock reservations for the order saga, its outbox relay, and book imports. */
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
    // One import at a time per worker: each is a long run of large transactions.
    queues: [
      {
        name: BOOK_IMPORT_QUEUE,
        handle: (job) => runBookImport(db, job as Job<BookImportJobData>),
        concurrency: 1,
      },
    ],
    readiness: { database: database.ping },
    onClose: database.close,
  });
}
