import { createPeerClient } from '@bindery/api';
import { createLogger, type Keys, type RunningService, startService } from '@bindery/runtime';
import type { AuthRouter } from '../auth/router';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { createUsersRouter } from './router';

/** Starts the users service: profiles, roles and account status. */
export async function startUsers(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'users', instance: config.INSTANCE_ID });
  const database = await openServiceDatabase(config, 'users');
  return startService({
    name: 'users',
    log,
    router: createUsersRouter({
      db: database.db,
      auth: createPeerClient<AuthRouter>({
        self: 'users',
        target: 'auth',
        baseUrl: () => config.serviceUrls.auth,
        internalTokenSecret: keys.internalTokenSecret,
      }),
    }),
    internalTokenSecret: keys.internalTokenSecret,
    host: config.HOST,
    port: config.USERS_PORT,
    readiness: { database: database.ping },
    onClose: database.close,
  });
}
