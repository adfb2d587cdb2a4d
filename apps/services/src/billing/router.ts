import { roleProcedure, router, STAFF_ROLES } from '@bindery/api';
import { z } from 'zod';
import type { PaymentProvider } from './payment-provider';
import { type BillingDb, createRefund, listPayments, paymentByOrder } from './payments';

export interface BillingDeps {
  db: BillingDb;
  provider: PaymentProvider;
}

const PAYMENT_STATUSES = ['processing', 'captured', 'declined', 'refunded', 'voided'] as const;

export function createBillingRouter({ db, provider }: BillingDeps) {
  const reader = roleProcedure(...STAFF_ROLES, 'customer');
  return router({
    billing: router({
      payments: router({
        /** The payment of an order, with its refunds; customers see only their own. */
        byOrder: reader
          .input(z.strictObject({ orderId: z.uuid('must be an order id') }))
          .query(({ input, ctx }) =>
            paymentByOrder(
              db,
              input.orderId,
              ctx.user.roles.some((role) => role !== 'customer') ? undefined : ctx.user.id,
            ),
          ),
        list: roleProcedure(...STAFF_ROLES)
          .input(
            z
              .strictObject({
                status: z.enum(PAYMENT_STATUSES).optional(),
                userId: z.uuid().optional(),
                cursor: z.string().max(500).optional(),
                limit: z.int().min(1).max(100).default(20),
              })
              .default({ limit: 20 }),
          )
          .query(({ input }) => listPayments(db, input)),
      }),
      refunds: router({
        /** Refunds part (`amountCents`) or the rest of a captured payment. */
        create: roleProcedure('operator', 'admin')
          .input(
            z.strictObject({
              paymentId: z.uuid('must be a payment id'),
              amountCents: z.int('must be a whole number of cents').min(1, 'must be at least 1').optional(),
              reason: z.string().trim().min(1, 'must not be empty').max(500),
            }),
          )
          .mutation(({ input }) => createRefund(db, provider, input)),
      }),
    }),
  });
}

export type BillingRouter = ReturnType<typeof createBillingRouter>;
