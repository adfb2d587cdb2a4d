import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { BinderyClient } from '@bindery/client';
import { isBinderyError } from '@bindery/client';
import { expect, type Page, test } from '@playwright/test';
import { apiAs, createAccount, environment, settled, signIn } from './support/session';

test.describe.configure({ mode: 'serial' });

const SERVICES = ['gateway', 'users', 'auth', 'catalog', 'orders', 'billing', 'notifications'];

let admin: BinderyClient;
let viewer: { email: string; password: string };
let customer: { id: string };
let orderId: string;

test.beforeAll(async () => {
  admin = await apiAs(environment.admin.email, environment.admin.password);
  viewer = await createAccount(admin, ['viewer']);
  customer = await createAccount(admin, ['customer']);
});

test('every page but sign-in needs a session', async ({ page }) => {
  for (const path of ['/', '/users', '/books', '/orders', '/jobs']) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/signin/);
  }
  await expect(page.getByRole('heading', { name: 'Bindery console' })).toBeVisible();
  await page.getByLabel('Email').fill(environment.admin.email);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('form').getByRole('alert')).toHaveText('Email or password is wrong.');
});

test('signs in as the seeded admin', async ({ page }) => {
  await signIn(page, environment.admin.email, environment.admin.password);
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Overview', 'Users', 'Books', 'Orders', 'Jobs'])
    await expect(nav.getByRole('link', { name })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(page.getByText('Administrator (admin)')).toBeVisible();
});

test('the Overview shows every service as up, live', async ({ page }) => {
  await signIn(page, environment.admin.email, environment.admin.password);
  await settled(page);
  for (const service of SERVICES) {
    const card = page.getByRole('listitem', { name: service, exact: true });
    await expect(card.getByRole('heading', { name: service })).toBeVisible();
    await expect(card.locator('.badge')).toHaveText('up');
  }
  await expect(page.getByRole('img', { name: /^Topology: the gateway/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /catalog-events/ })).toBeVisible();
  // The system.live stream delivers a snapshot per scrape (every second in this run).
  await expect(page.getByText('● Live')).toBeVisible();
});

test('creates a book and sees it in the list', async ({ page }) => {
  await signIn(page, environment.admin.email, environment.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Books' }).click();
  await settled(page);
  await page.getByRole('button', { name: 'New book' }).click();
  const dialog = page.getByRole('dialog', { name: 'New book' });
  const title = `The Dispossessed ${Date.now()}`;
  await dialog.getByLabel('Title').fill(title);
  await dialog.getByLabel('Author').fill('Ursula K. Le Guin');
  await dialog.getByLabel('ISBN').fill('12-34');
  await dialog.getByLabel('Price (USD)').fill('12.5x');
  await dialog.getByRole('button', { name: 'Create book' }).click();
  // The catalog's own schema speaks beside the fields before anything is sent.
  await expect(dialog.getByText('must be an ISBN-10 or ISBN-13 without dashes')).toBeVisible();
  await expect(dialog.getByText('must be an amount such as 12.99')).toBeVisible();
  await dialog.getByLabel('ISBN').fill('');
  await dialog.getByLabel('Price (USD)').fill('17.99');
  await dialog.getByLabel('Stock').fill('5');
  await dialog.getByRole('button', { name: 'Create book' }).click();
  await expect(dialog).toBeHidden();
  await page.getByLabel('Search books').fill('Dispossessed');
  const row = page.getByRole('row', { name: new RegExp(title) });
  await expect(row).toBeVisible();
  await expect(row).toContainText('$17.99');
  await expect(row).toContainText('5');
});

test('an order placed through the API reaches CONFIRMED on its page', async ({ page }) => {
  const { items } = await admin.catalog.books.list.query({ search: 'Kindred', limit: 1 });
  const order = await admin.orders.create.mutate({
    items: [{ bookId: items[0]!.id, quantity: 2 }],
    idempotencyKey: `e2e-${Date.now()}`,
    userId: customer.id,
  });
  orderId = order.id;
  await signIn(page, environment.admin.email, environment.admin.password);
  await page.goto(`/orders/${order.id}`);
  await expect(page.getByRole('heading', { name: `Order ${order.id.slice(0, 8)}` })).toBeVisible();
  const summary = page.getByRole('region', { name: 'Summary' });
  await expect(summary.locator('.badge')).toHaveText('CONFIRMED', { timeout: 60_000 });
  const timeline = page.getByRole('region', { name: 'Saga timeline' });
  for (const step of ['Order placed', 'Stock reserved', 'Payment captured', 'Confirmed'])
    await expect(timeline.getByText(step, { exact: true })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Payment' }).locator('.badge')).toHaveText('captured');
  await expect(page.getByRole('region', { name: 'Notifications' })).toContainText('confirmed', {
    timeout: 30_000,
  });
  await expect(page.getByRole('button', { name: 'Cancel order' })).toBeVisible();
});

test('a viewer sees no edit controls, and a direct write by the viewer is refused', async ({ page }) => {
  await signIn(page, viewer.email, viewer.password);
  await page.goto('/books');
  await settled(page);
  await expect(page.getByRole('row').nth(1)).toBeVisible();
  for (const name of ['New book', 'Import CSV', /^Edit /, /^Adjust stock/, 'Delete'])
    await expect(page.getByRole('button', { name })).toHaveCount(0);
  await page.goto('/users');
  await settled(page);
  for (const name of ['New user', /^Edit /, 'Disable', 'Create token'])
    await expect(page.getByRole('button', { name })).toHaveCount(0);
  await page.goto(`/orders/${orderId}`);
  await settled(page);
  await expect(page.getByRole('region', { name: 'Payment' }).locator('.badge')).toHaveText('captured');
  for (const name of ['Cancel order', 'Refund'])
    await expect(page.getByRole('button', { name })).toHaveCount(0);

  // A hidden button is not the guard: the gateway refuses the viewer's write, directly…
  const api = await apiAs(viewer.email, viewer.password);
  const refused = await api.catalog.books.create
    .mutate({ title: 'Not allowed', author: 'Viewer', priceCents: 100 })
    .catch((error: unknown) => error);
  expect(isBinderyError(refused) && refused.data?.code).toBe('FORBIDDEN');
  // …and through the console's own relay, with the viewer's session.
  const relayed = await page.request.post('/api/trpc/catalog.books.create', {
    data: { title: 'Not allowed', author: 'Viewer', priceCents: 100 },
  });
  expect(relayed.status()).toBe(403);
  const { items } = await admin.catalog.books.list.query({ search: 'Not allowed' });
  expect(items).toEqual([]);
});

const PAGES = [
  { name: 'overview', path: '/', heading: 'Overview' },
  { name: 'users', path: '/users', heading: 'Users' },
  { name: 'books', path: '/books', heading: 'Books' },
  { name: 'orders', path: '/orders', heading: 'Orders' },
  { name: 'order', path: () => `/orders/${orderId}`, heading: /^Order / },
  { name: 'jobs', path: '/jobs', heading: 'Jobs' },
];

async function checkPage(page: Page, name: string, width: number) {
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const serious = axe.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target).join(', ')})`,
    );
  expect(serious, `${name} at ${width} px`).toEqual([]);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(scrollWidth, `${name} at ${width} px scrolls sideways`).toBeLessThanOrEqual(width + 1);
  // Every page, kept as an artifact of the run: test-results/screenshots/<page>-<width>.png.
  const path = join(test.info().project.outputDir, 'screenshots', `${name}-${width}.png`);
  await page.screenshot({ path, fullPage: true });
  await test.info().attach(`${name}-${width}`, { path, contentType: 'image/png' });
}

for (const width of [1280, 390]) {
  test(`every page at ${width} px: screenshot, no serious accessibility violation`, async ({ page }) => {
    await page.setViewportSize({ width, height: width > 800 ? 900 : 844 });
    await page.goto('/signin');
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await checkPage(page, 'signin', width);
    await signIn(page, environment.admin.email, environment.admin.password);
    for (const entry of PAGES) {
      await page.goto(typeof entry.path === 'function' ? entry.path() : entry.path);
      await expect(page.getByRole('heading', { name: entry.heading, level: 1 })).toBeVisible();
      await settled(page);
      await checkPage(page, entry.name, width);
    }
  });
}
