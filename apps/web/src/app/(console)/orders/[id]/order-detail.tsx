'use client';

import { isBinderyError } from '@bindery/client';
import { orderIdInput } from '@bindery/services/orders/schemas';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { DataTable } from '@/components/data-table';
import { useCan } from '@/components/providers';
import { QueryView } from '@/components/query-view';
import { ConfirmButton, Empty, ErrorState, Loading, PageHeader, StatusBadge } from '@/components/ui';
import { formatCents, formatDateTime, shortId } from '@/lib/format';
import { useTRPC } from '@/lib/trpc';
import { RefundForm } from './refund-form';

/** Human names of the saga's steps, as the orders service records them on the timeline. */
const STEP_NAMES: Record<string, string> = {
  created: 'Order placed',
  'stock reserved': 'Stock reserved',
  'stock rejected': 'Stock refused',
  'payment captured': 'Payment captured',
  'payment declined': 'Payment declined',
  confirmed: 'Confirmed',
  'timed out': 'Timed out',
  cancelled: 'Cancelled',
  'stock released': 'Stock released',
  'payment refunded': 'Payment refunded',
};

export function OrderDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const can = useCan();
  const validId = orderIdInput.safeParse({ id }).success;
  const order = useQuery(
    trpc.orders.byId.queryOptions(
      { id },
      {
        enabled: validId,
        // A PENDING order moves on its own as the saga runs: watch it closely until it settles.
        refetchInterval: (query) => (query.state.data?.status === 'PENDING' ? 1_000 : 10_000),
      },
    ),
  );
  const settled = order.data && order.data.status !== 'PENDING';
  const payment = useQuery(
    trpc.billing.payments.byOrder.queryOptions(
      { orderId: id },
      {
        enabled: validId && order.isSuccess,
        retry: false,
        refetchInterval: settled ? 10_000 : 2_000,
      },
    ),
  );
  const notifications = useQuery(
    trpc.notifications.list.queryOptions(
      { userId: order.data?.userId ?? id, limit: 100 },
      { enabled: Boolean(order.data), refetchInterval: settled ? 10_000 : 2_000 },
    ),
  );
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.orders.pathFilter()),
      queryClient.invalidateQueries(trpc.billing.pathFilter()),
    ]);
  const cancel = useMutation(trpc.orders.cancel.mutationOptions({ onSuccess: refresh }));
  const refund = useMutation(trpc.billing.refunds.create.mutationOptions({ onSuccess: refresh }));

  if (!validId) return <Empty>“{id}” is not an order id.</Empty>;
  if (order.isPending) return <Loading label="Loading the order…" />;
  if (order.isError) return <ErrorState error={order.error} retry={() => void order.refetch()} />;

  const data = order.data;
  const noPayment =
    payment.isError && isBinderyError(payment.error) && payment.error.data?.code === 'NOT_FOUND';
  // Messages name the order in full; the notifications service lists them per customer.
  const messages = (notifications.data?.items ?? []).filter((message) => message.body.includes(data.id));
  const refundable =
    payment.data &&
    payment.data.status === 'captured' &&
    payment.data.refundedCents < payment.data.amountCents;

  return (
    <>
      <p style={{ margin: '0 0 0.5rem' }}>
        <Link href="/orders">← Orders</Link>
      </p>
      <PageHeader title={`Order ${shortId(data.id)}`}>
        <StatusBadge status={data.status} />
        {can('orders.cancel') && (data.status === 'PENDING' || data.status === 'CONFIRMED') ? (
          <ConfirmButton
            label="Cancel order"
            title="Cancel this order?"
            description={
              <p>
                The order ends CANCELLED: its stock is released and any payment of{' '}
                {formatCents(data.totalCents)} is refunded. The customer is told.
              </p>
            }
            confirmLabel="Cancel order"
            onConfirm={() => cancel.mutateAsync({ id: data.id })}
          />
        ) : null}
      </PageHeader>

      <div className="grid">
        <section className="panel" aria-labelledby="summary-heading">
          <h2 id="summary-heading">Summary</h2>
          <dl className="kv">
            <dt>Order id</dt>
            <dd className="code">{data.id}</dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={data.status} />
            </dd>
            {data.failureReason ? (
              <>
                <dt>Reason</dt>
                <dd>{data.failureReason}</dd>
              </>
            ) : null}
            <dt>Customer</dt>
            <dd className="code">{data.userId}</dd>
            <dt>Placed</dt>
            <dd>{formatDateTime(data.createdAt)}</dd>
            <dt>Deadline</dt>
            <dd>{formatDateTime(data.deadlineAt)}</dd>
            <dt>Total</dt>
            <dd>
              <strong>{formatCents(data.totalCents)}</strong>
            </dd>
          </dl>
        </section>

        <section className="panel" aria-labelledby="timeline-heading">
          <h2 id="timeline-heading">Saga timeline</h2>
          <ol className="timeline">
            {data.timeline.map((entry) => (
              <li key={`${entry.step}-${entry.at}`}>
                <div className="step">{STEP_NAMES[entry.step] ?? entry.step}</div>
                <div className="muted">{formatDateTime(entry.at)}</div>
                {entry.reason ? <div>{entry.reason}</div> : null}
              </li>
            ))}
          </ol>
          {data.status === 'PENDING' ? (
            <p className="live" role="status">
              The saga is running; this page follows it.
            </p>
          ) : null}
        </section>
      </div>

      <section className="panel" aria-labelledby="items-heading">
        <h2 id="items-heading">Items</h2>
        <DataTable
          label="Order items"
          rows={data.items}
          rowKey={(item) => item.bookId}
          columns={[
            { header: 'Book', cell: (item) => item.title },
            { header: 'Quantity', numeric: true, cell: (item) => item.quantity },
            { header: 'Unit price', numeric: true, cell: (item) => formatCents(item.unitPriceCents) },
            {
              header: 'Amount',
              numeric: true,
              cell: (item) => formatCents(item.unitPriceCents * item.quantity),
            },
          ]}
          footer={
            <tr>
              <th scope="row" colSpan={3}>
                Total
              </th>
              <td className="number">
                <strong>{formatCents(data.totalCents)}</strong>
              </td>
            </tr>
          }
        />
      </section>

      <div className="grid">
        <section className="panel" aria-labelledby="payment-heading">
          <h2 id="payment-heading">Payment</h2>
          {noPayment ? (
            <Empty>No payment yet: the card is charged once the stock is reserved.</Empty>
          ) : (
            <QueryView query={payment} loadingLabel="Loading the payment…">
              {(record) => (
                <>
                  <dl className="kv">
                    <dt>Status</dt>
                    <dd>
                      <StatusBadge status={record.status} />
                    </dd>
                    <dt>Amount</dt>
                    <dd>{formatCents(record.amountCents)}</dd>
                    <dt>Refunded</dt>
                    <dd>{formatCents(record.refundedCents)}</dd>
                    <dt>Provider</dt>
                    <dd>{record.provider}</dd>
                    {record.declineCode ? (
                      <>
                        <dt>Declined</dt>
                        <dd>{record.declineCode}</dd>
                      </>
                    ) : null}
                  </dl>
                  {record.refunds.length > 0 ? (
                    <ul>
                      {record.refunds.map((entry) => (
                        <li key={entry.id}>
                          {formatCents(entry.amountCents)} refunded {formatDateTime(entry.createdAt)}:{' '}
                          {entry.reason}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                  {refundable && can('billing.refunds.create') ? (
                    <RefundForm payment={record} onSubmit={(input) => refund.mutateAsync(input)} />
                  ) : null}
                </>
              )}
            </QueryView>
          )}
        </section>

        <section className="panel" aria-labelledby="notifications-heading">
          <h2 id="notifications-heading">Notifications</h2>
          <QueryView
            query={notifications}
            loadingLabel="Loading notifications…"
            isEmpty={() => messages.length === 0}
            empty="No message about this order yet."
          >
            {() => (
              <ul style={{ paddingLeft: '1.1rem', margin: 0 }}>
                {messages.map((message) => (
                  <li key={message.id}>
                    <strong>{message.subject}</strong> to {message.recipient} — {message.state}
                    {message.attempts > 1 ? ` after ${message.attempts} attempts` : ''}
                    {message.lastError ? ` (last error: ${message.lastError})` : ''}
                    <div className="muted">{formatDateTime(message.createdAt)}</div>
                  </li>
                ))}
              </ul>
            )}
          </QueryView>
        </section>
      </div>
    </>
  );
}
