import { randomBytes } from 'node:crypto';
import { createQueue, createQueueRedis, createWorker } from '../packages/runtime/src/index';

export interface NoopJobsResult {
  jobs: number;
  elapsedMs: number;
  jobsPerSecond: number;
}

/** Jobs added per `addBulk` call: enough that adding never holds the worker back. */
const ADD_BATCH = 100;

/**
 * The baseline: how fast BullMQ moves jobs that do nothing through this Redis, with the saga
 * workers' settings (the platform's job options and a worker of concurrency 8) under a private key
 * prefix. Jobs are added in batches while the worker runs; the clock runs from the first add to the
 * last completion. The queue's keys are removed afterwards.
 */
export async function measureNoopJobs(redisUrl: string, jobs: number): Promise<NoopJobsResult> {
  const connection = {
    redis: createQueueRedis(redisUrl, 'bindery-bench-noop'),
    prefix: `bindery-bench:${randomBytes(6).toString('hex')}:bull`,
  };
  const queue = createQueue('noop', connection);
  let completed = 0;
  let failure: Error | undefined;
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = createWorker('noop', connection, async () => {});
  worker.on('completed', () => {
    completed += 1;
    if (completed === jobs) finish();
  });
  // A no-op job cannot fail unless Redis does: stop at once and report it rather than wait forever.
  worker.on('failed', (_job, error) => {
    failure ??= error;
    finish();
  });
  try {
    await worker.waitUntilReady();
    const startedAt = performance.now();
    for (let first = 0; first < jobs; first += ADD_BATCH) {
      const count = Math.min(ADD_BATCH, jobs - first);
      await queue.addBulk(
        Array.from({ length: count }, (_, index) => ({ name: 'noop', data: { n: first + index } })),
      );
    }
    await done;
    if (failure) throw failure;
    const elapsedMs = performance.now() - startedAt;
    return { jobs, elapsedMs, jobsPerSecond: jobs / (elapsedMs / 1000) };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await connection.redis.quit();
  }
}
