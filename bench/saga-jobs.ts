import { CONSUMERS, eventQueueName } from '../apps/services/src/events';
import type { TestPlatform } from '../apps/services/test/support/platform';
import { createQueue, createQueueRedis, queueStats } from '../packages/runtime/src/index';

const EVENT_QUEUES: readonly string[] = CONSUMERS.map(eventQueueName);

/** Jobs of the `*-events` queues the platform's workers have finished, by outcome, since the process started. */
export interface SagaJobCounts {
  completed: number;
  /** Attempts that failed, whether retried or given up. */
  failed: number;
}

/**
 * Reads the workers' `bindery_jobs_total` counter from their `/metrics`. Queue counts would not
 * do: the platform keeps at most 1,000 completed jobs per queue, so `getJobCounts().completed`
 * stops growing long before a large run ends.
 */
export async function sagaJobCounts(platform: TestPlatform): Promise<SagaJobCounts> {
  const worker = platform.workers.orders;
  if (!worker) throw new Error('The orders worker is not running in this process');
  const response = await fetch(`${worker.url}/metrics`);
  const text = await response.text();
  if (!text.includes('# TYPE bindery_jobs_total')) {
    throw new Error(`${worker.url}/metrics has no bindery_jobs_total counter`);
  }
  const counts: SagaJobCounts = { completed: 0, failed: 0 };
  for (const line of text.split('\n')) {
    const sample = /^bindery_jobs_total\{(.*)\} (\d+)$/.exec(line);
    if (!sample) continue;
    const labels = Object.fromEntries([...sample[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!EVENT_QUEUES.includes(labels.queue ?? '')) continue;
    if (labels.outcome === 'completed') counts.completed += Number(sample[2]);
    else counts.failed += Number(sample[2]);
  }
  return counts;
}

/**
 * Waits until the saga has nothing left to do: every outbox relayed, every `*-events` queue empty
 * and no job finished since the previous look. Handlers write their events before their job
 * completes, so a quiet look at the queues followed by empty outboxes and an unchanged count means
 * no work is hiding between the two.
 */
export async function waitUntilQuiet(platform: TestPlatform, timeoutMs = 120_000): Promise<void> {
  const connection = {
    redis: createQueueRedis(platform.config.REDIS_URL, 'bindery-bench-observer'),
    prefix: `${platform.config.REDIS_KEY_PREFIX}bull`,
  };
  const queues = EVENT_QUEUES.map((name) => createQueue(name, connection));
  try {
    const outboxes = await platform.sql<{ schema: string }[]>`
      select table_schema as schema from information_schema.tables where table_name = 'outbox'`;
    const deadline = Date.now() + timeoutMs;
    let previous = -1;
    for (;;) {
      const stats = await Promise.all(queues.map(queueStats));
      const busy = stats.some((queue) => queue.waiting + queue.active + queue.delayed > 0);
      let unsent = 0;
      for (const { schema } of outboxes) {
        const [row] = await platform.sql<{ count: number }[]>`
          select count(*)::int as count from ${platform.sql(schema)}.outbox where sent_at is null`;
        unsent += row!.count;
      }
      const { completed } = await sagaJobCounts(platform);
      if (!busy && unsent === 0 && completed === previous) return;
      if (Date.now() > deadline) {
        throw new Error(
          `The saga was still busy after ${timeoutMs} ms: ${JSON.stringify({ stats, unsent })}`,
        );
      }
      previous = completed;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await Promise.all(queues.map((queue) => queue.close()));
    await connection.redis.quit();
  }
}
