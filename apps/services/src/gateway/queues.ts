import { createQueue, createQueueRedis, type QueueStats, queueStats } from '@bindery/runtime';
import { TRPCError } from '@trpc/server';
import type { Queue } from 'bullmq';
import { QUEUE_NAMES } from '../queue-names';

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

  constructor(options: { redisUrl: string; prefix: string }) {
    this.redis = createQueueRedis(options.redisUrl, 'bindery-gateway-queues');
    const connection = { redis: this.redis, prefix: options.prefix };
    this.queues = new Map(QUEUE_NAMES.map((name) => [name, createQueue(name, connection)]));
  }

  private queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new TRPCError({ code: 'NOT_FOUND', message: `queue: no queue is named "${name}"` });
    return queue;
  }

  stats(): Promise<QueueStats[]> {
    return Promise.all([...this.queues.values()].map((queue) => queueStats(queue)));
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
