import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, createAccount, type TestAccount } from './support/accounts';
import { startTestPlatform, type TestPlatform } from './support/platform';

let platform: TestPlatform;
let admin: TestAccount['client'];
let adminId: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  admin = (await platform.signIn(platform.admin.email, platform.admin.password)).client;
  adminId = (await admin.auth.me.query()).id;
});
afterAll(() => platform?.close());

describe('users', () => {
  test('an admin creates a user with a password, who can then sign in', async () => {
    const user = await admin.users.create.mutate({
      email: 'Reader@Example.com',
      name: 'Ada Reader',
      roles: ['operator', 'operator'],
      password: 'a long enough password',
    });
    expect(user).toMatchObject({
      email: 'Reader@Example.com',
      name: 'Ada Reader',
      roles: ['operator'],
      status: 'active',
    });
    const signedIn = await platform
      .client()
      .auth.login.mutate({ email: 'reader@example.com', password: 'a long enough password' });
    expect(signedIn.user.id).toBe(user.id);
    expect(new Date(signedIn.expiresAt).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
  });

  test('emails are unique without regard to case: a duplicate is 409 and adds nothing', async () => {
    await admin.users.create.mutate({ email: 'dup@example.com', name: 'First' });
    const before = await platform.countRows('users.users');
    const error = await admin.users.create
      .mutate({ email: 'DUP@example.com', name: 'Second' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      message: 'A record with this email already exists',
      data: { code: 'CONFLICT' },
    });
    expect(await platform.countRows('users.users')).toBe(before);
  });

  test('a password below the policy is refused before anything is stored', async () => {
    const [users, credentials] = [
      await platform.countRows('users.users'),
      await platform.countRows('auth.credentials'),
    ];
    const error = await admin.users.create
      .mutate({ email: 'weak@example.com', name: 'Weak', password: 'short' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      data: {
        code: 'BAD_REQUEST',
        issues: [{ path: 'password', message: 'must be at least 12 characters' }],
      },
    });
    expect(await platform.countRows('users.users')).toBe(users);
    expect(await platform.countRows('auth.credentials')).toBe(credentials);
  });

  test('bad input names each field and changes nothing', async () => {
    const before = await platform.countRows('users.users');
    for (const input of [
      { email: 'not-an-email', name: 'X' },
      { email: 'x@example.com', name: '' },
      { email: 'x@example.com', name: 'X', roles: [] },
      { email: 'x@example.com', name: 'X', roles: ['superuser'] },
      { email: 'x@example.com', name: 'X', isAdmin: true },
    ]) {
      expect(await codeOf(admin.users.create.mutate(input as never))).toBe('BAD_REQUEST');
    }
    expect(await platform.countRows('users.users')).toBe(before);
  });

  test('list filters by search, role and status and pages with a cursor', async () => {
    const tag = `filter${Date.now()}`;
    for (const [index, roles] of (['viewer', 'viewer', 'customer'] as const).entries()) {
      await admin.users.create.mutate({
        email: `${tag}-${index}@example.com`,
        name: `${tag} ${index}`,
        roles: [roles],
      });
    }
    const viewers = await admin.users.list.query({ search: tag, role: 'viewer' });
    expect(viewers.items.map((user) => user.email)).toEqual([`${tag}-1@example.com`, `${tag}-0@example.com`]);
    const first = await admin.users.list.query({ search: tag, limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await admin.users.list.query({ search: tag, limit: 2, cursor: first.nextCursor! });
    expect(second).toMatchObject({ items: [{ email: `${tag}-0@example.com` }], nextCursor: null });
    expect((await admin.users.list.query({ search: tag, status: 'disabled' })).items).toEqual([]);
  });

  test('a disabled user cannot sign in, and is enabled again', async () => {
    const account = await createAccount(platform, ['viewer'], admin);
    await expect(admin.users.disable.mutate({ id: account.id })).resolves.toMatchObject({
      status: 'disabled',
    });
    expect(
      await codeOf(platform.client().auth.login.mutate({ email: account.email, password: account.password })),
    ).toBe('FORBIDDEN');
    await admin.users.enable.mutate({ id: account.id });
    await expect(platform.signIn(account.email, account.password)).resolves.toHaveProperty('accessToken');
  });

  test('an admin cannot disable their own account', async () => {
    expect(await codeOf(admin.users.disable.mutate({ id: adminId }))).toBe('BAD_REQUEST');
  });

  test('update changes roles and email; a missing user is 404', async () => {
    const account = await createAccount(platform, ['customer'], admin);
    await expect(
      admin.users.update.mutate({ id: account.id, roles: ['viewer'], name: 'Renamed' }),
    ).resolves.toMatchObject({
      roles: ['viewer'],
      name: 'Renamed',
    });
    expect(
      await codeOf(admin.users.update.mutate({ id: '00000000-0000-4000-8000-000000000000', name: 'Nobody' })),
    ).toBe('NOT_FOUND');
  });

  test('customers read only their own profile; only staff list; only admins write', async () => {
    const [customer, other, operator] = await Promise.all([
      createAccount(platform, ['customer'], admin),
      createAccount(platform, ['customer'], admin),
      createAccount(platform, ['operator'], admin),
    ]);
    await expect(customer.client.users.byId.query({ id: customer.id })).resolves.toMatchObject({
      id: customer.id,
    });
    expect(await codeOf(customer.client.users.byId.query({ id: other.id }))).toBe('FORBIDDEN');
    expect(await codeOf(customer.client.users.list.query())).toBe('FORBIDDEN');
    await expect(operator.client.users.byId.query({ id: other.id })).resolves.toMatchObject({ id: other.id });
    expect(await codeOf(operator.client.users.create.mutate({ email: 'op@example.com', name: 'Op' }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(operator.client.users.disable.mutate({ id: other.id }))).toBe('FORBIDDEN');
  });

  test('service-only procedures cannot be reached through the gateway, even by an admin', async () => {
    expect(await codeOf(admin.users.internal.byEmail.query({ email: platform.admin.email }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(admin.users.internal.byId.query({ id: adminId }))).toBe('FORBIDDEN');
    expect(
      await codeOf(admin.auth.credentials.set.mutate({ userId: adminId, password: 'taken over password!' })),
    ).toBe('FORBIDDEN');
    expect(await codeOf(admin.auth.internal.resolveApiToken.query({ token: 'bnd_x' }))).toBe('FORBIDDEN');
    await expect(platform.signIn(platform.admin.email, platform.admin.password)).resolves.toHaveProperty(
      'accessToken',
    );
  });
});
