import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallAbort } from '@bindery/runtime';
import fc from 'fast-check';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bufferedRequest } from '../src/gateway/buffered-request';
import { requestTarget } from '../src/gateway/request-target';

/** Characters a request target may hold, weighted towards those the URL parser treats specially. */
const targetCharacter = fc.constantFrom(
  ...'abcXYZ019-_.~,%&=?#/\\\'" +:;@!$()*[]{}|^`<>é'.split(''),
  '%2F',
  '%41',
  '%zz',
  '..',
  '%2e',
);
const targets = fc.oneof(
  fc.array(targetCharacter, { maxLength: 30 }).map((parts) => `/trpc/${parts.join('')}`),
  fc
    .tuple(
      fc.array(fc.stringMatching(/^[a-z][\w-]{0,8}$/), { minLength: 1, maxLength: 3 }),
      fc.array(targetCharacter, { maxLength: 40 }),
    )
    .map(([paths, query]) => `/trpc/${paths.join(',')}?${query.join('')}`),
  fc.array(targetCharacter, { maxLength: 30 }).map((parts) => `/${parts.join('')}`),
);

/** The parameters the gateway reads, and others that a target may hold. */
const PARAMETER_NAMES = ['batch', 'input', 'x', 'a', ''];

describe("the gateway's request-target split", () => {
  test('gives the path, query and parameters the URL parser gives, for any target', () => {
    fc.assert(
      fc.property(targets, (target) => {
        let expected: URL;
        try {
          expected = new URL(target, 'http://gateway');
        } catch {
          // `//host`: not a path at all, and not one the gateway's /trpc route ever receives.
          expect(() => requestTarget(target)).toThrow();
          return;
        }
        const actual = requestTarget(target);
        expect(actual.pathname).toBe(expected.pathname);
        expect(actual.search).toBe(expected.search);
        for (const name of PARAMETER_NAMES) {
          expect(actual.searchParams.get(name)).toBe(expected.searchParams.get(name));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  test.each([
    '/trpc/catalog.books.byId?input=%7B%22id%22%3A%22x%22%7D',
    '/trpc/catalog.books.byId,users.me?batch=1&input=%7B%7D',
    '/trpc/catalog.books.byId?',
    '/trpc/a/../b?x=1',
    "/trpc/a?x='1'",
    '/trpc/a#frag?x=1',
    // A second `?` belongs to the query: the names are `?a` and `?batch`, not `a` and `batch`.
    '/trpc/a??a',
    '/trpc/a??batch=1&input=%7B%7D',
  ])('%s', (target) => {
    const expected = new URL(target, 'http://gateway');
    const actual = requestTarget(target);
    const params = (url: Pick<URL, 'searchParams'> | typeof actual) =>
      PARAMETER_NAMES.map((name) => url.searchParams.get(name));
    expect({ pathname: actual.pathname, search: actual.search, params: params(actual) }).toEqual({
      pathname: expected.pathname,
      search: expected.search,
      params: params(expected),
    });
  });
});

describe('bufferedRequest', () => {
  let server: Server;
  let origin: string;
  const agent = new Agent({ keepAliveTimeout: 1_000 });

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/chunks') {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-kind': 'chunks' });
        res.write('one,');
        setTimeout(() => res.end('two'), 20);
      } else if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2_000);
      } else {
        res.writeHead(404).end('none');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await agent.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (path: string, abort = new CallAbort()) =>
    bufferedRequest(agent, { origin, path, method: 'GET' }, abort);

  test('collects a reply sent in several chunks, with its status and headers', async () => {
    const reply = await send('/chunks');
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['x-kind']).toBe('chunks');
    expect(reply.body.toString()).toBe('one,two');
    expect((await send('/elsewhere')).statusCode).toBe(404);
  });

  test('a reply cut before its declared length rejects', async () => {
    await expect(send('/cut')).rejects.toThrow();
  });

  test("the call's abort ends it with its reason, before or during the wait", async () => {
    const early = new CallAbort();
    early.abort(new Error('caller gave up'));
    await expect(send('/slow', early)).rejects.toThrow('caller gave up');
    const late = new CallAbort();
    const pending = send('/slow', late);
    setTimeout(() => late.abort(new Error('deadline passed')), 50);
    await expect(pending).rejects.toThrow('deadline passed');
  });
});
