import type { IncomingHttpHeaders } from 'node:http';
import type { CallAbort, CallAbortListener } from '@bindery/runtime';
import { type Dispatcher, errors } from 'undici';

/** A whole reply, its body read into memory. */
export interface BufferedReply {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends a request through `dispatcher` and resolves with the whole reply once its body has come,
 * or rejects with undici's error (a refused connection, a reset, the call's abort). It does what
 * `dispatcher.request` followed by `body.arrayBuffer()` does, without the response stream, the
 * async resource and the body consumer that `request` builds for every call: the gateway reads
 * every reply whole anyway.
 */
export function bufferedRequest(
  dispatcher: Dispatcher,
  options: Omit<Dispatcher.DispatchOptions, 'signal'>,
  abort: CallAbort,
): Promise<BufferedReply> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(options, new BufferingHandler(resolve, reject, abort));
  });
}

/** Collects a reply's chunks, and aborts the request when the call is aborted, as `request` would. */
class BufferingHandler implements Dispatcher.DispatchHandler, CallAbortListener {
  private readonly chunks: Buffer[] = [];
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private controller: Dispatcher.DispatchController | undefined;
  private abortReason: Error | undefined;

  constructor(
    private readonly resolve: (reply: BufferedReply) => void,
    private readonly reject: (error: Error) => void,
    private readonly abort: CallAbort,
  ) {
    abort.listen(this);
  }

  callAborted(reason: unknown): void {
    this.abortReason = reason instanceof Error ? reason : new errors.RequestAbortedError();
    this.controller?.abort(this.abortReason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Called again when undici sends the request anew on another connection.
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    // 1xx replies are informational: the reply itself follows.
    if (statusCode < 200) return;
    this.statusCode = statusCode;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.abort.unlisten(this);
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.abort.unlisten(this);
    this.reject(error);
  }
}
