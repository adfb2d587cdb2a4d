import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino removes from every log line: credentials and tokens never reach the logs.
 * https://getpino.io/#/docs/redaction
 */
export const REDACTED_PATHS = [
  ...['password', 'newPassword', 'token', 'accessToken', 'secret', 'cardToken', 'authorization'].flatMap(
    (key) => [key, `*.${key}`, `*.*.${key}`],
  ),
  'req.headers.cookie',
  '*.headers.cookie',
];

/** `destination` replaces stdout (tests read the lines back); it is never pretty-printed. */
export function createLogger(
  options: { service: string; instance: string; level?: string },
  destination?: DestinationStream,
): Logger {
  const pretty =
    !destination && process.stdout.isTTY && process.env.NODE_ENV !== 'production' && !process.env.CI;
  const loggerOptions: pino.LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { service: options.service, instance: options.instance },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,instance' } } }
      : {}),
  };
  return destination ? pino(loggerOptions, destination) : pino(loggerOptions);
}
