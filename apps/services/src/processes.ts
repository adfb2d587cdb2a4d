import type { Keys, RunningService } from '@bindery/runtime';
import { startAuth } from './auth/main';
import { startBilling } from './billing/main';
import { startBillingWorkers } from './billing/worker';
import { startCatalog } from './catalog/main';
import { startCatalogWorkers } from './catalog/worker';
import type { ServiceConfig } from './config';
import { startGateway } from './gateway/main';
import { startNotifications } from './notifications/main';
import { startNotificationsWorkers } from './notifications/worker';
import { startOrders } from './orders/main';
import { startOrdersWorkers } from './orders/worker';
import { startUsers } from './users/main';
import { startUsersWorkers } from './users/worker';

type Starter = (config: ServiceConfig, keys: Keys) => Promise<RunningService>;

/** Every service process, by name: `node dist/bin/service.js <name>`. */
export const SERVICES = {
  users: startUsers,
  auth: startAuth,
  catalog: startCatalog,
  orders: startOrders,
  billing: startBilling,
  notifications: startNotifications,
  gateway: startGateway,
} satisfies Record<string, Starter>;

/** Every worker process, by the service whose background work it does: `node dist/bin/worker.js <name>`. */
export const WORKERS = {
  users: startUsersWorkers,
  catalog: startCatalogWorkers,
  orders: startOrdersWorkers,
  billing: startBillingWorkers,
  notifications: startNotificationsWorkers,
} satisfies Record<string, Starter>;

export type ServiceProcess = keyof typeof SERVICES;
export type WorkerProcess = keyof typeof WORKERS;
