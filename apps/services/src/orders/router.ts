import { type OnBehalfOf, roleProcedure, router, STAFF_ROLES } from '@bindery/api';
import type { TRPCClient } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import type { CatalogRouter } from '../catalog/router';
import type { UsersRouter } from '../users/router';
import {
  assertCancellable,
  findOrder,
  getOrder,
  insertOrder,
  listOrders,
  type OrdersDb,
  transition,
} from './orders';
import { orderOutcomes } from './saga';
import { createOrderInput, listOrdersInput, type Order, orderIdInput } from './schemas';

export interface OrdersDeps {
  db: OrdersDb;
  users: (onBehalfOf: OnBehalfOf) => TRPCClient<UsersRouter>;
  catalog: (onBehalfOf: OnBehalfOf) => TRPCClient<CatalogRouter>;
  /** How long an order may stay PENDING before it is failed and compensated. */
  orderTimeoutMs: number;
}

/** Totals and payments are stored as PostgreSQL `integer` cents. */
const MAX_ORDER_TOTAL_CENTS = 2_147_483_647;

const buyer = roleProcedure('customer', 'operator', 'admin');
const reader = roleProcedure(...STAFF_ROLES, 'customer');

export function createOrdersRouter({ db, users, catalog, orderTimeoutMs }: OrdersDeps) {
  const isStaff = (roles: readonly string[]) => roles.some((role) => role !== 'customer');
  return router({
    orders: router({
      /**
       * Places an order: checks the customer with the users service, prices the items with the
       * catalog service, then stores it as PENDING with its `order.created` event. The saga does the
       * rest; poll `orders.byId` (or watch the console) for CONFIRMED or FAILED.
       */
      create: buyer.input(createOrderInput).mutation(async ({ input, ctx }): Promise<Order> => {
        const staff = isStaff(ctx.user.roles);
        if (input.userId && input.userId !== ctx.user.id && !staff) {
          throw new TRPCError({ code: 'FORBIDDEN', message: 'userId: customers order only for themselves' });
        }
        const userId = input.userId ?? ctx.user.id;
        const existing = await findOrder(db, { userId, idempotencyKey: input.idempotencyKey });
        if (existing) return existing;

        const customer = await users(ctx)
          .users.internal.byId.query({ id: userId })
          .catch((error: unknown) => {
            if ((error as { data?: { code?: string } }).data?.code === 'NOT_FOUND') return null;
            throw error;
          });
        if (customer?.status !== 'active') {
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'userId: no active user has this id' });
        }
        const books = await catalog(ctx).catalog.internal.books.query({
          ids: input.items.map((item) => item.bookId),
        });
        const items = input.items.map((item, index) => {
          const book = books.find((candidate) => candidate.id === item.bookId);
          if (!book)
            throw new TRPCError({
              code: 'BAD_REQUEST',
              message: `items.${index}.bookId: no book has this id`,
            });
          return {
            bookId: book.id,
            title: book.title,
            quantity: item.quantity,
            unitPriceCents: book.priceCents,
          };
        });
        const totalCents = items.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
        if (totalCents > MAX_ORDER_TOTAL_CENTS) {
          throw new TRPCError({
            code: 'BAD_REQUEST',
            message: `items: the order comes to ${totalCents} cents, more than ${MAX_ORDER_TOTAL_CENTS}`,
          });
        }
        const order = await insertOrder(db, {
          userId,
          placedBy: ctx.user.id,
          idempotencyKey: input.idempotencyKey,
          items,
          paymentToken: input.paymentToken,
          deadlineAt: new Date(Date.now() + orderTimeoutMs),
          context: { requestId: ctx.requestId, ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}) },
        });
        // Committed by now. A create that lost a race for the same key (and got the winner's order)
        // counts too: that needs concurrent retries with one key, and is the rare exception.
        orderOutcomes.inc({ outcome: 'created' });
        return order;
      }),
      /** Staff read any order; customers only their own. */
      byId: reader
        .input(orderIdInput)
        .query(({ input, ctx }) => getOrder(db, input.id, isStaff(ctx.user.roles) ? undefined : ctx.user.id)),
      list: reader.input(listOrdersInput).query(({ input, ctx }) => {
        if (!isStaff(ctx.user.roles)) {
          if (input.userId && input.userId !== ctx.user.id) {
            throw new TRPCError({
              code: 'FORBIDDEN',
              message: 'userId: customers see only their own orders',
            });
          }
          return listOrders(db, { ...input, userId: ctx.user.id });
        }
        return listOrders(db, input);
      }),
      /**
       * Cancels a PENDING or CONFIRMED order: its `order.cancelled` event releases the stock and
       * refunds the payment. Customers cancel their own orders; operators and admins any.
       */
      cancel: buyer.input(orderIdInput).mutation(async ({ input, ctx }): Promise<Order> => {
        const order = await getOrder(db, input.id, isStaff(ctx.user.roles) ? undefined : ctx.user.id);
        assertCancellable(order);
        const cancelled = await db.transaction((tx) =>
          transition(tx as unknown as OrdersDb, {
            orderId: order.id,
            from: ['PENDING', 'CONFIRMED'],
            to: 'CANCELLED',
            step: 'cancelled',
            reason: `by ${ctx.user.id === order.userId ? 'the customer' : 'an operator'}`,
            event: {
              type: 'order.cancelled',
              context: {
                requestId: ctx.requestId,
                ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
              },
            },
          }),
        );
        if (!cancelled) assertCancellable(await getOrder(db, order.id));
        else orderOutcomes.inc({ outcome: 'cancelled' });
        return getOrder(db, order.id);
      }),
    }),
  });
}

export type OrdersRouter = ReturnType<typeof createOrdersRouter>;
