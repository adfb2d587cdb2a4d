import { createAccessTokenSigner } from '@bindery/api';
import { createLogger, createRedis, type Keys, type RunningService, startService } from '@bindery/runtime';
import type { ServiceConfig } from '../config';
import { openServiceDatabase } from '../database';
import { balancedPeer, registrationOptions, startDiscovery } from '../discovery';
import type { UsersRouter } from '../users/router';
import { LoginLimiter } from './login-limiter';
import { createAuthRouter } from './router';

/** Starts the auth service: credentials, access tokens, API tokens and login limits. */
export async function startAuth(config: ServiceConfig, keys: Keys): Promise<RunningService> {
  const log = createLogger({ service: 'auth', instance: config.INSTANCE_ID });
  const discovery = await startDiscovery(config, log);
  const database = await openServiceDatabase(config, 'auth');
  const redis = createRedis(config.REDIS_URL, {
    keyPrefix: `${config.REDIS_KEY_PREFIX}auth:`,
    name: 'bindery-auth',
  });
  const sign = await createAccessTokenSigner(keys.accessTokenPrivateKeyPem);
  return startService({
    name: 'auth',
    log,
    router: createAuthRouter({
      db: database.db,
      users: balancedPeer<UsersRouter>(discovery, {
        self: 'auth',
        target: 'users',
        internalTokenSecret: keys.internalTokenSecret,
      }),
      limiter: new LoginLimiter(redis, {
        maxFailuresPerEmail: config.LOGIN_MAX_FAILURES_PER_EMAIL,
        maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
        windowSeconds: config.LOGIN_WINDOW_SECONDS,
      }),
      signAccessToken: sign,
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    }),
    internalTokenSecret: keys.internalTokenSecret,
    trpcAdapter: config.TRPC_ADAPTER,
    host: config.HOST,
    port: config.AUTH_PORT,
    registration: registrationOptions(config, discovery),
    readiness: { database: database.ping, redis: () => redis.ping() },
    onClose: async () => {
      await database.close();
      await redis.quit();
      await discovery.close();
    },
  });
}
