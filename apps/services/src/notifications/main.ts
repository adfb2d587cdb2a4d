import { createLogger, type Keys, type RunningService, startService } from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { registrationOptions, startDiscovery } from '../discovery';
import { createNotificationsRouter } from './router';

/** Starts the notifications service: the messages sent to users, with their delivery state. */
export async function startNotifications(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'notifications', instance: config.INSTANCE_ID });
  const discovery = await startDiscovery(config, log);
  const database = await openServiceDatabase(config, 'notifications');
  return startService({
    name: 'notifications',
    log,
    router: createNotificationsRouter({ db: database.db }),
    internalTokenSecret: keys.internalTokenSecret,
    trpcAdapter: config.TRPC_ADAPTER,
    host: config.HOST,
    port: config.NOTIFICATIONS_PORT,
    registration: registrationOptions(config, discovery),
    readiness: { database: database.ping },
    onClose: async () => {
      await database.close();
      await discovery.close();
    },
  });
}
