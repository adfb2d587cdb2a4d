import type { Keys, RunningService } from '@bindery/runtime';
import type { ServiceConfig } from './config';

type Starter = (config: ServiceConfig, keys: Keys) => Promise<RunningService>;

/**
 * The Node.js flags every service and worker process runs with: the image's ENTRYPOINT
 * (docker/services.Dockerfile, held to this list by test/deployment.test.ts), `npm start`
 * (bin/platform.ts) and the tests' process spawner all pass them.
 *
 * Without them V8 sizes its heap for the host's memory (a 4 GB limit on a 24 GB machine): it lets
 * the old generation grow to about four times the live heap before a full collection, and keeps
 * 2×16 MB of young generation. A service whose live heap is about 25 MB then peaks at 200–250 MB
 * RSS under load, nearly all of it garbage (issue 9: at most 150 MB per process). An old-generation
 * limit under 1 GB makes V8 collect at about 1.35 times the live heap instead, and smaller
 * semi-spaces hold less garbage between scavenges; both cost CPU in collections (8–15% more per
 * request for catalog.books.byId, measured). 384 MB leaves room for the largest allocation a
 * process makes (a 16 MB catalog CSV import, parsed in one go: about 210 MB of heap at worst) and
 * stays under the smallest container limit (512Mi, docker/k8s/base) with the young generation,
 * code and native memory.
 * https://nodejs.org/docs/latest-v20.x/api/cli.html#--max-old-space-sizesize-in-megabytes
 */
export const NODE_FLAGS = ['--enable-source-maps', '--max-old-space-size=384', '--max-semi-space-size=8'];

// Each starter imports its service's code when it runs, not when this table loads: one process
// runs one service, and loading every other service's modules and npm dependencies (BullMQ,
// nodemailer, argon2, …) cost each process memory it never used. The bundle splits on these
// imports (build.mjs), so a process loads only its own service's chunk.

/** Every service process, by name: `node dist/bin/service.js <name>`. */
export const SERVICES = {
  users: async (config, keys) => (await import('./users/main')).startUsers(config, keys),
  auth: async (config, keys) => (await import('./auth/main')).startAuth(config, keys),
  catalog: async (config, keys) => (await import('./catalog/main')).startCatalog(config, keys),
  orders: async (config, keys) => (await import('./orders/main')).startOrders(config, keys),
  billing: async (config, keys) => (await import('./billing/main')).startBilling(config, keys),
  notifications: async (config, keys) =>
    (await import('./notifications/main')).startNotifications(config, keys),
  gateway: async (config, keys) => (await import('./gateway/main')).startGateway(config, keys),
} satisfies Record<string, Starter>;

/** Every worker process, by the service whose background work it does: `node dist/bin/service.js <name>-worker`. */
export const WORKERS = {
  users: async (config, keys) => (await import('./users/worker')).startUsersWorkers(config, keys),
  catalog: async (config, keys) => (await import('./catalog/worker')).startCatalogWorkers(config, keys),
  orders: async (config, keys) => (await import('./orders/worker')).startOrdersWorkers(config, keys),
  billing: async (config, keys) => (await import('./billing/worker')).startBillingWorkers(config, keys),
  notifications: async (config, keys) =>
    (await import('./notifications/worker')).startNotificationsWorkers(config, keys),
} satisfies Record<string, Starter>;

export type ServiceProcess = keyof typeof SERVICES;
export type WorkerProcess = keyof typeof WORKERS;
