// Plain-text table for the terminal: columns padded to the widest cell (by code points), long
// cells cut with an ellipsis so a row stays on one line. `paint` may wrap a body cell's text in
// colour codes after the layout is computed, so escape codes never upset the widths.
export interface TableOptions {
  maxCellChars?: number;
  /** Wrap body cell (row, col)'s text, already cut, e.g. in ANSI colour; padding stays outside. */
  paint?: (row: number, col: number, text: string) => string;
}

export function renderTable(columns: string[], rows: string[][], opts: TableOptions = {}): string {
  const max = opts.maxCellChars ?? 60;
  const cut = (s: string) => ([...s].length > max ? [...s].slice(0, max - 1).join('') + '…' : s);
  const cells = [columns, ...rows].map((r) => r.map((c) => cut(String(c ?? ''))));
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? '')].length)));
  return cells
    .map((r, ri) =>
      r
        .map((c, i) => {
          const shown = ri > 0 && opts.paint && c !== '' ? opts.paint(ri - 1, i, c) : c;
          return i === r.length - 1 ? shown : shown + ' '.repeat(widths[i]! - [...c].length);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
