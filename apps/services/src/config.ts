import { randomUUID } from 'node:crypto';
import { optionalUrl, parseEnv, port, STRATEGIES, type StrategyName, TRPC_ADAPTERS } from '@bindery/runtime';
import { z } from 'zod';

/** One URL or several, comma-separated. */
const urlList = () =>
  z
    .string()
    .optional()
    .transform((value) => {
      const urls = value
        ?.split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      return urls?.length ? urls : undefined;
    })
    .pipe(
      z
        .array(z.url({ protocol: /^https?$/, error: 'must be http(s) URLs, comma-separated' }))
        .min(1)
        .optional(),
    );

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
  /**
   * Where peers find each service with `DISCOVERY=static`: one URL or several, comma-separated;
   * defaults to HOST and the service's port.
   */
  USERS_URL: urlList(),
  AUTH_URL: urlList(),
  CATALOG_URL: urlList(),
  ORDERS_URL: urlList(),
  BILLING_URL: urlList(),
  NOTIFICATIONS_URL: urlList(),
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
  /**
   * Where instances find each other: `redis` (a registry in REDIS_URL, with change notifications),
   * `etcd` (leases and watches on DISCOVERY_ETCD_ENDPOINTS), `static` (the *_URL lists) or `dns`
   * (Kubernetes headless-service records, DISCOVERY_DNS_NAME).
   */
  DISCOVERY: z.enum(['redis', 'etcd', 'static', 'dns']).default('redis'),
  /** etcd endpoints for DISCOVERY=etcd, comma-separated. */
  DISCOVERY_ETCD_ENDPOINTS: z.string().default('http://127.0.0.1:2379'),
  /**
   * The DNS name of each service for DISCOVERY=dns; `{service}` is replaced by its name. A name
   * starting with `_` is read as SRV records (host and port per pod), any other as A records.
   */
  DISCOVERY_DNS_NAME: z.string().default('_http._tcp.{service}-headless.bindery.svc.cluster.local'),
  /** DNS servers for DISCOVERY=dns (`10.96.0.10:53`), comma-separated; the system's when unset. */
  DISCOVERY_DNS_SERVERS: z.string().optional(),
  /** How often DISCOVERY=dns resolves the names again, in milliseconds. */
  DISCOVERY_DNS_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  /** How long a registry entry outlives its instance's last heartbeat, in milliseconds. */
  DISCOVERY_TTL_MS: z.coerce.number().int().min(1_000).max(300_000).default(10_000),
  /** The URL peers reach this instance at, when not the one it listens on (behind NAT or a proxy). */
  ADVERTISE_URL: optionalUrl(),
  /** This instance's share of traffic under the `weighted` strategy, relative to the others. */
  INSTANCE_WEIGHT: z.coerce.number().min(0).max(1_000).default(1),
  /**
   * How callers spread calls over a service's instances: `p2c-ewma` (power of two choices over a
   * latency average), `round-robin`, `least-outstanding` or `weighted`.
   */
  LB_STRATEGY: z.enum(STRATEGIES).default('p2c-ewma'),
  /** Per-service strategies that override LB_STRATEGY: `catalog=weighted,users=round-robin`. */
  LB_STRATEGIES: z
    .string()
    .default('')
    .transform((value, context) => {
      const strategies: Record<string, StrategyName> = {};
      for (const entry of value.split(',').filter((part) => part.trim())) {
        const [service, strategy] = entry.split('=').map((part) => part.trim());
        if (!service || !(STRATEGIES as readonly string[]).includes(strategy ?? '')) {
          context.addIssue({
            code: 'custom',
            message: `"${entry}" is not service=strategy with a strategy among ${STRATEGIES.join(', ')}`,
          });
          return z.NEVER;
        }
        strategies[service] = strategy as StrategyName;
      }
      return strategies;
    }),
  /** How often callers ask each instance they use whether it is ready, in milliseconds; 0 turns it off. */
  HEALTH_CHECK_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /** Failures in a row that eject an instance from its callers' balancers. */
  EJECT_AFTER_FAILURES: z.coerce.number().int().min(1).max(1_000).default(5),
  /** How long the first ejection lasts, in milliseconds; repeated ejections last longer, up to 30 s. */
  EJECTION_MS: z.coerce.number().int().min(10).max(300_000).default(1_000),
  /** Calls in flight to one instance at most, per caller (bulkhead); past it, 429. */
  MAX_CONCURRENT_PER_INSTANCE: z.coerce.number().int().min(1).max(100_000).default(100),
  /** Retries allowed as a fraction of calls per service (a floor of 5 per second remains). */
  RETRY_BUDGET_RATIO: z.coerce.number().min(0).max(1).default(0.2),
  /**
   * How long an instance that received SIGTERM goes on serving after it announced it is leaving,
   * so that every caller has seen it go, in milliseconds.
   */
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /**
   * Which adapter serves each service's tRPC endpoint: `lean` (Bindery's, straight from Node's
   * request and response) or `stock` (tRPC's own node-http adapter). Clients cannot tell them apart.
   */
  TRPC_ADAPTER: z.enum(TRPC_ADAPTERS).default('lean'),
};

export type ServiceConfig = ReturnType<typeof loadServiceConfig>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = parseEnv(serviceEnv, env);
  const local = (servicePort: number) =>
    `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${servicePort}`;
  return {
    ...config,
    /** Every service's instances for DISCOVERY=static. */
    serviceUrls: {
      users: config.USERS_URL ?? [local(config.USERS_PORT)],
      auth: config.AUTH_URL ?? [local(config.AUTH_PORT)],
      catalog: config.CATALOG_URL ?? [local(config.CATALOG_PORT)],
      orders: config.ORDERS_URL ?? [local(config.ORDERS_PORT)],
      billing: config.BILLING_URL ?? [local(config.BILLING_PORT)],
      notifications: config.NOTIFICATIONS_URL ?? [local(config.NOTIFICATIONS_PORT)],
    },
    /** Each service's default port, for DISCOVERY=dns names read as A records. */
    servicePorts: {
      users: config.USERS_PORT,
      auth: config.AUTH_PORT,
      catalog: config.CATALOG_PORT,
      orders: config.ORDERS_PORT,
      billing: config.BILLING_PORT,
      notifications: config.NOTIFICATIONS_PORT,
      gateway: config.GATEWAY_PORT,
    },
  };
}
