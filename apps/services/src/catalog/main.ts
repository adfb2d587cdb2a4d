import {
  createLogger,
  createQueue,
  createQueueRedis,
  type Keys,
  type RunningService,
  startService,
} from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { registrationOptions, startDiscovery } from '../discovery';
import { BOOK_IMPORT_QUEUE, type BookImportJobData } from './import';
import { createCatalogRouter } from './router';

/** Starts the catalog service: books, prices and stock, and the queue of book imports. */
export async function startCatalog(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'catalog', instance: config.INSTANCE_ID });
  const discovery = await startDiscovery(config, log);
  const database = await openServiceDatabase(config, 'catalog');
  // The same prefix as the worker host's, so the catalog worker sees the jobs queued here.
  const redis = createQueueRedis(config.REDIS_URL, 'bindery-catalog');
  const imports = createQueue<BookImportJobData>(BOOK_IMPORT_QUEUE, {
    redis,
    prefix: `${config.REDIS_KEY_PREFIX}bull`,
  });
  return startService({
    name: 'catalog',
    log,
    router: createCatalogRouter({ db: database.db, imports }),
    internalTokenSecret: keys.internalTokenSecret,
    trpcAdapter: config.TRPC_ADAPTER,
    host: config.HOST,
    port: config.CATALOG_PORT,
    registration: registrationOptions(config, discovery),
    readiness: { database: database.ping, redis: () => redis.ping() },
    onClose: async () => {
      await database.close();
      await imports.close();
      await redis.quit();
      await discovery.close();
    },
  });
}
