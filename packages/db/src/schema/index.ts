import * as auth from './auth';
import * as catalog from './catalog';
import * as users from './users';

/** Each service's tables, keyed by the service (and Postgres schema) that owns them. */
export const schemas = { users, auth, catalog } as const;
export type ServiceSchemaName = keyof typeof schemas;
export const SERVICE_SCHEMA_NAMES = Object.keys(schemas) as ServiceSchemaName[];

export { auth, catalog, users };
