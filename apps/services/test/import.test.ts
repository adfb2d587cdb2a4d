import { randomUUID } from 'node:crypto';
import type { BinderyClient, RouterOutputs } from '@bindery/client';
import { createQueue, createQueueRedis } from '@bindery/runtime';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BOOK_IMPORT_QUEUE, type BookImportJobData, runBookImport } from '../src/catalog/import';
import { openServiceDatabase } from '../src/database';
import { codeOf, createAccount, type TestAccount } from './support/accounts';
import { startTestPlatform, type TestPlatform } from './support/platform';

type ImportStatus = RouterOutputs['catalog']['books']['importStatus'];

let platform: TestPlatform;
let admin: BinderyClient;
let operator: TestAccount;
let viewer: TestAccount;
let queueRedis: Redis;
let imports: Queue;

beforeAll(async () => {
  platform = await startTestPlatform();
  admin = (await platform.signIn(platform.admin.email, platform.admin.password)).client;
  [operator, viewer] = await Promise.all([
    createAccount(platform, ['operator'], admin),
    createAccount(platform, ['viewer'], admin),
  ]);
  // The import queue as the catalog service sees it, to prove what a refused import left out.
  queueRedis = createQueueRedis(platform.config.REDIS_URL, 'bindery-import-test');
  imports = createQueue(BOOK_IMPORT_QUEUE, {
    redis: queueRedis,
    prefix: `${platform.config.REDIS_KEY_PREFIX}bull`,
  });
});
afterAll(async () => {
  await imports?.close();
  await queueRedis?.quit();
  await platform?.close();
});

async function queuedImports(): Promise<number> {
  const counts = await imports.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** Polls an import until it ends, returning every `done` seen on the way. */
async function finished(client: BinderyClient, jobId: string, timeoutMs = 20_000, intervalMs = 50) {
  const seen: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await client.catalog.books.importStatus.query({ jobId });
    seen.push(status.done);
    if (status.state === 'completed' || status.state === 'failed') return { status, seen };
    if (Date.now() > deadline) {
      throw new Error(`Import not finished in ${timeoutMs} ms; last status: ${JSON.stringify(status)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function importCsv(client: BinderyClient, csv: string): Promise<ImportStatus> {
  const { jobId } = await client.catalog.books.import.mutate({ csv });
  return (await finished(client, jobId)).status;
}

async function booksBy(author: string) {
  const page = await admin.catalog.books.list.query({ author, limit: 100 });
  return page.items
    .map(({ title, isbn, priceCents, stock }) => ({ title, isbn, priceCents, stock }))
    .sort((a, b) => a.title.localeCompare(b.title));
}

/** Lines are numbered as the status reports them: the header is line 1. */
const mixedCsv = [
  'Title,AUTHOR,isbn,PriceCents,stock',
  'Kindred,Octavia E. Butler,9780807083697,1650,4',
  'Parable of the Sower,Octavia E. Butler,,1400,',
  ',Octavia E. Butler,,1000,1',
  'Dawn,Octavia E. Butler,,-5,2',
  '"Wild Seed, a novel",Octavia E. Butler,,1200,3',
  'Bloodchild,Octavia E. Butler,978-0-446-67,900,1',
  'Fledgling,Octavia E. Butler,1100',
  'KINDRED,octavia e. butler,9780807083697,1700,4',
  'parable of the sower,OCTAVIA E. BUTLER,,1400,2',
  '',
  '"Lilith\'s Brood,\nthe trilogy",Octavia E. Butler,,2500,1',
  'Survivor,Octavia E. Butler,,12.5,-1',
  ',,, ,',
].join('\n');

const mixedRejections = [
  { line: 4, reason: 'title: must not be empty' },
  { line: 5, reason: 'priceCents: must not be negative' },
  { line: 7, reason: 'isbn: must be an ISBN-10 or ISBN-13 without dashes' },
  { line: 8, reason: 'has 3 fields; the header names 5' },
  { line: 9, reason: 'isbn: the same book as line 2' },
  { line: 10, reason: 'title, author: the same book as line 3' },
  { line: 14, reason: 'priceCents: must be a whole number of cents; stock: must not be negative' },
];

describe('catalog.books.import', () => {
  test('imports the good rows of a mixed file and names each bad row by line and rule', async () => {
    const { jobId, total } = await operator.client.catalog.books.import.mutate({ csv: mixedCsv });
    expect(total).toBe(11);
    const { status } = await finished(operator.client, jobId);
    expect(status).toEqual({
      jobId,
      state: 'completed',
      done: 11,
      total: 11,
      created: 4,
      updated: 0,
      skipped: 0,
      rejectedCount: 7,
      rejected: mixedRejections,
    });
    expect(await booksBy('Octavia E. Butler')).toEqual([
      { title: 'Kindred', isbn: '9780807083697', priceCents: 1650, stock: 4 },
      { title: "Lilith's Brood,\nthe trilogy", isbn: null, priceCents: 2500, stock: 1 },
      { title: 'Parable of the Sower', isbn: null, priceCents: 1400, stock: 0 },
      { title: 'Wild Seed, a novel', isbn: null, priceCents: 1200, stock: 3 },
    ]);
  });

  test('importing the same file again creates nothing; a changed file updates price and stock', async () => {
    const before = await platform.countRows('catalog.books');
    await expect(importCsv(admin, mixedCsv)).resolves.toMatchObject({
      state: 'completed',
      done: 11,
      created: 0,
      updated: 0,
      skipped: 4,
      rejectedCount: 7,
      rejected: mixedRejections,
    });
    expect(await platform.countRows('catalog.books')).toBe(before);

    // Matched by ISBN, else by title and author in any case; a row without stock keeps the book's.
    const changed = [
      'isbn,title,author,priceCents,stock',
      '9780807083697,Kindred,Octavia E. Butler,1650,10',
      ',Parable of the Sower,Octavia E. Butler,1500,',
      ',"WILD SEED, A NOVEL",octavia e. butler,1250,',
      ',"Lilith\'s Brood,\nthe trilogy",Octavia E. Butler,2500,1',
    ].join('\n');
    await expect(importCsv(admin, changed)).resolves.toMatchObject({
      state: 'completed',
      done: 4,
      created: 0,
      updated: 3,
      skipped: 1,
      rejectedCount: 0,
      rejected: [],
    });
    expect(await platform.countRows('catalog.books')).toBe(before);
    expect(await booksBy('Octavia E. Butler')).toEqual([
      { title: 'Kindred', isbn: '9780807083697', priceCents: 1650, stock: 10 },
      { title: "Lilith's Brood,\nthe trilogy", isbn: null, priceCents: 2500, stock: 1 },
      { title: 'Parable of the Sower', isbn: null, priceCents: 1500, stock: 0 },
      { title: 'Wild Seed, a novel', isbn: null, priceCents: 1250, stock: 3 },
    ]);
  });

  test('a file that cannot be imported as a whole is refused with BAD_REQUEST, and nothing is queued', async () => {
    const queued = await queuedImports();
    const books = await platform.countRows('catalog.books');
    const tooMany = `title,author,priceCents\n${'A book,An author,100\n'.repeat(100_001)}`;
    const cases: Record<string, string> = {
      empty: '',
      blank: '\n\n',
      'header only': 'title,author,priceCents\n',
      'missing column': 'title,author,stock\nA book,An author,1',
      'unknown column': 'title,author,priceCents,colour\nA book,An author,100,red',
      'repeated column': 'title,author,priceCents,Title\nA book,An author,100,Again',
      'unbalanced quote': 'title,author,priceCents\n"A book,An author,100\nB,C,200',
      'stray quote': 'title,author,priceCents\nA book,An "author",100',
      'too many rows': tooMany,
    };
    const refusals: Record<string, unknown> = {};
    for (const [name, csv] of Object.entries(cases)) {
      const error = await admin.catalog.books.import.mutate({ csv }).catch((caught: unknown) => caught);
      expect(error, name).toMatchObject({ data: { code: 'BAD_REQUEST', httpStatus: 400 } });
      refusals[name] = (error as Error).message;
    }
    expect(refusals).toEqual({
      empty: 'Invalid input: csv: must not be empty',
      blank: 'csv: must start with a header row',
      'header only': 'csv: has no rows below the header',
      'missing column': 'csv: is missing the column priceCents',
      'unknown column':
        'csv: has an unknown column "colour"; the columns are title, author, isbn, priceCents, stock',
      'repeated column': 'csv: names the column "title" twice',
      'unbalanced quote': 'csv: has a quote opened on line 2 that is never closed',
      'stray quote': expect.stringMatching(/^csv: is not valid CSV: Invalid Opening Quote: .* at line 2/),
      'too many rows': 'csv: at most 100000 rows',
    });
    expect(await queuedImports()).toBe(queued);
    expect(await platform.countRows('catalog.books')).toBe(books);
  });

  test('only operators and admins import or read an import', async () => {
    const { jobId } = await admin.catalog.books.import.mutate({
      csv: 'title,author,priceCents\nRoles,Access Tester,100',
    });
    expect(
      await codeOf(viewer.client.catalog.books.import.mutate({ csv: 'title,author,priceCents\nA,B,1' })),
    ).toBe('FORBIDDEN');
    expect(await codeOf(viewer.client.catalog.books.importStatus.query({ jobId }))).toBe('FORBIDDEN');
    expect(await codeOf(platform.client().catalog.books.importStatus.query({ jobId }))).toBe('UNAUTHORIZED');
    await expect(finished(operator.client, jobId)).resolves.toMatchObject({ status: { state: 'completed' } });
    expect(
      await codeOf(admin.catalog.books.importStatus.query({ jobId: '00000000-0000-4000-8000-000000000000' })),
    ).toBe('NOT_FOUND');
    expect(await codeOf(admin.catalog.books.importStatus.query({ jobId: 'nope' }))).toBe('BAD_REQUEST');
  });

  test('an import the catalog worker cannot read fails at once, and its status says why', async () => {
    // Only a job queued around the service can hold such a file; the service refuses it (above).
    const jobId = randomUUID();
    await imports.add('books', { csv: 'nope\n1', total: 1 }, { jobId });
    const { status } = await finished(admin, jobId);
    expect(status).toMatchObject({
      state: 'failed',
      done: 0,
      error: 'csv: has an unknown column "nope"; the columns are title, author, isbn, priceCents, stock',
    });
    expect((await imports.getJob(jobId))?.attemptsMade).toBe(1);
  });

  test('a retried import goes on after the last chunk it reported', async () => {
    const rows = Array.from({ length: 1_200 }, (_, index) => `Resumed book ${index},Resume Tester,${index}`);
    // A queue no worker takes, so this test runs the job itself as the worker's next attempt would.
    const retries = createQueue<BookImportJobData>('import-resume-test', {
      redis: queueRedis,
      prefix: `${platform.config.REDIS_KEY_PREFIX}bull`,
    });
    const catalogDb = await openServiceDatabase(platform.config, 'catalog');
    try {
      const job = await retries.add('books', {
        csv: `title,author,priceCents\n${rows.join('\n')}`,
        total: rows.length,
      });
      const reported = { done: 500, total: 1_200, created: 500, updated: 0, skipped: 0 };
      await job.updateProgress({ ...reported, rejectedCount: 0, rejected: [] });
      await expect(runBookImport(catalogDb.db, job)).resolves.toMatchObject({
        done: 1_200,
        created: 1_200,
        skipped: 0,
      });
    } finally {
      await catalogDb.close();
      await retries.close();
    }
    const [written] = await platform.sql<{ count: number; first: number }[]>`
      select count(*)::int as count, min(price_cents)::int as first
      from catalog.books where author = 'Resume Tester'`;
    expect(written).toEqual({ count: 700, first: 500 });
  });

  test('titles PostgreSQL folds to one case but JavaScript does not (ΣΑΣ, σασ) do not fail the import', async () => {
    const [row] = await platform.sql<{ folds: boolean }[]>`select lower('ΣΑΣ') = lower('σασ') as folds`;
    const folds = row!.folds;
    const status = await importCsv(
      admin,
      'title,author,priceCents\nΣΑΣ,Greek Chorus,100\nσασ,Greek Chorus,200',
    );
    expect(status).toMatchObject({
      state: 'completed',
      done: 2,
      rejectedCount: 0,
      ...(folds ? { created: 1, updated: 1 } : { created: 2, updated: 0 }),
    });
    expect((await booksBy('Greek Chorus')).map((book) => book.priceCents)).toEqual(
      folds ? [200] : [100, 200],
    );
  });

  test('a second book without ISBN of the same title and author is a 409, as the import relies on', async () => {
    const book = { title: 'Xenogenesis', author: 'Unique Index Tester', priceCents: 100 };
    await admin.catalog.books.create.mutate(book);
    expect(await codeOf(admin.catalog.books.create.mutate({ ...book, title: 'XENOGENESIS' }))).toBe(
      'CONFLICT',
    );
    await expect(
      admin.catalog.books.create.mutate({ ...book, isbn: '9780446603775' }),
    ).resolves.toMatchObject({
      isbn: '9780446603775',
    });
  });

  test('100,000 rows through the gateway, with progress along the way', { timeout: 120_000 }, async () => {
    const rows = Array.from({ length: 100_000 }, (_, index) =>
      index % 2 === 0
        ? `Bulk book ${index},Bulk Author ${index % 1000},978${String(index).padStart(10, '0')},${100 + (index % 5000)},${index % 50}`
        : `Bulk book ${index},Bulk Author ${index % 1000},,${100 + (index % 5000)},${index % 50}`,
    );
    const csv = `title,author,isbn,priceCents,stock\n${rows.join('\n')}\n`;
    expect(csv.length).toBeGreaterThan(1024 * 1024);
    const before = await platform.countRows('catalog.books');

    const startedAt = Date.now();
    const { jobId, total } = await admin.catalog.books.import.mutate({ csv });
    const enqueuedMs = Date.now() - startedAt;
    expect(total).toBe(100_000);
    const { status, seen } = await finished(admin, jobId, 90_000, 250);
    const elapsedMs = Date.now() - startedAt;
    console.info(`100,000-row import: queued in ${enqueuedMs} ms, completed in ${elapsedMs} ms`);

    expect(status).toMatchObject({
      state: 'completed',
      done: 100_000,
      total: 100_000,
      created: 100_000,
      rejectedCount: 0,
    });
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.some((done) => done > 0 && done < 100_000)).toBe(true);
    expect(await platform.countRows('catalog.books')).toBe(before + 100_000);
    expect(elapsedMs).toBeLessThan(60_000);
  });
});
