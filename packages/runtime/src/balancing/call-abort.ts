/** Told when a call is aborted: an object, so that no closure is made per call to listen. */
export interface CallAbortListener {
  callAborted(reason: unknown): void;
}

/**
 * The abort of one balanced call (its deadline passed), told to whoever sends it. An `AbortSignal`
 * is an `EventTarget`: making one, and adding and removing a listener on it, cost the gateway more
 * per request than picking an instance. A sender that can take a listener (`listen`) never makes
 * one; a sender that needs a real signal (`fetch`) asks for `signal`, made then.
 */
export class CallAbort {
  #aborted = false;
  #reason: unknown;
  #listeners: CallAbortListener[] | undefined;
  #controller: AbortController | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why the call was aborted; undefined until it is. */
  get reason(): unknown {
    return this.#reason;
  }

  /** An `AbortSignal` that aborts with this call, made on first use. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Tells `listener` once when the call is aborted, at once if it already is. */
  listen(listener: CallAbortListener): void {
    if (this.#aborted) {
      listener.callAborted(this.#reason);
      return;
    }
    this.#listeners ??= [];
    this.#listeners.push(listener);
  }

  unlisten(listener: CallAbortListener): void {
    const index = this.#listeners?.indexOf(listener) ?? -1;
    if (index !== -1) this.#listeners!.splice(index, 1);
  }

  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    for (const listener of listeners ?? []) listener.callAborted(reason);
  }
}
