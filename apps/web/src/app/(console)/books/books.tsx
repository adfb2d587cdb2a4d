'use client';

import type { RouterOutputs } from '@bindery/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { PagedTable } from '@/components/paged-table';
import { useCan } from '@/components/providers';
import { ConfirmButton, Dialog, PageHeader, TextField, useCursorPages, useDebounced } from '@/components/ui';
import { usePageFilter } from '@/components/use-page-filter';
import { formatCents } from '@/lib/format';
import { useTRPC } from '@/lib/trpc';
import { BookForm } from './book-form';
import { ImportBooks } from './import-books';
import { StockForm } from './stock-form';

type Book = RouterOutputs['catalog']['books']['byId'];
type Editing = { kind: 'create' } | { kind: 'edit'; book: Book } | { kind: 'stock'; book: Book } | null;

const PAGE_SIZE = 20;

export function Books() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const can = useCan();
  const pages = useCursorPages();
  const [search, setSearch] = usePageFilter('', pages);
  const settledSearch = useDebounced(search.trim());
  const [editing, setEditing] = useState<Editing>(null);
  const [importing, setImporting] = useState(false);

  const list = useQuery(
    trpc.catalog.books.list.queryOptions({
      limit: PAGE_SIZE,
      ...(settledSearch ? { search: settledSearch } : {}),
      ...(pages.cursor ? { cursor: pages.cursor } : {}),
    }),
  );
  const refresh = () => queryClient.invalidateQueries(trpc.catalog.books.pathFilter());
  const create = useMutation(trpc.catalog.books.create.mutationOptions({ onSuccess: refresh }));
  const update = useMutation(trpc.catalog.books.update.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.catalog.books.delete.mutationOptions({ onSuccess: refresh }));
  const adjust = useMutation(trpc.catalog.books.adjustStock.mutationOptions({ onSuccess: refresh }));

  const canEdit = can('catalog.books.update');
  const canDelete = can('catalog.books.delete');
  const canAdjust = can('catalog.books.adjustStock');
  const hasRowActions = canEdit || canDelete || canAdjust;

  return (
    <>
      <PageHeader title="Books">
        {can('catalog.books.import') ? (
          <button type="button" className="button" onClick={() => setImporting(true)}>
            Import CSV
          </button>
        ) : null}
        {can('catalog.books.create') ? (
          <button
            type="button"
            className="button button-primary"
            onClick={() => setEditing({ kind: 'create' })}
          >
            New book
          </button>
        ) : null}
      </PageHeader>

      <search className="filters">
        <TextField
          label="Search books"
          type="search"
          value={search}
          placeholder="Title, author or ISBN"
          onChange={(event) => setSearch(event.target.value)}
        />
      </search>

      <PagedTable
        query={list}
        pages={pages}
        label="Books"
        caption={`Books${settledSearch ? ` matching “${settledSearch}”` : ''}`}
        loadingLabel="Loading books…"
        empty={settledSearch ? `No book matches “${settledSearch}”.` : 'The catalog has no books yet.'}
        rowKey={(book) => book.id}
        columns={[
          { header: 'Title', cell: (book) => book.title },
          { header: 'Author', cell: (book) => book.author },
          { header: 'ISBN', className: 'code', cell: (book) => book.isbn ?? '—' },
          { header: 'Price', numeric: true, cell: (book) => formatCents(book.priceCents) },
          { header: 'Stock', numeric: true, cell: (book) => book.stock },
          hasRowActions && {
            header: 'Actions',
            cell: (book) => (
              <div className="row-actions">
                {canEdit ? (
                  <button
                    type="button"
                    className="button button-small"
                    onClick={() => setEditing({ kind: 'edit', book })}
                    aria-label={`Edit ${book.title}`}
                  >
                    Edit
                  </button>
                ) : null}
                {canAdjust ? (
                  <button
                    type="button"
                    className="button button-small"
                    onClick={() => setEditing({ kind: 'stock', book })}
                    aria-label={`Adjust stock of ${book.title}`}
                  >
                    Stock
                  </button>
                ) : null}
                {canDelete ? (
                  <ConfirmButton
                    className="button button-small button-danger"
                    label="Delete"
                    title="Delete this book?"
                    description={
                      <p>
                        “{book.title}” by {book.author} leaves the catalog. Orders already placed keep their
                        items.
                      </p>
                    }
                    confirmLabel="Delete book"
                    onConfirm={() => remove.mutateAsync({ id: book.id })}
                  />
                ) : null}
              </div>
            ),
          },
        ]}
      />

      <Dialog
        title={
          editing?.kind === 'edit' ? 'Edit book' : editing?.kind === 'stock' ? 'Adjust stock' : 'New book'
        }
        open={editing !== null}
        onClose={() => setEditing(null)}
      >
        {editing?.kind === 'create' ? (
          <BookForm
            onSubmit={(input) => create.mutateAsync(input as Parameters<typeof create.mutateAsync>[0])}
            onDone={() => setEditing(null)}
          />
        ) : editing?.kind === 'edit' ? (
          <BookForm
            book={editing.book}
            onSubmit={(input) => update.mutateAsync(input as Parameters<typeof update.mutateAsync>[0])}
            onDone={() => setEditing(null)}
          />
        ) : editing?.kind === 'stock' ? (
          <StockForm
            book={editing.book}
            onSubmit={(input) => adjust.mutateAsync(input)}
            onDone={() => setEditing(null)}
          />
        ) : null}
      </Dialog>

      <Dialog title="Import books from CSV" open={importing} onClose={() => setImporting(false)}>
        <ImportBooks onImported={refresh} onDone={() => setImporting(false)} />
      </Dialog>
    </>
  );
}
