// A neutral Chart (model/chart.ts) drawn for a terminal with Unicode blocks: what `flurm history`
// and `flurm heatmap` print. Stacked: one bar per column, series stacked bottom to top, the top
// cell in eighth blocks, the capacity as a line over the bars, a y axis with nice ticks in the
// unit. Heatmap: one line per row, one character per column. The times are resampled into as many
// columns as fit `width` (mean per column for values, the most frequent state for states; a column
// with only nulls is no data). No line is ever wider than `width`. Colour is decided by the caller
// with cli/colour.ts's colourEnabled (TTY, NO_COLOR, FORCE_COLOR); with it, each tone has a fixed
// ANSI 256 colour nearest its CHART_COLOURS hex, and without it (piped) every series and state
// still has its own character, named in the legend. docs/charts-terminal.md shows the output.
import { CHART_COLOURS, type Chart, type ChartTone, type HeatmapChart, type StackedChart } from '../../model/chart.js';
import { paint } from '../cli/colour.js';

export interface ChartTextOptions {
  /** Terminal columns; no line is wider. */
  width: number;
  /** ANSI colour (cli/colour.ts colourEnabled decides). */
  colour: boolean;
  /** Rows of the stacked chart's plot (default 12). */
  height?: number;
  /** False: leave out the title and subtitle (the message around the chart shows them). */
  heading?: boolean;
}

/** Below this width a chart is one "too narrow" line. */
export const MIN_CHART_WIDTH = 30;
export const DEFAULT_CHART_HEIGHT = 12;
/** Row labels of a heatmap are cut to this many columns. */
export const MAX_ROW_LABEL = 16;
/** Plain fill per series, bottom to top (then letters). */
export const SERIES_FILLS = ['█', '▓', '▒', '░', '#', '+', '=', '%', '*', 'o'];
/** Heatmap cell without data. */
export const NO_DATA = '?';
/** Numeric heatmap without colour: 0, then up to ¼, ½, ¾ and all of the scale. */
export const SHADES = [' ', '░', '▒', '▓', '█'];
const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/** The capacity line: on a row's top edge, or across its middle. */
const CAP_TOP = '▔';
const CAP_MID = '─';
/** Plain characters of the SLURM states, then for any other state. */
const STATE_CHARS: Partial<Record<ChartTone, string>> = { idle: '·', mixed: '▒', allocated: '█', down: 'X', stale: '░', free: '·' };
const STATE_SPARE = ['▓', '░', '#', '+', '=', 'o', '*', '%', '~', '^'];
/** Viridis (sequential, colour-blind safe) for numeric heatmaps in colour. */
const RAMP = ['#440154', '#482878', '#3E4A89', '#31688E', '#26828E', '#1F9E89', '#35B779', '#6DCD59', '#B4DE2C', '#FDE725'];
const NO_DATA_COLOUR = 244;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function renderChartText(chart: Chart, opts: ChartTextOptions): string {
  const width = Math.floor(opts.width);
  if (!(width >= MIN_CHART_WIDTH)) return cutToWidth(`too narrow: needs ${MIN_CHART_WIDTH} columns`, Math.max(1, width || 1)) + '\n';
  const on = opts.colour;
  const head = opts.heading === false ? [] : [paint(cutToWidth(chart.title, width), 'bold', on), chart.subtitle ? cutToWidth(chart.subtitle, width) : ''].filter(Boolean);
  const body = chart.kind === 'stacked' ? stackedLines(chart, width, on, Math.max(2, Math.floor(opts.height ?? DEFAULT_CHART_HEIGHT))) : heatmapLines(chart, width, on);
  return [...head, ...body].join('\n') + '\n';
}

// ——— Stacked ———

function stackedLines(c: StackedChart, width: number, on: boolean, height: number): string[] {
  const n_times = c.times.length;
  if (n_times === 0 || (c.series.length === 0 && !c.capacity)) return ['(no data)'];
  const { step, top } = niceScale(rawStackMax(c));
  const ticks: number[] = [];
  for (let v = step; v <= top + step / 1e6; v += step) ticks.push(v);
  const labelW = Math.max(1, ...ticks.map((v) => formatTick(v, step).length));
  const gutter = labelW + 2;
  const cols = width - gutter;
  const spans = columnSpans(n_times, cols);
  const unitPerRow = top / height;
  const fills = c.series.map((_, i) => seriesFill(i));
  const colours = c.series.map((s) => toneColour(s.tone));

  // grid[row from the top][column]
  const grid: Cell[][] = Array.from({ length: height }, () => Array.from({ length: cols }, () => ({ ch: ' ' })));
  let gaps = false;
  const capChars = new Set<string>();
  const known = (v: number | null | undefined) => typeof v === 'number' && Number.isFinite(v);
  const hasData = c.times.map((_, t) => c.series.some((s) => known(s.values[t])) || known(c.capacity?.[t]));
  spans.forEach(([from, to], col) => {
    if (!isMostlyKnown(from, to, (t) => hasData[t] === true)) {
      gaps = true;
      return;
    }
    const means = c.series.map((s) => mean(s.values, from, to));
    const cap = c.capacity ? mean(c.capacity, from, to) : null;
    // Boundaries in eighths of a row: b[i]..b[i+1] is series i.
    const b = [0];
    let sum = 0;
    for (const m of means) {
      sum += m ?? 0;
      b.push(clamp(Math.round((sum / unitPerRow) * 8), 0, height * 8));
    }
    const total = b[b.length - 1] ?? 0;
    const ownerOf = (e: number) => Math.max(0, b.findIndex((x) => x > e) - 1);
    for (let k = 0; k < height; k++) {
      const lo = k * 8;
      const hi = lo + 8;
      if (total <= lo) break;
      let major = 0;
      let best = -1;
      for (let i = 0; i < means.length; i++) {
        const overlap = Math.min(b[i + 1] ?? 0, hi) - Math.max(b[i] ?? 0, lo);
        if (overlap > best) [major, best] = [i, overlap];
      }
      const cell = grid[height - 1 - k]![col]!;
      if (total < hi) {
        cell.ch = EIGHTHS[total - lo]!;
        cell.fg = colours[major];
      } else if (!on) {
        cell.ch = fills[major]!;
      } else {
        // A boundary inside the cell: the lower series in the foreground, the upper behind it.
        const low = ownerOf(lo);
        const ext = Math.min(b[low + 1] ?? hi, hi) - lo;
        cell.ch = EIGHTHS[ext]!;
        cell.fg = colours[low];
        if (ext < 8) cell.bg = colours[ownerOf(lo + ext)];
      }
    }
    if (cap !== null) {
      // Nearest half row: a whole q is the top edge of row q, a half the middle of row ⌈q⌉.
      const q = clamp(Math.round((cap / unitPerRow) * 2) / 2, 0.5, height);
      const row = Math.ceil(q);
      const cell = grid[height - row]![col]!;
      const under = cell.ch === '█' && cell.fg !== undefined ? cell.fg : cell.bg;
      const ch = Number.isInteger(q) ? CAP_TOP : CAP_MID;
      grid[height - row]![col] = { ch, ...(on && under !== undefined ? { bg: under } : {}) };
      capChars.add(ch);
    }
  });

  const tickRow = new Map(ticks.map((v) => [height - Math.round(v / unitPerRow), formatTick(v, step)]));
  const lines = [c.unit ? cutToWidth(c.unit.padStart(labelW), width) : ''];
  grid.forEach((row, r) => {
    const label = tickRow.get(r);
    lines.push(`${(label ?? '').padStart(labelW)} ${label !== undefined ? '┤' : '│'}${cellsText(row, on)}`);
  });
  lines.push(...xAxis(c, spans, `${'0'.padStart(labelW)} `, width));

  const legend = c.series.map((s, i) => `${on ? swatch('█', colours[i]) : fills[i]} ${s.name}`);
  if (capChars.size) legend.push(`${[CAP_TOP, CAP_MID].filter((ch) => capChars.has(ch)).join('')} capacity`);
  if (gaps) legend.push('blank: no data');
  lines.push(...wrapItems(legend, width));
  return lines;
}

/** The highest stack (or capacity) of any one time: the y axis fits it whatever the width. */
function rawStackMax(c: StackedChart): number {
  let max = 0;
  c.times.forEach((_, t) => {
    const sum = c.series.reduce((a, s) => a + Math.max(0, s.values[t] ?? 0), 0);
    max = Math.max(max, sum, c.capacity?.[t] ?? 0);
  });
  return max;
}

/** A step of 1, 2, 2.5 or 5 × 10^k (2.5 only from 25 up) giving 2–4 intervals from 0 to top ≥ max. */
export function niceScale(max: number): { step: number; top: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { step: 1, top: 1 };
  let exp = Math.floor(Math.log10(max / 4));
  for (;;) {
    const p = 10 ** exp;
    for (const m of [1, 2, 2.5, 5]) {
      if (m === 2.5 && exp < 1) continue;
      const step = m * p;
      const intervals = Math.ceil(max / step - 1e-9);
      if (intervals <= 4) return { step, top: Math.max(intervals, 1) * step };
    }
    exp++;
  }
}

function formatTick(v: number, step: number): string {
  const fmt = (x: number, suffix: string) => `${Number.isInteger(x) ? x : Number(x.toFixed(2))}${suffix}`;
  if (step >= 1e6) return fmt(v / 1e6, 'M');
  if (step >= 1e3) return fmt(v / 1e3, 'k');
  return fmt(v, '');
}

function seriesFill(i: number): string {
  return SERIES_FILLS[i] ?? String.fromCharCode(97 + ((i - SERIES_FILLS.length) % 26));
}

// ——— Heatmap ———

function heatmapLines(c: HeatmapChart, width: number, on: boolean): string[] {
  if (c.times.length === 0 || c.rows.length === 0) return ['(no data)'];
  const labels = c.rows.map((r) => cutToWidth(r, MAX_ROW_LABEL));
  const labelW = Math.max(...labels.map(displayWidth));
  const gutter = labelW + 2;
  const cols = width - gutter;
  const spans = columnSpans(c.times.length, cols);
  const states = c.states;
  const lines: string[] = [];

  if (states && states.length) {
    const chars = stateChars(states.map((s) => s.tone));
    const colours = states.map((s) => toneColour(s.tone));
    c.rows.forEach((_, r) => {
      const row = c.cells[r] ?? [];
      const cells = spans.map(([from, to]): Cell => {
        const s = modeState(row, from, to, states.length);
        return s === null ? { ch: NO_DATA, fg: NO_DATA_COLOUR } : on ? { ch: '█', fg: colours[s] } : { ch: chars[s]! };
      });
      lines.push(`${padStartDisplay(labels[r]!, labelW)} │${cellsText(cells, on)}`);
    });
    lines.push(...xAxis(c, spans, ' '.repeat(labelW + 1), width));
    const legend = states.map((s, i) => `${on ? swatch('█', colours[i]) : chars[i]} ${s.name}`);
    legend.push(`${on ? swatch(NO_DATA, NO_DATA_COLOUR) : NO_DATA} no data`);
    lines.push(...wrapItems(legend, width));
    return lines;
  }

  const max = c.scale?.max && c.scale.max > 0 ? c.scale.max : Math.max(1, ...c.cells.flat().filter((v): v is number => v !== null));
  const rampColours = RAMP.map(ansi256);
  c.rows.forEach((_, r) => {
    const row = c.cells[r] ?? [];
    const cells = spans.map(([from, to]): Cell => {
      const v = mean(row, from, to);
      if (v === null) return { ch: NO_DATA, fg: NO_DATA_COLOUR };
      const f = clamp(v / max, 0, 1);
      return on ? { ch: '█', fg: rampColours[Math.min(RAMP.length - 1, Math.floor(f * RAMP.length))] } : { ch: SHADES[shadeIndex(f)]! };
    });
    lines.push(`${padStartDisplay(labels[r]!, labelW)} │${cellsText(cells, on)}`);
  });
  lines.push(...xAxis(c, spans, ' '.repeat(labelW + 1), width));
  const unit = c.unit ? (c.unit === '%' ? '%' : ` ${c.unit}`) : '';
  const legend = on
    ? [`0 ${rampColours.map((col) => swatch('█', col)).join('')} ${formatTick(max, max)}${unit}`]
    : SHADES.map((ch, i) => (i === 0 ? `'${ch}' 0` : `${ch} ≤${formatTick((max * i) / 4, max / 4)}${i === SHADES.length - 1 ? unit : ''}`));
  legend.push(`${on ? swatch(NO_DATA, NO_DATA_COLOUR) : NO_DATA} no data`);
  lines.push(...wrapItems(legend, width));
  return lines;
}

/** 0 → 0, up to ¼ → 1, … up to all → 4. */
function shadeIndex(f: number): number {
  return f <= 0 ? 0 : Math.min(4, Math.ceil(f * 4 - 1e-9));
}

/** Plain characters for the states: the SLURM ones fixed, the others from a spare list, all distinct. */
function stateChars(tones: ChartTone[]): string[] {
  const used = new Set<string>();
  const out = tones.map((t) => {
    const ch = STATE_CHARS[t];
    if (ch && !used.has(ch)) {
      used.add(ch);
      return ch;
    }
    return '';
  });
  return out.map((ch, i) => {
    if (ch) return ch;
    const next = STATE_SPARE.find((s) => !used.has(s)) ?? String.fromCharCode(65 + (i % 26));
    used.add(next);
    return next;
  });
}

/** The most frequent state of times from…to (ties: the later state, the more severe in SLURM order); null when more than half have none. */
function modeState(row: (number | null)[], from: number, to: number, count: number): number | null {
  const seen = new Array<number>(count).fill(0);
  for (let t = from; t < to; t++) {
    const v = row[t];
    if (v !== null && v !== undefined && Number.isInteger(v) && v >= 0 && v < count) seen[v]!++;
  }
  if (seen.reduce((a, k) => a + k, 0) * 2 < to - from) return null;
  let best: number | null = null;
  seen.forEach((k, s) => {
    if (k > 0 && (best === null || k >= seen[best]!)) best = s;
  });
  return best;
}

// ——— Shared: columns, time axis, cells, colour, width ———

/** Time index ranges [from, to) of each of `cols` columns; with fewer times than columns a time spans several. */
export function columnSpans(times: number, cols: number): [number, number][] {
  return Array.from({ length: Math.max(0, cols) }, (_, c) => {
    const from = Math.floor((c * times) / cols);
    return [from, Math.max(from + 1, Math.floor(((c + 1) * times) / cols))];
  });
}

/**
 * Whether at least half the times from…to have data: a column more than half without data is
 * drawn as no data, so a gap shorter than a column at a narrow width still shows (a column with
 * only nulls is the case at full width).
 */
function isMostlyKnown(from: number, to: number, known: (t: number) => boolean): boolean {
  let n = 0;
  for (let t = from; t < to; t++) if (known(t)) n++;
  return n > 0 && n * 2 >= to - from;
}

/** The mean of the known values from…to; null when more than half are unknown. */
function mean(values: readonly (number | null)[], from: number, to: number): number | null {
  let sum = 0;
  let n = 0;
  for (let t = from; t < to; t++) {
    const v = values[t];
    if (typeof v === 'number' && Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n && n * 2 >= to - from ? sum / n : null;
}

type TickStep = { minutes: number } | { days: number };
const SHORT_STEPS: TickStep[] = [10, 15, 30, 60, 120, 180, 240, 360, 720].map((minutes) => ({ minutes }));
const LONG_STEPS: TickStep[] = [1, 2, 7, 14, 28].map((days) => ({ days }));
const MAX_TIME_LABELS = 6;

interface Wall {
  t: number;
  minuteOfDay: number;
  weekday: string;
  day: number;
}

/**
 * The x axis under a plot that starts after `prefix` (the gutter but its last column): a line
 * with ┬ at each tick, and the labels centred under them, in the chart's zone. HH:MM for up to
 * 2 days, "Mon 25" (at midnight) beyond; at most 6 labels, none overlapping.
 */
function xAxis(c: Chart, spans: [number, number][], prefix: string, width: number): string[] {
  const start = c.times[0]!;
  const end = c.times[c.times.length - 1]! + c.stepMs;
  const long = end - start > 2 * DAY;
  const stride = end - start <= 12 * HOUR ? 5 * MINUTE : end - start <= 3 * DAY ? 15 * MINUTE : HOUR;
  const wall = wallReader(c.tz);
  const walls: Wall[] = [];
  for (let t = Math.ceil(start / stride) * stride; t < end; t += stride) walls.push(wall(t));

  const cols = spans.length;
  const colOf = (t: number) => {
    const i = Math.floor((t - start) / c.stepMs);
    const k = spans.findIndex(([, to]) => to > i);
    return k < 0 ? cols - 1 : k;
  };
  const labelOf = (w: Wall) => (long ? `${w.weekday} ${w.day}` : `${String(Math.floor(w.minuteOfDay / 60)).padStart(2, '0')}:${String(w.minuteOfDay % 60).padStart(2, '0')}`);
  const ticksFor = (step: TickStep): Wall[] => {
    if ('minutes' in step) return walls.filter((w) => w.minuteOfDay % step.minutes === 0);
    const midnights = walls.filter((w) => w.minuteOfDay === 0);
    if (step.days === 7) return midnights.filter((w) => w.weekday === 'Mon');
    return midnights.filter((_, i) => i % step.days === 0);
  };
  const labelW = long ? 6 : 5;
  let ticks: Wall[] = [];
  for (const step of long ? LONG_STEPS : [...SHORT_STEPS, { days: 1 }]) {
    ticks = ticksFor(step);
    const positions = ticks.map((w) => colOf(w.t));
    const tight = positions.some((p, i) => i > 0 && p - positions[i - 1]! < labelW + 2);
    if (ticks.length <= MAX_TIME_LABELS && !tight) break;
  }

  const axis = [...'─'.repeat(cols)];
  const labels = [...' '.repeat(width)];
  let free = 0; // first column a label may use
  for (const w of ticks) {
    const col = colOf(w.t);
    const text = labelOf(w);
    const at = prefix.length + 1 + col;
    const from = Math.min(Math.max(at - Math.floor(text.length / 2), 0), width - text.length);
    if (from < free) continue;
    axis[col] = '┬';
    [...text].forEach((ch, i) => (labels[from + i] = ch));
    free = from + text.length + 1;
  }
  return [`${prefix}└${axis.join('')}`, labels.join('').trimEnd()];
}

/** Wall-clock minute of day, weekday and day of month of a time in `tz` (UTC when the zone is unknown). */
function wallReader(tz: string): (t: number) => Wall {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', weekday: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  } catch {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', hourCycle: 'h23', weekday: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }
  return (t) => {
    const p = Object.fromEntries(fmt.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
    return { t, minuteOfDay: Number(p.hour) * 60 + Number(p.minute), weekday: p.weekday ?? '', day: Number(p.day) };
  };
}

interface Cell {
  ch: string;
  /** ANSI 256 colours, used only with colour on. */
  fg?: number;
  bg?: number;
}

/** Cells as text; with colour, runs of one colour share one escape sequence and every line ends reset. */
function cellsText(cells: Cell[], on: boolean): string {
  if (!on) return cells.map((c) => c.ch).join('');
  let out = '';
  let cur = '';
  for (const c of cells) {
    const code = [c.fg !== undefined ? `38;5;${c.fg}` : '', c.bg !== undefined ? `48;5;${c.bg}` : ''].filter(Boolean).join(';');
    if (code !== cur) {
      out += '\u001b[0m' + (code ? `\u001b[${code}m` : '');
      cur = code;
    }
    out += c.ch;
  }
  return (out + (cur ? '\u001b[0m' : '')).replace(/^\u001b\[0m/, '');
}

function swatch(ch: string, colour: number | undefined): string {
  return colour === undefined ? ch : `\u001b[38;5;${colour}m${ch}\u001b[39m`;
}

function toneColour(tone: ChartTone): number {
  return ansi256(CHART_COLOURS[tone] ?? CHART_COLOURS.other);
}

const CUBE = [0, 95, 135, 175, 215, 255];

/** The ANSI 256 colour nearest a hex colour: the 6×6×6 cube or the grey ramp, whichever is closer. */
export function ansi256(hex: string): number {
  const n = parseInt(hex.replace('#', ''), 16);
  const rgb = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  const level = (v: number) => CUBE.reduce((best, x, i) => (Math.abs(x - v) < Math.abs(CUBE[best]! - v) ? i : best), 0);
  const [r, g, b] = rgb.map(level) as [number, number, number];
  const cubeRgb = [CUBE[r]!, CUBE[g]!, CUBE[b]!];
  const avg = (rgb[0]! + rgb[1]! + rgb[2]!) / 3;
  const grey = clamp(Math.round((avg - 8) / 10), 0, 23);
  const greyV = 8 + grey * 10;
  const dist = (a: number[]) => a.reduce((s, v, i) => s + (v - rgb[i]!) ** 2, 0);
  return dist([greyV, greyV, greyV]) < dist(cubeRgb) ? 232 + grey : 16 + 36 * r + 6 * g + b;
}

/** Items joined by two spaces, wrapped onto more lines so none is wider than `width`. */
function wrapItems(items: string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const raw of items) {
    const item = displayWidth(raw) > width ? cutToWidth(stripAnsi(raw), width) : raw;
    if (line && displayWidth(line) + 2 + displayWidth(item) > width) {
      lines.push(line);
      line = item;
    } else line = line ? `${line}  ${item}` : item;
  }
  if (line) lines.push(line);
  return lines;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

const ANSI = /\u001b\[[0-9;]*m/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** Terminal columns of one code point: 0 for combining marks and zero-width, 2 for wide (CJK, emoji), else 1. */
function charWidth(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

/** Columns a line takes in a terminal (escape codes take none). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of stripAnsi(s)) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** `s` cut to at most `max` columns, with "…" where it was cut. */
function cutToWidth(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > max - 1) break;
    out += ch;
    w += cw;
  }
  return out + '…';
}

function padStartDisplay(s: string, w: number): string {
  return ' '.repeat(Math.max(0, w - displayWidth(s))) + s;
}
