import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { firstLoadJs, routeTable } from './support/first-load-js';

/** The budget of issue 6: no page of the console makes a browser download more than this, gzipped. */
const BUDGET_GZIP_BYTES = 250 * 1000;

test('first-load JavaScript of every route stays within 250 kB gzip', () => {
  const sizes = firstLoadJs(fileURLToPath(new URL('../.next', import.meta.url)));
  const table = routeTable(sizes);
  writeFileSync(test.info().outputPath('first-load-js.md'), `${table}\n`);
  console.log(`\nnext build, first-load JS per route:\n${table}\n`);
  expect(sizes.map((size) => size.route)).toEqual(
    expect.arrayContaining(['/', '/users', '/books', '/orders', '/orders/[id]', '/jobs', '/signin']),
  );
  for (const size of sizes) expect(size.gzipBytes, size.route).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
});
