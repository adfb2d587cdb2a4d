import type { RequestLog } from '@bindery/api';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino removes from every log line: credentials and tokens never reach the logs.
 * https://getpino.io/#/docs/redaction
 */
export const REDACTED_PATHS = [
  ...[
    'password',
    'newPassword',
    'token',
    'accessToken',
    'secret',
    'cardToken',
    'paymentToken',
    'authorization',
  ].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  'req.headers.cookie',
  '*.headers.cookie',
];

let defaultDestination: DestinationStream | undefined;

/**
 * Where loggers created from now on without a destination of their own write, instead of stdout;
 * `undefined` restores stdout. For tests running a whole platform in one process.
 */
export function setLogDestination(destination: DestinationStream | undefined): void {
  defaultDestination = destination;
}

/**
 * The ids of the span active where the line is logged, so a log line leads to its trace. Nothing
 * without a span (or without an OpenTelemetry SDK, where none is ever active).
 */
function traceFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/** `destination` replaces stdout (tests read the lines back); it is never pretty-printed. */
export function createLogger(
  options: { service: string; instance: string; level?: string },
  explicitDestination?: DestinationStream,
): Logger {
  const destination = explicitDestination ?? defaultDestination;
  const pretty =
    !destination && process.stdout.isTTY && process.env.NODE_ENV !== 'production' && !process.env.CI;
  const loggerOptions: pino.LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { service: options.service, instance: options.instance },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin: traceFields,
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,instance' } } }
      : {}),
  };
  return destination ? pino(loggerOptions, destination) : pino(loggerOptions);
}

/**
 * The log of one call: every line carries `requestId`, as a pino child's would. A child costs a
 * copy of the logger and its bindings run through redaction, on every request; this only adds the
 * field to the lines actually written.
 */
export class RequestLogger implements RequestLog {
  constructor(
    private readonly base: Logger,
    private readonly requestId: string,
  ) {}

  isLevelEnabled(level: 'debug' | 'info' | 'warn' | 'error'): boolean {
    return this.base.isLevelEnabled(level);
  }

  debug(fields: object, message?: string): void {
    if (this.base.isLevelEnabled('debug')) this.base.debug({ requestId: this.requestId, ...fields }, message);
  }

  info(fields: object, message?: string): void {
    if (this.base.isLevelEnabled('info')) this.base.info({ requestId: this.requestId, ...fields }, message);
  }

  warn(fields: object, message?: string): void {
    if (this.base.isLevelEnabled('warn')) this.base.warn({ requestId: this.requestId, ...fields }, message);
  }

  error(fields: object, message?: string): void {
    if (this.base.isLevelEnabled('error')) this.base.error({ requestId: this.requestId, ...fields }, message);
  }
}
