import { handleOnce } from '@bindery/db';
import { Counter } from 'prom-client';
import type { BinderyEvent, EventHandlers } from '../events';
import { addTimelineStep, type OrdersDb, ordersEventTables, overdueOrderIds, transition } from './orders';

type OrderOutcome = 'created' | 'confirmed' | 'failed' | 'cancelled';

/** Orders by what happened to them; counted once the transaction that made it so has committed. */
export const orderOutcomes = new Counter({
  name: 'bindery_orders_total',
  help: 'Orders created, confirmed, failed and cancelled',
  labelNames: ['outcome'] as const,
});

/**
 * The orders side of the saga. Orders hears what the other services did and moves the order:
 * stock rejected or payment declined → FAILED (whose event makes catalog release and billing void);
 * payment captured → CONFIRMED. An order that is no longer PENDING (it timed out, or was cancelled)
 * only records the step: the compensations its final event started undo the rest.
 */
export function ordersSagaHandlers(db: OrdersDb): EventHandlers<'orders'> {
  /** Handles `event` once; the outcome `handle` reports is counted after the commit. */
  const once = async (event: BinderyEvent, handle: (tx: OrdersDb) => Promise<OrderOutcome | undefined>) => {
    let outcome: OrderOutcome | undefined;
    await handleOnce(db, ordersEventTables, event, async (tx) => {
      outcome = await handle(tx);
    });
    if (outcome) orderOutcomes.inc({ outcome });
  };
  const step = (event: BinderyEvent, orderId: string, name: string, reason?: string) =>
    once(event, async (tx) => {
      await addTimelineStep(tx, orderId, name, reason);
      return undefined;
    });
  // A PENDING order fails with the reason; one already ended keeps its state and records the step.
  const fail = (
    event: BinderyEvent,
    { orderId, reason }: { orderId: string; reason: string },
    name: string,
  ) =>
    once(event, async (tx) => {
      const failed = await transition(tx, {
        orderId,
        from: ['PENDING'],
        to: 'FAILED',
        step: name,
        reason,
        event: { type: 'order.failed', context: event.context },
      });
      if (!failed) await addTimelineStep(tx, orderId, name, reason);
      return failed ? 'failed' : undefined;
    });
  return {
    'stock.reserved': (event) => step(event, event.payload.orderId, 'stock reserved'),
    'stock.released': (event) => step(event, event.payload.orderId, 'stock released'),
    'stock.rejected': (event) => fail(event, event.payload, 'stock rejected'),
    'payment.captured': (event) =>
      once(event, async (tx) => {
        const { orderId } = event.payload;
        await addTimelineStep(tx, orderId, 'payment captured');
        const confirmed = await transition(tx, {
          orderId,
          from: ['PENDING'],
          to: 'CONFIRMED',
          step: 'confirmed',
          event: { type: 'order.confirmed', context: event.context },
        });
        return confirmed ? 'confirmed' : undefined;
      }),
    'payment.declined': (event) => fail(event, event.payload, 'payment declined'),
    'payment.refunded': (event) =>
      step(event, event.payload.orderId, 'payment refunded', `${event.payload.amountCents} cents`),
  };
}

/** Fails and compensates orders still PENDING past their deadline; run by a repeatable job. */
export async function expireOverdueOrders(db: OrdersDb, timeoutMs: number): Promise<number> {
  let expired = 0;
  for (const orderId of await overdueOrderIds(db)) {
    const changed = await db.transaction((tx) =>
      transition(tx as unknown as OrdersDb, {
        orderId,
        from: ['PENDING'],
        to: 'FAILED',
        step: 'timed out',
        reason: `Not completed within ${Math.round(timeoutMs / 1000)} s`,
        event: { type: 'order.failed', context: { requestId: `order-timeout-${orderId}` } },
      }),
    );
    if (changed) {
      orderOutcomes.inc({ outcome: 'failed' });
      expired++;
    }
  }
  return expired;
}
