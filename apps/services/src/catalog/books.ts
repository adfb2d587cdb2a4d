import { notFound } from '@bindery/api';
import { catalog, containsPattern, type Database, preparedRows } from '@bindery/db';
import { and, eq, ilike, or, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { listNewestFirst } from '../pagination';
import type { Book, createBookInput, listBooksInput, updateBookInput } from './schemas';

type CatalogDb = Database<typeof catalog>;
type BookRow = typeof catalog.books.$inferSelect;

export function toBook(row: BookRow): Book {
  // Field by field rather than a spread of the row: on every read, and the object is the same shape.
  return {
    id: row.id,
    title: row.title,
    author: row.author,
    isbn: row.isbn,
    priceCents: row.priceCents,
    stock: row.stock,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function createBook(db: CatalogDb, input: z.output<typeof createBookInput>): Promise<Book> {
  const [row] = await db.insert(catalog.books).values(input).returning();
  return toBook(row!);
}

/**
 * The catalog's hot by-key reads, built once at start and prepared: a call runs the SQL text drizzle
 * built then, with no query building per request (and postgres.js keeps the statement prepared
 * on each connection), its rows decoded by decoders looked up then (see `preparedRows`).
 */
export function prepareBookQueries(db: CatalogDb) {
  const { books } = catalog;
  return {
    byId: preparedRows(
      db,
      books,
      db
        .select()
        .from(books)
        .where(eq(books.id, sql.placeholder('id')))
        .prepare('catalog_book_by_id'),
    ),
  };
}

export type BookQueries = ReturnType<typeof prepareBookQueries>;

export async function getBook(queries: BookQueries, id: string): Promise<Book> {
  const [row] = await queries.byId({ id });
  if (!row) throw notFound(`Book ${id}`);
  return toBook(row);
}

export async function listBooks(db: CatalogDb, input: z.output<typeof listBooksInput>) {
  const { books } = catalog;
  return listNewestFirst(
    db,
    books,
    input,
    [
      input.search
        ? or(
            ilike(books.title, containsPattern(input.search)),
            ilike(books.author, containsPattern(input.search)),
          )
        : undefined,
      input.author ? ilike(books.author, containsPattern(input.author)) : undefined,
    ],
    (rows) => rows.map(toBook),
  );
}

export async function updateBook(db: CatalogDb, input: z.output<typeof updateBookInput>): Promise<Book> {
  const { id, ...changes } = input;
  const [row] = await db
    .update(catalog.books)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(catalog.books.id, id))
    .returning();
  if (!row) throw notFound(`Book ${id}`);
  return toBook(row);
}

export async function deleteBook(db: CatalogDb, id: string): Promise<{ id: string }> {
  const [row] = await db
    .delete(catalog.books)
    .where(and(eq(catalog.books.id, id)))
    .returning({ id: catalog.books.id });
  if (!row) throw notFound(`Book ${id}`);
  return row;
}

export async function countBooks(db: CatalogDb): Promise<number> {
  const [row] = await db.select({ count: sql<number>`count(*)::int` }).from(catalog.books);
  return row?.count ?? 0;
}

export async function adjustStock(db: CatalogDb, id: string, delta: number): Promise<Book> {
  const [row] = await db
    .update(catalog.books)
    .set({ stock: sql`${catalog.books.stock} + ${delta}`, updatedAt: sql`now()` })
    .where(eq(catalog.books.id, id))
    .returning();
  if (!row) throw notFound(`Book ${id}`);
  return toBook(row);
}
