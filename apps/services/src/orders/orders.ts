import { notFound } from '@bindery/api';
import { type Database, orders, writeEvent } from '@bindery/db';
import { TRPCError } from '@trpc/server';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { EventPayloads } from '../events';
import { listNewestFirst } from '../pagination';
import type { listOrdersInput, Order } from './schemas';

export type OrdersDb = Database<typeof orders>;
export const ordersEventTables = { outbox: orders.outbox, processedEvents: orders.processedEvents };
type OrderRow = typeof orders.orders.$inferSelect;

/** Orders with their items and timelines, in the order of `rows`. */
async function withDetails(db: OrdersDb, rows: OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const [items, steps] = await Promise.all([
    db
      .select()
      .from(orders.orderItems)
      .where(inArray(orders.orderItems.orderId, ids))
      .orderBy(asc(orders.orderItems.position)),
    db
      .select()
      .from(orders.orderTimeline)
      .where(inArray(orders.orderTimeline.orderId, ids))
      .orderBy(asc(orders.orderTimeline.at)),
  ]);
  return rows.map((row) => ({
    id: row.id,
    userId: row.userId,
    placedBy: row.placedBy,
    status: row.status,
    totalCents: row.totalCents,
    failureReason: row.failureReason,
    items: items
      .filter((item) => item.orderId === row.id)
      .map(({ bookId, title, quantity, unitPriceCents }) => ({ bookId, title, quantity, unitPriceCents })),
    timeline: steps
      .filter((step) => step.orderId === row.id)
      .map((step) => ({ step: step.step, reason: step.reason, at: step.at.toISOString() })),
    deadlineAt: row.deadlineAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }));
}

export async function findOrder(
  db: OrdersDb,
  where: { id: string } | { userId: string; idempotencyKey: string },
) {
  const condition =
    'id' in where
      ? eq(orders.orders.id, where.id)
      : and(eq(orders.orders.userId, where.userId), eq(orders.orders.idempotencyKey, where.idempotencyKey));
  const rows = await db.select().from(orders.orders).where(condition);
  return (await withDetails(db, rows))[0] ?? null;
}

export async function getOrder(db: OrdersDb, id: string, visibleTo?: string): Promise<Order> {
  const order = await findOrder(db, { id });
  // Another customer's order is reported missing, not forbidden: its existence is not theirs to know.
  if (!order || (visibleTo && order.userId !== visibleTo)) throw notFound(`Order ${id}`);
  return order;
}

export async function listOrders(db: OrdersDb, input: z.output<typeof listOrdersInput>) {
  const table = orders.orders;
  return listNewestFirst(
    db,
    table,
    input,
    [
      input.status ? eq(table.status, input.status) : undefined,
      input.userId ? eq(table.userId, input.userId) : undefined,
    ],
    (rows) => withDetails(db, rows),
  );
}

export interface NewOrder {
  userId: string;
  placedBy: string;
  idempotencyKey: string;
  items: { bookId: string; title: string; quantity: number; unitPriceCents: number }[];
  paymentToken: string;
  deadlineAt: Date;
  context: { requestId: string; traceparent?: string };
}

/**
 * Inserts the order as PENDING with its items, its first timeline step and the `order.created`
 * event, in one transaction. A concurrent create with the same key loses the unique race and gets
 * the winner's order.
 */
export async function insertOrder(db: OrdersDb, order: NewOrder): Promise<Order> {
  const totalCents = order.items.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
  const id = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(orders.orders)
      .values({
        userId: order.userId,
        placedBy: order.placedBy,
        idempotencyKey: order.idempotencyKey,
        totalCents,
        deadlineAt: order.deadlineAt,
      })
      .onConflictDoNothing()
      .returning({ id: orders.orders.id });
    if (!row) return null;
    await tx
      .insert(orders.orderItems)
      .values(order.items.map((item, position) => ({ orderId: row.id, position, ...item })));
    await tx.insert(orders.orderTimeline).values({ orderId: row.id, step: 'created' });
    const payload: EventPayloads['order.created'] = {
      orderId: row.id,
      userId: order.userId,
      items: order.items.map(({ bookId, quantity, unitPriceCents }) => ({
        bookId,
        quantity,
        unitPriceCents,
      })),
      totalCents,
      paymentToken: order.paymentToken,
    };
    await writeEvent(tx, ordersEventTables, {
      type: 'order.created',
      aggregateId: row.id,
      payload,
      context: order.context,
    });
    return row.id;
  });
  const created = id
    ? await findOrder(db, { id })
    : await findOrder(db, { userId: order.userId, idempotencyKey: order.idempotencyKey });
  return created!;
}

/**
 * Moves an order from one of `from` to `to`, with a timeline step and the event that announces it,
 * in the caller's transaction. Returns false (and changes nothing) when the order is in another state.
 */
export async function transition(
  tx: OrdersDb,
  options: {
    orderId: string;
    from: Order['status'][];
    to: Order['status'];
    step: string;
    reason?: string;
    event?: {
      type: 'order.confirmed' | 'order.failed' | 'order.cancelled';
      context: { requestId?: string; traceparent?: string };
    };
  },
): Promise<boolean> {
  const [row] = await tx
    .update(orders.orders)
    .set({
      status: options.to,
      updatedAt: sql`now()`,
      ...(options.to === 'FAILED' ? { failureReason: options.reason ?? 'failed' } : {}),
    })
    .where(and(eq(orders.orders.id, options.orderId), inArray(orders.orders.status, options.from)))
    .returning();
  if (!row) return false;
  await tx
    .insert(orders.orderTimeline)
    .values({ orderId: row.id, step: options.step, reason: options.reason ?? null });
  if (options.event) {
    const base = { orderId: row.id, userId: row.userId };
    const payload =
      options.event.type === 'order.confirmed'
        ? { ...base, totalCents: row.totalCents }
        : options.event.type === 'order.failed'
          ? { ...base, reason: options.reason ?? 'failed' }
          : base;
    await writeEvent(tx, ordersEventTables, {
      type: options.event.type,
      aggregateId: row.id,
      payload,
      context: options.event.context,
    });
  }
  return true;
}

export async function addTimelineStep(tx: OrdersDb, orderId: string, step: string, reason?: string) {
  await tx.insert(orders.orderTimeline).values({ orderId, step, reason: reason ?? null });
}

/** Orders still PENDING past their deadline. */
export async function overdueOrderIds(db: OrdersDb, limit = 100): Promise<string[]> {
  const rows = await db
    .select({ id: orders.orders.id })
    .from(orders.orders)
    .where(and(eq(orders.orders.status, 'PENDING'), sql`${orders.orders.deadlineAt} < now()`))
    .limit(limit);
  return rows.map((row) => row.id);
}

export function assertCancellable(order: Order): void {
  if (order.status === 'FAILED' || order.status === 'CANCELLED') {
    throw new TRPCError({ code: 'CONFLICT', message: `The order is already ${order.status.toLowerCase()}` });
  }
}
