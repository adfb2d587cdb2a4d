import { index, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Tables owned by the auth service. User ids refer to the users service by value, not by foreign key. */
export const authSchema = pgSchema('auth');

export const credentials = authSchema.table('credentials', {
  userId: uuid().primaryKey(),
  /** argon2id hash in PHC string format. */
  passwordHash: text().notNull(),
  updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

export const apiTokens = authSchema.table(
  'api_tokens',
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: uuid().notNull(),
    name: text().notNull(),
    /** SHA-256 of the secret, hex; the secret itself is shown once and never stored. */
    secretHash: text().notNull(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true, precision: 3 }),
    lastUsedAt: timestamp({ withTimezone: true, precision: 3 }),
    revokedAt: timestamp({ withTimezone: true, precision: 3 }),
  },
  (table) => [index('api_tokens_user_id_idx').on(table.userId)],
);
