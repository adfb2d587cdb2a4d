import type postgres from 'postgres';

/** An order the test placed, with what it asked for. */
export interface PlacedOrder {
  id: string;
  items: { bookId: string; quantity: number }[];
  paymentToken: string;
}

/** A book the test created, with the stock it started with. */
export interface ChaosBook {
  id: string;
  initialStock: number;
}

/** What the saga owes the orders once they ended; each entry names what was checked. */
export async function checkSagaInvariants(
  sql: postgres.Sql,
  orders: PlacedOrder[],
  books: ChaosBook[],
  redisCharges: (orderIds: string[]) => Promise<Map<string, string | null>>,
): Promise<{ checked: string[]; violations: string[]; counts: Record<string, number> }> {
  const violations: string[] = [];
  const ids = orders.map((order) => order.id);
  const rows = await sql<
    { id: string; status: string; total_cents: number; failure_reason: string | null }[]
  >`
    select id, status::text as status, total_cents, failure_reason from orders.orders where id in ${sql(ids)}`;
  const byId = new Map(rows.map((row) => [row.id, row]));
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) violations.push(`${missing.length} placed orders are not in orders.orders`);
  const unfinished = rows.filter((row) => row.status !== 'CONFIRMED' && row.status !== 'FAILED');
  if (unfinished.length > 0) {
    violations.push(
      `${unfinished.length} orders neither CONFIRMED nor FAILED: ${unfinished
        .slice(0, 5)
        .map((row) => `${row.id} ${row.status}`)
        .join(', ')}`,
    );
  }
  const confirmed = new Set(rows.filter((row) => row.status === 'CONFIRMED').map((row) => row.id));

  // Stock: what left each book is exactly what the confirmed orders hold.
  const stock = await sql<{ id: string; stock: number }[]>`
    select id, stock from catalog.books where id in ${sql(books.map((book) => book.id))}`;
  for (const book of books) {
    const now = stock.find((row) => row.id === book.id)?.stock;
    const held = orders
      .filter((order) => confirmed.has(order.id))
      .flatMap((order) => order.items)
      .filter((item) => item.bookId === book.id)
      .reduce((sum, item) => sum + item.quantity, 0);
    if (now === undefined || book.initialStock - now !== held) {
      violations.push(
        `book ${book.id}: ${book.initialStock} - ${now} taken, but confirmed orders hold ${held}`,
      );
    }
    if (now !== undefined && now < 0) violations.push(`book ${book.id}: stock ${now} below zero`);
  }
  const reservations = await sql<{ order_id: string; status: string }[]>`
    select order_id, status::text as status from catalog.reservations where order_id in ${sql(ids)}`;
  for (const reservation of reservations) {
    const reserved = reservation.status === 'reserved';
    if (reserved !== confirmed.has(reservation.order_id)) {
      violations.push(
        `order ${reservation.order_id} (${byId.get(reservation.order_id)?.status}) has a ${reservation.status} reservation`,
      );
    }
  }
  const reservedCount = reservations.filter((reservation) => reservation.status === 'reserved').length;
  if (reservedCount !== confirmed.size) {
    violations.push(`${reservedCount} reservations held for ${confirmed.size} confirmed orders`);
  }

  // Payments: one captured payment per confirmed order, of its total; nothing kept for a failed one.
  const payments = await sql<
    {
      order_id: string;
      status: string;
      amount_cents: number;
      refunded_cents: number;
      provider_reference: string | null;
    }[]
  >`
    select order_id, status::text as status, amount_cents, refunded_cents, provider_reference
    from billing.payments where order_id in ${sql(ids)}`;
  const paymentsByOrder = new Map<string, (typeof payments)[number][]>();
  for (const payment of payments) {
    paymentsByOrder.set(payment.order_id, [...(paymentsByOrder.get(payment.order_id) ?? []), payment]);
  }
  let captured = 0;
  for (const row of rows) {
    const own = paymentsByOrder.get(row.id) ?? [];
    if (own.length > 1) violations.push(`order ${row.id}: ${own.length} payments`);
    const payment = own[0];
    if (row.status === 'CONFIRMED') {
      if (
        payment?.status !== 'captured' ||
        payment.amount_cents !== row.total_cents ||
        payment.refunded_cents !== 0
      ) {
        violations.push(
          `confirmed order ${row.id}: payment ${JSON.stringify(payment ?? null)}, want captured ${row.total_cents}`,
        );
      } else captured++;
    } else if (payment && payment.status !== 'declined' && payment.status !== 'voided') {
      const refunded = payment.status === 'refunded' && payment.refunded_cents === payment.amount_cents;
      if (!refunded) violations.push(`failed order ${row.id}: payment ${JSON.stringify(payment)}`);
    }
  }
  const references = payments.map((payment) => payment.provider_reference).filter(Boolean);
  if (new Set(references).size !== references.length) violations.push('two payments share a provider charge');
  // The provider's own record of each charge (kept per idempotency key) names the charge billing kept.
  const charges = await redisCharges([...confirmed]);
  let chargesMatched = 0;
  for (const orderId of confirmed) {
    const reference = paymentsByOrder.get(orderId)?.[0]?.provider_reference;
    const charged = charges.get(orderId);
    if (charged === undefined) continue;
    if (charged !== reference)
      violations.push(`order ${orderId}: provider charged ${charged}, billing kept ${reference}`);
    else chargesMatched++;
  }

  // Every order's end told its customer exactly once.
  const told = await sql<{ aggregate_id: string; count: number }[]>`
    select o.aggregate_id, count(m.id)::int as count from orders.outbox o
    left join notifications.messages m on m.event_id = o.id
    where o.type in ('order.confirmed', 'order.failed') and o.aggregate_id in ${sql(ids)}
    group by o.aggregate_id`;
  const toldOnce = told.filter((row) => row.count === 1).length;
  if (toldOnce !== rows.length) violations.push(`${toldOnce} of ${rows.length} orders' ends were told once`);

  const reasons = new Map<string, number>();
  for (const row of rows.filter((candidate) => candidate.status === 'FAILED')) {
    const reason = (row.failure_reason ?? 'no reason').replace(/"[^"]*"/g, '"…"');
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  return {
    checked: [
      `${rows.length}/${ids.length} placed orders stored; ${counts.CONFIRMED ?? 0} CONFIRMED, ${counts.FAILED ?? 0} FAILED (${[...reasons].map(([reason, count]) => `${count} ${reason}`).join('; ') || 'none'}), none PENDING`,
      `stock taken from ${books.length} books equals the quantities of the confirmed orders; none below zero; ${reservedCount} reserved reservations = confirmed orders, none for a failed one`,
      `${captured} captured payments, one per confirmed order at its total, unrefunded; failed orders declined, voided or fully refunded; no order with two payments; ${chargesMatched} provider charge records agree with billing`,
      `${toldOnce} orders' final events each made exactly one notification`,
    ],
    violations,
    counts,
  };
}
