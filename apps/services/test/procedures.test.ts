import { type Access, describeProcedures, ROLES } from '@bindery/api';
import type { AnyTRPCRouter } from '@trpc/server';
import { describe, expect, test } from 'vitest';
import { createAuthRouter } from '../src/auth/router';
import { createBillingRouter } from '../src/billing/router';
import { createCatalogRouter } from '../src/catalog/router';
import { createSystemRouter } from '../src/gateway/system-router';
import { createNotificationsRouter } from '../src/notifications/router';
import { createOrdersRouter } from '../src/orders/router';
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
  catalog: createCatalogRouter({ db: unused, imports: unused }),
  orders: createOrdersRouter({ db: unused, users: unused, catalog: unused, orderTimeoutMs: 1 }),
  billing: createBillingRouter({ db: unused, provider: unused }),
  notifications: createNotificationsRouter({ db: unused }),
  system: createSystemRouter({
    health: unused,
    topology: unused,
    procedures: unused,
    queues: unused,
    monitor: unused,
  }),
};

const procedures = Object.entries(routers).flatMap(([namespace, router]) =>
  describeProcedures(router).map((procedure) => ({ namespace, ...procedure })),
);

function describeAccess(access: Access): string {
  switch (access.kind) {
    case 'public':
      return 'public';
    case 'roles':
      return access.roles.join('|');
    case 'services':
      return `services:${access.services.join('|')}`;
  }
}

describe('every procedure declares its rules', () => {
  test.each(procedures)(
    '$path sits in its service namespace and declares who may call it',
    ({ namespace, path, access }) => {
      expect(path.split('.')[0]).toBe(namespace);
      expect(access).toBeDefined();
      if (access?.kind === 'roles') {
        expect(access.roles.length).toBeGreaterThan(0);
        for (const role of access.roles) expect(ROLES).toContain(role);
      }
    },
  );

  test('the access map, as the console and the authorization tests will read it', () => {
    const summary = Object.fromEntries(
      procedures.map(({ path, type, access }) => [
        path,
        `${type} ${access ? describeAccess(access) : 'NONE'}`,
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
        "billing.payments.byOrder": "query admin|operator|viewer|customer",
        "billing.payments.list": "query admin|operator|viewer",
        "billing.refunds.create": "mutation operator|admin",
        "catalog.books.adjustStock": "mutation admin|operator",
        "catalog.books.byId": "query admin|operator|viewer|customer",
        "catalog.books.create": "mutation admin|operator",
        "catalog.books.delete": "mutation admin|operator",
        "catalog.books.import": "mutation admin|operator",
        "catalog.books.importStatus": "query admin|operator",
        "catalog.books.list": "query admin|operator|viewer|customer",
        "catalog.books.update": "mutation admin|operator",
        "catalog.internal.books": "query services:orders",
        "notifications.list": "query admin|operator|viewer|customer",
        "orders.byId": "query admin|operator|viewer|customer",
        "orders.cancel": "mutation customer|operator|admin",
        "orders.create": "mutation customer|operator|admin",
        "orders.list": "query admin|operator|viewer|customer",
        "system.health": "query admin|operator|viewer",
        "system.live": "subscription admin|operator|viewer",
        "system.metrics": "query admin|operator|viewer",
        "system.procedures": "query admin|operator|viewer",
        "system.queues.failed": "query admin|operator|viewer",
        "system.queues.list": "query admin|operator|viewer",
        "system.queues.remove": "mutation operator|admin",
        "system.queues.retry": "mutation operator|admin",
        "system.topology": "query admin|operator|viewer",
        "users.byId": "query admin|operator|viewer|customer",
        "users.create": "mutation admin",
        "users.disable": "mutation admin",
        "users.enable": "mutation admin",
        "users.internal.byEmail": "query services:auth",
        "users.internal.byId": "query services:auth|orders|notifications",
        "users.list": "query admin|operator|viewer",
        "users.update": "mutation admin",
      }
    `);
  });
});
