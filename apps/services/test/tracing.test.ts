import { randomBytes } from 'node:crypto';
import { createBinderyClient } from '@bindery/client';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createAccount, type TestAccount } from './support/accounts';
import { eventually, settled } from './support/orders';
import { startTestPlatform, type TestPlatform } from './support/platform';

/**
 * One process runs every service, the gateway and the workers, so one OpenTelemetry SDK and one
 * in-memory exporter see every span, and one destination every log line (at debug level, where
 * procedure inputs are logged too).
 */
type LogLine = Record<string, unknown> & { service: string; msg: string };

const spans = new InMemorySpanExporter();
const lines: LogLine[] = [];
const logLevel = process.env.LOG_LEVEL;
let platform: TestPlatform;
let admin: TestAccount['client'];
let customer: TestAccount;

beforeAll(async () => {
  process.env.LOG_LEVEL = 'debug';
  platform = await startTestPlatform(
    {},
    {
      telemetry: { spanExporter: spans },
      logDestination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
    },
  );
  admin = (await platform.signIn(platform.admin.email, platform.admin.password)).client;
  customer = await createAccount(platform, ['customer'], admin);
});
afterAll(async () => {
  await platform?.close();
  if (logLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = logLevel;
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const attribute = (span: ReadableSpan, name: string) => span.attributes[name];

describe('one order, one trace', () => {
  test("the gateway's, the services' and the workers' spans and log lines share the caller's trace id", async () => {
    const book = await admin.catalog.books.create.mutate({
      title: `Traced ${hex(4)}`,
      author: 'Tester',
      priceCents: 1200,
      stock: 3,
    });
    // The console (or any client) starts the trace; the gateway continues it.
    const traceId = hex(16);
    const clientSpanId = hex(8);
    const requestId = `req-trace-${hex(4)}`;
    const traced = createBinderyClient({
      url: platform.gatewayUrl,
      token: customer.accessToken,
      headers: { traceparent: `00-${traceId}-${clientSpanId}-01`, 'x-request-id': requestId },
    });
    const order = await traced.orders.create.mutate({
      items: [{ bookId: book.id, quantity: 1 }],
      idempotencyKey: `key-${hex(8)}`,
    });
    expect((await settled(customer.client, order.id)).status).toBe('CONFIRMED');

    const inTrace = await eventually(
      async () => spans.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId),
      (found) => found.some((span) => span.name === 'process order.confirmed'),
    );
    const named = (name: string, where: (span: ReadableSpan) => boolean = () => true) => {
      const span = inTrace.find((candidate) => candidate.name === name && where(candidate));
      if (!span)
        throw new Error(`No span "${name}" in the trace; it has ${inTrace.map((s) => s.name).join(', ')}`);
      return span;
    };
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

    // The gateway's incoming HTTP span is the child of the caller's span, the gateway's own span of it.
    const gateway = named('gateway /trpc', (span) =>
      (attribute(span, 'bindery.procedures') as string[]).includes('orders.create'),
    );
    const incoming = inTrace.find((span) => span.spanContext().spanId === parentOf(gateway));
    expect(parentOf(incoming!)).toBe(clientSpanId);
    // gateway → the orders batch → (fetch, the orders service's HTTP span) → the procedure.
    const upstream = named('upstream orders');
    expect(parentOf(upstream)).toBe(gateway.spanContext().spanId);
    const create = named('trpc orders.create');
    expect(attribute(create, 'bindery.request_id')).toBe(requestId);
    // The procedure's peer calls and its queries are its descendants.
    const descendsFrom = (span: ReadableSpan, ancestor: ReadableSpan): boolean => {
      const parent = inTrace.find((candidate) => candidate.spanContext().spanId === parentOf(span));
      return !!parent && (parent === ancestor || descendsFrom(parent, ancestor));
    };
    // The batch's attempt is an HTTP client span, the parent of the orders service's own HTTP span.
    const attempt = inTrace.find(
      (span) => parentOf(span) === upstream.spanContext().spanId && span.kind === SpanKind.CLIENT,
    );
    expect(attempt).toMatchObject({ name: 'POST', attributes: { 'http.response.status_code': 200 } });
    const served = inTrace.find((span) => parentOf(span) === attempt!.spanContext().spanId);
    expect(served?.kind).toBe(SpanKind.SERVER);
    expect(descendsFrom(create, served!)).toBe(true);
    expect(descendsFrom(named('trpc users.internal.byId'), create)).toBe(true);
    expect(descendsFrom(named('trpc catalog.internal.books'), create)).toBe(true);
    expect(descendsFrom(named('INSERT orders.orders'), create)).toBe(true);
    expect(attribute(named('INSERT orders.orders'), 'db.system.name')).toBe('postgresql');
    // The outbox event carries the procedure's context: catalog's job for `order.created` is its child.
    const reserve = named('process order.created');
    expect(parentOf(reserve)).toBe(create.spanContext().spanId);
    expect(attribute(reserve, 'messaging.destination.name')).toBe('catalog-events');
    // Each job's events carry the job's context: order.confirmed was written by orders handling
    // payment.captured, and the notification job continues from that job.
    const confirm = named('process payment.captured');
    const notify = named('process order.confirmed', (span) =>
      Object.is(attribute(span, 'messaging.destination.name'), 'notifications-events'),
    );
    expect(parentOf(notify)).toBe(confirm.spanContext().spanId);
    // The notification job's own calls (users, for the recipient) stay in the trace.
    expect(
      descendsFrom(
        named('trpc users.internal.byId', (span) => descendsFrom(span, notify)),
        notify,
      ),
    ).toBe(true);

    const logged = lines.filter((line) => line.trace_id === traceId);
    expect(logged).toContainEqual(
      expect.objectContaining({
        service: 'gateway',
        msg: 'request answered',
        path: '/trpc/orders.create',
        requestId,
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({
        service: 'orders',
        msg: 'procedure called',
        procedure: 'orders.create',
        outcome: 'ok',
        requestId,
        span_id: create.spanContext().spanId,
      }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({
        service: 'notifications-worker',
        msg: 'job completed',
        job: 'order.confirmed',
        requestId,
        span_id: notify.spanContext().spanId,
      }),
    );
  });
});

describe('redaction', () => {
  test('a password sent to auth.login and a bearer token never reach the logs, even at debug level', async () => {
    const from = lines.length;
    const email = customer.email;
    const wrongPassword = `wrong-${hex(8)}`;
    await expect(platform.client().auth.login.mutate({ email, password: wrongPassword })).rejects.toThrow();
    const { accessToken } = await platform.client().auth.login.mutate({ email, password: customer.password });
    const apiToken = await platform.client(accessToken).auth.tokens.create.mutate({ name: 'traced' });
    await platform.client(accessToken).auth.me.query();
    await platform.client(apiToken.token).auth.me.query();

    const logged = lines.slice(from);
    // The calls were logged with their inputs, so there was something to leak.
    expect(logged).toContainEqual(
      expect.objectContaining({
        service: 'auth',
        procedure: 'auth.login',
        input: { email, password: '[redacted]' },
      }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({
        service: 'auth',
        procedure: 'auth.internal.resolveApiToken',
        input: { token: '[redacted]' },
      }),
    );
    const text = logged.map((line) => JSON.stringify(line)).join('\n');
    for (const secret of [customer.password, wrongPassword, accessToken, apiToken.token]) {
      expect(text).not.toContain(secret);
    }
  });
});
