import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Writes a reply's head: its own `head`, then `headers` (the service host's request id and
 * instance) added to it, in one `writeHead`. A header set on the response beforehand would make Node
 * keep a header table and copy every later header into it.
 */
export function writeReplyHead(
  res: ServerResponse,
  status: number,
  head: Record<string, string | number>,
  headers: Readonly<Record<string, string>> | undefined,
): void {
  if (headers) for (const name in headers) head[name] = headers[name]!;
  res.writeHead(status, head);
}

/**
 * Sets `headers` on a reply whose head someone else writes (tRPC's own handler, an event stream).
 * Where the reply's head is written here, `writeReplyHead` is cheaper.
 */
export function setReplyHeaders(
  res: ServerResponse,
  headers: Readonly<Record<string, string>> | undefined,
): void {
  if (headers) for (const name in headers) res.setHeader(name, headers[name]!);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): void {
  const text = JSON.stringify(body);
  writeReplyHead(
    res,
    status,
    { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
    headers,
  );
  res.end(text);
}

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/** Reads a request body, refusing (without buffering the rest) once it passes `limitBytes`. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > limitBytes) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The request body limit of every Bindery endpoint: 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;
