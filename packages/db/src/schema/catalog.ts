import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { eventTables } from './events';

/** Tables owned by the catalog service. */
export const catalogSchema = pgSchema('catalog');

export const books = catalogSchema.table(
  'books',
  {
    id: uuid().primaryKey().defaultRandom(),
    title: text().notNull(),
    author: text().notNull(),
    isbn: text(),
    priceCents: integer().notNull(),
    /** Copies available to sell. */
    stock: integer().notNull().default(0),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('books_isbn_unique').on(table.isbn),
    /**
     * A book without an ISBN is known by its title and author, ignoring case: the key that lets a
     * CSV import run again without creating the same book twice.
     */
    uniqueIndex('books_title_author_unique')
      .on(sql`lower(${table.title})`, sql`lower(${table.author})`)
      .where(sql`${table.isbn} is null`),
    index('books_created_at_id_idx').on(table.createdAt, table.id),
    check('books_price_cents_non_negative', sql`${table.priceCents} >= 0`),
    check('books_stock_non_negative', sql`${table.stock} >= 0`),
  ],
);

export const { outbox, processedEvents } = eventTables(catalogSchema);

export const reservationStatus = catalogSchema.enum('reservation_status', [
  'reserved',
  'rejected',
  'released',
]);

/**
 * Stock held for one order. Its row also serialises the saga's steps for the order: a release that
 * arrives before the reservation leaves a `released` row, so the late reservation reserves nothing.
 */
export const reservations = catalogSchema.table('reservations', {
  orderId: uuid().primaryKey(),
  status: reservationStatus().notNull(),
  items: jsonb().$type<{ bookId: string; quantity: number }[]>().notNull(),
  reason: text(),
  createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
});
