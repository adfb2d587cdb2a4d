import { randomBytes } from 'node:crypto';
import type { Role } from '@bindery/api';
import type { BinderyClient } from '@bindery/client';
import type { TestPlatform } from './platform';

export interface TestAccount {
  id: string;
  email: string;
  password: string;
  client: BinderyClient;
  accessToken: string;
}

/** Creates a user holding `roles` through the API (as the seeded admin) and signs them in. */
export async function createAccount(
  platform: TestPlatform,
  roles: Role[],
  admin?: BinderyClient,
): Promise<TestAccount> {
  const adminClient = admin ?? (await platform.signIn(platform.admin.email, platform.admin.password)).client;
  const email = `${roles.join('-')}-${randomBytes(4).toString('hex')}@bindery.test`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const user = await adminClient.users.create.mutate({
    email,
    name: `Test ${roles.join(' ')}`,
    roles,
    password,
  });
  const { client, accessToken } = await platform.signIn(email, password);
  return { id: user.id, email, password, client, accessToken };
}

/** The tRPC error code of a rejected call, for `await expect(codeOf(promise)).resolves.toBe(...)`. */
export async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    const data = (error as { data?: { code?: string } }).data;
    if (!data?.code) throw error;
    return data.code;
  }
}
