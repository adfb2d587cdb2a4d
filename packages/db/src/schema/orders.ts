import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { eventTables } from './events';

/** Tables owned by the orders service. */
export const ordersSchema = pgSchema('orders');

export const orderStatus = ordersSchema.enum('order_status', ['PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED']);

export const orders = ordersSchema.table(
  'orders',
  {
    id: uuid().primaryKey().defaultRandom(),
    /** The customer; a users-service id, referenced by value. */
    userId: uuid().notNull(),
    /** Who placed it: the customer, or an operator on their behalf. */
    placedBy: uuid().notNull(),
    idempotencyKey: text().notNull(),
    status: orderStatus().notNull().default('PENDING'),
    totalCents: integer().notNull(),
    failureReason: text(),
    /** When a still-PENDING order is failed and compensated. */
    deadlineAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('orders_user_idempotency_key_unique').on(table.userId, table.idempotencyKey),
    index('orders_created_at_id_idx').on(table.createdAt, table.id),
    index('orders_pending_deadline_idx').on(table.deadlineAt).where(sql`${table.status} = 'PENDING'`),
    check('orders_total_cents_non_negative', sql`${table.totalCents} >= 0`),
  ],
);

export const orderItems = ordersSchema.table(
  'order_items',
  {
    orderId: uuid()
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    position: integer().notNull(),
    bookId: uuid().notNull(),
    title: text().notNull(),
    quantity: integer().notNull(),
    /** The price when the order was placed; later price changes do not touch it. */
    unitPriceCents: integer().notNull(),
  },
  (table) => [uniqueIndex('order_items_order_position_unique').on(table.orderId, table.position)],
);

/** The saga's steps for one order, as they happened. */
export const orderTimeline = ordersSchema.table(
  'order_timeline',
  {
    id: uuid().primaryKey().defaultRandom(),
    orderId: uuid()
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    step: text().notNull(),
    reason: text(),
    detail: jsonb().$type<Record<string, unknown>>(),
    at: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [index('order_timeline_order_idx').on(table.orderId, table.at)],
);

export const { outbox, processedEvents } = eventTables(ordersSchema);
