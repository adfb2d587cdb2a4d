'use client';

import { ORDER_STATUSES } from '@bindery/services/orders/schemas';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { z } from 'zod';
import { FilterSelect } from '@/components/filter-select';
import { PagedTable } from '@/components/paged-table';
import { Empty, PageHeader, StatusBadge, TextField, useCursorPages, useDebounced } from '@/components/ui';
import { usePageFilter } from '@/components/use-page-filter';
import { formatCents, formatDateTime, shortId } from '@/lib/format';
import { useTRPC } from '@/lib/trpc';

type Status = (typeof ORDER_STATUSES)[number];
const isUuid = (value: string) => z.uuid().safeParse(value).success;

/**
 * The customer filter takes an email (or part of one, or a name) or a user id. Text that is not an
 * id is looked up with `users.list`: one match filters by that user.
 */
function useCustomerFilter(text: string) {
  const trpc = useTRPC();
  const lookup = text !== '' && !isUuid(text);
  const matches = useQuery(trpc.users.list.queryOptions({ search: text, limit: 5 }, { enabled: lookup }));
  if (text === '') return { state: 'none' as const };
  if (!lookup) return { state: 'found' as const, userId: text, label: text };
  if (matches.isPending) return { state: 'looking' as const };
  const items = matches.data?.items ?? [];
  const exact = items.find((user) => user.email.toLowerCase() === text.toLowerCase());
  const chosen = exact ?? (items.length === 1 ? items[0] : undefined);
  if (chosen)
    return { state: 'found' as const, userId: chosen.id, label: `${chosen.name} <${chosen.email}>` };
  return { state: items.length === 0 ? ('missing' as const) : ('ambiguous' as const), count: items.length };
}

export function Orders() {
  const trpc = useTRPC();
  const pages = useCursorPages();
  const [status, setStatus] = usePageFilter<Status | ''>('', pages);
  const [customer, setCustomer] = usePageFilter('', pages);
  const settledCustomer = useDebounced(customer.trim());
  const filter = useCustomerFilter(settledCustomer);
  const ready = filter.state === 'none' || filter.state === 'found';

  const list = useQuery(
    trpc.orders.list.queryOptions(
      {
        limit: 20,
        ...(status ? { status } : {}),
        ...(filter.state === 'found' ? { userId: filter.userId } : {}),
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
      },
      { enabled: ready, refetchInterval: 5_000 },
    ),
  );

  return (
    <>
      <PageHeader title="Orders" />
      <search className="filters">
        <FilterSelect
          label="Status"
          anyLabel="Any status"
          options={ORDER_STATUSES}
          value={status}
          onChange={setStatus}
        />
        <TextField
          label="Customer"
          type="search"
          placeholder="Email, name or user id"
          value={customer}
          onChange={(event) => setCustomer(event.target.value)}
          hint={
            filter.state === 'found' && filter.label !== settledCustomer
              ? `Showing ${filter.label}`
              : undefined
          }
        />
      </search>

      {filter.state === 'missing' ? (
        <Empty>No customer matches “{settledCustomer}”.</Empty>
      ) : filter.state === 'ambiguous' ? (
        <Empty>
          {filter.count} customers match “{settledCustomer}”: type their full email.
        </Empty>
      ) : (
        <PagedTable
          query={list}
          pages={pages}
          ready={ready}
          label="Orders"
          caption="Orders, newest first"
          loadingLabel="Loading orders…"
          empty={status || filter.state === 'found' ? 'No order matches these filters.' : 'No orders yet.'}
          rowKey={(order) => order.id}
          columns={[
            {
              header: 'Order',
              cell: (order) => (
                <Link href={`/orders/${order.id}`} className="code" aria-label={`Order ${shortId(order.id)}`}>
                  {shortId(order.id)}
                </Link>
              ),
            },
            { header: 'Status', cell: (order) => <StatusBadge status={order.status} /> },
            { header: 'Total', numeric: true, cell: (order) => formatCents(order.totalCents) },
            {
              header: 'Items',
              numeric: true,
              cell: (order) => order.items.reduce((sum, item) => sum + item.quantity, 0),
            },
            { header: 'Customer', className: 'code', cell: (order) => shortId(order.userId) },
            { header: 'Placed', cell: (order) => formatDateTime(order.createdAt) },
          ]}
        />
      )}
    </>
  );
}
