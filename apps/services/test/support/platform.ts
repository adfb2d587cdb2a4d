import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BinderyClient, createBinderyClient } from '@bindery/client';
import { createTestDatabase } from '@bindery/db/testing';
import { type Keys, loadKeys, type RunningService } from '@bindery/runtime';
import postgres from 'postgres';
import { startAuth } from '../../src/auth/main';
import { startCatalog } from '../../src/catalog/main';
import { loadServiceConfig, type ServiceConfig } from '../../src/config';
import { startGateway } from '../../src/gateway/main';
import { seed } from '../../src/seed';
import { startUsers } from '../../src/users/main';

export interface TestPlatform {
  gatewayUrl: string;
  services: Record<'users' | 'auth' | 'catalog', RunningService>;
  config: ServiceConfig;
  keys: Keys;
  databaseUrl: string;
  admin: { email: string; password: string };
  /** A client through the gateway, as `token` (anonymous without one). */
  client(token?: string | null): BinderyClient;
  /** Rows in a service's table, read straight from Postgres to prove what a call did or did not change. */
  countRows(table: 'users.users' | 'auth.credentials' | 'auth.api_tokens' | 'catalog.books'): Promise<number>;
  /** Signs in through the gateway and returns a client holding the access token. */
  signIn(email: string, password: string): Promise<{ client: BinderyClient; accessToken: string }>;
  close(): Promise<void>;
}

/**
 * Every service and the gateway on free ports in this process, on a fresh database of the real
 * PostgreSQL and a private key prefix of the real Redis: test files run in parallel and again.
 */
export async function startTestPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bindery-test-'));
  const config = loadServiceConfig({
    DATABASE_URL: database.url,
    BINDERY_DATA_DIR: dataDir,
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `bindery-test:${randomBytes(6).toString('hex')}:`,
    GATEWAY_PORT: '0',
    USERS_PORT: '0',
    AUTH_PORT: '0',
    CATALOG_PORT: '0',
    ...env,
  });
  const keys = await loadKeys({ dataDir, env: {} });
  const admin = { email: 'admin@bindery.test', password: 'correct horse battery staple' };
  const users = await startUsers(config, keys);
  const auth = await startAuth(config, keys);
  const catalog = await startCatalog(config, keys);
  Object.assign(config.serviceUrls, { users: users.url, auth: auth.url, catalog: catalog.url });
  const gateway = await startGateway(config, keys);
  await seed(config, admin, { sampleBooks: false });

  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const client = (token?: string | null) => createBinderyClient({ url: gateway.url, token: token ?? null });
  return {
    gatewayUrl: gateway.url,
    services: { users, auth, catalog },
    config,
    keys,
    databaseUrl: database.url,
    admin,
    client,
    async countRows(table) {
      const [row] = await sql<{ count: number }[]>`select count(*)::int as count from ${sql(table)}`;
      return row!.count;
    },
    async signIn(email, password) {
      const { accessToken } = await client().auth.login.mutate({ email, password });
      return { client: client(accessToken), accessToken };
    },
    async close() {
      await gateway.close();
      await Promise.all([users.close(), auth.close(), catalog.close()]);
      await sql.end();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
