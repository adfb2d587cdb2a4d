import { describe, expect, expectTypeOf, test } from 'vitest';
import {
  encodeBatch,
  errorItem,
  namespaceOf,
  parseTrpcRequest,
  replyStatus,
  splitByNamespace,
  type TrpcCall,
  type TrpcReplyItem,
  type TrpcRequest,
  TrpcRequestError,
} from '../src/batch';

function parse(
  method: string,
  procedurePaths: string,
  query: Record<string, string> = {},
  body: unknown = undefined,
): TrpcRequest {
  return parseTrpcRequest({ method, procedurePaths, searchParams: new URLSearchParams(query), body });
}

/** The TrpcRequestError `run` throws, as `{ name, code, message }`. */
function requestErrorOf(run: () => unknown): { name: string; code: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TrpcRequestError);
    const { name, code, message } = error as TrpcRequestError;
    return { name, code, message };
  }
  throw new Error('expected a TrpcRequestError, but nothing was thrown');
}

describe('parseTrpcRequest', () => {
  test('a GET without batch reads its JSON input from ?input', () => {
    expect(parse('GET', 'catalog.books.byId', { input: '{"id":"b1"}' })).toEqual({
      method: 'GET',
      batch: false,
      calls: [{ path: 'catalog.books.byId', input: { id: 'b1' } }],
    });
  });

  test('a GET without ?input has an undefined input', () => {
    expect(parse('GET', 'auth.me')).toEqual({
      method: 'GET',
      batch: false,
      calls: [{ path: 'auth.me', input: undefined }],
    });
  });

  test('a POST without batch takes the body as the input', () => {
    expect(parse('POST', 'catalog.books.create', {}, { title: 'Dune' })).toEqual({
      method: 'POST',
      batch: false,
      calls: [{ path: 'catalog.books.create', input: { title: 'Dune' } }],
    });
  });

  test('a POST ignores ?input, which only GET reads', () => {
    expect(parse('POST', 'a.b', { input: '{"from":"query"}' }, { from: 'body' }).calls).toEqual([
      { path: 'a.b', input: { from: 'body' } },
    ]);
  });

  test('a GET batch spreads the inputs keyed "0", "1", … over the calls in order', () => {
    const request = parse('GET', 'catalog.books.byId,auth.me,users.byId', {
      batch: '1',
      input: JSON.stringify({ '0': { id: 'b1' }, '2': { id: 'u1' } }),
    });
    expect(request).toEqual({
      method: 'GET',
      batch: true,
      calls: [
        { path: 'catalog.books.byId', input: { id: 'b1' } },
        { path: 'auth.me', input: undefined },
        { path: 'users.byId', input: { id: 'u1' } },
      ],
    });
  });

  test('a POST batch reads the inputs from the body', () => {
    expect(parse('POST', 'a.create,b.create', { batch: '1' }, { '0': 1, '1': 'two' }).calls).toEqual([
      { path: 'a.create', input: 1 },
      { path: 'b.create', input: 'two' },
    ]);
  });

  test('a batch without any input gives every call an undefined input', () => {
    expect(parse('POST', 'a.b,c.d', { batch: '1' }).calls).toEqual([
      { path: 'a.b', input: undefined },
      { path: 'c.d', input: undefined },
    ]);
  });

  test('a batch of one is still a batch', () => {
    expect(parse('GET', 'a.b', { batch: '1', input: '{"0":{"x":1}}' })).toEqual({
      method: 'GET',
      batch: true,
      calls: [{ path: 'a.b', input: { x: 1 } }],
    });
  });

  test('only batch=1 turns batching on', () => {
    expect(requestErrorOf(() => parse('GET', 'a.b,c.d', { batch: 'true' }))).toMatchInlineSnapshot(`
      {
        "code": "BAD_REQUEST",
        "message": "Several procedures in one call need ?batch=1",
        "name": "TrpcRequestError",
      }
    `);
  });

  test('percent-encoded paths are decoded (clients encode the comma)', () => {
    expect(parse('GET', 'a.b%2Cc.d', { batch: '1' }).calls.map((call) => call.path)).toEqual(['a.b', 'c.d']);
  });

  test('input that is not JSON is a PARSE_ERROR', () => {
    expect(requestErrorOf(() => parse('GET', 'a.b', { input: '{"id":' }))).toMatchInlineSnapshot(`
      {
        "code": "PARSE_ERROR",
        "message": "The input query parameter is not valid JSON",
        "name": "TrpcRequestError",
      }
    `);
    expect(requestErrorOf(() => parse('GET', 'a.b,c.d', { batch: '1', input: 'undefined' })).code).toBe(
      'PARSE_ERROR',
    );
  });

  test.each([
    ['an empty path', ''],
    ['a path with a slash', 'a/b'],
    ['a path with an empty segment', 'a..b'],
    ['a path ending in a dot', 'a.'],
    ['an empty call in a batch', 'a.b,'],
    ['a path with a space', 'a.b c'],
    ['a path trying to climb', '../admin'],
  ])('%s is NOT_FOUND', (_, procedurePaths) => {
    const error = requestErrorOf(() => parse('GET', procedurePaths, { batch: '1' }));
    expect(error).toEqual({
      name: 'TrpcRequestError',
      code: 'NOT_FOUND',
      message: `No procedure found on path "${procedurePaths}"`,
    });
  });

  test('a malformed percent escape in the path is NOT_FOUND, not a crash (regression)', () => {
    expect(requestErrorOf(() => parse('GET', 'a.b%E0%A4%A'))).toMatchInlineSnapshot(`
      {
        "code": "NOT_FOUND",
        "message": "No procedure found on path "a.b%E0%A4%A"",
        "name": "TrpcRequestError",
      }
    `);
  });

  test('path segments may hold letters, digits, underscores and dashes', () => {
    expect(parse('GET', 'api_tokens.list-all2').calls[0]?.path).toBe('api_tokens.list-all2');
  });

  test('several paths without ?batch=1 are a BAD_REQUEST', () => {
    expect(requestErrorOf(() => parse('POST', 'a.b,c.d', {}, { '0': 1 }))).toMatchInlineSnapshot(`
      {
        "code": "BAD_REQUEST",
        "message": "Several procedures in one call need ?batch=1",
        "name": "TrpcRequestError",
      }
    `);
  });

  test.each(['PUT', 'DELETE', 'PATCH', 'get'])('method %s is METHOD_NOT_SUPPORTED', (method) => {
    expect(requestErrorOf(() => parse(method, 'a.b'))).toEqual({
      name: 'TrpcRequestError',
      code: 'METHOD_NOT_SUPPORTED',
      message: `Method ${method} is not supported; use GET or POST`,
    });
  });

  test('the method is checked before the path', () => {
    expect(requestErrorOf(() => parse('PUT', '../x')).code).toBe('METHOD_NOT_SUPPORTED');
  });

  test.each([
    ['an array', [{ id: 1 }]],
    ['null', null],
    ['a string', 'x'],
    ['a number', 7],
  ])('a batch input that is %s is a BAD_REQUEST', (_, input) => {
    const expected = {
      name: 'TrpcRequestError',
      code: 'BAD_REQUEST',
      message: 'A batch input must be an object keyed by call index',
    };
    expect(requestErrorOf(() => parse('POST', 'a.b,c.d', { batch: '1' }, input))).toEqual(expected);
    expect(
      requestErrorOf(() => parse('GET', 'a.b,c.d', { batch: '1', input: JSON.stringify(input) })),
    ).toEqual(expected);
  });

  test('a non-batch call takes any JSON value as its input, arrays and null included', () => {
    expect(parse('POST', 'a.b', {}, [1, 2]).calls).toEqual([{ path: 'a.b', input: [1, 2] }]);
    expect(parse('GET', 'a.b', { input: 'null' }).calls).toEqual([{ path: 'a.b', input: null }]);
  });

  test('the method type is narrowed to GET | POST', () => {
    expectTypeOf(parse('GET', 'a.b').method).toEqualTypeOf<'GET' | 'POST'>();
  });
});

describe('namespaceOf', () => {
  test('is the first segment of the path', () => {
    expect(namespaceOf('catalog.books.byId')).toBe('catalog');
    expect(namespaceOf('health')).toBe('health');
  });
});

describe('splitByNamespace', () => {
  const calls: TrpcCall[] = [
    { path: 'catalog.books.byId', input: { id: 'b1' } },
    { path: 'users.byId', input: { id: 'u1' } },
    { path: 'catalog.books.list', input: undefined },
    { path: 'auth.me', input: undefined },
    { path: 'users.list', input: { limit: 5 } },
  ];

  test('groups by namespace in order of first appearance, keeping each call with its original index', () => {
    const groups = splitByNamespace(calls);
    expect([...groups.keys()]).toEqual(['catalog', 'users', 'auth']);
    expect(Object.fromEntries(groups)).toEqual({
      catalog: [
        { index: 0, call: calls[0] },
        { index: 2, call: calls[2] },
      ],
      users: [
        { index: 1, call: calls[1] },
        { index: 4, call: calls[4] },
      ],
      auth: [{ index: 3, call: calls[3] }],
    });
  });

  test('every original index appears exactly once across the groups', () => {
    const indices = [...splitByNamespace(calls).values()].flat().map((entry) => entry.index);
    expect(indices.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  test('no calls give no groups', () => {
    expect(splitByNamespace([]).size).toBe(0);
  });
});

describe('encodeBatch', () => {
  const calls: TrpcCall[] = [
    { path: 'users.byId', input: { id: 'u1' } },
    { path: 'users.me', input: undefined },
    { path: 'users.search', input: { q: 'a&b=c' } },
  ];

  test('POST: the paths in the URL and the inputs renumbered from 0 in the body, undefined ones left out', () => {
    expect(encodeBatch('POST', calls)).toMatchInlineSnapshot(`
      {
        "body": "{"0":{"id":"u1"},"2":{"q":"a&b=c"}}",
        "pathAndQuery": "/trpc/users.byId,users.me,users.search?batch=1",
      }
    `);
  });

  test('GET: the inputs travel URL-encoded in ?input and there is no body', () => {
    const encoded = encodeBatch('GET', calls);
    expect(encoded).toMatchInlineSnapshot(`
      {
        "body": undefined,
        "pathAndQuery": "/trpc/users.byId,users.me,users.search?batch=1&input=%7B%220%22%3A%7B%22id%22%3A%22u1%22%7D%2C%222%22%3A%7B%22q%22%3A%22a%26b%3Dc%22%7D%7D",
      }
    `);
    const url = new URL(encoded.pathAndQuery, 'http://upstream');
    expect(JSON.parse(url.searchParams.get('input')!)).toEqual({ '0': { id: 'u1' }, '2': { q: 'a&b=c' } });
  });

  test('renumbers a group split out of a larger batch from 0', () => {
    const request = parse(
      'POST',
      'catalog.a,users.b,catalog.c',
      { batch: '1' },
      { '0': 'A', '1': 'B', '2': 'C' },
    );
    const catalogGroup = splitByNamespace(request.calls).get('catalog')!;
    expect(catalogGroup.map((entry) => entry.index)).toEqual([0, 2]);
    expect(
      encodeBatch(
        'POST',
        catalogGroup.map((entry) => entry.call),
      ),
    ).toEqual({ pathAndQuery: '/trpc/catalog.a,catalog.c?batch=1', body: '{"0":"A","1":"C"}' });
  });

  test('null and falsy inputs are kept; only undefined is left out', () => {
    const encoded = encodeBatch('POST', [
      { path: 'a.b', input: null },
      { path: 'a.c', input: 0 },
      { path: 'a.d', input: false },
    ]);
    expect(encoded.body).toBe('{"0":null,"1":0,"2":false}');
  });

  test('what encodeBatch writes, parseTrpcRequest reads back as the same calls', () => {
    for (const method of ['GET', 'POST'] as const) {
      const encoded = encodeBatch(method, calls);
      const url = new URL(encoded.pathAndQuery, 'http://upstream');
      const parsed = parseTrpcRequest({
        method,
        procedurePaths: url.pathname.slice('/trpc/'.length),
        searchParams: url.searchParams,
        body: encoded.body === undefined ? undefined : JSON.parse(encoded.body),
      });
      expect(parsed).toEqual({ method, batch: true, calls });
    }
  });
});

describe('errorItem', () => {
  test('has the tRPC error shape: JSON-RPC code, message, and data with code, httpStatus and path', () => {
    expect(
      errorItem('SERVICE_UNAVAILABLE', 'catalog is unavailable', 'catalog.books.list'),
    ).toMatchInlineSnapshot(`
      {
        "error": {
          "code": -32603,
          "data": {
            "code": "SERVICE_UNAVAILABLE",
            "httpStatus": 503,
            "path": "catalog.books.list",
          },
          "message": "catalog is unavailable",
        },
      }
    `);
  });

  test('leaves out the path when there is none', () => {
    expect(errorItem('NOT_FOUND', 'No procedure found on path "x.y"')).toMatchInlineSnapshot(`
      {
        "error": {
          "code": -32004,
          "data": {
            "code": "NOT_FOUND",
            "httpStatus": 404,
          },
          "message": "No procedure found on path "x.y"",
        },
      }
    `);
  });

  test.each([
    ['NOT_FOUND', 404, -32004],
    ['SERVICE_UNAVAILABLE', 503, -32603],
    ['GATEWAY_TIMEOUT', 504, -32603],
    ['PAYLOAD_TOO_LARGE', 413, -32013],
    ['BAD_REQUEST', 400, -32600],
    ['PARSE_ERROR', 400, -32700],
    ['METHOD_NOT_SUPPORTED', 405, -32005],
  ] as const)('%s answers HTTP %i with JSON-RPC code %i', (code, httpStatus, rpcCode) => {
    const item = errorItem(code, 'message', 'a.b');
    expect(item).toEqual({
      error: { code: rpcCode, message: 'message', data: { code, httpStatus, path: 'a.b' } },
    });
  });
});

describe('replyStatus', () => {
  const ok: TrpcReplyItem = { result: { data: 1 } };
  const notFound = errorItem('NOT_FOUND', 'gone', 'a.b');
  const unavailable = errorItem('SERVICE_UNAVAILABLE', 'down', 'c.d');

  test('all successes answer 200', () => {
    expect(replyStatus([ok])).toBe(200);
    expect(replyStatus([ok, { result: {} }, ok])).toBe(200);
  });

  test('errors that all share one status answer that status', () => {
    expect(replyStatus([notFound])).toBe(404);
    expect(replyStatus([notFound, errorItem('NOT_FOUND', 'also gone', 'x.y')])).toBe(404);
    expect(replyStatus([unavailable, unavailable])).toBe(503);
  });

  test('successes and errors mixed answer 207', () => {
    expect(replyStatus([ok, notFound])).toBe(207);
    expect(replyStatus([unavailable, ok])).toBe(207);
  });

  test('different errors mixed answer 207', () => {
    expect(replyStatus([notFound, unavailable])).toBe(207);
  });
});
