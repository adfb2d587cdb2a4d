import * as auth from './auth';
import * as billing from './billing';
import * as catalog from './catalog';
import * as notifications from './notifications';
import * as orders from './orders';
import * as users from './users';

/** Each service's tables, keyed by the service (and Postgres schema) that owns them. */
export const schemas = { users, auth, catalog, orders, billing, notifications } as const;
export type ServiceSchemaName = keyof typeof schemas;
export const SERVICE_SCHEMA_NAMES = Object.keys(schemas) as ServiceSchemaName[];

export { eventTables } from './events';
export { auth, billing, catalog, notifications, orders, users };
