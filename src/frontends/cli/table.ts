// Plain-text table for the terminal: columns padded to the widest cell (by code points), long
// cells cut with an ellipsis so a row stays on one line.
export function renderTable(columns: string[], rows: string[][], opts: { maxCellChars?: number } = {}): string {
  const max = opts.maxCellChars ?? 60;
  const cut = (s: string) => (s.length > max ? s.slice(0, max - 1) + '…' : s);
  const cells = [columns, ...rows].map((r) => r.map((c) => cut(String(c ?? ''))));
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? '')].length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('  ').trimEnd())
    .join('\n');
}
