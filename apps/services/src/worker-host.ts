import { currentTraceparent } from '@bindery/api';
import { type Database, type EventEnvelope, type eventTables, relayOutbox } from '@bindery/db';
import {
  createLogger,
  createQueue,
  createQueueRedis,
  createWorker,
  type Discovery,
  type Keys,
  type Logger,
  type RunningService,
  startService,
} from '@bindery/runtime';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type Job, type Queue, UnrecoverableError, type Worker } from 'bullmq';
import { Counter, Histogram } from 'prom-client';
import type { ServiceConfig } from './config';
import { registrationOptions, startDiscovery } from './discovery';
import {
  CONSUMERS,
  type Consumer,
  EVENT_ROUTES,
  type EventHandlers,
  type EventType,
  eventQueueName,
} from './events';

const jobsProcessed = new Counter({
  name: 'bindery_jobs_total',
  help: 'Jobs a worker finished, by queue, job name and outcome (completed, failed, retried)',
  labelNames: ['queue', 'name', 'outcome'] as const,
});
const jobDuration = new Histogram({
  name: 'bindery_job_duration_seconds',
  help: 'Time a worker spent on a job, by queue and job name',
  labelNames: ['queue', 'name'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
});

const tracer = trace.getTracer('@bindery/services');

/**
 * Runs each job in a consumer span that continues the trace of the call that caused it (an event's
 * `context.traceparent`; other jobs start a trace), and logs the job's end inside it, so the line
 * carries that trace id. https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/
 */
function traced(queueName: string, log: Logger, handle: (job: Job) => Promise<unknown>) {
  return (job: Job): Promise<unknown> => {
    const cause = (job.data as Partial<Pick<EventEnvelope, 'context'>> | undefined)?.context;
    const parent = cause?.traceparent
      ? propagation.extract(ROOT_CONTEXT, { traceparent: cause.traceparent })
      : ROOT_CONTEXT;
    const attempt = job.attemptsMade + 1;
    const attributes = {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': queueName,
      'messaging.message.id': job.id ?? '',
      'bindery.job.name': job.name,
      'bindery.job.attempt': attempt,
    };
    return tracer.startActiveSpan(
      `process ${job.name}`,
      { kind: SpanKind.CONSUMER, attributes },
      parent,
      async (span) => {
        const startedAt = performance.now();
        try {
          const result = await handle(job);
          const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
          log.info(
            {
              queue: queueName,
              job: job.name,
              jobId: job.id,
              attempt,
              requestId: cause?.requestId,
              durationMs,
            },
            'job completed',
          );
          return result;
        } catch (error) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };
}

/**
 * The event as its handler sees it: under a recording job span, `context.traceparent` is the span's,
 * so the events the handler writes (it passes `context` on) continue the trace from this job.
 */
function continuingTrace(event: EventEnvelope): EventEnvelope {
  const traceparent = currentTraceparent();
  return traceparent ? { ...event, context: { ...event.context, traceparent } } : event;
}

/** What one worker process runs for its service. */
export interface WorkerPlan {
  /** Relays the service's outbox to the consumers' queues. */
  outbox?: { db: Database; tables: ReturnType<typeof eventTables> };
  /** Handles the events the service subscribes to. */
  events?: { consumer: Consumer; handlers: Record<string, (event: never) => Promise<void>> };
  /** Other queues the service works (imports, scheduled maintenance). */
  queues?: { name: string; handle: (job: Job) => Promise<unknown>; concurrency?: number }[];
  /** Called when a job has failed its last attempt (it stays in the failed set for inspection). */
  onGaveUp?: (job: Job) => Promise<void>;
  /** Called once the queues exist, e.g. to register repeatable jobs. */
  onStart?: (queues: { get(name: string): Queue }) => Promise<void>;
  readiness?: Record<string, () => Promise<unknown>>;
  onClose?: () => Promise<void>;
  /** The worker's view of its peers, when it calls them; one is started (to register) otherwise. */
  discovery?: Discovery;
}

export function typedHandlers<TConsumer extends Consumer>(
  consumer: TConsumer,
  handlers: EventHandlers<TConsumer>,
): { consumer: TConsumer; handlers: Record<string, (event: never) => Promise<void>> } {
  return { consumer, handlers: handlers as unknown as Record<string, (event: never) => Promise<void>> };
}

/**
 * Runs a service's background work in a process of its own: the outbox relay, the event consumer
 * and any other queues, with `/healthz`, `/readyz` and `/metrics`. Closing stops taking jobs,
 * finishes the active ones, then releases Redis and the database; jobs of a killed process return
 * to their queue when their lock expires and run again (handlers are idempotent).
 */
export async function startWorkers(
  service: Consumer | 'users',
  config: ServiceConfig,
  keys: Keys,
  plan: WorkerPlan,
  log: Logger = createLogger({ service: `${service}-worker`, instance: config.INSTANCE_ID }),
): Promise<RunningService> {
  const discovery = plan.discovery ?? (await startDiscovery(config, log));
  const connection = {
    redis: createQueueRedis(config.REDIS_URL, `bindery-${service}-worker`),
    prefix: `${config.REDIS_KEY_PREFIX}bull`,
  };
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let existing = queues.get(name);
    if (!existing) {
      existing = createQueue(name, connection);
      queues.set(name, existing);
    }
    return existing;
  };
  const workers: Worker[] = [];
  const observe = (worker: Worker) => {
    worker.on('completed', (job) =>
      jobsProcessed.inc({ queue: worker.name, name: job.name, outcome: 'completed' }),
    );
    worker.on('failed', (job, error) => {
      const final =
        !job || job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError;
      jobsProcessed.inc({
        queue: worker.name,
        name: job?.name ?? 'unknown',
        outcome: final ? 'failed' : 'retried',
      });
      if (final && job && plan.onGaveUp) {
        plan.onGaveUp(job).catch((hookError: unknown) => log.error({ err: hookError }, 'onGaveUp failed'));
      }
      log.warn(
        { err: error, queue: worker.name, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade },
        'job failed',
      );
    });
    worker.on('error', (error) => log.error({ err: error, queue: worker.name }, 'worker error'));
    workers.push(worker);
  };
  const timed =
    (queueName: string, handle: (job: Job) => Promise<unknown>) =>
    async (job: Job): Promise<unknown> => {
      const stop = jobDuration.startTimer({ queue: queueName, name: job.name });
      try {
        return await handle(job);
      } finally {
        stop();
      }
    };

  if (plan.events) {
    const { consumer, handlers } = plan.events;
    const name = eventQueueName(consumer);
    observe(
      createWorker(
        name,
        connection,
        timed(
          name,
          traced(name, log, async (job) => {
            const handler = handlers[job.name];
            if (!handler) throw new UnrecoverableError(`${consumer} has no handler for ${job.name}`);
            await handler(continuingTrace(job.data as EventEnvelope) as never);
          }),
        ),
      ),
    );
  }
  for (const extra of plan.queues ?? []) {
    observe(
      createWorker(extra.name, connection, timed(extra.name, traced(extra.name, log, extra.handle)), {
        concurrency: extra.concurrency ?? 1,
      }),
    );
  }

  let relaying = true;
  let relayLoop: Promise<void> = Promise.resolve();
  if (plan.outbox) {
    const { db, tables } = plan.outbox;
    relayLoop = (async () => {
      while (relaying) {
        try {
          const sent = await relayOutbox(db, tables, async (events) => {
            for (const event of events) {
              for (const consumer of (EVENT_ROUTES[event.type as EventType] ?? []) as readonly Consumer[]) {
                // The event id is the job id: adding an event twice while its job exists adds nothing.
                await queue(eventQueueName(consumer)).add(event.type, event, { jobId: event.id });
              }
            }
          });
          if (sent > 0) continue;
        } catch (error) {
          log.error({ err: error }, 'outbox relay failed; retrying');
        }
        await new Promise((resolve) => setTimeout(resolve, config.OUTBOX_POLL_MS));
      }
    })();
  }
  await plan.onStart?.({ get: queue });

  return startService({
    name: `${service}-worker`,
    log,
    internalTokenSecret: keys.internalTokenSecret,
    host: config.HOST,
    port: config.WORKER_PORT,
    registration: registrationOptions(config, discovery),
    readiness: { redis: () => connection.redis.ping(), ...plan.readiness },
    onClose: async () => {
      relaying = false;
      await Promise.all(workers.map((worker) => worker.close()));
      await relayLoop;
      await Promise.all([...queues.values()].map((existing) => existing.close()));
      await connection.redis.quit();
      await plan.onClose?.();
      await discovery.close();
    },
  });
}

export { CONSUMERS };
