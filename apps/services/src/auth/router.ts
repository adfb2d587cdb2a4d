import {
  type OnBehalfOf,
  publicProcedure,
  ROLES,
  roleProcedure,
  router,
  serviceProcedure,
} from '@bindery/api';
import type { auth, Database } from '@bindery/db';
import type { TRPCClient } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import type { UsersRouter } from '../users/router';
import type { User } from '../users/schemas';
import { createApiToken, listApiTokens, resolveApiToken, revokeApiToken } from './api-tokens';
import type { LoginLimiter } from './login-limiter';
import { checkPassword, setPassword } from './passwords';
import {
  apiTokenIdInput,
  createApiTokenInput,
  loginInput,
  resolveApiTokenInput,
  setCredentialInput,
} from './schemas';

export interface AuthDeps {
  db: Database<typeof auth>;
  users: (onBehalfOf: OnBehalfOf) => TRPCClient<UsersRouter>;
  limiter: LoginLimiter;
  signAccessToken: (user: User, ttlSeconds: number) => Promise<{ token: string; expiresAt: Date }>;
  accessTokenTtlSeconds: number;
}

const signedIn = roleProcedure(...ROLES);

export function createAuthRouter({ db, users, limiter, signAccessToken, accessTokenTtlSeconds }: AuthDeps) {
  return router({
    auth: router({
      login: publicProcedure
        .input(loginInput)
        .mutation(async ({ input, ctx }): Promise<{ accessToken: string; expiresAt: string; user: User }> => {
          const retryAfter = await limiter.retryAfterSeconds(input.email, ctx.caller.ip);
          if (retryAfter > 0) {
            throw new TRPCError({
              code: 'TOO_MANY_REQUESTS',
              message: `Too many failed sign-ins; try again in ${retryAfter} seconds`,
            });
          }
          const user = await users(ctx).users.internal.byEmail.query({ email: input.email });
          if (!(await checkPassword(db, user?.id ?? null, input.password)) || !user) {
            await limiter.recordFailure(input.email, ctx.caller.ip);
            throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Email or password is wrong' });
          }
          if (user.status !== 'active') {
            throw new TRPCError({ code: 'FORBIDDEN', message: 'This account is disabled' });
          }
          await limiter.recordSuccess(input.email);
          const { token, expiresAt } = await signAccessToken(user, accessTokenTtlSeconds);
          return { accessToken: token, expiresAt: expiresAt.toISOString(), user };
        }),
      /** The signed-in user's profile. */
      me: signedIn.query(
        ({ ctx }): Promise<User> => users(ctx).users.internal.byId.query({ id: ctx.user.id }),
      ),
      credentials: router({
        /** Sets a user's password; the users service calls it when it creates an account. */
        set: serviceProcedure('users')
          .input(setCredentialInput)
          .mutation(async ({ input }) => {
            await setPassword(db, input.userId, input.password);
            return { userId: input.userId };
          }),
      }),
      tokens: router({
        /** A token for another app to call the API as the signed-in user; its secret is shown once. */
        create: signedIn
          .input(createApiTokenInput)
          .mutation(({ input, ctx }) => createApiToken(db, { userId: ctx.user.id, ...input })),
        list: signedIn.query(({ ctx }) => listApiTokens(db, ctx.user.id)),
        revoke: signedIn.input(apiTokenIdInput).mutation(({ input, ctx }) =>
          revokeApiToken(db, {
            id: input.id,
            userId: ctx.user.roles.includes('admin') ? null : ctx.user.id,
          }),
        ),
      }),
      internal: router({
        /** For the gateway: the user behind an API token, or null when it is not (or no longer) valid. */
        resolveApiToken: serviceProcedure('gateway')
          .input(resolveApiTokenInput)
          .query(async ({ input, ctx }): Promise<{ tokenId: string; user: User } | null> => {
            const resolved = await resolveApiToken(db, input.token);
            if (!resolved) return null;
            const user = await users(ctx).users.internal.byId.query({ id: resolved.userId });
            return user.status === 'active' ? { tokenId: resolved.tokenId, user } : null;
          }),
      }),
    }),
  });
}

export type AuthRouter = ReturnType<typeof createAuthRouter>;
