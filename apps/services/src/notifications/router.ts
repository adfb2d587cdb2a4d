import { roleProcedure, router, STAFF_ROLES } from '@bindery/api';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { listMessages, type NotificationsDb } from './messages';

export function createNotificationsRouter({ db }: { db: NotificationsDb }) {
  return router({
    notifications: router({
      /** Every message with its delivery state and attempts; customers see only their own. */
      list: roleProcedure(...STAFF_ROLES, 'customer')
        .input(
          z
            .strictObject({
              userId: z.uuid('must be a user id').optional(),
              cursor: z.string().max(500).optional(),
              limit: z.int().min(1).max(100).default(20),
            })
            .default({ limit: 20 }),
        )
        .query(({ input, ctx }) => {
          if (ctx.user.roles.some((role) => role !== 'customer')) return listMessages(db, input);
          if (input.userId && input.userId !== ctx.user.id) {
            throw new TRPCError({
              code: 'FORBIDDEN',
              message: 'userId: customers see only their own messages',
            });
          }
          return listMessages(db, { ...input, userId: ctx.user.id });
        }),
    }),
  });
}

export type NotificationsRouter = ReturnType<typeof createNotificationsRouter>;
