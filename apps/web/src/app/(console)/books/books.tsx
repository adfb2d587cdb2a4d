'use client';

import type { RouterOutputs } from '@bindery/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useCan } from '@/components/providers';
import {
  ConfirmButton,
  Dialog,
  Empty,
  ErrorState,
  Loading,
  PageHeader,
  Pager,
  ScrollRegion,
  TextField,
  useCursorPages,
  useDebounced,
} from '@/components/ui';
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
  const [search, setSearch] = useState('');
  const settledSearch = useDebounced(search.trim());
  const pages = useCursorPages();
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
          onChange={(event) => {
            setSearch(event.target.value);
            pages.reset();
          }}
        />
      </search>

      {list.isPending ? (
        <Loading label="Loading books…" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <Empty>
          {settledSearch ? `No book matches “${settledSearch}”.` : 'The catalog has no books yet.'}
        </Empty>
      ) : (
        <>
          <ScrollRegion label="Books">
            <table>
              <caption className="muted" style={{ textAlign: 'left', padding: '0.5rem 0.7rem' }}>
                Books{settledSearch ? ` matching “${settledSearch}”` : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">Author</th>
                  <th scope="col">ISBN</th>
                  <th scope="col" className="number">
                    Price
                  </th>
                  <th scope="col" className="number">
                    Stock
                  </th>
                  {hasRowActions ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((book) => (
                  <tr key={book.id}>
                    <td>{book.title}</td>
                    <td>{book.author}</td>
                    <td className="code">{book.isbn ?? '—'}</td>
                    <td className="number">{formatCents(book.priceCents)}</td>
                    <td className="number">{book.stock}</td>
                    {hasRowActions ? (
                      <td>
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
                                  “{book.title}” by {book.author} leaves the catalog. Orders already placed
                                  keep their items.
                                </p>
                              }
                              confirmLabel="Delete book"
                              onConfirm={() => remove.mutateAsync({ id: book.id })}
                            />
                          ) : null}
                        </div>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
          <Pager
            page={pages.page}
            hasNext={Boolean(list.data.nextCursor)}
            onPrevious={pages.previous}
            onNext={() => list.data.nextCursor && pages.next(list.data.nextCursor)}
          />
        </>
      )}

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
