import type { AddressInfo } from 'node:net';
import { type inferRouterError, type inferRouterInputs, TRPCError } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import pino from 'pino';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { replyStatus, type TrpcReplyItem } from '../src/batch';
import type { Context } from '../src/context';
import { notFound } from '../src/errors';
import type { Caller, UserIdentity } from '../src/roles';
import {
  authedProcedure,
  createCallerFactory,
  type ErrorData,
  publicProcedure,
  roleProcedure,
  router,
  serviceProcedure,
} from '../src/trpc';
import { type ConstraintTable, createConstraintTable } from './support/postgres';

const callers = {
  anonymous: { peer: 'gateway', relayed: true, user: null, ip: '203.0.113.1' },
  customer: { peer: 'gateway', relayed: true, user: { id: 'cust-1', roles: ['customer'] }, ip: null },
  operator: { peer: 'gateway', relayed: true, user: { id: 'op-1', roles: ['operator'] }, ip: null },
  admin: { peer: 'gateway', relayed: true, user: { id: 'admin-1', roles: ['admin'] }, ip: null },
  roleless: { peer: 'gateway', relayed: true, user: { id: 'nobody-1', roles: [] }, ip: null },
  usersService: { peer: 'users', relayed: false, user: null, ip: null },
  usersServiceForAdmin: {
    peer: 'users',
    relayed: false,
    user: { id: 'admin-1', roles: ['admin'] },
    ip: null,
  },
  authService: { peer: 'auth', relayed: false, user: null, ip: null },
  usersRelayed: { peer: 'users', relayed: true, user: null, ip: null },
} satisfies Record<string, Caller>;
type CallerName = keyof typeof callers;

const log = pino({ level: 'silent' });
let table: ConstraintTable;
let resolverRuns = 0;

const orderInput = z.strictObject({
  items: z
    .array(
      z.strictObject({ sku: z.string().min(1, 'must not be empty'), quantity: z.number().int().positive() }),
    )
    .min(1),
});

const appRouter = router({
  ping: publicProcedure.query(() => 'pong'),
  whoami: authedProcedure.query(({ ctx }) => {
    expectTypeOf(ctx.user).toEqualTypeOf<UserIdentity>();
    return { id: ctx.user.id, roles: ctx.user.roles };
  }),
  admin: {
    purge: roleProcedure('admin').mutation(() => {
      resolverRuns++;
      return { purged: true };
    }),
    report: roleProcedure('admin', 'operator')
      // The fields given merge over the builder's, which keeps its access rule (pinned in 'procedure meta').
      .meta({ idempotent: true, timeoutMs: 30_000 })
      .query(() => 'report'),
  },
  internal: {
    lookup: serviceProcedure('users')
      .input(z.object({ id: z.string() }))
      .query(({ input, ctx }) => ({ id: input.id, peer: ctx.caller.peer })),
  },
  orders: {
    create: authedProcedure.input(orderInput).mutation(({ input }) => {
      resolverRuns++;
      return { lines: input.items.length };
    }),
  },
  books: {
    byId: publicProcedure.input(z.object({ id: z.string() })).query(() => {
      throw notFound('Book');
    }),
  },
  crash: publicProcedure.query(() => {
    throw new Error('connect to postgres://admin:hunter2@db.internal failed');
  }),
  gadgets: {
    create: publicProcedure.mutation(async () => {
      await table.db.execute(`insert into gadgets (email, sku) values ('Dup@Example.com', 'DUP-1')`);
      return { created: true };
    }),
  },
  unguarded: publicProcedure.meta({ access: undefined as never }).query(() => 'should not run'),
});

const createCaller = createCallerFactory(appRouter);
function callAs(name: CallerName, requestId = 'req-1') {
  return createCaller({ caller: callers[name], requestId, log } satisfies Context);
}

/** The TRPCError a direct call rejects with, as `{ code, message }`. */
async function callErrorOf(run: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(TRPCError);
    return { code: (error as TRPCError).code, message: (error as TRPCError).message };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

let baseUrl: string;
const server = createHTTPServer({
  router: appRouter,
  createContext: ({ req }): Context => ({
    caller: callers[(req.headers['x-test-caller'] as CallerName | undefined) ?? 'anonymous'],
    requestId: (req.headers['x-request-id'] as string | undefined) ?? 'req-http',
    log,
  }),
});

beforeAll(async () => {
  table = await createConstraintTable();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await table?.drop();
});

async function http(
  caller: CallerName,
  pathAndQuery: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}/${pathAndQuery}`, {
    method: init.method ?? 'GET',
    headers: { 'x-test-caller': caller, 'x-request-id': 'req-http', 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: await response.json() };
}

describe('who may call what (direct calls)', () => {
  test('a public procedure answers anyone', async () => {
    for (const name of Object.keys(callers) as CallerName[]) {
      expect(await callAs(name).ping()).toBe('pong');
    }
  });

  test('an authed procedure answers a signed-in user with their identity', async () => {
    expect(await callAs('customer').whoami()).toEqual({ id: 'cust-1', roles: ['customer'] });
  });

  test('an authed procedure refuses an anonymous caller as UNAUTHORIZED', async () => {
    expect(await callErrorOf(() => callAs('anonymous').whoami())).toMatchInlineSnapshot(`
      {
        "code": "UNAUTHORIZED",
        "message": "Sign in to call this procedure",
      }
    `);
  });

  test('an authed procedure refuses a signed-in user who holds no known role (fails closed)', async () => {
    expect(await callErrorOf(() => callAs('roleless').whoami())).toEqual({
      code: 'FORBIDDEN',
      message: 'Not allowed to call this procedure',
    });
  });

  test('a role procedure: UNAUTHORIZED when anonymous, FORBIDDEN without the role, the result with it', async () => {
    resolverRuns = 0;
    expect(await callErrorOf(() => callAs('anonymous').admin.purge())).toEqual({
      code: 'UNAUTHORIZED',
      message: 'Sign in to call this procedure',
    });
    expect(await callErrorOf(() => callAs('customer').admin.purge())).toMatchInlineSnapshot(`
      {
        "code": "FORBIDDEN",
        "message": "Not allowed to call this procedure",
      }
    `);
    expect(await callErrorOf(() => callAs('operator').admin.purge())).toMatchObject({ code: 'FORBIDDEN' });
    expect(resolverRuns).toBe(0);
    expect(await callAs('admin').admin.purge()).toEqual({ purged: true });
    expect(resolverRuns).toBe(1);
  });

  test('a role procedure for several roles admits each of them', async () => {
    expect(await callAs('admin').admin.report()).toBe('report');
    expect(await callAs('operator').admin.report()).toBe('report');
    expect((await callErrorOf(() => callAs('customer').admin.report())).code).toBe('FORBIDDEN');
  });

  test('a service procedure admits only the named service calling on its own account', async () => {
    expect(await callAs('usersService').internal.lookup({ id: 'x' })).toEqual({ id: 'x', peer: 'users' });
    expect(await callAs('usersServiceForAdmin').internal.lookup({ id: 'y' })).toEqual({
      id: 'y',
      peer: 'users',
    });
    for (const name of ['authService', 'usersRelayed', 'admin', 'anonymous'] as const) {
      // Even an anonymous caller is FORBIDDEN here, not UNAUTHORIZED: signing in would not help.
      expect(await callErrorOf(() => callAs(name).internal.lookup({ id: 'x' }))).toEqual({
        code: 'FORBIDDEN',
        message: 'Not allowed to call this procedure',
      });
    }
  });

  test('authorization runs before input validation, so a refused caller learns nothing about the input', async () => {
    resolverRuns = 0;
    const badInput = { items: [] } as unknown as z.input<typeof orderInput>;
    expect((await callErrorOf(() => callAs('anonymous').orders.create(badInput))).code).toBe('UNAUTHORIZED');
    expect((await callErrorOf(() => callAs('customer').orders.create(badInput))).code).toBe('BAD_REQUEST');
    expect(resolverRuns).toBe(0);
  });

  test('a procedure whose meta lost its access rule refuses everyone', async () => {
    expect(await callErrorOf(() => callAs('admin').unguarded())).toEqual({
      code: 'FORBIDDEN',
      message: 'Procedure declares no access rule',
    });
  });
});

describe('error shapes on the wire', () => {
  test('a rejected input lists each field issue and names them in the message', async () => {
    const reply = await http('customer', 'orders.create', {
      method: 'POST',
      body: {
        items: [
          { sku: 'a', quantity: 1 },
          { sku: '', quantity: 0, colour: 'red' },
        ],
        coupon: 'X',
      },
    });
    expect(reply).toMatchInlineSnapshot(`
      {
        "body": {
          "error": {
            "code": -32600,
            "data": {
              "code": "BAD_REQUEST",
              "httpStatus": 400,
              "issues": [
                {
                  "message": "must not be empty",
                  "path": "items.1.sku",
                },
                {
                  "message": "Too small: expected number to be >0",
                  "path": "items.1.quantity",
                },
                {
                  "message": "is not a known field",
                  "path": "items.1.colour",
                },
                {
                  "message": "is not a known field",
                  "path": "coupon",
                },
              ],
              "path": "orders.create",
              "requestId": "req-http",
            },
            "message": "Invalid input: items.1.sku: must not be empty; items.1.quantity: Too small: expected number to be >0; items.1.colour: is not a known field; coupon: is not a known field",
          },
        },
        "status": 400,
      }
    `);
  });

  test('an unexpected error is an opaque "Internal server error" that leaks nothing', async () => {
    const reply = await http('admin', 'crash');
    expect(reply).toMatchInlineSnapshot(`
      {
        "body": {
          "error": {
            "code": -32603,
            "data": {
              "code": "INTERNAL_SERVER_ERROR",
              "httpStatus": 500,
              "path": "crash",
              "requestId": "req-http",
            },
            "message": "Internal server error",
          },
        },
        "status": 500,
      }
    `);
    expect(JSON.stringify(reply)).not.toMatch(/hunter2|postgres|stack/);
  });

  test('a unique violation thrown by the real PostgreSQL surfaces as CONFLICT naming the column', async () => {
    expect(await http('anonymous', 'gadgets.create', { method: 'POST' })).toEqual({
      status: 200,
      body: { result: { data: { created: true } } },
    });
    const reply = await http('anonymous', 'gadgets.create', { method: 'POST' });
    expect(reply).toMatchInlineSnapshot(`
      {
        "body": {
          "error": {
            "code": -32009,
            "data": {
              "code": "CONFLICT",
              "httpStatus": 409,
              "path": "gadgets.create",
              "requestId": "req-http",
            },
            "message": "A record with this email already exists",
          },
        },
        "status": 409,
      }
    `);
    expect(JSON.stringify(reply).toLowerCase()).not.toContain('dup@example.com');
  });

  test('the same unique violation is a CONFLICT error for a direct call too', async () => {
    expect(await callErrorOf(() => callAs('anonymous').gadgets.create())).toEqual({
      code: 'CONFLICT',
      message: 'A record with this email already exists',
    });
  });

  test('UNAUTHORIZED and FORBIDDEN answer 401 and 403', async () => {
    expect(await http('anonymous', 'whoami')).toMatchInlineSnapshot(`
      {
        "body": {
          "error": {
            "code": -32001,
            "data": {
              "code": "UNAUTHORIZED",
              "httpStatus": 401,
              "path": "whoami",
              "requestId": "req-http",
            },
            "message": "Sign in to call this procedure",
          },
        },
        "status": 401,
      }
    `);
    expect(await http('customer', 'admin.purge', { method: 'POST' })).toMatchObject({
      status: 403,
      body: {
        error: { code: -32003, message: 'Not allowed to call this procedure', data: { code: 'FORBIDDEN' } },
      },
    });
  });

  test('notFound answers 404 with its message', async () => {
    const reply = await http('anonymous', `books.byId?input=${encodeURIComponent('{"id":"b1"}')}`);
    expect(reply).toMatchObject({
      status: 404,
      body: { error: { message: 'Book not found', data: { code: 'NOT_FOUND' } } },
    });
  });

  test('a batch mixing results and errors answers 207 in request order, as replyStatus computes', async () => {
    const reply = await http('customer', 'ping,whoami,crash?batch=1');
    expect(reply).toMatchInlineSnapshot(`
      {
        "body": [
          {
            "result": {
              "data": "pong",
            },
          },
          {
            "result": {
              "data": {
                "id": "cust-1",
                "roles": [
                  "customer",
                ],
              },
            },
          },
          {
            "error": {
              "code": -32603,
              "data": {
                "code": "INTERNAL_SERVER_ERROR",
                "httpStatus": 500,
                "path": "crash",
                "requestId": "req-http",
              },
              "message": "Internal server error",
            },
          },
        ],
        "status": 207,
      }
    `);
    expect(replyStatus(reply.body as TrpcReplyItem[])).toBe(reply.status);
    const allFailed = await http('anonymous', 'whoami,admin.report?batch=1');
    expect(allFailed.status).toBe(401);
    expect(replyStatus(allFailed.body as TrpcReplyItem[])).toBe(401);
  });

  test('the client infers ErrorData as the error data', () => {
    expectTypeOf<inferRouterError<typeof appRouter>['data']>().toEqualTypeOf<ErrorData>();
    expectTypeOf<inferRouterInputs<typeof appRouter>['orders']['create']>().toEqualTypeOf<{
      items: { sku: string; quantity: number }[];
    }>();
  });
});

describe('procedure meta', () => {
  test('every procedure declares who may call it, readable from the router definition', () => {
    // Typed as the nested router record, but at run time a flat record keyed by dotted path.
    const procedures = appRouter._def.procedures as unknown as Record<
      string,
      { _def: { meta?: unknown; type: string } }
    >;
    const table = Object.fromEntries(
      Object.entries(procedures).map(([path, procedure]) => [
        path,
        { type: procedure._def.type, meta: procedure._def.meta },
      ]),
    );
    expect(table).toMatchInlineSnapshot(`
      {
        "admin.purge": {
          "meta": {
            "access": {
              "kind": "roles",
              "roles": [
                "admin",
              ],
            },
          },
          "type": "mutation",
        },
        "admin.report": {
          "meta": {
            "access": {
              "kind": "roles",
              "roles": [
                "admin",
                "operator",
              ],
            },
            "idempotent": true,
            "timeoutMs": 30000,
          },
          "type": "query",
        },
        "books.byId": {
          "meta": {
            "access": {
              "kind": "public",
            },
          },
          "type": "query",
        },
        "crash": {
          "meta": {
            "access": {
              "kind": "public",
            },
          },
          "type": "query",
        },
        "gadgets.create": {
          "meta": {
            "access": {
              "kind": "public",
            },
          },
          "type": "mutation",
        },
        "internal.lookup": {
          "meta": {
            "access": {
              "kind": "services",
              "services": [
                "users",
              ],
            },
          },
          "type": "query",
        },
        "orders.create": {
          "meta": {
            "access": {
              "kind": "roles",
              "roles": [
                "admin",
                "operator",
                "viewer",
                "customer",
              ],
            },
          },
          "type": "mutation",
        },
        "ping": {
          "meta": {
            "access": {
              "kind": "public",
            },
          },
          "type": "query",
        },
        "unguarded": {
          "meta": {
            "access": undefined,
          },
          "type": "query",
        },
        "whoami": {
          "meta": {
            "access": {
              "kind": "roles",
              "roles": [
                "admin",
                "operator",
                "viewer",
                "customer",
              ],
            },
          },
          "type": "query",
        },
      }
    `);
  });
});

describe('metrics', () => {
  async function callsCounted(labels: Record<string, string>): Promise<number> {
    const metric = await register.getSingleMetric('bindery_rpc_requests_total')!.get();
    const match = metric.values.find((value) =>
      Object.entries(labels).every(([key, expected]) => value.labels[key] === expected),
    );
    return match?.value ?? 0;
  }

  test('every call is counted by procedure, type and outcome', async () => {
    const okBefore = await callsCounted({ procedure: 'ping', type: 'query', outcome: 'ok' });
    const forbiddenBefore = await callsCounted({
      procedure: 'admin.purge',
      type: 'mutation',
      outcome: 'FORBIDDEN',
    });
    await callAs('anonymous').ping();
    await callAs('anonymous').ping();
    await callErrorOf(() => callAs('customer').admin.purge());
    expect(await callsCounted({ procedure: 'ping', type: 'query', outcome: 'ok' })).toBe(okBefore + 2);
    expect(await callsCounted({ procedure: 'admin.purge', type: 'mutation', outcome: 'FORBIDDEN' })).toBe(
      forbiddenBefore + 1,
    );
  });

  test('a database error the caller caused is counted under its client code, not as an internal error', async () => {
    const before = await callsCounted({ procedure: 'gadgets.create', outcome: 'CONFLICT' });
    await callErrorOf(() => callAs('anonymous').gadgets.create());
    expect(await callsCounted({ procedure: 'gadgets.create', outcome: 'CONFLICT' })).toBe(before + 1);
  });
});
