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
  return { pathname: target.slice(0, queryStart), search, searchParams: new PlainQuery(search.slice(1)) };
}

/** The parameters of a plain query: `batch` and `input` read by hand, any other by `URLSearchParams`. */
class PlainQuery implements Pick<URLSearchParams, 'get'> {
  #trpc: { batch: string | null; input: string | null } | undefined;
  #other: URLSearchParams | undefined;

  constructor(private readonly query: string) {}

  get(name: string): string | null {
    if (name === 'batch' || name === 'input') {
      this.#trpc ??= queryParameters(this.query);
      return this.#trpc[name];
    }
    this.#other ??= new URLSearchParams(this.query);
    return this.#other.get(name);
  }
}
