import type { CSSProperties, ReactNode } from 'react';
import { ScrollRegion } from '@/components/ui';

export interface Column<Row> {
  header: string;
  /** A figure: right-aligned (the `number` class) in the header and the cells. */
  numeric?: boolean;
  /** The cell names its row (`<th scope="row">`), so a screen reader announces it with each cell. */
  rowHeader?: boolean;
  /** A class for the cells, such as `code`. */
  className?: string;
  cell: (row: Row) => ReactNode;
}

const CAPTION_STYLE: CSSProperties = { textAlign: 'left', padding: '0.5rem 0.7rem' };

/**
 * A table of rows in a region that scrolls sideways on a narrow screen, with the header cells
 * scoped for screen readers. A column given as `false` is left out (one the user may not act on).
 */
export function DataTable<Row>({
  label,
  caption,
  columns,
  rows,
  rowKey,
  footer,
  style,
}: {
  /** Names the scrolling region. */
  label: string;
  caption?: ReactNode;
  columns: readonly (Column<Row> | false)[];
  rows: readonly Row[];
  rowKey: (row: Row) => string | number;
  /** The rows of a `<tfoot>`, such as a total. */
  footer?: ReactNode;
  style?: CSSProperties;
}) {
  const shown = columns.filter((column) => column !== false);
  return (
    <ScrollRegion label={label} style={style}>
      <table>
        {caption ? (
          <caption className="muted" style={CAPTION_STYLE}>
            {caption}
          </caption>
        ) : null}
        <thead>
          <tr>
            {shown.map((column) => (
              <th key={column.header} scope="col" className={column.numeric ? 'number' : undefined}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {shown.map((column) => {
                const className = column.numeric ? 'number' : column.className;
                return column.rowHeader ? (
                  <th key={column.header} scope="row" className={className}>
                    {column.cell(row)}
                  </th>
                ) : (
                  <td key={column.header} className={className}>
                    {column.cell(row)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
        {footer ? <tfoot>{footer}</tfoot> : null}
      </table>
    </ScrollRegion>
  );
}
