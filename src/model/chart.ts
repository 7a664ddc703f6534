// The neutral chart: what the history commands (history, heatmap) answer with, beside their
// message, and what every front end draws from the same definition — the terminal with Unicode
// blocks (frontends/text/chart.ts), a PNG or SVG for Discord, Slack and `--png` (charts/, echarts
// server-side → SVG → resvg), and the dashboard interactively (the same echarts option). A front
// end draws; it never recomputes a value. Times are bucket starts in ms since the epoch (UTC),
// labelled in `tz`; values are in `unit`. Version: CHART_VERSION, in the JSON answers.

export const CHART_VERSION = 1;

/**
 * What a series or a state means, so it has the same colour everywhere (CHART_COLOURS). The
 * SLURM states first (the analyst bot's idle / mixed / allocated / down), then usage, then jobs.
 */
export type ChartTone =
  | 'idle'
  | 'mixed'
  | 'allocated'
  | 'down'
  | 'used'
  | 'free'
  | 'stale'
  | 'running'
  | 'pending'
  | 'ok'
  | 'failed'
  | 'other';

/**
 * One colour per tone: the Okabe–Ito palette (safe for the common colour-blindnesses), with a
 * grey for "nothing there" meanings (free, stale, other). Hex, for SVG, PNG and the web page.
 */
export const CHART_COLOURS: Readonly<Record<ChartTone, string>> = {
  idle: '#56B4E9', // sky blue
  mixed: '#E69F00', // orange
  allocated: '#009E73', // bluish green
  down: '#D55E00', // vermillion
  used: '#0072B2', // blue
  free: '#BBBBBB', // light grey
  stale: '#999999', // grey
  running: '#0072B2',
  pending: '#F0E442', // yellow
  ok: '#009E73',
  failed: '#D55E00',
  other: '#CC79A7', // reddish purple
};

export interface ChartSeries {
  /** The legend's word, e.g. "allocated", "alice". */
  name: string;
  tone: ChartTone;
  /** One per time (same length as `times`); null: no data for that bucket. */
  values: (number | null)[];
}

interface ChartBase {
  /** One line, e.g. "CPU cores: used vs capacity". */
  title: string;
  /** The range and the time zone, e.g. "last 24 h · 1 Dec 09:00 – 2 Dec 09:00 (Europe/Berlin)". */
  subtitle: string;
  /** The values' unit, named for an axis: "cores", "GiB", "GPUs", "nodes", "jobs", "%". */
  unit: string;
  /** Bucket starts, ascending, evenly `stepMs` apart. */
  times: number[];
  stepMs: number;
  /** IANA time zone the axis is labelled in. */
  tz: string;
}

/** Capacity vs usage over time: the series stacked bottom to top (they add up to the capacity when `capacity` is absent). */
export interface StackedChart extends ChartBase {
  kind: 'stacked';
  series: ChartSeries[];
  /** A capacity line drawn over the stack (e.g. total cores while the stack is per-user usage). */
  capacity?: (number | null)[];
}

/** Rows (nodes) × times. Either a numeric scale (0…max in `unit`) or named states. */
export interface HeatmapChart extends ChartBase {
  kind: 'heatmap';
  /** Row labels, top to bottom (node names). */
  rows: string[];
  /** cells[row][time]: a value in 0…scale.max, or an index into `states`; null: no data. */
  cells: (number | null)[][];
  scale?: { max: number };
  states?: { name: string; tone: ChartTone }[];
}

export type Chart = StackedChart | HeatmapChart;
