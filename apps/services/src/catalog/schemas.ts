import { z } from 'zod';

/** Inputs and outputs of the catalog service; the console validates its forms with the same ones. */

const title = z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters');
const author = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const isbn = z
  .string()
  .trim()
  .regex(/^(?:\d{9}[\dX]|97[89]\d{10})$/, 'must be an ISBN-10 or ISBN-13 without dashes');
const priceCents = z.int('must be a whole number of cents').min(0, 'must not be negative').max(100_000_000);
const stock = z.int('must be a whole number').min(0, 'must not be negative').max(1_000_000);

export const bookIdInput = z.strictObject({ id: z.uuid('must be a book id') });

export const bookIdsInput = z.strictObject({ ids: z.array(z.uuid('must be a book id')).max(100) });

export const adjustStockInput = z.strictObject({
  id: z.uuid('must be a book id'),
  delta: z
    .int('must be a whole number')
    .min(-1_000_000)
    .max(1_000_000)
    .refine((value) => value !== 0, 'must not be zero'),
});

export const createBookInput = z.strictObject({
  title,
  author,
  isbn: isbn.nullish(),
  priceCents,
  stock: stock.default(0),
});

export const updateBookInput = z.strictObject({
  id: z.uuid('must be a book id'),
  title: title.optional(),
  author: author.optional(),
  isbn: isbn.nullish(),
  priceCents: priceCents.optional(),
  stock: stock.optional(),
});

export const listBooksInput = z
  .strictObject({
    search: z.string().trim().max(200).optional(),
    author: z.string().trim().max(200).optional(),
    cursor: z.string().max(500).optional(),
    limit: z.int().min(1).max(100).default(20),
  })
  .default({ limit: 20 });

/** A CSV of books to import; its header and rows are checked by `readBookCsv` (see import.ts). */
export const importBooksInput = z.strictObject({ csv: z.string().min(1, 'must not be empty') });

export const importStatusInput = z.strictObject({ jobId: z.uuid('must be an import job id') });

export const bookOutput = z.object({
  id: z.uuid(),
  title: z.string(),
  author: z.string(),
  isbn: z.string().nullable(),
  priceCents: z.int(),
  stock: z.int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Book = z.infer<typeof bookOutput>;
