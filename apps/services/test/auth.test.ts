import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, createAccount, type TestAccount } from './support/accounts';
import { startTestPlatform, type TestPlatform } from './support/platform';

let platform: TestPlatform;
let admin: TestAccount['client'];

beforeAll(async () => {
  platform = await startTestPlatform({
    LOGIN_MAX_FAILURES_PER_EMAIL: '3',
    LOGIN_MAX_FAILURES_PER_IP: '8',
    GATEWAY_API_TOKEN_CACHE_MS: '0',
  });
  admin = (await platform.signIn(platform.admin.email, platform.admin.password)).client;
});
afterAll(() => platform?.close());

describe('auth.login', () => {
  test('a wrong password and an unknown email get the same 401', async () => {
    const anonymous = platform.client();
    const wrongPassword = await anonymous.auth.login
      .mutate({ email: platform.admin.email, password: 'not the password' })
      .catch((caught: unknown) => caught);
    const unknownEmail = await anonymous.auth.login
      .mutate({ email: 'nobody@example.com', password: 'not the password' })
      .catch((caught: unknown) => caught);
    expect(wrongPassword).toMatchObject({
      message: 'Email or password is wrong',
      data: { code: 'UNAUTHORIZED' },
    });
    expect(unknownEmail).toMatchObject({
      message: 'Email or password is wrong',
      data: { code: 'UNAUTHORIZED' },
    });
    await platform.signIn(platform.admin.email, platform.admin.password);
  });

  test('failures are limited per email: past the limit even the right password is refused', async () => {
    const account = await createAccount(platform, ['viewer'], admin);
    const anonymous = platform.client();
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(
        await codeOf(anonymous.auth.login.mutate({ email: account.email, password: 'wrong password' })),
      ).toBe('UNAUTHORIZED');
    }
    const limited = await anonymous.auth.login
      .mutate({ email: account.email.toUpperCase(), password: account.password })
      .catch((caught: unknown) => caught);
    expect(limited).toMatchObject({ data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 } });
    expect((limited as Error).message).toMatch(/try again in \d+ seconds/);
  });
});

describe('API tokens', () => {
  test('a token is shown once, works through the gateway, is listed without its secret, and stops when revoked', async () => {
    const account = await createAccount(platform, ['operator'], admin);
    const created = await account.client.auth.tokens.create.mutate({
      name: 'inventory sync',
      expiresInDays: 30,
    });
    expect(created.token).toMatch(/^bnd_[\w-]{22}_[\w-]{43}$/);

    const app = platform.client(created.token);
    await expect(app.auth.me.query()).resolves.toMatchObject({ id: account.id });
    await expect(
      app.catalog.books.create.mutate({ title: 'Via token', author: 'App', priceCents: 100 }),
    ).resolves.toHaveProperty('id');

    const listed = await account.client.auth.tokens.list.query();
    expect(listed).toEqual([
      expect.objectContaining({ id: created.id, name: 'inventory sync', revokedAt: null }),
    ]);
    // base64url may itself hold '_', so the secret is the token's last 43 characters, not a split piece
    expect(JSON.stringify(listed)).not.toContain(created.token.slice(-43));
    expect(listed[0]!.lastUsedAt).not.toBeNull();

    await account.client.auth.tokens.revoke.mutate({ id: created.id });
    expect(await codeOf(app.auth.me.query())).toBe('UNAUTHORIZED');
  });

  test('a forged or tampered token is 401', async () => {
    const { token } = await admin.auth.tokens.create.mutate({ name: 'tamper' });
    const tampered = `${token.slice(0, -4)}AAAA`;
    expect(await codeOf(platform.client(tampered).auth.me.query())).toBe('UNAUTHORIZED');
    expect(await codeOf(platform.client('bnd_nonsense').auth.me.query())).toBe('UNAUTHORIZED');
  });

  test("a disabled user's API token stops working", async () => {
    const account = await createAccount(platform, ['viewer'], admin);
    const { token } = await account.client.auth.tokens.create.mutate({ name: 'will be disabled' });
    await expect(platform.client(token).auth.me.query()).resolves.toMatchObject({ id: account.id });
    await admin.users.disable.mutate({ id: account.id });
    expect(await codeOf(platform.client(token).auth.me.query())).toBe('UNAUTHORIZED');
  });

  test("users revoke only their own tokens; admins revoke anyone's", async () => {
    const [owner, other] = await Promise.all([
      createAccount(platform, ['viewer'], admin),
      createAccount(platform, ['viewer'], admin),
    ]);
    const { id } = await owner.client.auth.tokens.create.mutate({ name: 'mine' });
    expect(await codeOf(other.client.auth.tokens.revoke.mutate({ id }))).toBe('NOT_FOUND');
    await expect(admin.auth.tokens.revoke.mutate({ id })).resolves.toMatchObject({ id });
  });

  test('bad token input is 400 and stores nothing', async () => {
    const before = await platform.countRows('auth.api_tokens');
    expect(await codeOf(admin.auth.tokens.create.mutate({ name: '' }))).toBe('BAD_REQUEST');
    expect(await codeOf(admin.auth.tokens.create.mutate({ name: 'x', expiresInDays: 0 }))).toBe(
      'BAD_REQUEST',
    );
    expect(await platform.countRows('auth.api_tokens')).toBe(before);
  });
});

// Last: it spends the address's allowance that every other test in this file shares.
describe('auth.login per address', () => {
  test('failures are limited per client address across emails', async () => {
    const anonymous = platform.client();
    const codes: string[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      codes.push(
        await codeOf(
          anonymous.auth.login.mutate({ email: `guess-${attempt}@example.com`, password: 'guess' }),
        ),
      );
    }
    expect(codes.slice(-2)).toEqual(['TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS']);
    expect(codes.filter((code) => code === 'UNAUTHORIZED').length).toBeLessThanOrEqual(8);
  });
});
