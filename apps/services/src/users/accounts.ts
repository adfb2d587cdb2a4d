import { notFound, type Role } from '@bindery/api';
import { containsPattern, type Database, preparedRows, users, writeEvent } from '@bindery/db';
import { arrayContains, eq, ilike, or, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { listNewestFirst } from '../pagination';
import type { createUserInput, listUsersInput, User, updateUserInput } from './schemas';

export type UsersDb = Database<typeof users>;
type UserRow = typeof users.users.$inferSelect;

export function toUser(row: UserRow): User {
  return {
    ...row,
    roles: row.roles as Role[],
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export const usersEventTables = { outbox: users.outbox, processedEvents: users.processedEvents };

/** Inserts a user; with `announce`, also its `user.created` event (call it in a transaction). */
export async function insertUser(
  db: UsersDb,
  input: Omit<z.output<typeof createUserInput>, 'password'>,
  announce?: { requestId: string; traceparent?: string },
): Promise<User> {
  const [row] = await db.insert(users.users).values(input).returning();
  const user = toUser(row!);
  if (announce) {
    await writeEvent(db, usersEventTables, {
      type: 'user.created',
      aggregateId: user.id,
      payload: { userId: user.id, email: user.email, name: user.name },
      context: announce,
    });
  }
  return user;
}

/**
 * The by-key read of users (every order asks for its customer), built once at start and prepared:
 * no query building per request (see `preparedRows`).
 */
export function prepareUserQueries(db: UsersDb) {
  return {
    byId: preparedRows(
      db,
      users.users,
      db
        .select()
        .from(users.users)
        .where(eq(users.users.id, sql.placeholder('id')))
        .prepare('users_user_by_id'),
    ),
  };
}

export type UserQueries = ReturnType<typeof prepareUserQueries>;

export async function findUserById(queries: UserQueries, id: string): Promise<User | null> {
  const [row] = await queries.byId({ id });
  return row ? toUser(row) : null;
}

export async function getUser(queries: UserQueries, id: string): Promise<User> {
  const user = await findUserById(queries, id);
  if (!user) throw notFound(`User ${id}`);
  return user;
}

/** Emails match without regard to case, as the unique index on lower(email) does. */
export async function findUserByEmail(db: UsersDb, email: string): Promise<User | null> {
  const [row] = await db.select().from(users.users).where(sql`lower(${users.users.email}) = lower(${email})`);
  return row ? toUser(row) : null;
}

export async function listUsers(db: UsersDb, input: z.output<typeof listUsersInput>) {
  const table = users.users;
  return listNewestFirst(
    db,
    table,
    input,
    [
      input.search
        ? or(
            ilike(table.email, containsPattern(input.search)),
            ilike(table.name, containsPattern(input.search)),
          )
        : undefined,
      input.role ? arrayContains(table.roles, [input.role]) : undefined,
      input.status ? eq(table.status, input.status) : undefined,
    ],
    (rows) => rows.map(toUser),
  );
}

export async function updateUser(
  db: UsersDb,
  input: z.output<typeof updateUserInput> & { status?: 'active' | 'disabled' },
): Promise<User> {
  const { id, ...changes } = input;
  const [row] = await db
    .update(users.users)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(users.users.id, id))
    .returning();
  if (!row) throw notFound(`User ${id}`);
  return toUser(row);
}

export async function countUsers(db: UsersDb): Promise<number> {
  const [row] = await db.select({ count: sql<number>`count(*)::int` }).from(users.users);
  return row?.count ?? 0;
}
