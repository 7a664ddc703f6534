// A neutral Message for the terminal: title, summary, fields as "name: value" lines, the table as
// aligned columns (renderTable) and the footer. Colour is applied after the layout, so escape codes
// never upset the column widths: the title may be painted, and one column's cells row by row.
import type { Message } from '../../model/message.js';
import { paint, type Colour } from './colour.js';
import { renderTable } from './table.js';

export interface TerminalRenderOptions {
  colour: boolean;
  titleColour?: Colour | null;
  /** Paint the cells of `column`, row i with colours[i]. */
  columnColours?: { column: string; colours: (Colour | null)[] };
  /** Cells are cut to this many characters (default 60). */
  maxCellChars?: number;
}

export function renderMessageForTerminal(m: Message, opts: TerminalRenderOptions): string {
  const on = opts.colour;
  const blocks: string[] = [];
  const head = [paint(m.title, opts.titleColour ?? 'bold', on)];
  if (m.summary) head.push(m.summary);
  blocks.push(head.join('\n'));
  if (m.fields?.length) {
    blocks.push(m.fields.map((f) => `${paint(f.name + ':', 'bold', on)} ${f.value.replace(/\n/g, '\n  ')}`).join('\n'));
  }
  if (m.table && m.table.columns.length) {
    const max = opts.maxCellChars ?? 60;
    const lines = renderTable(m.table.columns, m.table.rows, { maxCellChars: max }).split('\n');
    const cc = opts.columnColours;
    const col = cc ? m.table.columns.indexOf(cc.column) : -1;
    if (on && cc && col >= 0) {
      // Where the column starts: the widths of the cells before it (as renderTable lays them out).
      const cut = (c: unknown) => Math.min([...String(c ?? '')].length, max);
      let start = 0;
      for (let c = 0; c < col; c++) start += Math.max(cut(m.table.columns[c]), ...m.table.rows.map((r) => cut(r[c]))) + 2;
      for (let i = 1; i < lines.length; i++) {
        const colour = cc.colours[i - 1];
        const cell = String(m.table.rows[i - 1]?.[col] ?? '');
        const len = cut(cell);
        if (!colour || len === 0) continue;
        const chars = [...lines[i]!];
        lines[i] = chars.slice(0, start).join('') + paint(chars.slice(start, start + len).join(''), colour, on) + chars.slice(start + len).join('');
      }
    }
    blocks.push(lines.join('\n'));
  }
  if (m.footer) blocks.push(paint(m.footer, 'dim', on));
  return blocks.join('\n\n') + '\n';
}
