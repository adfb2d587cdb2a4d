'use client';

import { ORDER_STATUSES } from '@bindery/services/orders/schemas';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { z } from 'zod';
import {
  Empty,
  ErrorState,
  Loading,
  PageHeader,
  Pager,
  ScrollRegion,
  SelectField,
  StatusBadge,
  TextField,
  useCursorPages,
  useDebounced,
} from '@/components/ui';
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
  const [status, setStatus] = useState<Status | ''>('');
  const [customer, setCustomer] = useState('');
  const settledCustomer = useDebounced(customer.trim());
  const filter = useCustomerFilter(settledCustomer);
  const pages = useCursorPages();
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
        <SelectField
          label="Status"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value as Status | '');
            pages.reset();
          }}
        >
          <option value="">Any status</option>
          {ORDER_STATUSES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Customer"
          type="search"
          placeholder="Email, name or user id"
          value={customer}
          onChange={(event) => {
            setCustomer(event.target.value);
            pages.reset();
          }}
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
      ) : !ready || list.isPending ? (
        <Loading label="Loading orders…" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <Empty>
          {status || filter.state === 'found' ? 'No order matches these filters.' : 'No orders yet.'}
        </Empty>
      ) : (
        <>
          <ScrollRegion label="Orders">
            <table>
              <caption className="muted" style={{ textAlign: 'left', padding: '0.5rem 0.7rem' }}>
                Orders, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="number">
                    Total
                  </th>
                  <th scope="col" className="number">
                    Items
                  </th>
                  <th scope="col">Customer</th>
                  <th scope="col">Placed</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((order) => (
                  <tr key={order.id}>
                    <td>
                      <Link
                        href={`/orders/${order.id}`}
                        className="code"
                        aria-label={`Order ${shortId(order.id)}`}
                      >
                        {shortId(order.id)}
                      </Link>
                    </td>
                    <td>
                      <StatusBadge status={order.status} />
                    </td>
                    <td className="number">{formatCents(order.totalCents)}</td>
                    <td className="number">{order.items.reduce((sum, item) => sum + item.quantity, 0)}</td>
                    <td className="code">{shortId(order.userId)}</td>
                    <td>{formatDateTime(order.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
          <Pager
            page={pages.page}
            hasNext={Boolean(list.data.nextCursor)}
            onPrevious={pages.previous}
            onNext={() => list.data.nextCursor && pages.next(list.data.nextCursor)}
          />
        </>
      )}
    </>
  );
}
