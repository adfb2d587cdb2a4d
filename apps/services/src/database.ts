import {
  createDb,
  type DatabaseHandle,
  migrate,
  type ServiceSchema,
  type ServiceSchemaName,
} from '@bindery/db';
import { Gauge } from 'prom-client';
import type { ServiceConfig } from './config';

type PoolUsage = NonNullable<ReturnType<DatabaseHandle<Record<string, unknown>>['pool']>>;

/** The pools this process has open, by service (tests run a service and its worker in one process). */
const pools = new Set<{ service: ServiceSchemaName; pool: () => PoolUsage | null }>();

function poolGauge(name: string, help: string, read: (usage: PoolUsage) => number) {
  return new Gauge({
    name,
    help,
    labelNames: ['service'] as const,
    collect() {
      this.reset();
      for (const { service, pool } of pools) {
        const usage = pool();
        if (usage) this.inc({ service }, read(usage));
      }
    },
  });
}
poolGauge('bindery_db_pool_connections_max', 'Connections the database pool may open', (usage) => usage.size);
poolGauge(
  'bindery_db_pool_connections_in_use',
  'Pool connections busy with a query or a transaction',
  (usage) => usage.inUse,
);
poolGauge(
  'bindery_db_pool_waiting',
  'Queries and transactions that found no free pool connection',
  (usage) => usage.waiting,
);

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
  const measured = { service, pool: handle.pool };
  pools.add(measured);
  return {
    ...handle,
    close: async () => {
      pools.delete(measured);
      await handle.close();
    },
  };
}
