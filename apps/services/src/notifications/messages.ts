import { type Database, notifications } from '@bindery/db';
import { and, eq, sql } from 'drizzle-orm';
import type { BinderyEvent, EventType } from '../events';
import { listNewestFirst } from '../pagination';
import type { Transport } from './transport';

export type NotificationsDb = Database<typeof notifications>;
type MessageRow = typeof notifications.messages.$inferSelect;

export interface Message {
  id: string;
  eventId: string;
  userId: string | null;
  kind: string;
  recipient: string;
  subject: string;
  body: string;
  transport: string;
  state: MessageRow['state'];
  attempts: number;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    eventId: row.eventId,
    userId: row.userId,
    kind: row.kind,
    recipient: row.recipient,
    subject: row.subject,
    body: row.body,
    transport: row.transport,
    state: row.state,
    attempts: row.attempts,
    lastError: row.lastError,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

const cents = (amount: number) => `$${(amount / 100).toFixed(2)}`;

/** The message an event sends, to a recipient known by name. */
export function render(
  event: BinderyEvent<'user.created' | 'order.confirmed' | 'order.failed' | 'order.cancelled'>,
  name: string,
): { subject: string; text: string } {
  const shortId = (id: string) => id.slice(0, 8);
  switch (event.type) {
    case 'user.created':
      return { subject: 'Welcome to Bindery', text: `Hello ${name},\n\nyour Bindery account is ready.\n` };
    case 'order.confirmed': {
      const payload = (event as BinderyEvent<'order.confirmed'>).payload;
      return {
        subject: `Order ${shortId(payload.orderId)} confirmed`,
        text: `Hello ${name},\n\nyour order ${payload.orderId} is confirmed. We charged ${cents(payload.totalCents)}.\n`,
      };
    }
    case 'order.failed': {
      const payload = (event as BinderyEvent<'order.failed'>).payload;
      return {
        subject: `Order ${shortId(payload.orderId)} could not be completed`,
        text: `Hello ${name},\n\nyour order ${payload.orderId} could not be completed: ${payload.reason}.\nNothing was charged, or the charge was refunded.\n`,
      };
    }
    case 'order.cancelled': {
      const payload = (event as BinderyEvent<'order.cancelled'>).payload;
      return {
        subject: `Order ${shortId(payload.orderId)} cancelled`,
        text: `Hello ${name},\n\nyour order ${payload.orderId} is cancelled. Any charge is refunded.\n`,
      };
    }
  }
}

/**
 * Records the message an event causes (once: the event id is unique) and delivers it. A failed
 * delivery is counted and retried with the job; a delivered message is never sent again.
 */
export async function notify(
  db: NotificationsDb,
  transport: Transport,
  event: BinderyEvent<EventType>,
  recipient: { userId: string; email: string; name: string },
): Promise<void> {
  const { subject, text } = render(event as never, recipient.name);
  await db
    .insert(notifications.messages)
    .values({
      eventId: event.id,
      userId: recipient.userId,
      kind: event.type,
      recipient: recipient.email,
      subject,
      body: text,
      transport: transport.name,
    })
    .onConflictDoNothing();
  const [message] = await db
    .select()
    .from(notifications.messages)
    .where(eq(notifications.messages.eventId, event.id));
  if (!message || message.state === 'delivered') return;
  try {
    await transport.send({ to: message.recipient, subject: message.subject, text: message.body });
  } catch (error) {
    await db
      .update(notifications.messages)
      .set({
        attempts: sql`${notifications.messages.attempts} + 1`,
        lastError: error instanceof Error ? error.message : String(error),
        updatedAt: sql`now()`,
      })
      .where(eq(notifications.messages.id, message.id));
    throw error;
  }
  await db
    .update(notifications.messages)
    .set({
      state: 'delivered',
      attempts: sql`${notifications.messages.attempts} + 1`,
      lastError: null,
      deliveredAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(notifications.messages.id, message.id), eq(notifications.messages.state, 'pending')));
}

/** Marks a message failed for good once its job has used every attempt. */
export async function markUndeliverable(db: NotificationsDb, eventId: string): Promise<void> {
  await db
    .update(notifications.messages)
    .set({ state: 'failed', updatedAt: sql`now()` })
    .where(and(eq(notifications.messages.eventId, eventId), eq(notifications.messages.state, 'pending')));
}

export async function listMessages(
  db: NotificationsDb,
  input: { userId?: string | undefined; cursor?: string | undefined; limit: number },
) {
  const table = notifications.messages;
  return listNewestFirst(
    db,
    table,
    input,
    [input.userId ? eq(table.userId, input.userId) : undefined],
    (rows) => rows.map(toMessage),
  );
}
