import {
  createDb,
  type DatabaseHandle,
  migrate,
  type ServiceSchema,
  type ServiceSchemaName,
} from '@bindery/db';
import type { ServiceConfig } from './config';

/** Opens a service's database and brings its schema up to date (idempotent, safe across replicas). */
export async function openServiceDatabase<TService extends ServiceSchemaName>(
  config: Pick<
    ServiceConfig,
    'DATABASE_URL' | 'DATABASE_SHARED_SESSION' | 'DATABASE_POOL_SIZE' | 'BINDERY_DATA_DIR'
  >,
  service: TService,
): Promise<DatabaseHandle<ServiceSchema<TService>>> {
  const handle = createDb({
    service,
    url: config.DATABASE_URL,
    sharedSession: config.DATABASE_SHARED_SESSION,
    poolSize: config.DATABASE_POOL_SIZE,
    dataDir: `${config.BINDERY_DATA_DIR}/pglite`,
  });
  await migrate(handle.db, service);
  return handle;
}
