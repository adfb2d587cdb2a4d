import { createDb, migrate, SERVICE_SCHEMA_NAMES } from '@bindery/db';
import { loadServiceConfig } from '../config';

/** `pnpm db:migrate`: applies every service's pending migrations to DATABASE_URL or the embedded database. */
const config = loadServiceConfig();
const handle = createDb({
  service: 'users',
  url: config.DATABASE_URL,
  sharedSession: config.DATABASE_SHARED_SESSION,
  dataDir: `${config.BINDERY_DATA_DIR}/pglite`,
});
try {
  for (const service of SERVICE_SCHEMA_NAMES) {
    const { applied } = await migrate(handle.db, service);
    console.log(`${service}: ${applied} migration(s) applied`);
  }
} finally {
  await handle.close();
}
