import { randomUUID } from 'node:crypto';
import { optionalUrl, parseEnv, port } from '@bindery/runtime';
import { z } from 'zod';

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1');

/** Every variable a Bindery service process reads. The README's configuration table mirrors it. */
export const serviceEnv = {
  /** Where development keys and the embedded database live. */
  BINDERY_DATA_DIR: z.string().default('.data'),
  /** PostgreSQL; unset means the embedded PGlite database under BINDERY_DATA_DIR. */
  DATABASE_URL: optionalUrl(),
  /** Set by `npm start` when DATABASE_URL points at the embedded database served over the wire. */
  DATABASE_SHARED_SESSION: flag,
  /** Connections each process keeps to PostgreSQL. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key, so deployments and test runs can share one Redis. */
  REDIS_KEY_PREFIX: z.string().default('bindery:'),
  /** Interface services listen on. */
  HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: port(4000),
  USERS_PORT: port(4101),
  AUTH_PORT: port(4102),
  CATALOG_PORT: port(4103),
  ORDERS_PORT: port(4104),
  BILLING_PORT: port(4105),
  NOTIFICATIONS_PORT: port(4106),
  /** Where peers find each service (static discovery); defaults to HOST and the service's port. */
  USERS_URL: optionalUrl(),
  AUTH_URL: optionalUrl(),
  CATALOG_URL: optionalUrl(),
  ORDERS_URL: optionalUrl(),
  BILLING_URL: optionalUrl(),
  NOTIFICATIONS_URL: optionalUrl(),
  /** Lifetime of a user's access token, in seconds. */
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  /** Failed logins allowed per email, and per client address, within LOGIN_WINDOW_SECONDS. */
  LOGIN_MAX_FAILURES_PER_EMAIL: z.coerce.number().int().min(1).default(5),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(50),
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /** How long the gateway remembers an API token's owner; a revoked token stops working within it. */
  GATEWAY_API_TOKEN_CACHE_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
  /**
   * How often the gateway scrapes every instance's `/metrics` and `/readyz` for `system.metrics` and
   * `system.live`, in milliseconds; it keeps 90 points per service (15 minutes at the default).
   */
  GATEWAY_METRICS_INTERVAL_MS: z.coerce.number().int().min(50).max(300_000).default(10_000),
  /** How long an order may stay PENDING before it is failed and compensated, in milliseconds. */
  ORDER_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(120_000),
  /** The sandbox payment provider's simulated latency per call, in milliseconds. */
  PAYMENT_SANDBOX_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(50),
  /** SMTP server for notifications (`smtp://user:pass@host:587`); unset records them in the built-in outbox. */
  SMTP_URL: optionalUrl(),
  /** The sender of notifications. */
  MAIL_FROM: z.string().default('Bindery <no-reply@bindery.local>'),
  /** Port of a queue worker's probes and metrics; 0 picks a free one. */
  WORKER_PORT: port(0),
  /** How often an idle outbox relay looks for new events, in milliseconds. */
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(100),
  /** Identifies this process among instances of its service. */
  INSTANCE_ID: z.string().default(() => randomUUID().slice(0, 8)),
};

export type ServiceConfig = ReturnType<typeof loadServiceConfig>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = parseEnv(serviceEnv, env);
  const local = (servicePort: number) =>
    `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${servicePort}`;
  return {
    ...config,
    serviceUrls: {
      users: config.USERS_URL ?? local(config.USERS_PORT),
      auth: config.AUTH_URL ?? local(config.AUTH_PORT),
      catalog: config.CATALOG_URL ?? local(config.CATALOG_PORT),
      orders: config.ORDERS_URL ?? local(config.ORDERS_PORT),
      billing: config.BILLING_URL ?? local(config.BILLING_PORT),
      notifications: config.NOTIFICATIONS_URL ?? local(config.NOTIFICATIONS_PORT),
    },
  };
}
