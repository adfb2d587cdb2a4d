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
  /** Writes lines tagged with the request id. */
  log: RequestLog;
}

/** What a call logs through: a pino logger, or anything that writes like one. */
export interface RequestLog {
  isLevelEnabled(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}
