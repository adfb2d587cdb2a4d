import { createLogger, type Keys, type RunningService, startService } from '@bindery/runtime';
import type { AuthRouter } from '../auth/router';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { balancedPeer, registrationOptions, startDiscovery } from '../discovery';
import { createUsersRouter } from './router';

/** Starts the users service: profiles, roles and account status. */
export async function startUsers(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'users', instance: config.INSTANCE_ID });
  const discovery = await startDiscovery(config, log);
  const database = await openServiceDatabase(config, 'users');
  return startService({
    name: 'users',
    log,
    router: createUsersRouter({
      db: database.db,
      auth: balancedPeer<AuthRouter>(discovery, {
        self: 'users',
        target: 'auth',
        internalTokenSecret: keys.internalTokenSecret,
      }),
    }),
    internalTokenSecret: keys.internalTokenSecret,
    trpcAdapter: config.TRPC_ADAPTER,
    host: config.HOST,
    port: config.USERS_PORT,
    registration: registrationOptions(config, discovery),
    readiness: { database: database.ping },
    onClose: async () => {
      await database.close();
      await discovery.close();
    },
  });
}
