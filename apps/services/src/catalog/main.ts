import { createLogger, type Keys, type RunningService, startService } from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { createCatalogRouter } from './router';

/** Starts the catalog service: books, prices and stock. */
export async function startCatalog(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'catalog', instance: config.INSTANCE_ID });
  const database = await openServiceDatabase(config, 'catalog');
  return startService({
    name: 'catalog',
    log,
    router: createCatalogRouter({ db: database.db }),
    internalTokenSecret: keys.internalTokenSecret,
    host: config.HOST,
    port: config.CATALOG_PORT,
    readiness: { database: database.ping },
    onClose: database.close,
  });
}
