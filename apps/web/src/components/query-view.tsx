import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Empty, ErrorState, Loading } from '@/components/ui';

/**
 * A query's loading, error (with "Try again") and empty states, the same on every page, so a page
 * writes only the view of its data.
 */
export function QueryView<Data>({
  query,
  loadingLabel,
  ready = true,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<Data, unknown>;
  loadingLabel: string;
  /**
   * False while the query's input is not known yet, so it cannot run: shows the loading state.
   * @defaultValue true
   */
  ready?: boolean | undefined;
  isEmpty?: (data: Data) => boolean;
  /** What to say when `isEmpty` holds. */
  empty?: ReactNode;
  children: (data: Data) => ReactNode;
}) {
  if (!ready || query.isPending) return <Loading label={loadingLabel} />;
  if (query.isError) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  if (isEmpty?.(query.data)) return <Empty>{empty}</Empty>;
  return children(query.data);
}
