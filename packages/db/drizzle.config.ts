import { defineConfig } from 'drizzle-kit';

/**
 * One drizzle-kit run per service: `BINDERY_SCHEMA=catalog drizzle-kit generate` writes
 * `migrations/catalog`. `generate.mjs` runs it for every service.
 */
const service = process.env.BINDERY_SCHEMA;
if (!service) throw new Error('BINDERY_SCHEMA must name the service whose migrations to generate');

export default defineConfig({
  dialect: 'postgresql',
  casing: 'snake_case',
  schema: `./src/schema/${service}.ts`,
  out: `./migrations/${service}`,
  schemaFilter: [service],
  migrations: { schema: 'bindery_migrations', table: service },
});
