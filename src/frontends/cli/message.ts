// A neutral Message for the terminal: title, summary, fields as "name: value" lines, the table as
// aligned columns (renderTable), the footer and the hints. Colour comes from the message's neutral
// states (title, table cells: ok green, warn yellow, bad red, muted dim) and is applied after the
// layout, so escape codes never move a column. Hints name another command in no syntax; the
// caller says how to write one (`flurm best --slurm`).
import { hintText, type CellState, type Message, type MessageHint } from '../../model/message.js';
import { paint, type Colour } from './colour.js';
import { renderTable } from './table.js';
import { renderChartText } from '../text/chart.js';

export interface TerminalRenderOptions {
  colour: boolean;
  /** Cells are cut to this many characters (default 60). */
  maxCellChars?: number;
  /** How a hint's command is written here; without it the hint's text shows the command's name. */
  renderHint?: (h: MessageHint) => string;
  /** Terminal columns, for a chart (default 80). */
  width?: number;
}

export function stateColourOf(state: CellState | null | undefined): Colour | null {
  return state === 'ok' ? 'green' : state === 'warn' ? 'yellow' : state === 'bad' ? 'red' : state === 'muted' ? 'dim' : null;
}

export function renderMessageForTerminal(m: Message, opts: TerminalRenderOptions): string {
  const on = opts.colour;
  const blocks: string[] = [];
  const head = m.title ? [paint(m.title, stateColourOf(m.titleState) ?? 'bold', on)] : [];
  if (m.summary) head.push(m.summary);
  if (head.length) blocks.push(head.join('\n'));
  // The title and summary above already say what the chart's own heading would.
  if (m.chart) blocks.push(renderChartText(m.chart, { width: opts.width ?? 80, colour: on, heading: false }).replace(/\n$/, ''));
  if (m.fields?.length) {
    blocks.push(m.fields.map((f) => `${paint(f.name + ':', 'bold', on)} ${f.value.replace(/\n/g, '\n  ')}`).join('\n'));
  }
  if (m.table && m.table.columns.length) {
    const states = m.table.states;
    blocks.push(
      renderTable(m.table.columns, m.table.rows, {
        maxCellChars: opts.maxCellChars ?? 60,
        ...(on && states ? { paint: (r: number, c: number, text: string) => paint(text, stateColourOf(states[r]?.[c]), on) } : {}),
      }),
    );
  }
  const hint = (h: MessageHint) => hintText(h, `\`${opts.renderHint ? opts.renderHint(h) : h.command}\``);
  const foot = [m.footer, ...(m.hints ?? []).map(hint)].filter((x): x is string => !!x);
  if (foot.length) blocks.push(paint(foot.join(' · '), 'dim', on));
  return blocks.join('\n\n') + '\n';
}
