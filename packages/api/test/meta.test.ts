import { describe, expect, test } from 'vitest';
import { type Access, DEFAULT_TIMEOUT_MS, isAllowed } from '../src/meta';
import { ROLES, type Role, SERVICE_NAMES, type ServiceName } from '../src/roles';

type TestCaller = Parameters<typeof isAllowed>[1];

/** Every kind of caller a service meets: anonymous or a user of each role, relayed or not, from each peer. */
const callers: Record<string, TestCaller> = {
  'anonymous via gateway': { user: null, peer: 'gateway', relayed: true },
  ...Object.fromEntries(
    ROLES.map((role) => [`${role} via gateway`, { user: { roles: [role] }, peer: 'gateway', relayed: true }]),
  ),
  'user with no roles via gateway': { user: { roles: [] }, peer: 'gateway', relayed: true },
  'operator+customer via gateway': {
    user: { roles: ['operator', 'customer'] },
    peer: 'gateway',
    relayed: true,
  },
  'users service, own account': { user: null, peer: 'users', relayed: false },
  'users service, for an admin': { user: { roles: ['admin'] }, peer: 'users', relayed: false },
  'auth service, own account': { user: null, peer: 'auth', relayed: false },
  'catalog service, own account': { user: null, peer: 'catalog', relayed: false },
  'gateway, own account': { user: null, peer: 'gateway', relayed: false },
  'users service, relayed': { user: null, peer: 'users', relayed: true },
};

const accesses: Record<string, Access> = {
  public: { kind: 'public' },
  'any role': { kind: 'roles', roles: ROLES },
  admin: { kind: 'roles', roles: ['admin'] },
  staff: { kind: 'roles', roles: ['admin', 'operator', 'viewer'] },
  'no roles': { kind: 'roles', roles: [] },
  'users service': { kind: 'services', services: ['users'] },
  'users or auth service': { kind: 'services', services: ['users', 'auth'] },
  'no services': { kind: 'services', services: [] },
};

describe('isAllowed', () => {
  test('answers for every access rule and every caller', () => {
    const table = Object.fromEntries(
      Object.entries(accesses).map(([accessName, access]) => [
        accessName,
        Object.entries(callers)
          .filter(([, caller]) => isAllowed(access, caller))
          .map(([callerName]) => callerName),
      ]),
    );
    expect(table).toMatchInlineSnapshot(`
      {
        "admin": [
          "admin via gateway",
          "users service, for an admin",
        ],
        "any role": [
          "admin via gateway",
          "operator via gateway",
          "viewer via gateway",
          "customer via gateway",
          "operator+customer via gateway",
          "users service, for an admin",
        ],
        "no roles": [],
        "no services": [],
        "public": [
          "anonymous via gateway",
          "admin via gateway",
          "operator via gateway",
          "viewer via gateway",
          "customer via gateway",
          "user with no roles via gateway",
          "operator+customer via gateway",
          "users service, own account",
          "users service, for an admin",
          "auth service, own account",
          "catalog service, own account",
          "gateway, own account",
          "users service, relayed",
        ],
        "staff": [
          "admin via gateway",
          "operator via gateway",
          "viewer via gateway",
          "operator+customer via gateway",
          "users service, for an admin",
        ],
        "users or auth service": [
          "users service, own account",
          "users service, for an admin",
          "auth service, own account",
        ],
        "users service": [
          "users service, own account",
          "users service, for an admin",
        ],
      }
    `);
  });

  test.each(ROLES.flatMap((granted) => ROLES.map((held) => [granted, held] as [Role, Role])))(
    'a procedure for %s admits a user holding %s only when they are the same role',
    (granted, held) => {
      for (const relayed of [true, false]) {
        expect(
          isAllowed(
            { kind: 'roles', roles: [granted] },
            { user: { roles: [held] }, peer: 'gateway', relayed },
          ),
        ).toBe(granted === held);
      }
    },
  );

  test.each(
    SERVICE_NAMES.flatMap((allowed) =>
      SERVICE_NAMES.map((peer) => [allowed, peer] as [ServiceName, ServiceName]),
    ),
  )('a procedure for the %s service admits %s only on its own account', (allowed, peer) => {
    expect(isAllowed({ kind: 'services', services: [allowed] }, { user: null, peer, relayed: false })).toBe(
      allowed === peer,
    );
    expect(isAllowed({ kind: 'services', services: [allowed] }, { user: null, peer, relayed: true })).toBe(
      false,
    );
  });

  test('a user acting through the gateway never passes a service rule, whatever their roles', () => {
    expect(
      isAllowed(
        { kind: 'services', services: ['gateway'] },
        { user: { roles: ROLES }, peer: 'gateway', relayed: true },
      ),
    ).toBe(false);
  });

  test('the default timeout is 10 seconds', () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(10_000);
  });
});
