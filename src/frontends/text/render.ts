// Message → plain text: the console, the e-mail text part, the ntfy body and desktop notifications.
// With a size limit, the log tail is cut from the top first (its last lines matter most), then
// the rest is cut at the end. The message's time is shown in the hub's zone, named (lib/time.ts:
// the reader's zone is not known here). Also exports the table layout and fence neutraliser that
// the chat renderers reuse, and the footer line e-mail uses.
import type { CellState, Message, MessageTable } from '../../model/message.js';
import { cutEndToFit, keepLastLines, truncate, utf8Bytes } from '../../lib/format.js';
import { formatLocalTime } from '../../lib/time.js';

export interface TextRenderOptions {
  /** Start with the title line (default true; e-mail and ntfy carry the title separately). */
  title?: boolean;
  /** At most this many UTF-16 units (JavaScript length). */
  maxChars?: number;
  /** At most this many bytes of UTF-8 (ntfy counts bytes). */
  maxBytes?: number;
  /** The zone the message's time is shown in (default TZ, else the system's: the hub's). */
  timeZone?: string;
}

/** A table as aligned monospace columns; cells are cut to `maxCellChars`. */
export function formatTable(table: MessageTable, opts: { maxCellChars?: number } = {}): string {
  const maxCell = opts.maxCellChars ?? 40;
  const clean = (s: string) => truncate(String(s ?? '').replace(/\s+/g, ' ').trim(), maxCell);
  const header = table.columns.map(clean);
  const rows = table.rows.map((r) => header.map((_, i) => clean(r[i] ?? '')));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Break every run of backticks with zero-width spaces, so text placed inside a ``` code block
 * (Discord, Slack) can never close it early or open a new one.
 */
export function neutralizeBackticks(s: string): string {
  return s.replace(/`(?=`)/g, '`\u200b');
}

/** One line per field: "name: value", continuation lines indented. */
function fieldLines(m: Message): string[] {
  return (m.fields ?? []).map((f) => {
    const value = f.value.replace(/\n/g, '\n  ');
    return `${f.name}: ${value}`;
  });
}

function headText(m: Message, withTitle: boolean): string {
  const parts: string[] = [];
  const top: string[] = [];
  if (withTitle && m.title) top.push(m.title);
  if (m.summary) top.push(m.summary);
  if (top.length) parts.push(top.join('\n'));
  const fields = fieldLines(m);
  if (fields.length) parts.push(fields.join('\n'));
  if (m.diagnosis?.length) {
    parts.push(
      ['Diagnosis:', ...m.diagnosis.map((d) => `- ${d.pattern}: ${d.description}\n  > ${d.line}${d.hint ? `\n  hint: ${d.hint}` : ''}`)].join('\n'),
    );
  }
  if (m.table && m.table.columns.length) parts.push(formatTable(m.table));
  return parts.join('\n\n');
}

/** "flurm · job 01J… · 2026-12-01 14:03 CET": the footer and the message's time as a person reads it. */
export function footerText(m: Message, opts: { timeZone?: string } = {}): string {
  const time = m.timestamp ? formatLocalTime(m.timestamp, opts) : '';
  return [m.footer, time === '?' ? m.timestamp : time].filter(Boolean).join(' · ');
}

function tailHeader(shown: number, omitted: number): string {
  return omitted > 0 ? `Log (last ${shown} lines; ${omitted} earlier cut):` : `Log (last ${shown} lines):`;
}

/** Render a message as plain text within the given size (see TextRenderOptions). */
export function renderText(m: Message, opts: TextRenderOptions = {}): string {
  const withTitle = opts.title ?? true;
  // UTF-8 bytes are never fewer than UTF-16 units, so a byte limit covers a char limit too.
  const measure = opts.maxBytes !== undefined ? utf8Bytes : (s: string) => s.length;
  const limit = Math.max(0, Math.min(opts.maxBytes ?? Infinity, opts.maxChars ?? Infinity));

  const head = headText(m, withTitle);
  const footer = footerText(m, { timeZone: opts.timeZone });
  const tail = (m.logTail ?? []).map((l) => l.replace(/\r?\n$/, ''));
  const join = (...parts: string[]) => parts.filter((p) => p.length > 0).join('\n\n');

  const full = join(head, tail.length ? `${tailHeader(tail.length, 0)}\n${tail.join('\n')}` : '', footer);
  if (measure(full) <= limit) return full;

  // Too long. The footer is short and identifies the job: keep it (bounded). Split what is left
  // between the head and the tail: the tail gets what the head leaves, but at least a third.
  const footerKept = footer ? cutEndToFit(footer, Math.floor(limit / 4), measure) : '';
  const sep = 2; // "\n\n" between parts
  let room = limit - (footerKept ? measure(footerKept) + sep : 0);
  if (tail.length === 0) return join(cutEndToFit(head, room, measure), footerKept);

  const headerReserve = measure(tailHeader(tail.length, tail.length)) + 1;
  const tailFull = tail.reduce((n, l) => n + measure(l) + 1, 0);
  const headWanted = measure(head);
  const headRoom = Math.min(headWanted, Math.max(room - headerReserve - tailFull - sep, Math.floor((room * 2) / 3)));
  const headKept = cutEndToFit(head, headRoom, measure);
  room -= headKept ? measure(headKept) + sep : 0;

  const { lines, omitted } = keepLastLines(tail, Math.max(0, room - headerReserve), measure);
  const tailText = lines.length ? `${tailHeader(lines.length, omitted)}\n${lines.join('\n')}` : '';
  const out = join(headKept, cutEndToFit(tailText, Math.max(0, room), measure), footerKept);
  // Rounding in the split above can leave a few units over; the final cut guarantees the limit.
  return cutEndToFit(out, limit, measure);
}

/**
 * A message whose table is longer than `maxChars` once formatted (a chat's block or embed), as several: the first with the title, summary
 * and fields, each further one "(continued)", the footer and hints on the last. Every row is
 * shown (100 nodes in /status are 100 rows), none cut in the middle.
 */
export function splitTable(m: Message, maxChars: number): Message[] {
  const t = m.table;
  if (!t || t.rows.length < 2 || formatTable(t).length <= maxChars) return [m];
  const parts: { rows: string[][]; states?: (CellState | null)[][] }[] = [];
  let rows: string[][] = [];
  let states: (CellState | null)[][] = [];
  t.rows.forEach((row, i) => {
    const next = [...rows, row];
    if (rows.length && formatTable({ ...t, rows: next }).length > maxChars) {
      parts.push({ rows, ...(t.states ? { states } : {}) });
      rows = [];
      states = [];
    }
    rows.push(row);
    if (t.states) states.push(t.states[i] ?? []);
  });
  if (rows.length) parts.push({ rows, ...(t.states ? { states } : {}) });
  const { footer, hints, table: _t, ...head } = m;
  return parts.map((p, i) => {
    const last = i === parts.length - 1;
    const table = { ...t, rows: p.rows, ...(p.states ? { states: p.states } : {}) };
    const base: Message = i === 0 ? { ...head, table } : { title: `${m.title || 'continued'} (${i + 1}/${parts.length})`, severity: m.severity, table };
    return last ? { ...base, ...(footer ? { footer } : {}), ...(hints ? { hints } : {}) } : base;
  });
}
