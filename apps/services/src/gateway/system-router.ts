import { type ProcedureInfo, roleProcedure, router, STAFF_ROLES } from '@bindery/api';
import { z } from 'zod';
import { QUEUE_NAMES } from '../queue-names';
import type { QueueInspector } from './queues';

export interface InstanceHealth {
  service: string;
  url: string;
  status: 'ready' | 'not-ready' | 'unreachable';
  checks: Record<string, string>;
  latencyMs: number;
}

/** Asks one instance's `/readyz`; never throws. */
export async function probeReadiness(
  service: string,
  url: string,
  timeoutMs = 2_000,
): Promise<InstanceHealth> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json()) as { checks?: Record<string, string> };
    return {
      service,
      url,
      status: response.ok ? 'ready' : 'not-ready',
      checks: body.checks ?? {},
      latencyMs: Math.round(performance.now() - started),
    };
  } catch {
    return {
      service,
      url,
      status: 'unreachable',
      checks: {},
      latencyMs: Math.round(performance.now() - started),
    };
  }
}

export function createSystemRouter(deps: {
  services: () => Record<string, string>;
  procedures: () => { refresh(): Promise<void>; all(): ProcedureInfo[] };
  queues: QueueInspector;
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
      /** Every service's readiness, as the gateway sees it now. */
      health: roleProcedure(...STAFF_ROLES).query(async () => {
        const instances = await Promise.all(
          Object.entries(deps.services()).map(([service, url]) => probeReadiness(service, url)),
        );
        return {
          status: instances.every((instance) => instance.status === 'ready')
            ? ('ok' as const)
            : ('degraded' as const),
          checkedAt: new Date().toISOString(),
          instances,
        };
      }),
    }),
  });
}

export type SystemRouter = ReturnType<typeof createSystemRouter>;
