import { queryParameters } from '@bindery/runtime';

/**
 * A request target that the URL parser would leave exactly as it is: `/trpc/` and procedure paths,
 * then a query of letters, digits and percent-encoded bytes (what tRPC clients send), with none of
 * the characters it encodes or reads specially (`'`, `"`, `#`, spaces, dot segments, backslashes).
 */
const PLAIN_TARGET = /^\/trpc\/[\w-]+(?:[.,][\w-]+)*(?:\?[\w%&=.~!$()*+,;:@/?-]*)?$/;

/** What the gateway reads of a request target. */
export interface RequestTarget {
  pathname: string;
  search: string;
  searchParams: Pick<URLSearchParams, 'get'>;
}

/**
 * The request's path, query and query parameters, as `new URL` gives them. A plain target, nearly
 * every request, is split by hand, and its `batch` and `input` parameters read without a
 * `URLSearchParams`: parsing the whole URL cost more than anything else the gateway did with the
 * request line.
 */
export function requestTarget(target = '/'): RequestTarget {
  if (!PLAIN_TARGET.test(target)) return new URL(target, 'http://gateway');
  const queryStart = target.indexOf('?');
  if (queryStart === -1) return { pathname: target, search: '', searchParams: new PlainQuery('') };
  // As in `URL`, a lone `?` is no query at all.
  const search = queryStart === target.length - 1 ? '' : target.slice(queryStart);
  return { pathname: target.slice(0, queryStart), search, searchParams: new PlainQuery(search) };
}

/**
 * The parameters of a plain query (`search`: empty, or `?` and the query): `batch` and `input` read
 * by hand, any other by `URLSearchParams`.
 */
class PlainQuery implements Pick<URLSearchParams, 'get'> {
  #trpc: { batch: string | null; input: string | null } | undefined;
  #other: URLSearchParams | undefined;

  constructor(private readonly search: string) {}

  get(name: string): string | null {
    if (name === 'batch' || name === 'input') {
      // Everything after the first `?` is the query, a second `?` included (a name `?batch` is not
      // `batch`).
      this.#trpc ??= queryParameters(this.search.slice(1));
      return this.#trpc[name];
    }
    // `URLSearchParams` drops one leading `?`, the one `search` begins with.
    this.#other ??= new URLSearchParams(this.search);
    return this.#other.get(name);
  }
}
