import type { Logger } from 'pino';
import type { Caller } from './roles';

/** What every procedure knows about the call it serves. Service dependencies come by closure. */
export interface Context {
  caller: Caller;
  requestId: string;
  log: Logger;
}
