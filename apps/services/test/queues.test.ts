import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, createAccount, type TestAccount } from './support/accounts';
import { eventually, settled } from './support/orders';
import { startTestPlatform, type TestPlatform } from './support/platform';

let platform: TestPlatform;
let admin: TestAccount['client'];
let viewer: TestAccount;

beforeAll(async () => {
  platform = await startTestPlatform();
  admin = (await platform.signIn(platform.admin.email, platform.admin.password)).client;
  viewer = await createAccount(platform, ['viewer'], admin);
});
afterAll(() => platform?.close());

/** Puts a job no consumer understands on a queue: it fails at once, for good. */
async function addPoisonJob(queueName: string): Promise<string> {
  const redis = new Redis(platform.config.REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, {
    connection: redis,
    prefix: `${platform.config.REDIS_KEY_PREFIX}bull`,
  });
  const job = await queue.add('no.such.event', { id: 'poison' });
  await queue.close();
  await redis.quit();
  return job.id!;
}

describe('system.queues', () => {
  test('lists every queue with its counts; completed saga jobs show up', async () => {
    const book = await admin.catalog.books.create.mutate({
      title: 'Queued',
      author: 'Q',
      priceCents: 100,
      stock: 1,
    });
    const customer = await createAccount(platform, ['customer'], admin);
    const order = await customer.client.orders.create.mutate({
      items: [{ bookId: book.id, quantity: 1 }],
      idempotencyKey: 'q-1',
    });
    expect((await settled(customer.client, order.id)).status).toBe('CONFIRMED');
    const stats = await viewer.client.system.queues.list.query();
    expect(stats.map((queue) => queue.name)).toEqual([
      'catalog-events',
      'billing-events',
      'orders-events',
      'notifications-events',
      'orders-maintenance',
      'catalog-imports',
    ]);
    for (const queue of stats) {
      expect(queue).toEqual({
        name: queue.name,
        waiting: expect.any(Number),
        active: expect.any(Number),
        delayed: expect.any(Number),
        completed: expect.any(Number),
        failed: expect.any(Number),
        oldestWaitingAgeMs: expect.any(Number),
      });
    }
    expect(stats.find((queue) => queue.name === 'billing-events')!.completed).toBeGreaterThan(0);
  });

  test('a failed job is listed with its error; operators retry and remove it, viewers cannot', async () => {
    const jobId = await addPoisonJob('notifications-events');
    const failed = await eventually(
      () => viewer.client.system.queues.failed.query({ queue: 'notifications-events' }),
      (jobs) => jobs.some((job) => job.id === jobId),
    );
    expect(failed.find((job) => job.id === jobId)).toMatchObject({
      name: 'no.such.event',
      failedReason: 'notifications has no handler for no.such.event',
      attemptsMade: 1,
    });
    expect(
      await codeOf(viewer.client.system.queues.retry.mutate({ queue: 'notifications-events', jobId })),
    ).toBe('FORBIDDEN');

    await expect(admin.system.queues.retry.mutate({ queue: 'notifications-events', jobId })).resolves.toEqual(
      {
        queue: 'notifications-events',
        jobId,
      },
    );
    // Still poison: it fails again and is back among the failed.
    await eventually(
      () => admin.system.queues.failed.query({ queue: 'notifications-events' }),
      (jobs) => jobs.some((job) => job.id === jobId && job.attemptsMade >= 1),
    );
    await eventually(
      () =>
        admin.system.queues.remove.mutate({ queue: 'notifications-events', jobId }).then(
          () => true,
          () => false,
        ),
      (removed) => removed,
    );
    const after = await admin.system.queues.failed.query({ queue: 'notifications-events' });
    expect(after.some((job) => job.id === jobId)).toBe(false);
    expect(await codeOf(admin.system.queues.remove.mutate({ queue: 'notifications-events', jobId }))).toBe(
      'NOT_FOUND',
    );
  });

  test('unknown queues and jobs are clear errors', async () => {
    expect(await codeOf(admin.system.queues.failed.query({ queue: 'nope' as never }))).toBe('BAD_REQUEST');
    expect(
      await codeOf(admin.system.queues.retry.mutate({ queue: 'catalog-events', jobId: 'missing' })),
    ).toBe('NOT_FOUND');
  });
});
