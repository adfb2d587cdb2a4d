import { roleProcedure, router, STAFF_ROLES, serviceProcedure } from '@bindery/api';
import type { catalog, Database } from '@bindery/db';
import { adjustStock, createBook, deleteBook, getBook, listBooks, updateBook } from './books';
import {
  adjustStockInput,
  bookIdInput,
  bookIdsInput,
  createBookInput,
  listBooksInput,
  updateBookInput,
} from './schemas';
import { booksForPricing } from './stock';

const reader = roleProcedure(...STAFF_ROLES, 'customer');
const writer = roleProcedure('admin', 'operator');

export function createCatalogRouter(deps: { db: Database<typeof catalog> }) {
  const { db } = deps;
  return router({
    catalog: router({
      books: router({
        create: writer.input(createBookInput).mutation(({ input }) => createBook(db, input)),
        byId: reader.input(bookIdInput).query(({ input }) => getBook(db, input.id)),
        list: reader.input(listBooksInput).query(({ input }) => listBooks(db, input)),
        update: writer.input(updateBookInput).mutation(({ input }) => updateBook(db, input)),
        delete: writer.input(bookIdInput).mutation(({ input }) => deleteBook(db, input.id)),
        /** Adds (or, with a negative delta, removes) copies; stock never goes below zero. */
        adjustStock: writer
          .input(adjustStockInput)
          .mutation(({ input }) => adjustStock(db, input.id, input.delta)),
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
