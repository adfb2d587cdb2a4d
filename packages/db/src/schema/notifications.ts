import { index, integer, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { eventTables } from './events';

/** Tables owned by the notifications service. */
export const notificationsSchema = pgSchema('notifications');

export const deliveryState = notificationsSchema.enum('delivery_state', ['pending', 'delivered', 'failed']);

export const messages = notificationsSchema.table(
  'messages',
  {
    id: uuid().primaryKey().defaultRandom(),
    /** The event that caused the message: one message per event. */
    eventId: uuid().notNull(),
    userId: uuid(),
    kind: text().notNull(),
    recipient: text().notNull(),
    subject: text().notNull(),
    body: text().notNull(),
    /** `smtp` or `outbox` (the built-in transport that records delivery). */
    transport: text().notNull(),
    state: deliveryState().notNull().default('pending'),
    attempts: integer().notNull().default(0),
    lastError: text(),
    deliveredAt: timestamp({ withTimezone: true, precision: 3 }),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('messages_event_unique').on(table.eventId),
    index('messages_user_idx').on(table.userId),
    index('messages_created_at_id_idx').on(table.createdAt, table.id),
  ],
);

export const { outbox, processedEvents } = eventTables(notificationsSchema);
