import type { Keys, RunningService } from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { startWorkers } from '../worker-host';
import { usersEventTables } from './accounts';

/** Relays the users service's events (`user.created`) to their consumers. */
export async function startUsersWorkers(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const database = await openServiceDatabase(config, 'users');
  return startWorkers('users', config, keys, {
    outbox: { db: database.db, tables: usersEventTables },
    readiness: { database: database.ping },
    onClose: database.close,
  });
}
