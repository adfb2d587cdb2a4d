import { createLogger, createRedis, type Keys, type RunningService, startService } from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { registrationOptions, startDiscovery } from '../discovery';
import { createBillingRouter } from './router';
import { SandboxPaymentProvider } from './sandbox-provider';

/** The payment provider configured for this deployment; the sandbox is the only one built in. */
export function createPaymentProvider(config: ServiceConfig) {
  const redis = createRedis(config.REDIS_URL, {
    keyPrefix: `${config.REDIS_KEY_PREFIX}billing:`,
    name: 'bindery-billing',
  });
  return {
    provider: new SandboxPaymentProvider(redis, { latencyMs: config.PAYMENT_SANDBOX_LATENCY_MS }),
    redis,
  };
}

/** Starts the billing service: payments and refunds. */
export async function startBilling(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'billing', instance: config.INSTANCE_ID });
  const discovery = await startDiscovery(config, log);
  const database = await openServiceDatabase(config, 'billing');
  const { provider, redis } = createPaymentProvider(config);
  return startService({
    name: 'billing',
    log,
    router: createBillingRouter({ db: database.db, provider }),
    internalTokenSecret: keys.internalTokenSecret,
    trpcAdapter: config.TRPC_ADAPTER,
    host: config.HOST,
    port: config.BILLING_PORT,
    registration: registrationOptions(config, discovery),
    readiness: { database: database.ping, redis: () => redis.ping() },
    onClose: async () => {
      await database.close();
      await redis.quit();
      await discovery.close();
    },
  });
}
