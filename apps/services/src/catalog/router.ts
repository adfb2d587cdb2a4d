import { roleProcedure, router, STAFF_ROLES } from '@bindery/api';
import type { catalog, Database } from '@bindery/db';
import { createBook, deleteBook, getBook, listBooks, updateBook } from './books';
import { bookIdInput, createBookInput, listBooksInput, updateBookInput } from './schemas';

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
      }),
    }),
  });
}

export type CatalogRouter = ReturnType<typeof createCatalogRouter>;
