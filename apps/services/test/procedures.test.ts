import { type ProcedureMeta, ROLES } from '@bindery/api';
import type { AnyTRPCRouter } from '@trpc/server';
import { describe, expect, test } from 'vitest';
import { createAuthRouter } from '../src/auth/router';
import { createCatalogRouter } from '../src/catalog/router';
import { createSystemRouter } from '../src/gateway/system-router';
import { createUsersRouter } from '../src/users/router';

/**
 * Every procedure of every router, read from the routers themselves: a procedure added tomorrow is
 * covered here without editing this test. The routers are built with dependencies they never use.
 */
const unused = null as never;
const routers: Record<string, AnyTRPCRouter> = {
  users: createUsersRouter({ db: unused, auth: unused }),
  auth: createAuthRouter({
    db: unused,
    users: unused,
    limiter: unused,
    signAccessToken: unused,
    accessTokenTtlSeconds: 1,
  }),
  catalog: createCatalogRouter({ db: unused }),
  system: createSystemRouter({ services: () => ({}) }),
};

const procedures = Object.entries(routers).flatMap(([namespace, router]) =>
  Object.entries(
    router._def.procedures as Record<string, { _def: { type: string; meta?: ProcedureMeta } }>,
  ).map(([path, procedure]) => ({ namespace, path, type: procedure._def.type, meta: procedure._def.meta })),
);

describe('every procedure declares its rules', () => {
  test.each(procedures)(
    '$path sits in its service namespace and declares who may call it',
    ({ namespace, path, meta }) => {
      expect(path.split('.')[0]).toBe(namespace);
      expect(meta?.access).toBeDefined();
      if (meta?.access.kind === 'roles') {
        expect(meta.access.roles.length).toBeGreaterThan(0);
        for (const role of meta.access.roles) expect(ROLES).toContain(role);
      }
    },
  );

  test('the access map, as the console and the authorization tests will read it', () => {
    const summary = Object.fromEntries(
      procedures.map(({ path, type, meta }) => [
        path,
        `${type} ${
          meta!.access.kind === 'roles'
            ? meta!.access.roles.join('|')
            : meta!.access.kind === 'services'
              ? `services:${meta!.access.services.join('|')}`
              : 'public'
        }`,
      ]),
    );
    expect(summary).toMatchInlineSnapshot(`
      {
        "auth.credentials.set": "mutation services:users",
        "auth.internal.resolveApiToken": "query services:gateway",
        "auth.login": "mutation public",
        "auth.me": "query admin|operator|viewer|customer",
        "auth.tokens.create": "mutation admin|operator|viewer|customer",
        "auth.tokens.list": "query admin|operator|viewer|customer",
        "auth.tokens.revoke": "mutation admin|operator|viewer|customer",
        "catalog.books.byId": "query admin|operator|viewer|customer",
        "catalog.books.create": "mutation admin|operator",
        "catalog.books.delete": "mutation admin|operator",
        "catalog.books.list": "query admin|operator|viewer|customer",
        "catalog.books.update": "mutation admin|operator",
        "system.health": "query admin|operator|viewer",
        "users.byId": "query admin|operator|viewer|customer",
        "users.create": "mutation admin",
        "users.disable": "mutation admin",
        "users.enable": "mutation admin",
        "users.internal.byEmail": "query services:auth",
        "users.internal.byId": "query services:auth",
        "users.list": "query admin|operator|viewer",
        "users.update": "mutation admin",
      }
    `);
  });
});
