import { type BinderyClient, createBinderyClient } from '@bindery/client';
import { expect, type Page } from '@playwright/test';
import { e2eEnvironment } from './environment';

export const environment = e2eEnvironment();

/** Signs in through the console's sign-in page, as a person would. */
export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/');
  await expect(page).toHaveURL(/\/signin/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
}

/** The typed client every Bindery app uses, straight at the gateway, signed in as `email`. */
export async function apiAs(email: string, password: string): Promise<BinderyClient> {
  const anonymous = createBinderyClient({ url: environment.gatewayUrl });
  const { accessToken } = await anonymous.auth.login.mutate({ email, password });
  return createBinderyClient({ url: environment.gatewayUrl, token: accessToken });
}

/** A user with `roles` and a password, made by the admin through the API. */
export async function createAccount(
  admin: BinderyClient,
  roles: ('admin' | 'operator' | 'viewer' | 'customer')[],
) {
  const password = `pw-${Math.random().toString(36).slice(2)}-long-enough`;
  const suffix = Math.random().toString(36).slice(2, 8);
  const user = await admin.users.create.mutate({
    email: `${roles[0]}-${suffix}@e2e.bindery.local`,
    name: `E2E ${roles[0]} ${suffix}`,
    roles,
    password,
  });
  return { ...user, password };
}

/** Waits until no loading indicator is left on the page. */
export async function settled(page: Page) {
  await expect(page.locator('main')).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: /Loading|Asking the gateway/ })).toHaveCount(0);
}
