import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, createAccount, type TestAccount } from './support/accounts';
import { startTestPlatform, type TestPlatform } from './support/platform';

let platform: TestPlatform;
let admin: TestAccount['client'];
let viewer: TestAccount;
let customer: TestAccount;

beforeAll(async () => {
  platform = await startTestPlatform();
  admin = (await platform.signIn(platform.admin.email, platform.admin.password)).client;
  [viewer, customer] = await Promise.all([
    createAccount(platform, ['viewer'], admin),
    createAccount(platform, ['customer'], admin),
  ]);
});
afterAll(() => platform?.close());

const book = { title: 'A Wizard of Earthsea', author: 'Ursula K. Le Guin', priceCents: 1299, stock: 3 };

describe('catalog.books through the gateway', () => {
  test('create, read, update and delete a book', async () => {
    const created = await admin.catalog.books.create.mutate({ ...book, isbn: '9780547773742' });
    expect(created).toMatchObject({ ...book, isbn: '9780547773742' });
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);

    await expect(admin.catalog.books.byId.query({ id: created.id })).resolves.toEqual(created);
    const updated = await admin.catalog.books.update.mutate({ id: created.id, priceCents: 1499, stock: 0 });
    expect(updated).toMatchObject({ id: created.id, priceCents: 1499, stock: 0, title: book.title });
    expect(updated.updatedAt >= created.updatedAt).toBe(true);

    await expect(admin.catalog.books.delete.mutate({ id: created.id })).resolves.toEqual({ id: created.id });
    expect(await codeOf(admin.catalog.books.byId.query({ id: created.id }))).toBe('NOT_FOUND');
    expect(await codeOf(admin.catalog.books.delete.mutate({ id: created.id }))).toBe('NOT_FOUND');
  });

  test('bad input is a 400 naming each field, and changes nothing', async () => {
    const before = await platform.countRows('catalog.books');
    const cases = [
      { input: { ...book, title: '' }, path: 'title' },
      { input: { ...book, title: '   ' }, path: 'title' },
      { input: { ...book, priceCents: -1 }, path: 'priceCents' },
      { input: { ...book, priceCents: 12.5 }, path: 'priceCents' },
      { input: { ...book, stock: -3 }, path: 'stock' },
      { input: { ...book, isbn: '978-0547773742' }, path: 'isbn' },
      { input: { ...book, extra: 'field' }, path: 'extra' },
    ];
    for (const { input, path } of cases) {
      const error = await admin.catalog.books.create
        .mutate(input as typeof book)
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ data: { code: 'BAD_REQUEST', httpStatus: 400 } });
      const issues = (error as { data: { issues: { path: string }[] } }).data.issues;
      expect(issues.map((issue) => issue.path)).toContain(path);
    }
    expect(await platform.countRows('catalog.books')).toBe(before);
  });

  test('a duplicate ISBN is a 409 that names the field, not the value', async () => {
    await admin.catalog.books.create.mutate({ ...book, isbn: '0441478123' });
    const before = await platform.countRows('catalog.books');
    const error = await admin.catalog.books.create
      .mutate({ ...book, isbn: '0441478123' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      message: 'A record with this isbn already exists',
      data: { code: 'CONFLICT', httpStatus: 409 },
    });
    expect(await platform.countRows('catalog.books')).toBe(before);
  });

  test('list pages through every book once, newest first, and searches title and author', async () => {
    const author = `Paginated Author ${Date.now()}`;
    const ids: string[] = [];
    for (let index = 0; index < 7; index++) {
      ids.push(
        (await admin.catalog.books.create.mutate({ ...book, title: `Volume ${index} 100%_done`, author })).id,
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await viewer.client.catalog.books.list.query({
        author,
        limit: 3,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const found = await customer.client.catalog.books.list.query({ search: '6 100%_' });
    expect(found.items.map((item) => item.id)).toEqual([ids[6]]);
    expect((await admin.catalog.books.list.query({ search: '%' })).items.length).toBeGreaterThan(0);
    expect(await codeOf(admin.catalog.books.list.query({ cursor: 'not-a-cursor' }))).toBe('BAD_REQUEST');
    expect(await codeOf(admin.catalog.books.list.query({ limit: 101 }))).toBe('BAD_REQUEST');
  });

  test('viewers and customers read; only operators and admins write; anonymous callers must sign in', async () => {
    const created = await admin.catalog.books.create.mutate(book);
    const operator = await createAccount(platform, ['operator'], admin);
    await expect(viewer.client.catalog.books.byId.query({ id: created.id })).resolves.toMatchObject({
      id: created.id,
    });
    await expect(customer.client.catalog.books.byId.query({ id: created.id })).resolves.toMatchObject({
      id: created.id,
    });
    expect(await codeOf(viewer.client.catalog.books.create.mutate(book))).toBe('FORBIDDEN');
    expect(await codeOf(customer.client.catalog.books.update.mutate({ id: created.id, stock: 1 }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(customer.client.catalog.books.delete.mutate({ id: created.id }))).toBe('FORBIDDEN');
    expect(await codeOf(platform.client().catalog.books.list.query())).toBe('UNAUTHORIZED');
    await expect(
      operator.client.catalog.books.update.mutate({ id: created.id, stock: 9 }),
    ).resolves.toMatchObject({ stock: 9 });
  });
});
