import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Caller, type Context, describeProcedures } from '@bindery/api';
import { type Logger, RequestLogger } from '@bindery/runtime';
import type { AnyTRPCRouter } from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';

/** One subscription request to the gateway's own router. */
export interface LocalSubscriptionCall {
  path: string;
  requestId: string;
  traceparent: string;
  /** Who calls; throws a `TRPCError` (401, 503) when the caller cannot be authenticated. */
  caller: () => Promise<Caller>;
}

export interface LocalSubscriptions {
  /** Whether `path` names a subscription of the gateway's own router. */
  serves(path: string): boolean;
  /** Streams the subscription; resolves with its outcome (`ok` or the error code) once the stream ends. */
  serve(req: IncomingMessage, res: ServerResponse, call: LocalSubscriptionCall): Promise<string>;
}

/**
 * The subscriptions of the gateway's own router (`system.live`), served by tRPC's node-http handler
 * as Server-Sent Events. They cannot take the batch path: `localUpstream` reads a whole JSON reply,
 * and a stream never ends. https://trpc.io/docs/client/links/httpSubscriptionLink
 */
export function localSubscriptions(router: AnyTRPCRouter, log: Logger): LocalSubscriptions {
  const paths = new Set(
    describeProcedures(router)
      .filter((procedure) => procedure.type === 'subscription')
      .map((procedure) => procedure.path),
  );
  return {
    serves: (path) => paths.has(path),
    async serve(req, res, call) {
      let outcome = 'ok';
      const served = nodeHTTPRequestHandler({
        router,
        req,
        res,
        path: call.path,
        createContext: async (): Promise<Context> => ({
          caller: await call.caller(),
          requestId: call.requestId,
          traceparent: call.traceparent,
          log: new RequestLogger(log, call.requestId),
        }),
        onError({ error, path }) {
          outcome = error.code;
          if (error.code === 'INTERNAL_SERVER_ERROR')
            log.error({ err: error.cause ?? error, procedure: path }, 'subscription failed');
        },
      });
      // A client that goes away closes the response without finishing it.
      await Promise.race([served, once(res, 'close')]);
      return outcome;
    },
  };
}
