import type { Access, ProcedureMeta } from '@bindery/api';
import type { AnyTRPCRouter } from '@trpc/server';
import { type ZodType, z } from 'zod';
import { createAuthRouter } from '../../src/auth/router';
import { createBillingRouter } from '../../src/billing/router';
import { createCatalogRouter } from '../../src/catalog/router';
import { createSystemRouter } from '../../src/gateway/system-router';
import { createNotificationsRouter } from '../../src/notifications/router';
import { createOrdersRouter } from '../../src/orders/router';
import { createUsersRouter } from '../../src/users/router';

/** A procedure as the fuzzer sees it: its path, kind, rule and the zod parsers of its input. */
export interface FuzzedProcedure {
  path: string;
  type: 'query' | 'mutation' | 'subscription';
  access: Access | null;
  /** Every `.input()` of the procedure, in order; an input must pass them all. */
  inputs: ZodType[];
}

/**
 * Building a router only declares its procedures: none of its dependencies is touched until a
 * procedure runs, and these routers never run (the calls go to the real services over HTTP). Every
 * dependency reads as undefined, whatever the factories ask for tomorrow.
 */
const inert = new Proxy({}, { get: () => undefined }) as never;

/**
 * Every router the gateway serves, built from the same factories the services start with. A new
 * procedure in any of them is fuzzed without editing anything; a new service must be added here, and
 * the test fails until it is (it compares these paths with the gateway's `system.procedures`).
 */
function serviceRouters(): AnyTRPCRouter[] {
  return [
    createUsersRouter(inert),
    createAuthRouter(inert),
    createCatalogRouter(inert),
    createOrdersRouter(inert),
    createBillingRouter(inert),
    createNotificationsRouter(inert),
    createSystemRouter(inert),
  ];
}

interface ProcedureDef {
  _def: { type: FuzzedProcedure['type']; meta?: ProcedureMeta; inputs?: unknown[] };
}

/** Every procedure of every router, read from `_def.procedures`, with its zod input parsers. */
export function fuzzedProcedures(): FuzzedProcedure[] {
  return serviceRouters()
    .flatMap((router) =>
      Object.entries(router._def.procedures as Record<string, ProcedureDef>).map(([path, procedure]) => {
        const inputs = procedure._def.inputs ?? [];
        for (const input of inputs) {
          if (!(input instanceof z.ZodType)) throw new Error(`${path}: an input parser that is not zod`);
        }
        return {
          path,
          type: procedure._def.type,
          access: procedure._def.meta?.access ?? null,
          inputs: inputs as ZodType[],
        };
      }),
    )
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Whether the procedure itself accepts `input` (every parser passes), as the service will decide. */
export async function acceptsInput(procedure: FuzzedProcedure, input: unknown): Promise<boolean> {
  for (const parser of procedure.inputs) {
    if (!(await parser.safeParseAsync(input)).success) return false;
  }
  return true;
}
