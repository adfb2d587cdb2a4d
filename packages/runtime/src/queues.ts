import {
  type JobsOptions,
  type Processor,
  Queue,
  type QueueOptions,
  Worker,
  type WorkerOptions,
} from 'bullmq';
import { Redis } from 'ioredis';

/**
 * How every Bindery job is retried and kept: 8 attempts with exponential backoff (0.5 s, 1 s, 2 s, …)
 * and 50 % jitter so retries of many jobs do not arrive together; completed jobs kept for an hour
 * (at most 1,000), failed ones for a week (at most 5,000) so they can be inspected and retried.
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
  removeOnComplete: { age: 3_600, count: 1_000 },
  removeOnFail: { age: 7 * 86_400, count: 5_000 },
};

/** Where a deployment's queues live: a connection from `createQueueRedis` and the key prefix that isolates them. */
export interface QueueConnection {
  redis: Redis;
  /** BullMQ's key prefix, e.g. `bindery:bull`. */
  prefix: string;
}

/**
 * A Redis connection for BullMQ. BullMQ refuses ioredis' own `keyPrefix` (it uses `prefix`) and
 * needs `maxRetriesPerRequest: null`; the caller owns the connection and must `quit()` it.
 */
export function createQueueRedis(redisUrl: string, name: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: name });
}

export function createQueue<TData = unknown>(
  name: string,
  connection: QueueConnection,
  options: Partial<QueueOptions> = {},
): Queue<TData> {
  return new Queue<TData>(name, {
    connection: connection.redis,
    prefix: connection.prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
    ...options,
  });
}

/**
 * A worker that processes `name`. On close it stops taking jobs and waits for the active ones;
 * a job it cannot finish (the process is killed) returns to the queue when its lock expires.
 */
export function createWorker<TData = unknown>(
  name: string,
  connection: QueueConnection,
  process: Processor<TData>,
  options: Partial<WorkerOptions> = {},
): Worker<TData> {
  return new Worker<TData>(name, process, {
    connection: connection.redis,
    prefix: connection.prefix,
    concurrency: 8,
    // A killed worker's jobs come back once their lock lapses and a stalled check sees it: within
    // about 20 s rather than BullMQ's default of up to 60 s. Locks are renewed while a job runs.
    lockDuration: 15_000,
    stalledInterval: 5_000,
    ...options,
  });
}

/** Counts of one queue, for `system.queues` and for metrics. */
export interface QueueStats {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  /** Age of the oldest waiting job, in milliseconds (0 when none waits). */
  oldestWaitingAgeMs: number;
}

export async function queueStats(queue: Queue): Promise<QueueStats> {
  const counts = await queue.getJobCounts(
    'waiting',
    'active',
    'delayed',
    'completed',
    'failed',
    'prioritized',
  );
  const [oldest] = await queue.getWaiting(0, 0);
  return {
    name: queue.name,
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    completed: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    oldestWaitingAgeMs: oldest ? Math.max(0, Date.now() - oldest.timestamp) : 0,
  };
}
