import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { type Column, DataTable } from '@/components/data-table';
import { QueryView } from '@/components/query-view';
import { type CursorPages, Pager } from '@/components/ui';

/**
 * One page of a cursor-paged list (`{ items, nextCursor }`, as every `list` procedure answers) as a
 * table with Previous / Next below it, or the list's loading, error or empty state.
 */
export function PagedTable<Row>({
  query,
  pages,
  label,
  caption,
  loadingLabel,
  empty,
  ready,
  columns,
  rowKey,
}: {
  query: UseQueryResult<{ items: Row[]; nextCursor: string | null }, unknown>;
  pages: CursorPages;
  /** Names the scrolling region. */
  label: string;
  caption: ReactNode;
  loadingLabel: string;
  /** What to say when the page has no rows. */
  empty: ReactNode;
  /** False while the list's filters are not known yet. @defaultValue true */
  ready?: boolean;
  columns: readonly (Column<Row> | false)[];
  rowKey: (row: Row) => string;
}) {
  return (
    <QueryView
      query={query}
      loadingLabel={loadingLabel}
      ready={ready}
      isEmpty={(page) => page.items.length === 0}
      empty={empty}
    >
      {(page) => (
        <>
          <DataTable label={label} caption={caption} columns={columns} rows={page.items} rowKey={rowKey} />
          <Pager
            page={pages.page}
            hasNext={Boolean(page.nextCursor)}
            onPrevious={pages.previous}
            onNext={() => page.nextCursor && pages.next(page.nextCursor)}
          />
        </>
      )}
    </QueryView>
  );
}
