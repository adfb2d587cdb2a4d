import { createBinderyClient } from '@bindery/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, createAccount, type TestAccount } from './support/accounts';
import { eventually, settled } from './support/orders';
import { startTestPlatform, type TestPlatform } from './support/platform';

let platform: TestPlatform;
let admin: TestAccount['client'];
let customer: TestAccount;

beforeAll(async () => {
  platform = await startTestPlatform();
  admin = (await platform.signIn(platform.admin.email, platform.admin.password)).client;
  customer = await createAccount(platform, ['customer'], admin);
});
afterAll(() => platform?.close());

async function book(stock: number, priceCents = 1000) {
  return admin.catalog.books.create.mutate({
    title: `Saga book ${Math.random()}`,
    author: 'Tester',
    priceCents,
    stock,
  });
}
const key = () => `key-${Math.random()}`;

describe('the order saga', () => {
  test('the happy path reserves stock, captures the payment, confirms and notifies', async () => {
    const [first, second] = await Promise.all([book(5, 1250), book(3, 999)]);
    const order = await customer.client.orders.create.mutate({
      items: [
        { bookId: first.id, quantity: 2 },
        { bookId: second.id, quantity: 1 },
      ],
      idempotencyKey: key(),
    });
    expect(order).toMatchObject({ status: 'PENDING', totalCents: 2 * 1250 + 999, userId: customer.id });
    expect(order.items).toEqual([
      { bookId: first.id, title: first.title, quantity: 2, unitPriceCents: 1250 },
      { bookId: second.id, title: second.title, quantity: 1, unitPriceCents: 999 },
    ]);

    const done = await settled(customer.client, order.id);
    expect(done.status).toBe('CONFIRMED');
    expect(done.timeline.map((step) => step.step)).toEqual([
      'created',
      'stock reserved',
      'payment captured',
      'confirmed',
    ]);
    expect((await admin.catalog.books.byId.query({ id: first.id })).stock).toBe(3);
    expect((await admin.catalog.books.byId.query({ id: second.id })).stock).toBe(2);
    await expect(
      customer.client.billing.payments.byOrder.query({ orderId: order.id }),
    ).resolves.toMatchObject({
      status: 'captured',
      amountCents: 3499,
    });
    const messages = await eventually(
      () => customer.client.notifications.list.query(),
      // The message is listed as soon as it is queued (pending), and delivered a moment later.
      (page) =>
        page.items.some((message) => message.kind === 'order.confirmed' && message.state !== 'pending'),
    );
    expect(messages.items.find((message) => message.kind === 'order.confirmed')).toMatchObject({
      recipient: customer.email,
      state: 'delivered',
      transport: 'outbox',
      attempts: 1,
    });
  });

  test('every event of the saga carries the trace context and request id of the call that started it', async () => {
    const item = await book(2);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = createBinderyClient({
      url: platform.gatewayUrl,
      token: customer.accessToken,
      headers: { traceparent, 'x-request-id': 'req-traced-order' },
    });
    const order = await traced.orders.create.mutate({
      items: [{ bookId: item.id, quantity: 1 }],
      idempotencyKey: key(),
    });
    expect((await settled(customer.client, order.id)).status).toBe('CONFIRMED');
    const contexts = await platform.sql<
      { type: string; context: { traceparent?: string; requestId?: string } }[]
    >`
      select type, context from orders.outbox where aggregate_id = ${order.id}
      union all select type, context from catalog.outbox where aggregate_id = ${order.id}
      union all select type, context from billing.outbox where aggregate_id = ${order.id}`;
    expect(contexts.map((row) => row.type).sort()).toEqual([
      'order.confirmed',
      'order.created',
      'payment.captured',
      'stock.reserved',
    ]);
    for (const row of contexts) expect(row.context).toEqual({ traceparent, requestId: 'req-traced-order' });
  });

  test('a declined card ends FAILED with the reason, and the stock released', async () => {
    const item = await book(4);
    const order = await customer.client.orders.create.mutate({
      items: [{ bookId: item.id, quantity: 3 }],
      idempotencyKey: key(),
      paymentToken: 'tok_chargeDeclined',
    });
    const done = await settled(customer.client, order.id);
    expect(done).toMatchObject({ status: 'FAILED', failureReason: 'The card was declined' });
    await eventually(
      () => admin.catalog.books.byId.query({ id: item.id }),
      (current) => current.stock === 4,
    );
    const timeline = await eventually(
      () => customer.client.orders.byId.query({ id: order.id }),
      (current) => current.timeline.some((step) => step.step === 'stock released'),
    );
    expect(timeline.timeline.map((step) => step.step)).toEqual([
      'created',
      'stock reserved',
      'payment declined',
      'stock released',
    ]);
    await expect(admin.billing.payments.byOrder.query({ orderId: order.id })).resolves.toMatchObject({
      status: 'declined',
      declineCode: 'card_declined',
    });
  });

  test('not enough stock ends FAILED without charging', async () => {
    const item = await book(1);
    const order = await customer.client.orders.create.mutate({
      items: [{ bookId: item.id, quantity: 2 }],
      idempotencyKey: key(),
    });
    const done = await settled(customer.client, order.id);
    expect(done.status).toBe('FAILED');
    expect(done.failureReason).toContain('Not enough copies');
    expect((await admin.catalog.books.byId.query({ id: item.id })).stock).toBe(1);
    await expect(
      // Billing records the voided payment when order.failed reaches it: until then there is none.
      eventually(
        () => admin.billing.payments.byOrder.query({ orderId: order.id }).catch(() => null),
        (payment) => payment?.status === 'voided',
      ),
    ).resolves.toMatchObject({ amountCents: 0 });
  });

  test('the same idempotency key returns the first order and creates nothing', async () => {
    const item = await book(10);
    const idempotencyKey = key();
    const input = { items: [{ bookId: item.id, quantity: 1 }], idempotencyKey };
    const [a, b] = await Promise.all([
      customer.client.orders.create.mutate(input),
      customer.client.orders.create.mutate(input),
    ]);
    const c = await customer.client.orders.create.mutate(input);
    expect(new Set([a.id, b.id, c.id]).size).toBe(1);
    const [row] = await platform.sql<
      { count: number }[]
    >`select count(*)::int as count from orders.orders where idempotency_key = ${idempotencyKey}`;
    expect(row?.count).toBe(1);
    await settled(customer.client, a.id);
    expect((await admin.catalog.books.byId.query({ id: item.id })).stock).toBe(9);
  });

  test('cancelling a confirmed order refunds the payment and releases the stock', async () => {
    const item = await book(2, 500);
    const order = await customer.client.orders.create.mutate({
      items: [{ bookId: item.id, quantity: 2 }],
      idempotencyKey: key(),
    });
    expect((await settled(customer.client, order.id)).status).toBe('CONFIRMED');
    await expect(customer.client.orders.cancel.mutate({ id: order.id })).resolves.toMatchObject({
      status: 'CANCELLED',
    });
    await eventually(
      () => admin.billing.payments.byOrder.query({ orderId: order.id }),
      (payment) => payment.status === 'refunded' && payment.refundedCents === 1000,
    );
    await eventually(
      () => admin.catalog.books.byId.query({ id: item.id }),
      (current) => current.stock === 2,
    );
    expect(await codeOf(customer.client.orders.cancel.mutate({ id: order.id }))).toBe('CONFLICT');
  });

  test('customers see and cancel only their own orders', async () => {
    const other = await createAccount(platform, ['customer'], admin);
    const item = await book(5);
    const order = await customer.client.orders.create.mutate({
      items: [{ bookId: item.id, quantity: 1 }],
      idempotencyKey: key(),
    });
    expect(await codeOf(other.client.orders.byId.query({ id: order.id }))).toBe('NOT_FOUND');
    expect(await codeOf(other.client.orders.cancel.mutate({ id: order.id }))).toBe('NOT_FOUND');
    expect(await codeOf(other.client.billing.payments.byOrder.query({ orderId: order.id }))).toBe(
      'NOT_FOUND',
    );
    expect((await other.client.orders.list.query()).items).toEqual([]);
    expect(await codeOf(other.client.orders.list.query({ userId: customer.id }))).toBe('FORBIDDEN');
    expect(
      await codeOf(
        other.client.orders.create.mutate({
          items: [{ bookId: item.id, quantity: 1 }],
          idempotencyKey: key(),
          userId: customer.id,
        }),
      ),
    ).toBe('FORBIDDEN');
  });

  test('bad orders are clear 400s and create nothing', async () => {
    const item = await book(5);
    const before = await platform.countRows('orders.orders');
    const cases = [
      { items: [], idempotencyKey: key() },
      { items: [{ bookId: item.id, quantity: 0 }], idempotencyKey: key() },
      { items: [{ bookId: item.id, quantity: 10_001 }], idempotencyKey: key() },
      { items: [{ bookId: '00000000-0000-4000-8000-000000000000', quantity: 1 }], idempotencyKey: key() },
      {
        items: [
          { bookId: item.id, quantity: 1 },
          { bookId: item.id, quantity: 2 },
        ],
        idempotencyKey: key(),
      },
      { items: [{ bookId: item.id, quantity: 1 }], idempotencyKey: '' },
      {
        items: [{ bookId: item.id, quantity: 1 }],
        idempotencyKey: key(),
        userId: '00000000-0000-4000-8000-000000000000',
      },
    ];
    for (const input of cases) {
      const error = await admin.orders.create.mutate(input).catch((caught: unknown) => caught);
      expect(error, JSON.stringify(input)).toMatchObject({ data: { code: 'BAD_REQUEST' } });
    }
    expect(await platform.countRows('orders.orders')).toBe(before);
    expect((await admin.catalog.books.byId.query({ id: item.id })).stock).toBe(5);
  });
});
