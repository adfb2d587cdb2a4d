import { accessTokenOf } from '@/lib/access-token';
import { gatewayUrl } from '@/lib/gateway';

/**
 * The console's only way to the API: the browser's typed client calls `/api/trpc/<procedures>` and
 * this route relays the call to the gateway's `/trpc/<procedures>` as it came (batches, mutations,
 * and the `system.live` Server-Sent Events stream), with the session's access token as the Bearer.
 * Authorization stays with the gateway and the services: a viewer's write is refused there.
 */
export const dynamic = 'force-dynamic';

const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'trpc-accept', 'last-event-id', 'traceparent'];
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'cache-control', 'x-request-id'];

async function relay(request: Request, { params }: { params: Promise<{ path: string[] }> }) {
  const { path } = await params;
  const target = new URL(`${gatewayUrl()}/trpc/${path.join('/')}`);
  target.search = new URL(request.url).search;
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  const token = await accessTokenOf(request);
  if (token) headers.set('authorization', `Bearer ${token}`);
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: request.method,
      headers,
      body: request.method === 'POST' ? await request.arrayBuffer() : null,
      signal: request.signal,
      cache: 'no-store',
      redirect: 'manual',
    });
  } catch {
    return Response.json(
      {
        error: {
          code: -32603,
          message: 'The console cannot reach the gateway',
          data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503 },
        },
      },
      { status: 503 },
    );
  }
  const responseHeaders = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) responseHeaders.set(name, value);
  }
  if (upstream.headers.get('content-type')?.startsWith('text/event-stream')) {
    responseHeaders.set('cache-control', 'no-cache, no-transform');
    responseHeaders.set('x-accel-buffering', 'no');
  }
  return new Response(upstream.body, { status: upstream.status, headers: responseHeaders });
}

export { relay as GET, relay as POST };
