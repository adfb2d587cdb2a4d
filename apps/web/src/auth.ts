import type { Role } from '@bindery/api/shared';
import { STAFF_ROLES } from '@bindery/api/shared';
import { isBinderyError } from '@bindery/client';
import { loginInput } from '@bindery/services/auth/schemas';
import NextAuth, { CredentialsSignin, type Session } from 'next-auth';
import Credentials from 'next-auth/providers/credentials';
import { z } from 'zod';
import { serverClient } from '@/lib/gateway';

/** Why a sign-in was refused; the code travels to the sign-in page, so it names no secret. */
class SignInRefused extends CredentialsSignin {
  constructor(code: 'wrong' | 'disabled' | 'limited' | 'not-staff' | 'unavailable') {
    super();
    this.code = code;
  }
}

/** What the console keeps in its (encrypted) session cookie. */
const sessionToken = z.object({
  sub: z.string(),
  name: z.string(),
  email: z.string(),
  roles: z.array(z.enum(['admin', 'operator', 'viewer', 'customer'])),
  accessToken: z.string(),
  expiresAt: z.iso.datetime(),
});
export type SessionToken = z.infer<typeof sessionToken>;

/** The signed-in operator as pages see them (the access token stays on the server). */
export interface ConsoleUser {
  id: string;
  name: string;
  email: string;
  roles: Role[];
  expiresAt: string;
}

export const { handlers, auth, signIn, signOut } = NextAuth({
  trustHost: true,
  pages: { signIn: '/signin' },
  session: { strategy: 'jwt' },
  providers: [
    Credentials({
      credentials: {
        email: { label: 'Email', type: 'email' },
        password: { label: 'Password', type: 'password' },
      },
      async authorize(credentials) {
        const parsed = loginInput.safeParse({ email: credentials.email, password: credentials.password });
        if (!parsed.success) throw new SignInRefused('wrong');
        try {
          const { accessToken, expiresAt, user } = await serverClient().auth.login.mutate(parsed.data);
          if (!user.roles.some((role) => (STAFF_ROLES as readonly string[]).includes(role))) {
            throw new SignInRefused('not-staff');
          }
          return {
            id: user.id,
            name: user.name,
            email: user.email,
            roles: user.roles,
            accessToken,
            expiresAt,
          };
        } catch (error) {
          if (error instanceof SignInRefused) throw error;
          if (!isBinderyError(error)) throw new SignInRefused('unavailable');
          switch (error.data?.code) {
            case 'UNAUTHORIZED':
              throw new SignInRefused('wrong');
            case 'FORBIDDEN':
              throw new SignInRefused('disabled');
            case 'TOO_MANY_REQUESTS':
              throw new SignInRefused('limited');
            default:
              throw new SignInRefused('unavailable');
          }
        }
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      // On sign-in `user` is what authorize returned; later calls carry the token alone.
      const source = user ? { ...token, ...user, sub: user.id } : token;
      const parsed = sessionToken.safeParse(source);
      // The gateway's access token cannot be renewed (auth has no refresh procedure): the session
      // ends with it, and the console asks the operator to sign in again.
      if (!parsed.success || Date.parse(parsed.data.expiresAt) <= Date.now()) return null;
      return parsed.data;
    },
    session({ session, token }) {
      const parsed = sessionToken.parse(token);
      return {
        ...session,
        user: { ...session.user, id: parsed.sub, name: parsed.name, email: parsed.email },
        roles: parsed.roles,
        expiresAt: parsed.expiresAt,
      };
    },
  },
});

/** The signed-in operator, or null when there is no session (or it has expired). */
export async function currentUser(): Promise<ConsoleUser | null> {
  const session = (await auth()) as (Session & { roles?: Role[]; expiresAt?: string }) | null;
  if (!session?.user?.id || !session.roles || !session.expiresAt) return null;
  return {
    id: session.user.id,
    name: session.user.name ?? '',
    email: session.user.email ?? '',
    roles: session.roles,
    expiresAt: session.expiresAt,
  };
}
