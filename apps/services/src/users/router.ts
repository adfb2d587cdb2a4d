import { type OnBehalfOf, roleProcedure, router, STAFF_ROLES, serviceProcedure } from '@bindery/api';
import type { TRPCClient } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { AuthRouter } from '../auth/router';
import {
  findUserByEmail,
  getUser,
  insertUser,
  listUsers,
  prepareUserQueries,
  type UserQueries,
  type UsersDb,
  updateUser,
} from './accounts';
import { createUserInput, email, listUsersInput, type User, updateUserInput, userIdInput } from './schemas';

export interface UsersDeps {
  db: UsersDb;
  auth: (onBehalfOf: OnBehalfOf) => TRPCClient<AuthRouter>;
}

const admin = roleProcedure('admin');
const staff = roleProcedure(...STAFF_ROLES);
const anyUser = roleProcedure(...STAFF_ROLES, 'customer');

export function createUsersRouter({ db, auth }: UsersDeps) {
  // Prepared on first use: a router built only to read its procedures (tests, the client's types)
  // has no database.
  let queries: UserQueries | undefined;
  const prepared = () => (queries ??= prepareUserQueries(db));
  return router({
    users: router({
      create: admin.input(createUserInput).mutation(async ({ input, ctx }): Promise<User> => {
        const { password, ...profile } = input;
        // The credential is stored by the auth service inside this transaction: if auth refuses or
        // cannot be reached, the user is rolled back and nothing is left half-created.
        return db.transaction(async (tx) => {
          const user = await insertUser(tx, profile, {
            requestId: ctx.requestId,
            ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
          });
          if (password) {
            await auth(ctx).auth.credentials.set.mutate({ userId: user.id, password });
          }
          return user;
        });
      }),
      /** Staff read any profile; customers only their own. */
      byId: anyUser.input(userIdInput).query(async ({ input, ctx }) => {
        const isStaff = ctx.user.roles.some((role) => role !== 'customer');
        if (!isStaff && ctx.user.id !== input.id) {
          throw new TRPCError({ code: 'FORBIDDEN', message: 'Customers may read only their own profile' });
        }
        return getUser(prepared(), input.id);
      }),
      list: staff.input(listUsersInput).query(({ input }) => listUsers(db, input)),
      update: admin.input(updateUserInput).mutation(({ input }) => updateUser(db, input)),
      disable: admin.input(userIdInput).mutation(({ input, ctx }) => {
        if (input.id === ctx.user.id) {
          throw new TRPCError({
            code: 'BAD_REQUEST',
            message: 'id: an admin cannot disable their own account',
          });
        }
        return updateUser(db, { id: input.id, status: 'disabled' });
      }),
      enable: admin
        .input(userIdInput)
        .mutation(({ input }) => updateUser(db, { id: input.id, status: 'active' })),
      /** For the auth service: who holds an email (login) or an id (tokens, `auth.me`). */
      internal: router({
        byEmail: serviceProcedure('auth')
          .input(z.strictObject({ email }))
          .query(({ input }) => findUserByEmail(db, input.email)),
        byId: serviceProcedure('auth', 'orders', 'notifications')
          .input(userIdInput)
          .query(({ input }) => getUser(prepared(), input.id)),
      }),
    }),
  });
}

export type UsersRouter = ReturnType<typeof createUsersRouter>;
