import { auth, type Database } from '@bindery/db';
import { hash, verify } from '@node-rs/argon2';
import { eq, sql } from 'drizzle-orm';

type AuthDb = Database<typeof auth>;

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane (argon2id is the library's default). */
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function setPassword(db: AuthDb, userId: string, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  await db
    .insert(auth.credentials)
    .values({ userId, passwordHash })
    .onConflictDoUpdate({ target: auth.credentials.userId, set: { passwordHash, updatedAt: sql`now()` } });
}

// Verified against when the user does not exist, so a wrong email costs the same time as a wrong
// password and does not reveal which emails have accounts.
const unknownUserHash = hashPassword('bindery-no-such-user');

/** Whether `password` is the user's; `userId` null checks against a dummy hash for equal timing. */
export async function checkPassword(db: AuthDb, userId: string | null, password: string): Promise<boolean> {
  const [row] = userId
    ? await db
        .select({ passwordHash: auth.credentials.passwordHash })
        .from(auth.credentials)
        .where(eq(auth.credentials.userId, userId))
    : [];
  const valid = await verify(row?.passwordHash ?? (await unknownUserHash), password);
  return Boolean(row) && valid;
}
