import { randomUUID } from 'node:crypto';
import { describeIssues, notFound, zodIssues } from '@bindery/api';
import { catalog, type Database, rowsOf } from '@bindery/db';
import { TRPCError } from '@trpc/server';
import { type Job, type Queue, UnrecoverableError } from 'bullmq';
import { CsvError, parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { createBookInput } from './schemas';

type CatalogDb = Database<typeof catalog>;

/** The BullMQ queue the catalog worker runs imports on. */
export const BOOK_IMPORT_QUEUE = 'catalog-imports';

/** The most data rows one import may hold. */
const MAX_IMPORT_ROWS = 100_000;

/** The largest import request: 100,000 rows of a usual catalog, JSON-encoded. */
export const IMPORT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Rows written per transaction: a retried job redoes at most this many. */
const CHUNK_ROWS = 500;

/** Rejected rows a status lists; later ones are only counted, so a status stays small. */
const MAX_LISTED_REJECTIONS = 1_000;

type Column = 'title' | 'author' | 'isbn' | 'priceCents' | 'stock';
/** Header names (compared without case) and the `createBookInput` field each one fills. */
const COLUMNS = new Map<string, Column>([
  ['title', 'title'],
  ['author', 'author'],
  ['isbn', 'isbn'],
  ['pricecents', 'priceCents'],
  ['stock', 'stock'],
]);
const REQUIRED_COLUMNS: readonly Column[] = ['title', 'author', 'priceCents'];

export interface BookImportJobData {
  csv: string;
  /** Data rows of the CSV, counted when it was accepted. */
  total: number;
}

export interface RejectedRow {
  /** The line of the CSV the row starts on; the header is line 1. */
  line: number;
  /** Each failed rule with its field, e.g. `priceCents: must not be negative`. */
  reason: string;
}

/** Where an import stands; its progress while it runs and its result when done. */
export interface ImportCounts {
  /** Rows handled so far, rejected ones included. */
  done: number;
  total: number;
  created: number;
  /** Rows whose book existed with another price or stock. */
  updated: number;
  /** Rows whose book existed with the same price and stock. */
  skipped: number;
  rejectedCount: number;
  /** The first `MAX_LISTED_REJECTIONS` rejected rows. */
  rejected: RejectedRow[];
}

export interface ImportStatus extends ImportCounts {
  jobId: string;
  state: 'waiting' | 'active' | 'completed' | 'failed';
  /** Why the import stopped, when it failed its last attempt. */
  error?: string;
}

/** A CSV the import cannot read at all; the message names the rule it breaks. */
class BookCsvError extends Error {}

interface CsvRow {
  line: number;
  fields: string[];
}

interface BookCsv {
  columns: Column[];
  rows: CsvRow[];
}

/** A valid row. `stock` is null when the row leaves it out, so an existing book keeps its own. */
interface ImportedBook {
  title: string;
  author: string;
  isbn: string | null;
  priceCents: number;
  stock: number | null;
}

type CheckedRow = { line: number; book: ImportedBook } | { line: number; reason: string };

/** Reads the header and rows of an import's CSV; throws `BookCsvError` when the file as a whole is unusable. */
function readBookCsv(csv: string): BookCsv {
  const startLines: number[] = [];
  let lastLine = 0;
  let records: string[][];
  try {
    records = parse(csv, {
      bom: true,
      // Rows with too few or too many fields are rejected one by one later, not the whole file.
      relax_column_count: true,
      skip_empty_lines: true,
      // Spreadsheets export rows they merely formatted as `,,,,`: no book, so no row.
      skip_records_with_empty_values: true,
      on_record: (fields, { lines }) => {
        lastLine = lines;
        startLines.push(firstLineOf(fields, lines));
        return fields;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    // csv-parse notices an unclosed quote at the end of the file; it opened where the record after
    // the last one read begins.
    throw new BookCsvError(
      error.code === 'CSV_QUOTE_NOT_CLOSED'
        ? `has a quote opened on line ${firstLineAfter(csv, lastLine)} that is never closed`
        : `is not valid CSV: ${error.message}`,
    );
  }
  const [header, ...rows] = records;
  if (!header) throw new BookCsvError('must start with a header row');
  const columns = readHeader(header);
  if (rows.length === 0) throw new BookCsvError('has no rows below the header');
  if (rows.length > MAX_IMPORT_ROWS) throw new BookCsvError(`at most ${MAX_IMPORT_ROWS} rows`);
  return { columns, rows: rows.map((fields, index) => ({ line: startLines[index + 1]!, fields })) };
}

function readHeader(names: string[]): Column[] {
  const columns = names.map((name) => {
    const column = COLUMNS.get(name.trim().toLowerCase());
    if (!column) {
      const known = [...COLUMNS.values()].join(', ');
      throw new BookCsvError(`has an unknown column "${name.trim().slice(0, 50)}"; the columns are ${known}`);
    }
    return column;
  });
  const repeated = columns.find((column, index) => columns.indexOf(column) !== index);
  if (repeated) throw new BookCsvError(`names the column "${repeated}" twice`);
  const missing = REQUIRED_COLUMNS.filter((column) => !columns.includes(column));
  if (missing.length > 0) throw new BookCsvError(`is missing the column ${missing.join(', ')}`);
  return columns;
}

/** The first non-empty line after `line` (1-based): where a record begins. */
function firstLineAfter(csv: string, line: number): number {
  const lines = csv.split(/\r\n|\r|\n/);
  let index = line;
  while (index < lines.length - 1 && lines[index] === '') index += 1;
  return index + 1;
}

/** csv-parse counts lines up to a record's end; a quoted field may span several. */
function firstLineOf(fields: string[], lastLine: number): number {
  return lastLine - fields.reduce((breaks, field) => breaks + (field.match(/\n/g)?.length ?? 0), 0);
}

/**
 * Checks every row with the rules of `catalog.books.create`. A row naming the same book as an
 * earlier one (its ISBN, else its title and author ignoring case) is rejected: which of the two was
 * meant is the operator's call, not ours.
 */
function checkRows(csv: BookCsv): CheckedRow[] {
  const firstLineOfBook = new Map<string, number>();
  return csv.rows.map(({ line, fields }) => {
    const book = bookOfRow(csv.columns, fields);
    if (typeof book === 'string') return { line, reason: book };
    const key = book.isbn ?? `${book.title.toLowerCase()}\u0000${book.author.toLowerCase()}`;
    const earlier = firstLineOfBook.get(key);
    if (earlier !== undefined) {
      return { line, reason: `${book.isbn ? 'isbn' : 'title, author'}: the same book as line ${earlier}` };
    }
    firstLineOfBook.set(key, line);
    return { line, book };
  });
}

/** The book a row describes, or why it is rejected. */
function bookOfRow(columns: Column[], fields: string[]): ImportedBook | string {
  if (fields.length !== columns.length) {
    return `has ${fields.length} fields; the header names ${columns.length}`;
  }
  const values = Object.fromEntries(
    columns.map((column, index) => [column, cellValue(column, fields[index]!)]),
  );
  const result = createBookInput.safeParse(values);
  if (!result.success) return describeIssues(zodIssues(result.error));
  const { title, author, isbn, priceCents, stock } = result.data;
  return { title, author, isbn: isbn ?? null, priceCents, stock: values.stock === undefined ? null : stock };
}

/** A cell as `createBookInput` expects it: numbers as numbers, an empty optional value left out. */
function cellValue(column: Column, text: string): string | number | undefined {
  const value = text.trim();
  switch (column) {
    case 'title':
    case 'author':
      return text;
    case 'isbn':
      return value === '' ? undefined : value;
    case 'priceCents':
    case 'stock':
      if (value === '') return undefined;
      // Anything else (`12,50`, `abc`) stays text, which the schema names as not a whole number.
      return /^[+-]?\d+(?:\.\d+)?$/.test(value) ? Number(value) : value;
  }
}

/** Checks a CSV and queues its import; a file that cannot be imported is refused here, with nothing queued. */
export async function enqueueBookImport(
  queue: Queue<BookImportJobData>,
  csv: string,
): Promise<{ jobId: string; total: number }> {
  let total: number;
  try {
    total = readBookCsv(csv).rows.length;
  } catch (error) {
    if (!(error instanceof BookCsvError)) throw error;
    throw new TRPCError({ code: 'BAD_REQUEST', message: `csv: ${error.message}` });
  }
  const jobId = randomUUID();
  // An import's job holds its whole CSV: keep only the last few once done.
  await queue.add(
    'books',
    { csv, total },
    { jobId, removeOnComplete: { count: 20 }, removeOnFail: { count: 50 } },
  );
  return { jobId, total };
}

const STATES: Record<string, ImportStatus['state']> = {
  waiting: 'waiting',
  prioritized: 'waiting',
  'waiting-children': 'waiting',
  // Between two attempts, after a failed one.
  delayed: 'waiting',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

export async function bookImportStatus(
  queue: Queue<BookImportJobData>,
  jobId: string,
): Promise<ImportStatus> {
  // The state first: a job read once it has completed holds its result, one read before may not.
  const state = STATES[await queue.getJobState(jobId)];
  const job = state ? await queue.getJob(jobId) : undefined;
  if (!state || !job) throw notFound(`Import ${jobId}`);
  const counts: ImportCounts =
    state === 'completed' ? job.returnvalue : progressOf(job.progress, job.data.total);
  return {
    jobId,
    state,
    ...counts,
    ...(state === 'failed' ? { error: job.failedReason } : {}),
  };
}

/** The counts a job last reported; a retried attempt goes on from them. */
function progressOf(progress: unknown, total: number): ImportCounts {
  if (typeof progress === 'object' && progress !== null && 'done' in progress) {
    const counts = progress as ImportCounts;
    return { ...counts, rejected: [...counts.rejected] };
  }
  return { done: 0, total, created: 0, updated: 0, skipped: 0, rejectedCount: 0, rejected: [] };
}

/**
 * Runs an import in chunks, one transaction each, reporting progress after each. A chunk written
 * whose progress was not reported yet is written again by the next attempt: the writes are upserts,
 * so its rows then count as skipped rather than created twice.
 */
export async function runBookImport(db: CatalogDb, job: Job<BookImportJobData>): Promise<ImportCounts> {
  let rows: CheckedRow[];
  try {
    rows = checkRows(readBookCsv(job.data.csv));
  } catch (error) {
    // The service checked the file before queueing it; another attempt would read it no better.
    if (error instanceof BookCsvError) throw new UnrecoverableError(`csv: ${error.message}`);
    throw error;
  }
  const counts = progressOf(job.progress, rows.length);
  for (let start = counts.done; start < rows.length; start += CHUNK_ROWS) {
    const chunk = rows.slice(start, start + CHUNK_ROWS);
    const written = await writeBooks(
      db,
      chunk.flatMap((row) => ('book' in row ? [row.book] : [])),
    );
    counts.created += written.created;
    counts.updated += written.updated;
    counts.skipped += written.skipped;
    const rejected = chunk.flatMap((row) =>
      'reason' in row ? [{ line: row.line, reason: row.reason }] : [],
    );
    counts.rejectedCount += rejected.length;
    counts.rejected.push(...rejected.slice(0, MAX_LISTED_REJECTIONS - counts.rejected.length));
    counts.done = start + chunk.length;
    await job.updateProgress(counts);
  }
  return counts;
}

type WriteCounts = Pick<ImportCounts, 'created' | 'updated' | 'skipped'>;

/**
 * Writes a chunk in one transaction. PostgreSQL's `lower()` folds a few letters that JavaScript's
 * `toLowerCase()` keeps apart (`ΣΑΣ` and `σασ`), so two rows of a chunk can still be one book to
 * the database, which refuses to upsert a row twice in one statement: that chunk is then written
 * row by row, the later row updating the earlier.
 */
async function writeBooks(db: CatalogDb, books: ImportedBook[]): Promise<WriteCounts> {
  if (books.length === 0) return { created: 0, updated: 0, skipped: 0 };
  try {
    return await db.transaction((tx) => upsertGroups(tx, books, { rowByRow: false }));
  } catch (error) {
    if (sqlStateOf(error) !== '21000') throw error;
    return db.transaction((tx) => upsertGroups(tx, books, { rowByRow: true }));
  }
}

/** Upserts books grouped by how they are matched (ISBN, or title and author) and whether they set stock. */
async function upsertGroups(
  db: CatalogDb,
  books: ImportedBook[],
  options: { rowByRow: boolean },
): Promise<WriteCounts> {
  const total: WriteCounts = { created: 0, updated: 0, skipped: 0 };
  for (const byIsbn of [true, false]) {
    for (const setsStock of [true, false]) {
      const group = books.filter(
        (book) => (book.isbn !== null) === byIsbn && (book.stock !== null) === setsStock,
      );
      const statements = options.rowByRow ? group.map((book) => [book]) : group.length > 0 ? [group] : [];
      for (const statement of statements) {
        const written = await upsertBooks(db, statement, { byIsbn, setsStock });
        total.created += written.created;
        total.updated += written.updated;
        total.skipped += written.skipped;
      }
    }
  }
  return total;
}

/**
 * One `insert … on conflict do update` for books matched the same way. The update applies only
 * when price or stock differ, so an unchanged book returns no row (skipped); `xmax = 0` marks the
 * rows this statement inserted rather than updated.
 */
async function upsertBooks(
  db: CatalogDb,
  books: ImportedBook[],
  how: { byIsbn: boolean; setsStock: boolean },
): Promise<WriteCounts> {
  const values = sql.join(
    books.map(
      (book) => sql`(${book.title}, ${book.author}, ${book.isbn}, ${book.priceCents}, ${book.stock ?? 0})`,
    ),
    sql`, `,
  );
  // The conflict targets name the unique indexes books_isbn_unique and books_title_author_unique.
  const target = how.byIsbn ? sql`(isbn)` : sql`(lower(title), lower(author)) where isbn is null`;
  const update = how.setsStock
    ? {
        set: sql`price_cents = excluded.price_cents, stock = excluded.stock`,
        when: sql`(books.price_cents, books.stock) is distinct from (excluded.price_cents, excluded.stock)`,
      }
    : {
        set: sql`price_cents = excluded.price_cents`,
        when: sql`books.price_cents is distinct from excluded.price_cents`,
      };
  const rows = rowsOf(
    await db.execute(sql`
      insert into ${catalog.books} as books (title, author, isbn, price_cents, stock)
      values ${values}
      on conflict ${target} do update set ${update.set}, updated_at = now()
      where ${update.when}
      returning (xmax = 0) as created`),
  );
  const created = rows.filter((row) => row.created === true).length;
  return { created, updated: rows.length - created, skipped: books.length - rows.length };
}

/** The SQLSTATE of a PostgreSQL error, which drizzle wraps as the `cause` of its own. */
function sqlStateOf(error: unknown): string | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
