import { notFound } from '@bindery/api';
import { billing, type Database, handleOnce, wasHandled, writeEvent } from '@bindery/db';
import { TRPCError } from '@trpc/server';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { Counter } from 'prom-client';
import type { BinderyEvent } from '../events';
import { listNewestFirst } from '../pagination';
import { type ChargeResult, type PaymentProvider, PaymentProviderUnavailableError } from './payment-provider';

/** Payments by outcome; each is counted once the transaction recording it has committed. */
const paymentOutcomes = new Counter({
  name: 'bindery_payments_total',
  help: 'Payments captured, declined and refunded (a refund of part of a payment counts as one)',
  labelNames: ['outcome'] as const,
});
/** Money moved, in cents: captured minus refunded is what the shop holds. */
const paymentAmounts = new Counter({
  name: 'bindery_payment_amount_cents_total',
  help: 'Amount captured and refunded, in cents',
  labelNames: ['kind'] as const,
});

function countCapture(amountCents: number): void {
  paymentOutcomes.inc({ outcome: 'captured' });
  paymentAmounts.inc({ kind: 'captured' }, amountCents);
}

export type BillingDb = Database<typeof billing>;
export const billingEventTables = { outbox: billing.outbox, processedEvents: billing.processedEvents };
type PaymentRow = typeof billing.payments.$inferSelect;

export interface Payment {
  id: string;
  orderId: string;
  userId: string | null;
  amountCents: number;
  refundedCents: number;
  currency: string;
  status: PaymentRow['status'];
  provider: string;
  declineCode: string | null;
  refunds: { id: string; amountCents: number; reason: string; createdAt: string }[];
  createdAt: string;
  updatedAt: string;
}

async function withRefunds(db: BillingDb, rows: PaymentRow[]): Promise<Payment[]> {
  if (rows.length === 0) return [];
  const refunds = await db
    .select()
    .from(billing.refunds)
    .where(
      inArray(
        billing.refunds.paymentId,
        rows.map((row) => row.id),
      ),
    )
    .orderBy(asc(billing.refunds.createdAt));
  return rows.map((row) => ({
    id: row.id,
    orderId: row.orderId,
    userId: row.userId,
    amountCents: row.amountCents,
    refundedCents: row.refundedCents,
    currency: row.currency,
    status: row.status,
    provider: row.provider,
    declineCode: row.declineCode,
    refunds: refunds
      .filter((refund) => refund.paymentId === row.id)
      .map((refund) => ({
        id: refund.id,
        amountCents: refund.amountCents,
        reason: refund.reason,
        createdAt: refund.createdAt.toISOString(),
      })),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }));
}

export async function paymentByOrder(db: BillingDb, orderId: string, visibleTo?: string): Promise<Payment> {
  const rows = await db.select().from(billing.payments).where(eq(billing.payments.orderId, orderId));
  const [payment] = await withRefunds(db, rows);
  if (!payment || (visibleTo && payment.userId !== visibleTo)) throw notFound(`Payment for order ${orderId}`);
  return payment;
}

export async function listPayments(
  db: BillingDb,
  input: {
    status?: PaymentRow['status'] | undefined;
    userId?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  },
) {
  const table = billing.payments;
  return listNewestFirst(
    db,
    table,
    input,
    [
      input.status ? eq(table.status, input.status) : undefined,
      input.userId ? eq(table.userId, input.userId) : undefined,
    ],
    (rows) => withRefunds(db, rows),
  );
}

/** The provider captured a charge for an order that had ended meanwhile: it must be refunded. */
class CapturedTooLateError extends Error {
  override name = 'CapturedTooLateError';
}

/**
 * Charges an order once its stock is reserved. The unique payment row per order is claimed first
 * (`processing`), so a redelivered event, a second worker or a charge after the order already ended
 * (a `voided` row) never charges twice; the provider is asked with the order as idempotency key, so
 * a retry after a crash mid-charge gets the first answer back.
 *
 * A compensation may void the payment while the provider decides. If the provider then captures,
 * the capture is refunded, and the event counts as handled only in the transaction that records the
 * refund: a worker that dies in between leaves the event to be delivered again, and the retry asks
 * the provider again (same key, same answer) and refunds (same refund key, one refund).
 */
export async function chargeOrder(
  db: BillingDb,
  provider: PaymentProvider,
  event: BinderyEvent<'stock.reserved'>,
): Promise<void> {
  if (await wasHandled(db, billingEventTables, event.id)) return;
  const { orderId, userId, totalCents, paymentToken } = event.payload;
  await db
    .insert(billing.payments)
    .values({ orderId, userId, amountCents: totalCents, status: 'processing', provider: provider.name })
    .onConflictDoNothing();
  const [payment] = await db.select().from(billing.payments).where(eq(billing.payments.orderId, orderId));
  // Settled already, or voided before any charge was asked for (a void marker has no amount).
  const mayHaveCharged =
    payment!.status === 'processing' || (payment!.status === 'voided' && payment!.amountCents > 0);
  if (!mayHaveCharged) {
    await handleOnce(db, billingEventTables, event, async () => {});
    return;
  }
  let result: ChargeResult;
  try {
    result = await provider.charge({
      idempotencyKey: `charge-${orderId}`,
      amountCents: payment!.amountCents,
      currency: payment!.currency,
      token: paymentToken,
    });
  } catch (error) {
    // "Unavailable" means the processor refused the request without processing it: for an order
    // that has ended there is nothing left to charge or to refund. A live order retries.
    if (error instanceof PaymentProviderUnavailableError && payment!.status === 'voided') {
      await handleOnce(db, billingEventTables, event, async () => {});
      return;
    }
    throw error;
  }
  try {
    let settledAs: 'captured' | 'declined' | undefined;
    await handleOnce(db, billingEventTables, event, async (tx) => {
      const [settled] = await tx
        .update(billing.payments)
        .set(
          result.status === 'captured'
            ? { status: 'captured', providerReference: result.reference, updatedAt: sql`now()` }
            : { status: 'declined', declineCode: result.code, updatedAt: sql`now()` },
        )
        .where(and(eq(billing.payments.id, payment!.id), eq(billing.payments.status, 'processing')))
        .returning();
      if (!settled) {
        // Voided while the provider decided: a decline needs nothing; a capture rolls this back.
        if (result.status === 'captured') throw new CapturedTooLateError(orderId);
        return;
      }
      await writeEvent(tx, billingEventTables, {
        ...(result.status === 'captured'
          ? {
              type: 'payment.captured',
              payload: { orderId, paymentId: settled.id, amountCents: settled.amountCents },
            }
          : {
              type: 'payment.declined',
              payload: { orderId, paymentId: settled.id, reason: result.message, declineCode: result.code },
            }),
        aggregateId: orderId,
        context: event.context,
      });
      settledAs = result.status;
    });
    if (settledAs === 'captured') countCapture(payment!.amountCents);
    else if (settledAs === 'declined') paymentOutcomes.inc({ outcome: 'declined' });
  } catch (error) {
    if (!(error instanceof CapturedTooLateError) || result.status !== 'captured') throw error;
    await db
      .update(billing.payments)
      .set({ providerReference: result.reference, updatedAt: sql`now()` })
      .where(eq(billing.payments.id, payment!.id));
    const refunded = await refund(db, provider, {
      payment: { ...payment!, providerReference: result.reference },
      amountCents: payment!.amountCents - payment!.refundedCents,
      reason: 'captured after the order had ended',
      idempotencyKey: `refund-${orderId}-late-capture`,
      event,
    });
    // The provider did capture: counted with its refund, so captured minus refunded stays true.
    if (refunded) countCapture(payment!.amountCents);
  }
}

/**
 * Undoes an order's payment when the order fails or is cancelled: refunds what was captured, and
 * voids an order that was never charged so a late charge request charges nothing.
 */
export async function compensateOrder(
  db: BillingDb,
  provider: PaymentProvider,
  event: BinderyEvent<'order.failed'> | BinderyEvent<'order.cancelled'>,
): Promise<void> {
  if (await wasHandled(db, billingEventTables, event.id)) return;
  const { orderId } = event.payload;
  await db
    .insert(billing.payments)
    .values({
      orderId,
      userId: event.payload.userId,
      amountCents: 0,
      status: 'voided',
      provider: provider.name,
    })
    .onConflictDoNothing();
  // A charge still being decided is voided: if the provider captures it after all, the charge
  // step finds the payment voided and refunds at once.
  await db
    .update(billing.payments)
    .set({ status: 'voided', updatedAt: sql`now()` })
    .where(and(eq(billing.payments.orderId, orderId), eq(billing.payments.status, 'processing')));
  const [payment] = await db.select().from(billing.payments).where(eq(billing.payments.orderId, orderId));
  const remaining = payment!.amountCents - payment!.refundedCents;
  if (payment!.status !== 'captured' || remaining <= 0) {
    await handleOnce(db, billingEventTables, event, async () => {});
    return;
  }
  await refund(db, provider, {
    payment: payment!,
    amountCents: remaining,
    reason: event.type === 'order.cancelled' ? 'order cancelled' : `order failed: ${event.payload.reason}`,
    idempotencyKey: `refund-${orderId}-${event.type}`,
    event,
  });
}

/**
 * Refunds part or all of a captured payment, once per idempotency key. Whether this call recorded
 * the refund (false: it had been recorded already).
 */
async function refund(
  db: BillingDb,
  provider: PaymentProvider,
  options: {
    payment: PaymentRow;
    amountCents: number;
    reason: string;
    idempotencyKey: string;
    event?: BinderyEvent;
  },
): Promise<boolean> {
  const { payment } = options;
  const { reference } = await provider.refund({
    idempotencyKey: options.idempotencyKey,
    chargeReference: payment.providerReference ?? '',
    amountCents: options.amountCents,
  });
  let recorded = false;
  const apply = async (tx: BillingDb) => {
    const [inserted] = await tx
      .insert(billing.refunds)
      .values({
        paymentId: payment.id,
        amountCents: options.amountCents,
        reason: options.reason,
        idempotencyKey: options.idempotencyKey,
        providerReference: reference,
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted) return;
    const [updated] = await tx
      .update(billing.payments)
      .set({
        refundedCents: sql`${billing.payments.refundedCents} + ${options.amountCents}`,
        status: sql`case when ${billing.payments.refundedCents} + ${options.amountCents} >= ${billing.payments.amountCents} then 'refunded'::billing.payment_status else ${billing.payments.status} end`,
        updatedAt: sql`now()`,
      })
      .where(eq(billing.payments.id, payment.id))
      .returning();
    await writeEvent(tx, billingEventTables, {
      type: 'payment.refunded',
      aggregateId: payment.orderId,
      payload: { orderId: payment.orderId, paymentId: payment.id, amountCents: options.amountCents },
      context: options.event?.context ?? {},
    });
    if (!updated) throw new Error(`Payment ${payment.id} vanished during a refund`);
    recorded = true;
  };
  if (options.event) await handleOnce(db, billingEventTables, options.event, apply);
  else await db.transaction((tx) => apply(tx as unknown as BillingDb));
  if (recorded) {
    paymentOutcomes.inc({ outcome: 'refunded' });
    paymentAmounts.inc({ kind: 'refunded' }, options.amountCents);
  }
  return recorded;
}

/** An operator's refund of part or all of a captured payment. */
export async function createRefund(
  db: BillingDb,
  provider: PaymentProvider,
  input: { paymentId: string; amountCents?: number | undefined; reason: string },
): Promise<Payment> {
  const [payment] = await db.select().from(billing.payments).where(eq(billing.payments.id, input.paymentId));
  if (!payment) throw notFound(`Payment ${input.paymentId}`);
  const remaining = payment.amountCents - payment.refundedCents;
  if (payment.status !== 'captured' || remaining <= 0) {
    throw new TRPCError({ code: 'CONFLICT', message: `A ${payment.status} payment has nothing to refund` });
  }
  const amountCents = input.amountCents ?? remaining;
  if (amountCents > remaining) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `amountCents: at most ${remaining} cents remain refundable`,
    });
  }
  // The key is the payment's state: a double-click repeats the same refund instead of making two.
  await refund(db, provider, {
    payment,
    amountCents,
    reason: input.reason,
    idempotencyKey: `manual-${payment.id}-${payment.refundedCents}-${amountCents}`,
  });
  return paymentByOrder(db, payment.orderId);
}
