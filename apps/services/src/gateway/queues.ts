import { createQueue, createQueueRedis, type QueueStats, queueStats, withTimeout } from '@bindery/runtime';
import { TRPCError } from '@trpc/server';
import type { Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import { QUEUE_NAMES } from '../queue-names';

/** Inspectors of this process, read when Prometheus scrapes (one per gateway; tests may start more). */
const inspectors = new Set<QueueInspector>();

/**
 * Reads queue counts when `/metrics` is scraped. A Redis that does not answer within 2 s leaves the
 * series out rather than exporting stale numbers.
 */
async function collectQueueStats(): Promise<QueueStats[]> {
  const all = await Promise.all(
    [...inspectors].map((inspector) => withTimeout(inspector.stats(), 2_000).catch(() => [])),
  );
  return all.flat();
}

const COUNTED_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

new Gauge({
  name: 'bindery_queue_jobs',
  help: 'Jobs in a queue by state; waiting is the queue depth',
  labelNames: ['queue', 'state'] as const,
  async collect() {
    this.reset();
    for (const stats of await collectQueueStats())
      for (const state of COUNTED_STATES) this.set({ queue: stats.name, state }, stats[state]);
  },
});
new Gauge({
  name: 'bindery_queue_oldest_waiting_job_age_seconds',
  help: 'Age of the oldest job waiting in a queue (0 when none waits)',
  labelNames: ['queue'] as const,
  async collect() {
    this.reset();
    for (const stats of await collectQueueStats())
      this.set({ queue: stats.name }, stats.oldestWaitingAgeMs / 1000);
  },
});

export interface FailedJob {
  id: string;
  name: string;
  failedReason: string;
  attemptsMade: number;
  attempts: number;
  timestamp: string;
  finishedOn: string | null;
  /** The event or job data, for diagnosis. */
  data: unknown;
}

/** The gateway's view of the platform's queues: counts for operators, and failed jobs to retry or remove. */
export class QueueInspector {
  private readonly redis;
  private readonly queues: Map<string, Queue>;
  private reading: Promise<QueueStats[]> | undefined;

  constructor(options: { redisUrl: string; prefix: string }) {
    this.redis = createQueueRedis(options.redisUrl, 'bindery-gateway-queues');
    const connection = { redis: this.redis, prefix: options.prefix };
    this.queues = new Map(QUEUE_NAMES.map((name) => [name, createQueue(name, connection)]));
    inspectors.add(this);
  }

  private queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new TRPCError({ code: 'NOT_FOUND', message: `queue: no queue is named "${name}"` });
    return queue;
  }

  /** Counts of every queue. Callers asking at the same time (a scrape, the monitor) share one read. */
  stats(): Promise<QueueStats[]> {
    this.reading ??= Promise.all([...this.queues.values()].map((queue) => queueStats(queue))).finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  async failed(name: string, limit: number): Promise<FailedJob[]> {
    const jobs = await this.queue(name).getFailed(0, limit - 1);
    return jobs.map((job) => ({
      id: job.id ?? '',
      name: job.name,
      failedReason: job.failedReason,
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      timestamp: new Date(job.timestamp).toISOString(),
      finishedOn: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      data: abbreviate(job.data),
    }));
  }

  private async failedJob(name: string, jobId: string) {
    const job = await this.queue(name).getJob(jobId);
    if (!job) throw new TRPCError({ code: 'NOT_FOUND', message: `jobId: no job ${jobId} in ${name}` });
    if (!(await job.isFailed())) {
      throw new TRPCError({ code: 'CONFLICT', message: `jobId: job ${jobId} has not failed` });
    }
    return job;
  }

  async retry(name: string, jobId: string): Promise<{ queue: string; jobId: string }> {
    await (await this.failedJob(name, jobId)).retry('failed');
    return { queue: name, jobId };
  }

  async remove(name: string, jobId: string): Promise<{ queue: string; jobId: string }> {
    await (await this.failedJob(name, jobId)).remove();
    return { queue: name, jobId };
  }

  ping(): Promise<string> {
    return this.redis.ping();
  }

  async close(): Promise<void> {
    inspectors.delete(this);
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    await this.redis.quit();
  }
}

/** Job data as diagnosis needs it: long strings (an import's CSV) cut to their first 200 characters. */
function abbreviate(value: unknown): unknown {
  if (typeof value === 'string')
    return value.length > 200 ? `${value.slice(0, 200)}… (${value.length} characters)` : value;
  if (Array.isArray(value)) return value.slice(0, 50).map(abbreviate);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, abbreviate(entry)]));
  }
  return value;
}
