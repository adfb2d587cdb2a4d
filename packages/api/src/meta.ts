import type { Role, ServiceName } from './roles';

/**
 * Who may call a procedure. Authorization is data on the procedure so that tests and the console can
 * enumerate every procedure with its rule.
 * - `public`: anyone, signed in or not.
 * - `roles`: a signed-in user holding one of the roles.
 * - `services`: only the named peer services (service-to-service procedures).
 */
export type Access =
  | { kind: 'public' }
  | { kind: 'roles'; roles: readonly Role[] }
  | { kind: 'services'; services: readonly ServiceName[] };

export interface ProcedureMeta {
  /**
   * Set by the procedure builders (`publicProcedure`, `roleProcedure`, …); a later `.meta()` call
   * that leaves it out keeps the builder's. A procedure without one refuses every call.
   */
  access?: Access;
  /**
   * Whether repeating the call has no further effect, so a caller may retry it safely.
   * @defaultValue true for queries, false for mutations
   */
  idempotent?: boolean;
  /**
   * How long a caller waits for this procedure before giving up.
   * @defaultValue 10_000
   */
  timeoutMs?: number;
  /**
   * The largest request body a call may send; the gateway and the service refuse larger ones (413).
   * @defaultValue 1 MiB
   */
  maxBodyBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A procedure's rules with every default filled in, as a service publishes them at `/procedures`. */
export interface ProcedureInfo {
  path: string;
  type: 'query' | 'mutation' | 'subscription';
  access: Access | null;
  idempotent: boolean;
  timeoutMs: number;
  maxBodyBytes: number;
}

/** Every procedure of a router with its rules, read from the router itself. */
export function describeProcedures(router: { _def: { procedures: object } }): ProcedureInfo[] {
  return Object.entries(
    router._def.procedures as Record<string, { _def: { type: ProcedureInfo['type']; meta?: ProcedureMeta } }>,
  )
    .map(([path, procedure]) => {
      const meta = procedure._def.meta ?? {};
      return {
        path,
        type: procedure._def.type,
        access: meta.access ?? null,
        idempotent: meta.idempotent ?? procedure._def.type === 'query',
        timeoutMs: meta.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxBodyBytes: meta.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Whether the caller described by `user`/`service` passes `access`. */
export function isAllowed(
  access: Access,
  caller: { user: { roles: readonly Role[] } | null; peer: ServiceName; relayed: boolean },
): boolean {
  switch (access.kind) {
    case 'public':
      return true;
    case 'roles':
      return caller.user?.roles.some((role) => access.roles.includes(role)) ?? false;
    case 'services':
      return !caller.relayed && access.services.includes(caller.peer);
  }
}
