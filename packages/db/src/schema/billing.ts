import { sql } from 'drizzle-orm';
import { check, index, integer, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { eventTables } from './events';

/** Tables owned by the billing service. */
export const billingSchema = pgSchema('billing');

/**
 * `processing` while the provider is asked; `voided` when the order ended before any charge, so a
 * late charge request finds the row and charges nothing.
 */
export const paymentStatus = billingSchema.enum('payment_status', [
  'processing',
  'captured',
  'declined',
  'refunded',
  'voided',
]);

export const payments = billingSchema.table(
  'payments',
  {
    id: uuid().primaryKey().defaultRandom(),
    /** One payment per order, ever: the unique index is what makes a double charge impossible. */
    orderId: uuid().notNull(),
    userId: uuid(),
    amountCents: integer().notNull(),
    currency: text().notNull().default('USD'),
    status: paymentStatus().notNull(),
    provider: text().notNull(),
    providerReference: text(),
    declineCode: text(),
    refundedCents: integer().notNull().default(0),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('payments_order_unique').on(table.orderId),
    index('payments_created_at_id_idx').on(table.createdAt, table.id),
    check('payments_amount_non_negative', sql`${table.amountCents} >= 0`),
    check('payments_refund_within_amount', sql`${table.refundedCents} between 0 and ${table.amountCents}`),
  ],
);

export const refunds = billingSchema.table(
  'refunds',
  {
    id: uuid().primaryKey().defaultRandom(),
    paymentId: uuid()
      .notNull()
      .references(() => payments.id),
    amountCents: integer().notNull(),
    reason: text().notNull(),
    /** The provider's idempotency key: one refund per key, however often it is asked. */
    idempotencyKey: text().notNull(),
    providerReference: text(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('refunds_idempotency_key_unique').on(table.idempotencyKey),
    check('refunds_amount_positive', sql`${table.amountCents} > 0`),
  ],
);

export const { outbox, processedEvents } = eventTables(billingSchema);
