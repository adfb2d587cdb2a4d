import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, type PgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The tables every service that publishes or consumes events keeps in its own schema:
 * - `outbox`: events written in the same transaction as the state change they announce, then
 *   relayed to the queues and marked sent (at least once, in `seq` order);
 * - `processed_events`: the ids of events already handled, so a redelivered job changes nothing.
 */
export function eventTables(schema: PgSchema) {
  const outbox = schema.table(
    'outbox',
    {
      /** The event id; consumers deduplicate by it. */
      id: uuid().primaryKey().defaultRandom(),
      seq: bigserial({ mode: 'number' }).notNull(),
      type: text().notNull(),
      aggregateId: text().notNull(),
      payload: jsonb().notNull(),
      /** The trace context and request id of the call that caused the event. */
      context: jsonb().$type<{ traceparent?: string; requestId?: string }>().notNull().default({}),
      createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
      sentAt: timestamp({ withTimezone: true, precision: 3 }),
    },
    (table) => [index().on(table.seq).where(sql`${table.sentAt} is null`)],
  );
  const processedEvents = schema.table('processed_events', {
    eventId: uuid().primaryKey(),
    type: text().notNull(),
    processedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  });
  return { outbox, processedEvents };
}
