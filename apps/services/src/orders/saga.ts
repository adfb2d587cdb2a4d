import { handleOnce } from '@bindery/db';
import type { BinderyEvent, EventHandlers } from '../events';
import { addTimelineStep, type OrdersDb, ordersEventTables, overdueOrderIds, transition } from './orders';

/**
 * The orders side of the saga. Orders hears what the other services did and moves the order:
 * stock rejected or payment declined → FAILED (whose event makes catalog release and billing void);
 * payment captured → CONFIRMED. An order that is no longer PENDING (it timed out, or was cancelled)
 * only records the step: the compensations its final event started undo the rest.
 */
export function ordersSagaHandlers(db: OrdersDb): EventHandlers<'orders'> {
  const once = (event: BinderyEvent, handle: (tx: OrdersDb) => Promise<void>) =>
    handleOnce(db, ordersEventTables, event, handle).then(() => undefined);
  return {
    'stock.reserved': (event) =>
      once(event, (tx) => addTimelineStep(tx, event.payload.orderId, 'stock reserved')),
    'stock.released': (event) =>
      once(event, (tx) => addTimelineStep(tx, event.payload.orderId, 'stock released')),
    'stock.rejected': (event) =>
      once(event, async (tx) => {
        const { orderId, reason } = event.payload;
        const failed = await transition(tx, {
          orderId,
          from: ['PENDING'],
          to: 'FAILED',
          step: 'stock rejected',
          reason,
          event: { type: 'order.failed', context: event.context },
        });
        if (!failed) await addTimelineStep(tx, orderId, 'stock rejected', reason);
      }),
    'payment.captured': (event) =>
      once(event, async (tx) => {
        const { orderId } = event.payload;
        await addTimelineStep(tx, orderId, 'payment captured');
        await transition(tx, {
          orderId,
          from: ['PENDING'],
          to: 'CONFIRMED',
          step: 'confirmed',
          event: { type: 'order.confirmed', context: event.context },
        });
      }),
    'payment.declined': (event) =>
      once(event, async (tx) => {
        const { orderId, reason } = event.payload;
        const failed = await transition(tx, {
          orderId,
          from: ['PENDING'],
          to: 'FAILED',
          step: 'payment declined',
          reason,
          event: { type: 'order.failed', context: event.context },
        });
        if (!failed) await addTimelineStep(tx, orderId, 'payment declined', reason);
      }),
    'payment.refunded': (event) =>
      once(event, (tx) =>
        addTimelineStep(tx, event.payload.orderId, 'payment refunded', `${event.payload.amountCents} cents`),
      ),
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
    if (changed) expired++;
  }
  return expired;
}
