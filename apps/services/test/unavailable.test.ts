import { afterAll, beforeAll, expect, test } from 'vitest';
import { codeOf, createAccount, type TestAccount } from './support/accounts';
import { startTestPlatform, type TestPlatform } from './support/platform';

/** A service that is down makes its calls fail with 503, never with a 500 or a half-done change. */
let platform: TestPlatform;
let admin: TestAccount['client'];
let apiToken: string;

beforeAll(async () => {
  platform = await startTestPlatform({ GATEWAY_API_TOKEN_CACHE_MS: '0' });
  admin = (await platform.signIn(platform.admin.email, platform.admin.password)).client;
  apiToken = (
    await (await createAccount(platform, ['viewer'], admin)).client.auth.tokens.create.mutate({ name: 'app' })
  ).token;
  await platform.services.auth.close();
});
afterAll(() => platform?.close());

test('creating a user whose password auth must store rolls back when auth is down', async () => {
  const before = await platform.countRows('users.users');
  const error = await admin.users.create
    .mutate({ email: 'while-down@example.com', name: 'Down', password: 'a long enough password' })
    .catch((caught: unknown) => caught);
  expect(error).toMatchObject({ data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503 } });
  expect(await platform.countRows('users.users')).toBe(before);
});

test('calls to the service that is down are 503; calls to the others still work in the same batch', async () => {
  const [login, books] = await Promise.allSettled([
    platform.client().auth.login.mutate({ email: platform.admin.email, password: platform.admin.password }),
    admin.catalog.books.list.query(),
  ]);
  expect(login).toMatchObject({
    status: 'rejected',
    reason: { data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503 } },
  });
  expect(books.status).toBe('fulfilled');
  expect(await codeOf(platform.client(apiToken).catalog.books.list.query())).toBe('SERVICE_UNAVAILABLE');
});

test('system.health reports the service that is down', async () => {
  const health = await admin.system.health.query();
  expect(health.status).toBe('degraded');
  // It left the registry as it stopped: no instance is left to ask.
  expect(health.instances.find((instance) => instance.service === 'auth')).toBeUndefined();
  expect(health.warnings).toContain('auth has no instance registered');
  expect(health.instances.find((instance) => instance.service === 'catalog')).toMatchObject({
    status: 'ready',
  });
});
