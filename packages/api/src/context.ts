import type { Logger } from 'pino';
import type { Caller } from './roles';

/** What every procedure knows about the call it serves. Service dependencies come by closure. */
export interface Context {
  caller: Caller;
  requestId: string;
  /** The W3C trace context of the call (`traceparent`), passed on to peers and to the events it causes. */
  traceparent?: string | undefined;
  /**
   * When the caller stops waiting (a `Date.now()` time), from the `x-bindery-timeout-ms` header;
   * peer calls made for this one carry what remains of it.
   */
  deadline?: number | undefined;
  log: Logger;
}
