import { catalog, type Database, handleOnce, writeEvent } from '@bindery/db';
import { and, eq, gte, inArray, sql } from 'drizzle-orm';
import type { BinderyEvent } from '../events';

type CatalogDb = Database<typeof catalog>;
const eventTables = { outbox: catalog.outbox, processedEvents: catalog.processedEvents };

class NotEnoughStock extends Error {}

/**
 * Reserves every item of an order, or none. Each decrement is `stock = stock - n where stock >= n`,
 * in book-id order, so concurrent orders for the last copies are serialised by the rows' locks and
 * stock never goes below zero. A release that came first (a `released` row) means the order ended
 * already: nothing is reserved.
 */
export async function reserveStock(db: CatalogDb, event: BinderyEvent<'order.created'>): Promise<void> {
  const { orderId, items } = event.payload;
  const context = event.context;
  try {
    await handleOnce(db, eventTables, event, async (tx) => {
      const claimed = await tx
        .insert(catalog.reservations)
        .values({
          orderId,
          status: 'reserved',
          items: items.map(({ bookId, quantity }) => ({ bookId, quantity })),
        })
        .onConflictDoNothing()
        .returning({ orderId: catalog.reservations.orderId });
      if (claimed.length === 0) return;
      for (const item of [...items].sort((a, b) => a.bookId.localeCompare(b.bookId))) {
        const [updated] = await tx
          .update(catalog.books)
          .set({ stock: sql`${catalog.books.stock} - ${item.quantity}`, updatedAt: sql`now()` })
          .where(and(eq(catalog.books.id, item.bookId), gte(catalog.books.stock, item.quantity)))
          .returning({ id: catalog.books.id });
        if (!updated) throw new NotEnoughStock(item.bookId);
      }
      await writeEvent(tx, eventTables, {
        type: 'stock.reserved',
        aggregateId: orderId,
        payload: {
          orderId,
          userId: event.payload.userId,
          totalCents: event.payload.totalCents,
          paymentToken: event.payload.paymentToken,
        },
        context,
      });
    });
  } catch (error) {
    if (!(error instanceof NotEnoughStock)) throw error;
    // The reservation rolled back whole; record the refusal (once) in a transaction of its own.
    const [book] = await db
      .select({ title: catalog.books.title })
      .from(catalog.books)
      .where(eq(catalog.books.id, error.message));
    const reason = book
      ? `Not enough copies of "${book.title}" in stock`
      : `Book ${error.message} is no longer sold`;
    await handleOnce(db, eventTables, event, async (tx) => {
      const claimed = await tx
        .insert(catalog.reservations)
        .values({ orderId, status: 'rejected', items: [], reason })
        .onConflictDoNothing()
        .returning({ orderId: catalog.reservations.orderId });
      if (claimed.length === 0) return;
      await writeEvent(tx, eventTables, {
        type: 'stock.rejected',
        aggregateId: orderId,
        payload: { orderId, reason },
        context,
      });
    });
  }
}

/** Gives back what an order reserved, once; an order with no reservation yet gets a `released` row. */
export async function releaseStock(
  db: CatalogDb,
  event: BinderyEvent<'order.failed'> | BinderyEvent<'order.cancelled'>,
): Promise<void> {
  const { orderId } = event.payload;
  await handleOnce(db, eventTables, event, async (tx) => {
    const tombstone = await tx
      .insert(catalog.reservations)
      .values({ orderId, status: 'released', items: [], reason: 'released before it was reserved' })
      .onConflictDoNothing()
      .returning({ orderId: catalog.reservations.orderId });
    if (tombstone.length > 0) return;
    const [released] = await tx
      .update(catalog.reservations)
      .set({ status: 'released', updatedAt: sql`now()` })
      .where(and(eq(catalog.reservations.orderId, orderId), eq(catalog.reservations.status, 'reserved')))
      .returning({ items: catalog.reservations.items });
    if (!released) return;
    for (const item of [...released.items].sort((a, b) => a.bookId.localeCompare(b.bookId))) {
      await tx
        .update(catalog.books)
        .set({ stock: sql`${catalog.books.stock} + ${item.quantity}`, updatedAt: sql`now()` })
        .where(eq(catalog.books.id, item.bookId));
    }
    await writeEvent(tx, eventTables, {
      type: 'stock.released',
      aggregateId: orderId,
      payload: { orderId },
      context: event.context,
    });
  });
}

/** Title, price and stock of books, for the orders service pricing an order. */
export async function booksForPricing(db: CatalogDb, ids: string[]) {
  if (ids.length === 0) return [];
  return db
    .select({
      id: catalog.books.id,
      title: catalog.books.title,
      priceCents: catalog.books.priceCents,
      stock: catalog.books.stock,
    })
    .from(catalog.books)
    .where(inArray(catalog.books.id, ids));
}

export { eventTables as catalogEventTables };
