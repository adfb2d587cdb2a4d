import { createLogger, type Keys, type RunningService } from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { balancedPeer, startDiscovery } from '../discovery';
import type { BinderyEvent } from '../events';
import type { UsersRouter } from '../users/router';
import { startWorkers, typedHandlers } from '../worker-host';
import { markUndeliverable, notify } from './messages';
import { outboxTransport, smtpTransport } from './transport';

/** Tells users what happened: consumes account and order events and delivers a message for each. */
export async function startNotificationsWorkers(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const database = await openServiceDatabase(config, 'notifications');
  const { db } = database;
  const transport = config.SMTP_URL ? smtpTransport(config.SMTP_URL, config.MAIL_FROM) : outboxTransport;
  const discovery = await startDiscovery(
    config,
    createLogger({ service: 'notifications-worker', instance: config.INSTANCE_ID }),
  );
  const users = balancedPeer<UsersRouter>(discovery, {
    self: 'notifications',
    target: 'users',
    internalTokenSecret: keys.internalTokenSecret,
  });
  const deliver = async (
    event: BinderyEvent<'order.confirmed' | 'order.failed' | 'order.cancelled' | 'user.created'>,
  ) => {
    const requestId = event.context.requestId ?? event.id;
    const user = await users({ caller: { user: null, ip: null }, requestId }).users.internal.byId.query({
      id: event.payload.userId,
    });
    await notify(db, transport, event, { userId: user.id, email: user.email, name: user.name });
  };
  return startWorkers('notifications', config, keys, {
    events: typedHandlers('notifications', {
      'user.created': deliver,
      'order.confirmed': deliver,
      'order.failed': deliver,
      'order.cancelled': deliver,
    }),
    onGaveUp: (job) => markUndeliverable(db, (job.data as BinderyEvent).id),
    readiness: { database: database.ping },
    onClose: database.close,
    discovery,
  });
}
