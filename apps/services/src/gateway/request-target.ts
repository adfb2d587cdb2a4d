/**
 * A request target that the URL parser would leave exactly as it is: `/trpc/` and procedure paths,
 * then a query of letters, digits and percent-encoded bytes (what tRPC clients send), with none of
 * the characters it encodes or reads specially (`'`, `"`, `#`, spaces, dot segments, backslashes).
 */
const PLAIN_TARGET = /^\/trpc\/[\w-]+(?:[.,][\w-]+)*(?:\?[\w%&=.~!$()*+,;:@/?-]*)?$/;

/**
 * The request's path, query and query parameters, as `new URL` gives them. A plain target, nearly
 * every request, is split by hand: parsing the whole URL cost more than anything else the gateway
 * did with the request line.
 */
export function requestTarget(target = '/'): Pick<URL, 'pathname' | 'search' | 'searchParams'> {
  if (!PLAIN_TARGET.test(target)) return new URL(target, 'http://gateway');
  const queryStart = target.indexOf('?');
  if (queryStart === -1) return { pathname: target, search: '', searchParams: new URLSearchParams() };
  const search = target.slice(queryStart);
  return {
    pathname: target.slice(0, queryStart),
    // As in `URL`, a lone `?` is no query at all.
    search: search.length > 1 ? search : '',
    searchParams: new URLSearchParams(search),
  };
}
