import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestPlatform, type TestPlatform } from './support/platform';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(() => platform?.close());

test('an admin signs in, creates a book and reads it back through the gateway', async () => {
  const { client } = await platform.signIn(platform.admin.email, platform.admin.password);
  const book = await client.catalog.books.create.mutate({
    title: 'Dune',
    author: 'Frank Herbert',
    priceCents: 999,
  });
  const read = await client.catalog.books.byId.query({ id: book.id });
  expect(read).toEqual(book);
  const [me, list] = await Promise.all([client.auth.me.query(), client.catalog.books.list.query()]);
  expect(me.email).toBe(platform.admin.email);
  expect(list.items.map((item) => item.id)).toContain(book.id);
});
