export {
  type CreateDbOptions,
  createDb,
  type Database,
  type DatabaseHandle,
  rowsOf,
  type ServiceSchema,
} from './database';
export { type EmbeddedDatabaseServer, serveEmbeddedDatabase } from './embedded';
export { migrate, migrationsFolder } from './migrate';
export { type EventEnvelope, handleOnce, relayOutbox, wasHandled, writeEvent } from './outbox';
export { decodeCursor, encodeCursor, newestFirst, toPage } from './pagination';
export { type PreparedTableSelect, preparedRows } from './prepared';
export * from './schema/index';
export { containsPattern } from './search';
