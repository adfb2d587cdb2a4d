import type { FuzzedProcedure } from './procedures';

/** What the gateway answered: the status, and the JSON body when there is one. */
export interface Answer {
  status: number;
  body: unknown;
  /** Bytes of the request line's target, to tell a refused long URL (431) from a bug. */
  urlBytes: number;
  bodyBytes: number;
}

/** The tRPC error of a single reply (or of one batch item), when it is one. */
export interface ErrorItem {
  error?: { message?: string; data?: { code?: string; httpStatus?: number; issues?: unknown[] } };
}

/** Sends `input` (already JSON, or undefined for none) to a procedure the way tRPC's client does. */
export async function callProcedure(
  gatewayUrl: string,
  procedure: Pick<FuzzedProcedure, 'path' | 'type'>,
  json: string | undefined,
  token: string | null,
): Promise<Answer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const target = `/trpc/${procedure.path}`;
  if (procedure.type === 'mutation') {
    return send(gatewayUrl, target, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: json ?? '',
    });
  }
  const query = json === undefined ? '' : `?input=${encodeURIComponent(json)}`;
  return send(gatewayUrl, `${target}${query}`, { method: 'GET', headers }, procedure.type === 'subscription');
}

/**
 * One HTTP request to the gateway. A subscription's stream is read up to its first event, then
 * dropped: what matters is how it starts.
 */
export async function send(
  gatewayUrl: string,
  target: string,
  init: { method: string; headers?: Record<string, string>; body?: string | Uint8Array },
  stream = false,
): Promise<Answer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 30_000);
  try {
    const response = await fetch(`${gatewayUrl}${target}`, { ...init, signal: abort.signal });
    const bodyBytes = init.body === undefined ? 0 : Buffer.byteLength(init.body);
    if (stream && response.headers.get('content-type')?.startsWith('text/event-stream')) {
      const first = await firstEvent(response.body!);
      abort.abort();
      // tRPC streams a subscription's error as a `serialized-error` event after a 200.
      if (first?.event === 'serialized-error') {
        const error = JSON.parse(first.data) as { data?: { httpStatus?: number } };
        return { status: error.data?.httpStatus ?? 500, body: { error }, urlBytes: target.length, bodyBytes };
      }
      return { status: response.status, body: { stream: first }, urlBytes: target.length, bodyBytes };
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = { unparsable: text.slice(0, 200) };
    }
    return { status: response.status, body, urlBytes: target.length, bodyBytes };
  } finally {
    clearTimeout(timer);
  }
}

/** The first Server-Sent Event after `connected` (and pings), or null when none comes within 5 s. */
async function firstEvent(body: ReadableStream<Uint8Array>): Promise<{ event: string; data: string } | null> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + 5_000;
  let text = '';
  for (;;) {
    const chunk = await Promise.race([
      reader.read(),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()))),
    ]);
    if (!chunk || chunk.done) return null;
    text += decoder.decode(chunk.value, { stream: true });
    const events = text.split('\n\n');
    for (const block of events.slice(0, -1)) {
      const field = (name: string) =>
        block
          .split('\n')
          .filter((line) => line.startsWith(`${name}:`))
          .map((line) => line.slice(name.length + 1).trimStart())
          .join('\n');
      const event = field('event') || 'message';
      if (event !== 'connected' && event !== 'ping') return { event, data: field('data') };
    }
  }
}
