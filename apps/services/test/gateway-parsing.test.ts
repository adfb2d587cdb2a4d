import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
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
