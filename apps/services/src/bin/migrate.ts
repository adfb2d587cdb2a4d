import { passwordSchema } from '@bindery/api';
import { createDb, migrate, SERVICE_SCHEMA_NAMES } from '@bindery/db';
import { ConfigError, parseEnv } from '@bindery/runtime';
import { z } from 'zod';
import { loadServiceConfig } from '../config';
import { seed } from '../seed';

/**
 * `pnpm db:migrate`, and the migration job of a deployment: applies every service's pending
 * migrations to DATABASE_URL (or the embedded database), then, when BINDERY_ADMIN_PASSWORD is set,
 * creates the first admin (once; later runs change nothing). BINDERY_SAMPLE_BOOKS=true also adds the
 * sample books to an empty catalog.
 */
const config = loadServiceConfig();
const handle = createDb({
  service: 'users',
  url: config.DATABASE_URL,
  sharedSession: config.DATABASE_SHARED_SESSION,
  dataDir: `${config.BINDERY_DATA_DIR}/pglite`,
});
try {
  const seeding = parseEnv({
    BINDERY_ADMIN_EMAIL: z.email('must be an email address').default('admin@bindery.local'),
    BINDERY_ADMIN_PASSWORD: passwordSchema.optional(),
    BINDERY_SAMPLE_BOOKS: z.enum(['true', 'false']).default('false'),
  });
  for (const service of SERVICE_SCHEMA_NAMES) {
    const { applied } = await migrate(handle.db, service);
    console.log(`${service}: ${applied} migration(s) applied`);
  }
  await handle.close();
  if (seeding.BINDERY_ADMIN_PASSWORD) {
    const seeded = await seed(
      config,
      { email: seeding.BINDERY_ADMIN_EMAIL, password: seeding.BINDERY_ADMIN_PASSWORD },
      { sampleBooks: seeding.BINDERY_SAMPLE_BOOKS === 'true' },
    );
    console.log(
      seeded.adminCreated ? `admin ${seeded.adminEmail} created` : `admin ${seeded.adminEmail} exists`,
    );
  }
} catch (error) {
  await handle.close().catch(() => {});
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  throw error;
}
