import { useState } from 'react';
import type { CursorPages } from '@/components/ui';

/**
 * A filter of a cursor-paged list. Setting it goes back to the first page: a cursor from the old
 * results means nothing in the new ones.
 */
export function usePageFilter<Value>(initial: Value, pages: CursorPages): [Value, (value: Value) => void] {
  const [value, setValue] = useState(initial);
  return [
    value,
    (next) => {
      setValue(next);
      pages.reset();
    },
  ];
}
