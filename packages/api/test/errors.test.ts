import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { describeIssues, notFound, toClientError, zodIssues } from '../src/errors';
import { createCallerFactory, publicProcedure, router } from '../src/trpc';
import { type ConstraintTable, createConstraintTable, rejectionOf } from './support/postgres';

describe('zodIssues', () => {
  const order = z.strictObject({
    email: z.email(),
    items: z
      .array(
        z.strictObject({
          sku: z.string().min(1, 'must not be empty'),
          quantity: z.number().int().positive(),
        }),
      )
      .min(1),
    shipping: z.object({ address: z.object({ zip: z.string().regex(/^\d{5}$/, 'must be 5 digits') }) }),
  });

  test('addresses each issue by its dotted field path, array indices included', () => {
    const result = order.safeParse({
      email: 'not-an-email',
      items: [
        { sku: 'a', quantity: 1 },
        { sku: '', quantity: 0 },
      ],
      shipping: { address: { zip: '1234' } },
    });
    expect(result.success).toBe(false);
    expect(zodIssues(result.error!)).toMatchInlineSnapshot(`
      [
        {
          "message": "Invalid email address",
          "path": "email",
        },
        {
          "message": "must not be empty",
          "path": "items.1.sku",
        },
        {
          "message": "Too small: expected number to be >0",
          "path": "items.1.quantity",
        },
        {
          "message": "must be 5 digits",
          "path": "shipping.address.zip",
        },
      ]
    `);
  });

  test('reports each unrecognized key at its own path', () => {
    const result = order.safeParse({
      email: 'a@b.co',
      items: [{ sku: 'a', quantity: 2, colour: 'red', size: 'L' }],
      shipping: { address: { zip: '12345' } },
      coupon: 'FREE',
    });
    expect(zodIssues(result.error!)).toEqual([
      { path: 'items.0.colour', message: 'is not a known field' },
      { path: 'items.0.size', message: 'is not a known field' },
      { path: 'coupon', message: 'is not a known field' },
    ]);
  });

  test('an issue about the whole input has an empty path', () => {
    const result = z.string().safeParse(42);
    expect(zodIssues(result.error!)).toEqual([
      { path: '', message: 'Invalid input: expected string, received number' },
    ]);
  });
});

describe('describeIssues', () => {
  test('joins "path: message" pairs, leaving the path out when empty', () => {
    expect(
      describeIssues([
        { path: 'items.0.quantity', message: 'must be positive' },
        { path: '', message: 'expected an object' },
        { path: 'coupon', message: 'is not a known field' },
      ]),
    ).toMatchInlineSnapshot(
      `"items.0.quantity: must be positive; expected an object; coupon: is not a known field"`,
    );
  });

  test('no issues give an empty text', () => {
    expect(describeIssues([])).toBe('');
  });
});

describe('toClientError with errors from the real PostgreSQL', () => {
  let table: ConstraintTable;
  const existingEmail = 'Taken.Person@example.com';

  beforeAll(async () => {
    table = await createConstraintTable();
    await table.sql.unsafe(
      `insert into gadgets (email, sku, owner_id, slug) values ('${existingEmail}', 'SKU-SECRET-1', 7, 'my-slug')`,
    );
  });
  afterAll(() => table?.drop());

  /** The mapped error as `{ code, message }`, after checking it keeps the original as its cause. */
  function clientErrorOf(error: unknown): { code: string; message: string } | null {
    const mapped = toClientError(error);
    if (!mapped) return null;
    expect(mapped).toBeInstanceOf(TRPCError);
    expect(mapped.cause).toBe(error);
    return { code: mapped.code, message: mapped.message };
  }

  test('a unique violation on an expression index (lower(email)) is a CONFLICT naming the column, not the value', async () => {
    const error = await rejectionOf(() =>
      table.sql.unsafe(`insert into gadgets (email) values ('${existingEmail.toUpperCase()}')`),
    );
    expect(error).toMatchObject({ name: 'PostgresError', code: '23505' });
    const mapped = clientErrorOf(error);
    expect(mapped).toMatchInlineSnapshot(`
      {
        "code": "CONFLICT",
        "message": "A record with this email already exists",
      }
    `);
    expect(mapped?.message.toLowerCase()).not.toContain(existingEmail.toLowerCase());
  });

  test('a unique violation on a plain column is a CONFLICT naming it', async () => {
    const error = await rejectionOf(() =>
      table.sql.unsafe(`insert into gadgets (email, sku) values ('x@y.z', 'SKU-SECRET-1')`),
    );
    expect(clientErrorOf(error)).toEqual({
      code: 'CONFLICT',
      message: 'A record with this sku already exists',
    });
  });

  test('a unique violation on several columns names them all, without the values', async () => {
    const error = await rejectionOf(() =>
      table.sql.unsafe(`insert into gadgets (email, owner_id, slug) values ('q@y.z', 7, 'my-slug')`),
    );
    const mapped = clientErrorOf(error);
    expect(mapped).toEqual({ code: 'CONFLICT', message: 'A record with this owner_id, slug already exists' });
    expect(mapped?.message).not.toContain('my-slug');
  });

  test('a check violation (23514) is a BAD_REQUEST', async () => {
    const error = await rejectionOf(() =>
      table.sql.unsafe(`insert into gadgets (email, quantity) values ('c@y.z', 0)`),
    );
    expect(error).toMatchObject({ code: '23514', constraint_name: 'gadgets_quantity_positive' });
    expect(clientErrorOf(error)).toMatchInlineSnapshot(`
      {
        "code": "BAD_REQUEST",
        "message": "A value breaks the rule "gadgets_quantity_positive"",
      }
    `);
  });

  test('a value of the wrong format (22P02) is a BAD_REQUEST that does not echo the value', async () => {
    const error = await rejectionOf(() =>
      table.sql.unsafe(`insert into gadgets (email, code) values ('u@y.z', $1)`, ['not-a-uuid-SECRET']),
    );
    expect(error).toMatchObject({ code: '22P02' });
    const mapped = clientErrorOf(error);
    expect(mapped).toEqual({ code: 'BAD_REQUEST', message: 'A value has the wrong format' });
    expect(mapped?.message).not.toContain('SECRET');
  });

  test('a missing required value (23502) is a BAD_REQUEST', async () => {
    const error = await rejectionOf(() => table.sql.unsafe(`insert into gadgets (email) values (null)`));
    expect(clientErrorOf(error)).toEqual({ code: 'BAD_REQUEST', message: 'email: is required' });
  });

  test('a NUL character in text (22021), which JSON allows and PostgreSQL cannot store, is a BAD_REQUEST', async () => {
    const error = await rejectionOf(() =>
      table.sql.unsafe(`insert into gadgets (email) values ($1)`, ['nul\u0000@y.z']),
    );
    expect(error).toMatchObject({ code: '22021' });
    expect(clientErrorOf(error)).toEqual({
      code: 'BAD_REQUEST',
      message: 'A value holds a character that cannot be stored (NUL)',
    });
  });

  test('an error drizzle wraps is found through its cause', async () => {
    const error = await rejectionOf(() =>
      table.db.execute(`insert into gadgets (email) values ('${existingEmail}')`),
    );
    expect((error as Error).constructor.name).toBe('DrizzleQueryError');
    expect(error).toMatchObject({ cause: { name: 'PostgresError', code: '23505' } });
    expect((error as { code?: unknown }).code).toBeUndefined();
    expect(clientErrorOf(error)).toEqual({
      code: 'CONFLICT',
      message: 'A record with this email already exists',
    });
  });

  test('an error drizzle wraps inside a transaction is found too', async () => {
    const error = await rejectionOf(() =>
      table.db.transaction(async (tx) => {
        await tx.execute(`insert into gadgets (email) values ('fresh@y.z')`);
        await tx.execute(`insert into gadgets (email, quantity) values ('fresh2@y.z', -1)`);
      }),
    );
    expect(clientErrorOf(error)?.code).toBe('BAD_REQUEST');
    const [row] = (await table.sql.unsafe(
      `select count(*)::int as count from gadgets where email = 'fresh@y.z'`,
    )) as {
      count: number;
    }[];
    expect(row?.count).toBe(0);
  });

  test('a PostgreSQL error the caller did not cause (undefined table, 42P01) stays internal', async () => {
    const error = await rejectionOf(() => table.sql.unsafe('select * from no_such_table'));
    expect(error).toMatchObject({ code: '42P01' });
    expect(toClientError(error)).toBeNull();
  });

  test('the cause chain is followed through a few wrappers', async () => {
    const driverError = await rejectionOf(() =>
      table.sql.unsafe(`insert into gadgets (email, sku) values ('w@y.z', 'SKU-SECRET-1')`),
    );
    const wrapped = new Error('outer', {
      cause: new Error('middle', { cause: new Error('inner', { cause: driverError }) }),
    });
    expect(toClientError(wrapped)?.code).toBe('CONFLICT');
  });
});

describe('toClientError with a database that cannot be reached', () => {
  test.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    [
      'a broken pipe (five capital letters, not an SQLSTATE)',
      Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
    ],
    ['postgres.js losing its connection', Object.assign(new Error('closed'), { code: 'CONNECTION_CLOSED' })],
    [
      'too many clients (53300)',
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
    ],
    [
      'a database refusing connections (55000, ALLOW_CONNECTIONS false)',
      Object.assign(new Error('database "x" is not currently accepting connections'), { code: '55000' }),
    ],
  ])('%s is SERVICE_UNAVAILABLE, which the caller may retry', (_, error) => {
    expect(toClientError({ cause: error })?.code).toBe('SERVICE_UNAVAILABLE');
  });
});

describe('toClientError with anything else', () => {
  test.each([
    ['a plain Error', new Error('boom')],
    ['a TRPCError', new TRPCError({ code: 'NOT_FOUND' })],
    ['a lower-case five-character code', { code: 'abcde' }],
    ['a numeric code', { code: 23505 }],
    ['a string', '23505'],
    ['null', null],
    ['undefined', undefined],
  ])('%s gives null', (_, error) => {
    expect(toClientError(error)).toBeNull();
  });

  test('a PostgreSQL error deeper than the chain limit is not found', () => {
    let error: unknown = { code: '23505', detail: 'Key (sku)=(x) already exists.' };
    for (let wrappers = 0; wrappers < 5; wrappers++) error = new Error('wrapper', { cause: error });
    expect(toClientError(error)).toBeNull();
  });

  test('a unique violation without a detail still says what happened', () => {
    expect(toClientError({ code: '23505' })?.message).toBe('A record with these values already exists');
  });
});

describe('notFound', () => {
  test('is a NOT_FOUND naming the thing', () => {
    const error = notFound('Book');
    expect(error).toBeInstanceOf(TRPCError);
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'NOT_FOUND',
      message: 'Book not found',
    });
  });
});

describe('toClientError with errors of a real peer service', () => {
  const log = pino({ level: 'silent' });
  const peerRouter = router({
    missing: publicProcedure.query(() => {
      throw notFound('Book');
    }),
    strict: publicProcedure.input(z.object({ count: z.number() })).query(({ input }) => input.count),
    crash: publicProcedure.query(() => {
      throw new Error('peer internals');
    }),
  });
  const peer = createHTTPServer({
    router: peerRouter,
    createContext: () => ({
      caller: { peer: 'gateway' as const, relayed: false, user: null, ip: null },
      requestId: 'peer-req',
      log,
    }),
  });
  let peerUrl: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    peerUrl = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => peer.close(() => resolve())));

  const clientFor = (url: string) => createTRPCClient<typeof peerRouter>({ links: [httpLink({ url })] });

  /** The peer call's TRPCClientError, mapped, as `{ code, message }`. */
  async function mapped(call: (client: ReturnType<typeof clientFor>) => Promise<unknown>, url = peerUrl) {
    const error = await rejectionOf(() => call(clientFor(url)));
    expect(error).toBeInstanceOf(TRPCClientError);
    const clientError = toClientError(error);
    expect(clientError?.cause).toBe(error);
    return clientError && { code: clientError.code, message: clientError.message };
  }

  test("a peer's client error keeps its code and message", async () => {
    expect(await mapped((client) => client.missing.query())).toEqual({
      code: 'NOT_FOUND',
      message: 'Book not found',
    });
  });

  test("a peer's rejected input is still the caller's BAD_REQUEST", async () => {
    expect(
      await mapped((client) => client.strict.query({ count: 'three' as unknown as number })),
    ).toMatchInlineSnapshot(`
      {
        "code": "BAD_REQUEST",
        "message": "Invalid input: count: Invalid input: expected number, received string",
      }
    `);
  });

  test("a peer's internal error is a BAD_GATEWAY that says nothing of the peer's internals", async () => {
    expect(await mapped((client) => client.crash.query())).toEqual({
      code: 'BAD_GATEWAY',
      message: 'A service this call needs is unavailable; try again',
    });
  });

  test('a peer that cannot be reached is SERVICE_UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await mapped((client) => client.missing.query(), url)).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'A service this call needs is unavailable; try again',
    });
  });

  test("through a procedure: the caller sees the peer's NOT_FOUND, not an internal error", async () => {
    const serviceRouter = router({
      bookTitle: publicProcedure.query(async () => {
        await clientFor(peerUrl).missing.query();
        return 'unreachable';
      }),
    });
    const caller = createCallerFactory(serviceRouter)({
      caller: { peer: 'gateway', relayed: true, user: null, ip: null },
      requestId: 'r',
      log,
    });
    const error = await rejectionOf(() => caller.bookTitle());
    expect(error).toBeInstanceOf(TRPCError);
    expect({ code: (error as TRPCError).code, message: (error as TRPCError).message }).toEqual({
      code: 'NOT_FOUND',
      message: 'Book not found',
    });
  });
});
