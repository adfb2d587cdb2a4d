import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { describe, expect, test } from 'vitest';
import { createLogger, REDACTED_PATHS } from '../src/logger';
import { startTelemetry } from '../src/telemetry';

/** A logger writing JSON lines into an array instead of stdout. */
function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    { service: 'users', instance: 'users-1', level },
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  );
  return { log, lines };
}

describe('createLogger', () => {
  test('writes JSON lines with the service, instance, an ISO time and the message, and nothing else', () => {
    const { log, lines } = capture();
    log.info({ bookId: 'b1' }, 'book created');
    expect(lines).toHaveLength(1);
    const { time, ...line } = lines[0]!;
    // `base` replaces pino's default pid and hostname: the instance names the process.
    expect(line).toEqual({
      level: 30,
      service: 'users',
      instance: 'users-1',
      bookId: 'b1',
      msg: 'book created',
    });
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('drops lines below its level', () => {
    const { log, lines } = capture('warn');
    log.info('quiet');
    log.warn('loud');
    expect(lines.map((line) => line.msg)).toEqual(['loud']);
  });

  test('takes its level from LOG_LEVEL when none is given', () => {
    const lines: unknown[] = [];
    const log = createLogger(
      { service: 's', instance: 'i' },
      { write: (line: string) => void lines.push(line) },
    );
    expect(log.level).toBe(process.env.LOG_LEVEL ?? 'info');
  });
});

describe('redaction', () => {
  test.each([
    ['password', { password: 'hunter2' }],
    ['newPassword', { newPassword: 'hunter3' }],
    ['token', { token: 'tok_live_123' }],
    ['accessToken', { accessToken: 'eyJhbGciOi.payload.sig' }],
    ['secret', { secret: 's3cr3t' }],
    ['cardToken', { cardToken: 'card_tok_1' }],
    ['paymentToken', { paymentToken: 'tok_visa_live_1' }],
    ['authorization', { authorization: 'Bearer abc' }],
  ])('%s is "[redacted]" at the top level and one level down', (field, fields) => {
    const { log, lines } = capture();
    log.info({ ...fields, nested: { ...fields, kept: 'visible' } }, 'event');
    expect(lines[0]?.[field]).toBe('[redacted]');
    expect(lines[0]?.nested).toEqual({ [field]: '[redacted]', kept: 'visible' });
    expect(JSON.stringify(lines)).not.toContain(String(Object.values(fields)[0]));
  });

  test('the authorization and cookie headers of a request are redacted, other headers kept', () => {
    const { log, lines } = capture();
    log.info(
      {
        req: {
          method: 'POST',
          headers: { authorization: 'Bearer eyJ.secret', cookie: 'session=abc', 'x-request-id': 'r1' },
        },
        headers: { authorization: 'Bearer other', accept: 'application/json' },
      },
      'request',
    );
    expect(lines[0]?.req).toEqual({
      method: 'POST',
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-request-id': 'r1' },
    });
    expect(lines[0]?.headers).toEqual({ authorization: '[redacted]', accept: 'application/json' });
  });

  test('a procedure input carrying a password or token is redacted', () => {
    const { log, lines } = capture();
    log.warn({ input: { email: 'a@b.co', password: 'correct horse', token: 't1' } }, 'login failed');
    expect(lines[0]?.input).toEqual({ email: 'a@b.co', password: '[redacted]', token: '[redacted]' });
  });

  test('a child logger redacts too', () => {
    const { log, lines } = capture();
    log.child({ requestId: 'r1' }).info({ user: { password: 'x' } }, 'child');
    expect(lines[0]).toMatchObject({ requestId: 'r1', user: { password: '[redacted]' } });
  });

  test('the log call does not change the object logged', () => {
    const { log } = capture();
    const payload = { password: 'hunter2', nested: { token: 't' } };
    log.info(payload, 'event');
    expect(payload).toEqual({ password: 'hunter2', nested: { token: 't' } });
  });

  test('the redacted paths are the documented list', () => {
    expect(REDACTED_PATHS).toMatchInlineSnapshot(`
      [
        "password",
        "*.password",
        "*.*.password",
        "newPassword",
        "*.newPassword",
        "*.*.newPassword",
        "token",
        "*.token",
        "*.*.token",
        "accessToken",
        "*.accessToken",
        "*.*.accessToken",
        "secret",
        "*.secret",
        "*.*.secret",
        "cardToken",
        "*.cardToken",
        "*.*.cardToken",
        "paymentToken",
        "*.paymentToken",
        "*.*.paymentToken",
        "authorization",
        "*.authorization",
        "*.*.authorization",
        "req.headers.cookie",
        "*.headers.cookie",
      ]
    `);
  });
});

describe('trace context', () => {
  test('a line logged in an active span carries its trace_id and span_id; a line outside, neither', async () => {
    const telemetry = await startTelemetry({
      service: 'users',
      instance: 'users-1',
      spanExporter: new InMemorySpanExporter(),
    });
    expect(telemetry.enabled).toBe(true);
    const { log, lines } = capture();
    const spanContext = trace.getTracer('test').startActiveSpan('work', (span) => {
      log.info('inside');
      span.end();
      return span.spanContext();
    });
    log.info('outside');
    expect(lines[0]).toMatchObject({
      msg: 'inside',
      trace_id: spanContext.traceId,
      span_id: spanContext.spanId,
    });
    expect(lines[1]).toEqual(expect.not.objectContaining({ trace_id: expect.anything() }));
    expect(lines[1]).toEqual(expect.not.objectContaining({ span_id: expect.anything() }));
  });
});
