import { randomUUID } from 'node:crypto';
import type { ProcedureInfo } from '@bindery/api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  encodeText,
  hostileString,
  hostileValid,
  inputJsonSchema,
  malformedJson,
  outOfSchema,
} from './fuzz/arbitraries';
import { type Answer, callProcedure, type ErrorItem, send } from './fuzz/http';
import { acceptsInput, type FuzzedProcedure, fuzzedProcedures } from './fuzz/procedures';
import { createAccount } from './support/accounts';
import { startTestPlatform, type TestPlatform } from './support/platform';

/**
 * Every procedure of every service router, found from the routers themselves, fed inputs that
 * fast-check derives from its zod schema, through the gateway over real HTTP, on the real
 * PostgreSQL and Redis:
 * - valid shapes with hostile values (SQL and script fragments, NUL bytes, lone surrogates, huge
 *   strings, boundary and extreme numbers, ids of rows that exist);
 * - inputs outside the schema (a wrong type or an extra or missing key anywhere, deep nesting,
 *   thousands of keys), malformed JSON, oversized bodies, unknown procedures, wrong methods,
 *   batches mixing all of these, and hostile Authorization headers.
 * Whether an input is valid is asked of the procedure's own parsers; the answer must then be
 * exactly what the README documents: a 2xx, or a 4xx with its code (400 with field issues for an
 * invalid input, 401 anonymous, 403 not allowed, 404, 409, 413, 429), never a 5xx. Every call that
 * failed, and every query, must leave every table's row count as it was; only successful mutations
 * may change them (printed). No queue workers run, so nothing else writes meanwhile.
 *
 * `FUZZ_SEED` replays a run (the seed is printed with any counterexample); `FUZZ_RUNS` sets the
 * cases per procedure and family.
 */

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const assertOptions = { numRuns: RUNS, ...(seed === undefined ? {} : { seed }) };

/** Statuses the README documents; 405 for a wrong method, 431 for a request line past Node's limit. */
const DOCUMENTED_4XX = new Set([400, 401, 403, 404, 405, 409, 413, 429]);
const HEADER_LIMIT_BYTES = 16 * 1024;

let platform: TestPlatform;
let adminToken: string;
let procedures: FuzzedProcedure[];
let tables: string[];
const knownIds: Record<string, string[]> = {};
const stats = {
  cases: new Map<string, number>(),
  statuses: new Map<number, number>(),
  rejectedLocally: 0,
  acceptedLocally: 0,
  mutationsSucceeded: new Map<string, number>(),
  rowChanges: new Map<string, Map<string, number>>(),
};

const bump = <K>(map: Map<K, number>, key: K, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

beforeAll(async () => {
  platform = await startTestPlatform({ GATEWAY_API_TOKEN_CACHE_MS: '0' }, { workers: [] });
  const admin = await platform.signIn(platform.admin.email, platform.admin.password);
  adminToken = admin.accessToken;
  // Rows that exist, so that id fields get past "not found" into the code that changes them. Never
  // the admin's own id: the fuzzer may rename or demote whoever it names.
  const customer = await createAccount(platform, ['customer'], admin.client);
  const books = await Promise.all(
    [0, 1, 2].map((index) =>
      admin.client.catalog.books.create.mutate({
        title: `Fuzz ${index} ${randomUUID()}`,
        author: 'Fuzzer',
        priceCents: 100 + index,
        stock: 50,
      }),
    ),
  );
  const order = await admin.client.orders.create.mutate({
    items: [{ bookId: books[0]!.id, quantity: 1 }],
    idempotencyKey: randomUUID(),
    userId: customer.id,
  });
  const token = await admin.client.auth.tokens.create.mutate({ name: 'fuzz' });
  Object.assign(knownIds, {
    user: [customer.id],
    book: books.map((book) => book.id),
    order: [order.id],
    token: [token.id],
  });

  procedures = fuzzedProcedures();
  served = await platform.client(adminToken).system.procedures.query();
  infos = new Map(served.map((info) => [info.path, info]));
  tables = (
    await platform.sql<{ name: string }[]>`
      select table_schema || '.' || table_name as name from information_schema.tables
      where table_type = 'BASE TABLE'
        and table_schema in ('users', 'auth', 'catalog', 'orders', 'billing', 'notifications')
      order by 1`
  ).map((row) => row.name);
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

/** Every table's row count, read in one statement. */
async function rowCounts(): Promise<Map<string, number>> {
  const query = tables
    .map((table) => {
      const [schema, name] = table.split('.');
      return `(select count(*) from "${schema}"."${name}")::int as "${table}"`;
    })
    .join(', ');
  const [row] = await platform.sql.unsafe<Record<string, number>[]>(`select ${query}`);
  return new Map(Object.entries(row!));
}

function rowDiff(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const diff = new Map<string, number>();
  for (const [table, count] of after) {
    const delta = count - (before.get(table) ?? 0);
    if (delta !== 0) diff.set(table, delta);
  }
  return diff;
}

const describeDiff = (diff: Map<string, number>) =>
  [...diff].map(([table, delta]) => `${table} ${delta > 0 ? '+' : ''}${delta}`).join(', ');

type Caller = 'admin' | 'anonymous';

/** What the caller may get from the procedure before its input even counts. */
function gate(procedure: FuzzedProcedure, caller: Caller): { status: number; code: string } | null {
  const access = procedure.access;
  if (!access || access.kind === 'services') return { status: 403, code: 'FORBIDDEN' };
  if (access.kind === 'public') return null;
  if (caller === 'anonymous') return { status: 401, code: 'UNAUTHORIZED' };
  return access.roles.includes('admin') ? null : { status: 403, code: 'FORBIDDEN' };
}

function errorOf(item: unknown): NonNullable<ErrorItem['error']> | undefined {
  return (item as ErrorItem | null)?.error;
}

/**
 * Why the answer to one call (or one batch item, `itemStatus`) breaks the documented contract, or
 * null when it keeps it.
 */
function contractBreach(
  procedure: FuzzedProcedure,
  caller: Caller,
  accepted: boolean,
  item: unknown,
  itemStatus: number,
  request: { bodyBytes: number; urlBytes: number; maxBodyBytes: number },
): string | null {
  const error = errorOf(item);
  if (itemStatus >= 500) return `answered ${itemStatus} ${error?.data?.code ?? ''}: ${error?.message ?? ''}`;
  if (itemStatus === 431 || itemStatus === 414) {
    return request.urlBytes > HEADER_LIMIT_BYTES / 2
      ? null
      : `${itemStatus} for a ${request.urlBytes}-byte URL`;
  }
  if (itemStatus === 413) {
    return request.bodyBytes > request.maxBodyBytes ? null : `413 for a ${request.bodyBytes}-byte body`;
  }
  if (itemStatus >= 300 && !DOCUMENTED_4XX.has(itemStatus)) return `undocumented status ${itemStatus}`;
  if (error && error.data?.httpStatus !== itemStatus) {
    return `status ${itemStatus} but data.httpStatus ${error.data?.httpStatus}`;
  }
  const gated = gate(procedure, caller);
  if (gated) {
    return itemStatus === gated.status && error?.data?.code === gated.code
      ? null
      : `want ${gated.status} ${gated.code}, got ${itemStatus} ${error?.data?.code ?? 'ok'}`;
  }
  if (!accepted) {
    if (itemStatus !== 400 || error?.data?.code !== 'BAD_REQUEST') {
      return `an input its schema refuses got ${itemStatus} ${error?.data?.code ?? 'ok'}, want 400 BAD_REQUEST`;
    }
    return (error.data.issues?.length ?? 0) > 0 ? null : 'a 400 for an invalid input without data.issues';
  }
  if (itemStatus === 401 && procedure.access?.kind !== 'public') return '401 for a signed-in admin';
  return null;
}

/** The gateway refuses inputs nested deeper than this before anything else (see handle-trpc.ts). */
const MAX_INPUT_DEPTH = 100;

function tooDeep(value: unknown): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

function refusedAsTooDeep(item: unknown, status: number): string | null {
  const error = errorOf(item);
  // The gateway says so before reading further; a subscription (streamed by the gateway itself) fails validation.
  return status === 400 && error?.data?.code === 'BAD_REQUEST'
    ? null
    : `an input nested past ${MAX_INPUT_DEPTH} levels got ${status} ${error?.data?.code ?? 'ok'}, want 400 BAD_REQUEST`;
}

const json = (input: unknown): string | undefined =>
  input === undefined ? undefined : JSON.stringify(input);

/** The input as the service will see it: through JSON and back. */
const overTheWire = (text: string | undefined): unknown =>
  text === undefined ? undefined : JSON.parse(text);

function maxBodyBytesOf(procedure: FuzzedProcedure, infos: Map<string, ProcedureInfo>): number {
  return infos.get(procedure.path)?.maxBodyBytes ?? 1024 * 1024;
}

/** What the gateway serves, with each procedure's body limit. */
let served: ProcedureInfo[];
let infos: Map<string, ProcedureInfo>;

/**
 * Calls a procedure with `input` as `caller`, checks the answer against the contract, and returns
 * whether it succeeded. Mutations are bracketed by row counts: a failed one must change none.
 */
async function fuzzCall(
  family: string,
  procedure: FuzzedProcedure,
  input: unknown,
  caller: Caller,
  countRows: boolean,
): Promise<void> {
  const text = json(input);
  const accepted = await acceptsInput(procedure, overTheWire(text));
  if (accepted) stats.acceptedLocally++;
  else stats.rejectedLocally++;
  bump(stats.cases, family);
  const before = countRows ? await rowCounts() : null;
  const answer = await callProcedure(
    platform.gatewayUrl,
    procedure,
    text,
    caller === 'admin' ? adminToken : null,
  );
  bump(stats.statuses, answer.status);
  // The gateway refuses a deep input before authenticating; it streams subscriptions itself, and
  // those check the caller, then the input.
  const refusedAsDeep =
    procedure.type !== 'subscription' && answer.status !== 431 && tooDeep(overTheWire(text));
  const breach = refusedAsDeep
    ? refusedAsTooDeep(answer.body, answer.status)
    : contractBreach(procedure, caller, accepted, answer.body, answer.status, {
        ...answer,
        maxBodyBytes: maxBodyBytesOf(procedure, infos),
      });
  if (breach) throw new Error(`${procedure.path} as ${caller}: ${breach}\ninput: ${preview(text)}`);
  if (before) {
    const diff = rowDiff(before, await rowCounts());
    const succeeded = answer.status < 300 && procedure.type === 'mutation';
    if (!succeeded && diff.size > 0) {
      throw new Error(
        `${procedure.path} as ${caller} answered ${answer.status} yet changed rows: ${describeDiff(diff)}\ninput: ${preview(text)}`,
      );
    }
    if (succeeded) {
      bump(stats.mutationsSucceeded, procedure.path);
      const changes = stats.rowChanges.get(procedure.path) ?? new Map<string, number>();
      for (const [table, delta] of diff) bump(changes, table, delta);
      stats.rowChanges.set(procedure.path, changes);
    }
  }
}

const preview = (text: string | undefined) =>
  text === undefined ? '(none)' : text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;

/**
 * Fuzzes one procedure with `arbitrary` as `caller`. Each mutation is bracketed by row counts (only
 * a successful one may change rows); a query's whole run must change none.
 */
async function fuzzProcedure(
  family: string,
  procedure: FuzzedProcedure,
  arbitrary: fc.Arbitrary<unknown>,
  caller: Caller,
  numRuns: number,
): Promise<void> {
  const mutation = procedure.type === 'mutation';
  const run = () =>
    fc.assert(
      fc.asyncProperty(arbitrary, (input) => fuzzCall(family, procedure, input, caller, mutation)),
      { ...assertOptions, numRuns },
    );
  if (mutation) await run();
  else await unchangedRows(`${procedure.path} (${family})`, run);
}

/** Runs `body` with row counts taken around it: nothing in it may change a row. */
async function unchangedRows(what: string, body: () => Promise<void>): Promise<void> {
  const before = await rowCounts();
  await body();
  const diff = rowDiff(before, await rowCounts());
  expect(describeDiff(diff), `${what} changed rows`).toBe('');
}

describe('fuzzing every procedure through the gateway', () => {
  test('the fuzzer knows every procedure the gateway serves', async () => {
    expect(procedures.map((procedure) => procedure.path)).toEqual(served.map((info) => info.path).sort());
    for (const procedure of procedures) {
      expect(procedure.type, procedure.path).toBe(infos.get(procedure.path)!.type);
    }
  });

  test('valid shapes with hostile values, as an admin: 2xx or a documented 4xx; only successes change rows', async () => {
    // Procedures that take rows away run last, so that the others still find the known rows.
    const removing = (procedure: FuzzedProcedure) =>
      /\.(delete|disable|revoke|cancel|remove)$/.test(procedure.path) ? 1 : 0;
    for (const procedure of [...procedures].sort((a, b) => removing(a) - removing(b))) {
      const arbitrary =
        procedure.inputs.length === 0
          ? fc.constant(undefined)
          : hostileValid(inputJsonSchema(procedure.inputs), { knownIds });
      await fuzzProcedure(
        'hostile valid',
        procedure,
        arbitrary,
        'admin',
        procedure.inputs.length === 0 ? 3 : RUNS,
      );
    }
  }, 300_000);

  test('inputs outside the schema, as an admin: 400 with field issues (or 413), nothing changed', async () => {
    for (const procedure of procedures) {
      const arbitrary =
        procedure.inputs.length === 0
          ? fc.jsonValue()
          : outOfSchema(inputJsonSchema(procedure.inputs), { knownIds }).map(({ input }) => input);
      await fuzzProcedure('out of schema', procedure, arbitrary, 'admin', RUNS);
    }
  }, 300_000);

  test('anonymous callers: 401 for signed-in procedures, 403 for service-only ones, whatever the input', async () => {
    for (const procedure of procedures) {
      const schema = inputJsonSchema(procedure.inputs);
      const arbitrary = fc.oneof(
        hostileValid(schema, { knownIds }),
        outOfSchema(schema, { knownIds }).map(({ input }) => input),
      );
      await fuzzProcedure('anonymous', procedure, arbitrary, 'anonymous', Math.max(3, Math.ceil(RUNS / 4)));
    }
  }, 300_000);

  test('malformed JSON, unknown procedures, wrong methods and hostile Authorization headers: documented 4xx', async () => {
    const paths = new Set(procedures.map((procedure) => procedure.path));
    const callable = procedures.filter((procedure) => procedure.type !== 'subscription');
    await unchangedRows('raw requests', async () => {
      const raw = fc.oneof(
        fc.tuple(fc.constantFrom(...callable), malformedJson).map(([procedure, text]) => ({
          what: `malformed JSON to ${procedure.path}`,
          target:
            procedure.type === 'mutation'
              ? `/trpc/${procedure.path}`
              : `/trpc/${procedure.path}?input=${encodeText(text)}`,
          init: {
            method: procedure.type === 'mutation' ? 'POST' : 'GET',
            headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
            ...(procedure.type === 'mutation' ? { body: text } : {}),
          },
          want: [400],
        })),
        fc
          .oneof(
            fc.stringMatching(/^[a-z]{1,12}(\.[a-zA-Z]{1,12}){0,4}$/),
            fc.constantFrom(...[...paths].map((path) => `${path}.nope`)),
            fc.constantFrom(...[...paths].map((path) => path.split('.').slice(0, -1).join('.'))),
            hostileString.map(encodeText),
            fc.constantFrom(
              '',
              '.',
              '..',
              '%2e%2e',
              'users..create',
              '__proto__.x',
              'constructor',
              '%E0%A4%A',
              'a'.repeat(4000),
            ),
          )
          .filter((path) => !paths.has(safeDecode(path)))
          .map((path) => ({
            what: `unknown procedure "${path.slice(0, 60)}"`,
            target: `/trpc/${path}?input=${encodeURIComponent('{}')}`,
            init: { method: 'GET', headers: { authorization: `Bearer ${adminToken}` } },
            want: [404],
          })),
        fc
          .tuple(fc.constantFrom(...callable), fc.constantFrom('PUT', 'PATCH', 'DELETE', 'wrong-kind'))
          .map(([procedure, method]) => {
            const wrongKind = method === 'wrong-kind';
            const verb = wrongKind ? (procedure.type === 'mutation' ? 'GET' : 'POST') : method;
            return {
              what: `${verb} ${procedure.path}`,
              target: `/trpc/${procedure.path}`,
              init: {
                method: verb,
                headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
                ...(verb === 'GET' ? {} : { body: '{}' }),
              },
              want: [405],
            };
          }),
        fc
          .tuple(
            fc.constantFrom(...callable),
            fc.oneof(
              hostileString.map((text) => `Bearer ${text}`),
              hostileString.map((text) => `Bearer bnd_${encodeText(text)}`),
              fc.constantFrom(
                'Bearer',
                'Bearer ',
                'Basic YWRtaW46YWRtaW4=',
                'bearer x.y.z',
                `Bearer ${'a'.repeat(8000)}`,
              ),
              fc.constantFrom(
                `Bearer bnd_${'x'.repeat(300)}`,
                `Bearer ${adminToken}x`,
                `Bearer ${adminToken.split('.').reverse().join('.')}`,
              ),
            ),
          )
          .filter(([, authorization]) => /^[\x20-\x7e]*$/.test(authorization))
          .map(([procedure, authorization]) => ({
            what: `${procedure.path} with Authorization "${authorization.slice(0, 60)}"`,
            target:
              procedure.type === 'mutation'
                ? `/trpc/${procedure.path}`
                : `/trpc/${procedure.path}?input=%7B%7D`,
            init: {
              method: procedure.type === 'mutation' ? 'POST' : 'GET',
              headers: { authorization, 'content-type': 'application/json' },
              ...(procedure.type === 'mutation' ? { body: '{}' } : {}),
            },
            want: [401],
          })),
      );
      await fc.assert(
        fc.asyncProperty(raw, async ({ what, target, init, want }) => {
          bump(stats.cases, 'raw');
          const answer = await send(platform.gatewayUrl, target, init);
          bump(stats.statuses, answer.status);
          const headerBytes = target.length + Object.values(init.headers).join('').length;
          if (answer.status === 431 && headerBytes > HEADER_LIMIT_BYTES / 2) return;
          if (!want.includes(answer.status)) {
            throw new Error(
              `${what}: want ${want.join(' or ')}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
            );
          }
        }),
        { ...assertOptions, numRuns: RUNS * 8 },
      );
    });
  }, 300_000);

  test('oversized bodies and deep nesting: 413 past the limit, 400 below it, per procedure limit', async () => {
    await unchangedRows('oversized and nested bodies', async () => {
      for (const procedure of procedures.filter((candidate) => candidate.type === 'mutation')) {
        const limit = maxBodyBytesOf(procedure, infos);
        const oversized = `{"x":"${'a'.repeat(limit)}"}`;
        const answer = await send(platform.gatewayUrl, `/trpc/${procedure.path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
          body: oversized,
        });
        bump(stats.cases, 'oversized');
        expect(answer.status, `${procedure.path} with a ${oversized.length}-byte body`).toBe(413);
        expect(errorOf(answer.body)?.data?.code).toBe('PAYLOAD_TOO_LARGE');
      }
      for (const depth of [1_000, 10_000, 100_000, 400_000]) {
        for (const [open, close] of [
          ['[', ']'],
          ['{"a":', '}'],
        ] as const) {
          const body = open.repeat(depth) + close.repeat(depth);
          for (const path of ['catalog.books.create', 'users.create', 'orders.create']) {
            const answer = await send(platform.gatewayUrl, `/trpc/${path}`, {
              method: 'POST',
              headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
              body,
            });
            bump(stats.cases, 'deep nesting');
            const want = body.length > 1024 * 1024 ? 413 : 400;
            expect(answer.status, `${path} with ${depth} levels of ${open}`).toBe(want);
          }
        }
      }
      const huge = encodeURIComponent(JSON.stringify({ search: 'é'.repeat(20_000) }));
      const long = await send(platform.gatewayUrl, `/trpc/catalog.books.list?input=${huge}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      bump(stats.cases, 'oversized');
      expect(long.status, 'a query past the request-line limit').toBe(431);
    });
  }, 300_000);

  test('batches mixing procedures, valid and invalid inputs: each item keeps the contract, the status merges them', async () => {
    const byType = (type: FuzzedProcedure['type']) =>
      procedures.filter((procedure) => procedure.type === type);
    const byPath = new Map(procedures.map((procedure) => [procedure.path, procedure]));
    const member = (candidates: FuzzedProcedure[]) =>
      fc.constantFrom(...candidates.map((candidate) => candidate.path)).chain((path) => {
        const schema = inputJsonSchema(byPath.get(path)!.inputs);
        return fc
          .oneof(
            hostileValid(schema, { knownIds }),
            outOfSchema(schema, { knownIds }).map(({ input }) => input),
          )
          .map((input) => ({ path, input }));
      });
    const batch = fc.oneof(
      fc
        .array(member(byType('query')), { minLength: 2, maxLength: 8 })
        .map((calls) => ({ method: 'GET', calls })),
      fc
        .array(member(byType('mutation')), { minLength: 2, maxLength: 6 })
        .map((calls) => ({ method: 'POST', calls })),
    );
    await fc.assert(
      fc.asyncProperty(batch, fc.boolean(), async ({ method, calls }, anonymous) => {
        bump(stats.cases, 'batch');
        const caller: Caller = anonymous ? 'anonymous' : 'admin';
        const inputs = Object.fromEntries(
          calls.flatMap(({ input }, index) => (input === undefined ? [] : [[String(index), input]])),
        );
        const text = JSON.stringify(inputs);
        const wire = JSON.parse(text) as Record<string, unknown>;
        const paths = calls.map(({ path }) => path).join(',');
        const headers: Record<string, string> = anonymous ? {} : { authorization: `Bearer ${adminToken}` };
        const before = method === 'POST' ? await rowCounts() : null;
        const answer: Answer =
          method === 'GET'
            ? await send(platform.gatewayUrl, `/trpc/${paths}?batch=1&input=${encodeURIComponent(text)}`, {
                method,
                headers,
              })
            : await send(platform.gatewayUrl, `/trpc/${paths}?batch=1`, {
                method,
                headers: { ...headers, 'content-type': 'application/json' },
                body: text,
              });
        bump(stats.statuses, answer.status);
        if (answer.status === 431 && answer.urlBytes > HEADER_LIMIT_BYTES / 2) return;
        const maxBodyBytes = Math.max(...calls.map(({ path }) => maxBodyBytesOf(byPath.get(path)!, infos)));
        if (answer.status === 413 && answer.bodyBytes > maxBodyBytes) return;
        if (!Array.isArray(answer.body) || answer.body.length !== calls.length) {
          throw new Error(
            `batch ${paths}: not one reply per call: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
          );
        }
        const items = answer.body as unknown[];
        const statuses = items.map((item) => errorOf(item)?.data?.httpStatus ?? 200);
        const merged = new Set(statuses).size === 1 ? statuses[0] : 207;
        if (answer.status !== merged)
          throw new Error(`batch ${paths}: status ${answer.status}, items ${statuses.join(',')}`);
        let succeededMutations = 0;
        const refusedWhole = calls.some((_, index) => tooDeep(wire[String(index)]));
        for (const [index, { path }] of calls.entries()) {
          const procedure = byPath.get(path)!;
          const accepted = await acceptsInput(procedure, wire[String(index)]);
          const breach = refusedWhole
            ? refusedAsTooDeep(items[index], statuses[index]!)
            : contractBreach(procedure, caller, accepted, items[index], statuses[index]!, {
                ...answer,
                maxBodyBytes,
              });
          if (breach)
            throw new Error(
              `batch ${paths}, item ${index} (${procedure.path}) as ${caller}: ${breach}\ninput: ${preview(text)}`,
            );
          if (statuses[index]! < 300 && procedure.type === 'mutation') succeededMutations++;
        }
        if (before && succeededMutations === 0) {
          const diff = rowDiff(before, await rowCounts());
          if (diff.size > 0)
            throw new Error(`batch ${paths}: every call failed yet rows changed: ${describeDiff(diff)}`);
        }
      }),
      { ...assertOptions, numRuns: RUNS * 3 },
    );
  }, 300_000);

  test('every service still answers, and the summary', async () => {
    const urls = [platform.gatewayUrl, ...Object.values(platform.services).map((service) => service.url)];
    for (const url of urls) {
      expect((await fetch(`${url}/readyz`)).status, `${url}/readyz`).toBe(200);
    }
    const cases = [...stats.cases.values()].reduce((sum, count) => sum + count, 0);
    console.log(
      [
        `[fuzz] ${procedures.length} procedures × ${cases} generated cases (seed ${seed ?? 'random'}, ${RUNS} runs per procedure and family)`,
        `  cases by family: ${[...stats.cases].map(([family, count]) => `${family} ${count}`).join(', ')}`,
        `  inputs the schemas accept / refuse: ${stats.acceptedLocally} / ${stats.rejectedLocally}`,
        `  answers by status: ${[...stats.statuses]
          .sort(([a], [b]) => a - b)
          .map(([status, count]) => `${status} × ${count}`)
          .join(', ')}`,
        '  successful mutations and the rows they changed (every failed call and every query changed none):',
        ...[...stats.mutationsSucceeded].map(
          ([path, count]) =>
            `    ${path} × ${count}: ${describeDiff(stats.rowChanges.get(path) ?? new Map()) || 'no row count changed'}`,
        ),
        `  afterwards every service and the gateway answer /readyz 200 (${urls.length} processes)`,
      ].join('\n'),
    );
    expect(cases).toBeGreaterThan(procedures.length * RUNS);
  });
});

describe('regressions the fuzzer found', () => {
  const post = (path: string, body: string, token: string | null = adminToken) =>
    send(platform.gatewayUrl, `/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });

  test('a query just under the gateway’s header limit is answered, not a 502 (re-encoded for the service it grew past 16 KiB)', async () => {
    const statuses = new Set<number>();
    // Around the gateway's own limit: what it accepts must fit the service once wrapped in a batch.
    for (let length = HEADER_LIMIT_BYTES - 1_500; length <= HEADER_LIMIT_BYTES; length += 100) {
      const input = encodeURIComponent(JSON.stringify({ ids: [], padding: 'x'.repeat(length - 600) }));
      const answer = await send(platform.gatewayUrl, `/trpc/catalog.books.list?input=${input}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      statuses.add(answer.status);
    }
    expect([...statuses].filter((status) => status >= 500)).toEqual([]);
  });

  test('a NUL character in a text field is a 400, not a 500 (PostgreSQL 22021), and stores nothing', async () => {
    await unchangedRows('a title with NUL', async () => {
      const answer = await post(
        'catalog.books.create',
        JSON.stringify({ title: 'a\u0000b', author: 'x', priceCents: 1 }),
      );
      expect([answer.status, errorOf(answer.body)?.message]).toEqual([
        400,
        'A value holds a character that cannot be stored (NUL)',
      ]);
    });
  });

  test('an API token longer than any issued is a 401, not a 503 (auth refused to look it up)', async () => {
    const answer = await send(platform.gatewayUrl, '/trpc/auth.me', {
      method: 'GET',
      headers: { authorization: `Bearer bnd_${'x'.repeat(300)}` },
    });
    expect([answer.status, errorOf(answer.body)?.data?.code]).toEqual([401, 'UNAUTHORIZED']);
  });

  test('an input nested 5,000 levels deep is a 400, not a 500 (re-encoding it overflowed the stack)', async () => {
    const answer = await post('catalog.books.create', `${'['.repeat(5_000)}${']'.repeat(5_000)}`);
    expect([answer.status, errorOf(answer.body)?.message]).toEqual([
      400,
      'An input nests deeper than 100 levels',
    ]);
  });

  test('an order whose total passes integer cents is refused by its items, not by the database', async () => {
    const book = await platform.client(adminToken).catalog.books.create.mutate({
      title: `Dear ${randomUUID()}`,
      author: 'Fuzzer',
      priceCents: 100_000_000,
    });
    await unchangedRows('an order too dear', async () => {
      const answer = await post(
        'orders.create',
        JSON.stringify({ items: [{ bookId: book.id, quantity: 10_000 }], idempotencyKey: randomUUID() }),
      );
      expect([answer.status, errorOf(answer.body)?.message]).toEqual([
        400,
        'items: the order comes to 1000000000000 cents, more than 2147483647',
      ]);
    });
  });
});

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
