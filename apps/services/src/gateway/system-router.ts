import { type ProcedureInfo, roleProcedure, router, STAFF_ROLES } from '@bindery/api';
import type { Topology } from '@bindery/runtime';
import { tracked } from '@trpc/server';
import { z } from 'zod';
import { QUEUE_NAMES } from '../queue-names';
import type { PlatformHealth } from './platform-health';
import type { PlatformMonitor } from './platform-monitor';
import type { QueueInspector } from './queues';

export function createSystemRouter(deps: {
  /** Every service's instances and readiness, asked now. */
  health: () => Promise<PlatformHealth>;
  /** The gateway's balancers: every service with its instances and their state. */
  topology: () => Topology;
  procedures: () => { refresh(): Promise<void>; all(): ProcedureInfo[] };
  queues: QueueInspector;
  monitor: PlatformMonitor;
}) {
  const jobRef = z.strictObject({ queue: z.enum(QUEUE_NAMES), jobId: z.string().min(1).max(200) });
  return router({
    system: router({
      queues: router({
        /** Per queue: waiting, active, delayed, completed and failed jobs, and the oldest waiting job's age. */
        list: roleProcedure(...STAFF_ROLES).query(() => deps.queues.stats()),
        /** A queue's failed jobs (those that used every attempt), newest first, with their error. */
        failed: roleProcedure(...STAFF_ROLES)
          .input(z.strictObject({ queue: z.enum(QUEUE_NAMES), limit: z.int().min(1).max(100).default(20) }))
          .query(({ input }) => deps.queues.failed(input.queue, input.limit)),
        retry: roleProcedure('operator', 'admin')
          .input(jobRef)
          .mutation(({ input }) => deps.queues.retry(input.queue, input.jobId)),
        remove: roleProcedure('operator', 'admin')
          .input(jobRef)
          .mutation(({ input }) => deps.queues.remove(input.queue, input.jobId)),
      }),
      /**
       * Every procedure of the API with who may call it, whether it is idempotent, its timeout and
       * body limit: the console shapes itself from the same rules the services enforce.
       */
      procedures: roleProcedure(...STAFF_ROLES).query(async (): Promise<ProcedureInfo[]> => {
        const directory = deps.procedures();
        await directory.refresh();
        return directory.all();
      }),
      /**
       * Every instance's readiness, asked now, with warnings: a service without instances, or whose
       * instances serve different procedure lists (version skew during a rollout).
       */
      health: roleProcedure(...STAFF_ROLES).query(() => deps.health()),
      /**
       * Every service and instance as the gateway's balancers see them: state (ready, unready,
       * ejected, draining), calls in flight, latency average, breaker state, weight and version.
       */
      topology: roleProcedure(...STAFF_ROLES).query(() => deps.topology()),
      /**
       * Per service: request rate, error rate and p50/p99 latency, one point per scrape of the
       * instances' `/metrics` (every 10 s by default, 90 points: the last 15 minutes).
       */
      metrics: roleProcedure(...STAFF_ROLES).query(() => deps.monitor.metrics()),
      /**
       * Health, metrics and queues as they change: a snapshot now and one after each scrape, over
       * Server-Sent Events (`httpSubscriptionLink`). Each is `tracked`, so a client that reconnects
       * is not sent again the snapshot it has.
       */
      live: roleProcedure(...STAFF_ROLES)
        .input(z.strictObject({ lastEventId: z.string().max(100).nullish() }).optional())
        .subscription(async function* ({ input, signal }) {
          for await (const { id, snapshot } of deps.monitor.snapshots(signal, input?.lastEventId))
            yield tracked(id, snapshot);
        }),
    }),
  });
}

export type SystemRouter = ReturnType<typeof createSystemRouter>;
