import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from './database';
import type { eventTables } from './schema/events';

type EventTables = ReturnType<typeof eventTables>;

/** An event as it travels: written to an outbox, relayed to a queue, handled by consumers. */
export interface EventEnvelope<TType extends string = string, TPayload = unknown> {
  id: string;
  type: TType;
  aggregateId: string;
  payload: TPayload;
  /** The trace context and request id of the call that caused the event. */
  context: { traceparent?: string; requestId?: string };
  occurredAt: string;
}

/** Writes an event to the outbox; call it in the transaction that makes the change it announces. */
export async function writeEvent(
  tx: Database,
  tables: EventTables,
  event: { type: string; aggregateId: string; payload: unknown; context?: EventEnvelope['context'] },
): Promise<string> {
  const [row] = await tx
    .insert(tables.outbox)
    .values({
      type: event.type,
      aggregateId: event.aggregateId,
      payload: event.payload,
      context: event.context ?? {},
    })
    .returning({ id: tables.outbox.id });
  return row!.id;
}

/**
 * Hands unsent events, oldest first, to `send`, then marks them sent, in one transaction whose row
 * locks (`skip locked`) keep two relays from sending the same rows at once. If the commit fails
 * after `send`, the events go again: delivery is at least once, and consumers deduplicate.
 */
export async function relayOutbox(
  db: Database,
  tables: EventTables,
  send: (events: EventEnvelope[]) => Promise<void>,
  batchSize = 100,
): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(tables.outbox)
      .where(isNull(tables.outbox.sentAt))
      .orderBy(asc(tables.outbox.seq))
      .limit(batchSize)
      .for('update', { skipLocked: true });
    if (rows.length === 0) return 0;
    await send(
      rows.map((row) => ({
        id: row.id,
        type: row.type,
        aggregateId: row.aggregateId,
        payload: row.payload,
        context: row.context,
        occurredAt: row.createdAt.toISOString(),
      })),
    );
    await tx
      .update(tables.outbox)
      .set({ sentAt: sql`now()` })
      .where(
        inArray(
          tables.outbox.id,
          rows.map((row) => row.id),
        ),
      );
    return rows.length;
  });
}

/**
 * Runs `handle` in a transaction unless the event was handled before: the event id is recorded in
 * the same transaction as the changes it causes, so a redelivered event changes nothing.
 * Returns false when the event had been handled already.
 */
export async function handleOnce<TDb extends Database>(
  db: TDb,
  tables: EventTables,
  event: Pick<EventEnvelope, 'id' | 'type'>,
  handle: (tx: TDb) => Promise<void>,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(tables.processedEvents)
      .values({ eventId: event.id, type: event.type })
      .onConflictDoNothing()
      .returning({ eventId: tables.processedEvents.eventId });
    if (inserted.length === 0) return false;
    await handle(tx as unknown as TDb);
    return true;
  }) as Promise<boolean>;
}

/** Whether an event has been handled (for tests and diagnostics). */
export async function wasHandled(db: Database, tables: EventTables, eventId: string): Promise<boolean> {
  const rows = await db
    .select({ eventId: tables.processedEvents.eventId })
    .from(tables.processedEvents)
    .where(and(eq(tables.processedEvents.eventId, eventId)));
  return rows.length > 0;
}
