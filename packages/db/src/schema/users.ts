import { sql } from 'drizzle-orm';
import { index, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { eventTables } from './events';

/** Tables owned by the users service. */
export const usersSchema = pgSchema('users');

export const userStatus = usersSchema.enum('user_status', ['active', 'disabled']);

export const users = usersSchema.table(
  'users',
  {
    id: uuid().primaryKey().defaultRandom(),
    email: text().notNull(),
    name: text().notNull(),
    roles: text().array().notNull().default(sql`'{customer}'::text[]`),
    status: userStatus().notNull().default('active'),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('users_email_unique').on(sql`lower(${table.email})`),
    index('users_created_at_id_idx').on(table.createdAt, table.id),
  ],
);

export const { outbox, processedEvents } = eventTables(usersSchema);
