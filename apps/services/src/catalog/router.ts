import { roleProcedure, router, STAFF_ROLES, serviceProcedure } from '@bindery/api';
import type { catalog, Database } from '@bindery/db';
import type { Queue } from 'bullmq';
import {
  adjustStock,
  type BookQueries,
  createBook,
  deleteBook,
  getBook,
  listBooks,
  prepareBookQueries,
  updateBook,
} from './books';
import { type BookImportJobData, bookImportStatus, enqueueBookImport, IMPORT_MAX_BODY_BYTES } from './import';
import {
  adjustStockInput,
  bookIdInput,
  bookIdsInput,
  createBookInput,
  importBooksInput,
  importStatusInput,
  listBooksInput,
  updateBookInput,
} from './schemas';
import { booksForPricing } from './stock';

const reader = roleProcedure(...STAFF_ROLES, 'customer');
const writer = roleProcedure('admin', 'operator');

export function createCatalogRouter(deps: {
  db: Database<typeof catalog>;
  /** Where `books.import` queues CSV imports for the catalog worker. */
  imports: Queue<BookImportJobData>;
}) {
  const { db, imports } = deps;
  // Prepared on first use: a router built only to read its procedures (tests, the client's types)
  // has no database.
  let queries: BookQueries | undefined;
  const prepared = () => (queries ??= prepareBookQueries(db));
  return router({
    catalog: router({
      books: router({
        create: writer.input(createBookInput).mutation(({ input }) => createBook(db, input)),
        byId: reader.input(bookIdInput).query(({ input }) => getBook(prepared(), input.id)),
        list: reader.input(listBooksInput).query(({ input }) => listBooks(db, input)),
        update: writer.input(updateBookInput).mutation(({ input }) => updateBook(db, input)),
        delete: writer.input(bookIdInput).mutation(({ input }) => deleteBook(db, input.id)),
        /** Adds (or, with a negative delta, removes) copies; stock never goes below zero. */
        adjustStock: writer
          .input(adjustStockInput)
          .mutation(({ input }) => adjustStock(db, input.id, input.delta)),
        /**
         * Queues an import of up to 100,000 rows (`title,author,isbn,priceCents,stock`); a file that
         * cannot be imported as a whole is refused with nothing queued. Rows are matched by ISBN,
         * else by title and author, so importing a file again creates no book twice.
         */
        import: writer
          .meta({ maxBodyBytes: IMPORT_MAX_BODY_BYTES })
          .input(importBooksInput)
          .mutation(({ input }) => enqueueBookImport(imports, input.csv)),
        /** Progress of an import, then its counts and rejected rows: for an hour after it completes, a week after it fails. */
        importStatus: writer
          .input(importStatusInput)
          .query(({ input }) => bookImportStatus(imports, input.jobId)),
      }),
      internal: router({
        /** For the orders service: title, current price and stock of the books in an order. */
        books: serviceProcedure('orders')
          .input(bookIdsInput)
          .query(({ input }) => booksForPricing(db, input.ids)),
      }),
    }),
  });
}

export type CatalogRouter = ReturnType<typeof createCatalogRouter>;
