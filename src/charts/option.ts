// The neutral chart (model/chart.ts) as an echarts option: one pure function, so the same option
// draws the PNG/SVG here (charts/render.ts, echarts server-side) and, later, the dashboard's
// interactive chart in the browser. Types only from echarts (`import type`): importing echarts
// costs ~0.5 s and must stay off the CLI's fast path.
//
// Decisions (docs/charts.md):
// - Times go on a *category* axis, one category per bucket, so ticks fall on whole hours / local
//   midnights of the chart's own time zone (echarts' time axis would place them in the process's
//   zone). Labels come from Intl.DateTimeFormat in `tz`: hours up to 2 days, dates beyond.
// - Heatmap rows all keep a readable label: 14 px or more per row, so the height grows with the
//   rows (defaultSize). Past MAX_HEIGHT_PX the rows shrink and echarts thins the labels.
// - "No data" heatmap cells are a second series in a neutral grey with a diagonal hatch, outside
//   the visualMap, so they can never be mistaken for a value or a state.
import type { EChartsOption } from 'echarts';
import { CHART_COLOURS, type Chart, type HeatmapChart, type StackedChart } from '../model/chart.js';

export type ChartTheme = 'light' | 'dark';

export interface ChartOptionOptions {
  theme: ChartTheme;
  width: number;
  height: number;
  /** The CSS font family every text uses (the PNG renderer names a face it loads). */
  fontFamily?: string;
  /** In a browser: zoom the time axis with the wheel, a pinch or a drag (the pictures leave it out). */
  interactive?: boolean;
}

/** The colours that are not a tone: background, text, axes, grid, the capacity line, no data. */
export const THEME_COLOURS: Readonly<Record<ChartTheme, { background: string; text: string; subtext: string; axis: string; split: string; capacity: string; noData: string; hatch: string }>> = {
  light: { background: '#FFFFFF', text: '#1A1A1A', subtext: '#555555', axis: '#888888', split: '#E6E6E6', capacity: '#1A1A1A', noData: '#ECECEC', hatch: '#B0B0B0' },
  dark: { background: '#1B1D21', text: '#EDEDED', subtext: '#B5B5B5', axis: '#8A8A8A', split: '#33363C', capacity: '#F2F2F2', noData: '#2C2F35', hatch: '#6A6E76' },
};

/** Viridis, sampled at 9 stops: sequential, colour-blind-safe, readable in grey. */
export const SEQUENTIAL_RAMP = ['#440154', '#472D7B', '#3B528B', '#2C728E', '#21918C', '#28AE80', '#5EC962', '#ADDC30', '#FDE725'];

export const DEFAULT_STACKED_SIZE = { width: 800, height: 450 } as const;
const FONT_PX = 12;
const TITLE_PX = 16;
/** A heatmap row's height when every row is labelled (a 12 px label needs ~14 px). */
const MIN_ROW_PX = 14;
const MAX_ROW_PX = 28;
const MAX_HEIGHT_PX = 1800;
const HEATMAP_TOP_PX = 78;
const HEATMAP_BOTTOM_PX = 96;
/** Below this width (a phone) the heatmap's legends take two lines. */
const NARROW_PX = 560;
const NARROW_EXTRA_PX = 26;

/** The size a chart is drawn at when the caller names none: 800×450, a heatmap as tall as its rows need. */
export function defaultSize(chart: Chart): { width: number; height: number } {
  if (chart.kind === 'stacked') return { ...DEFAULT_STACKED_SIZE };
  const rows = Math.max(1, chart.rows.length);
  const rowPx = Math.max(MIN_ROW_PX, Math.min(MAX_ROW_PX, Math.floor(300 / rows)));
  return { width: DEFAULT_STACKED_SIZE.width, height: Math.min(MAX_HEIGHT_PX, HEATMAP_TOP_PX + HEATMAP_BOTTOM_PX + rows * rowPx) };
}

/** "#RRGGBB" → [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1, 7), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/**
 * The colour a heatmap cell's value gets, as the visualMap of chartOption colours it: the ramp
 * linearly interpolated over 0…max (clamped) for a numeric scale, the state's tone for states.
 * For renderers that draw the cells themselves (render.ts draws large heatmaps as one image).
 */
export function heatmapCellColour(chart: HeatmapChart): (v: number) => [number, number, number] {
  if (chart.states && chart.states.length > 0) {
    const tones = chart.states.map((s) => rgbOf(CHART_COLOURS[s.tone]));
    return (v) => tones[Math.round(v)] ?? [0, 0, 0];
  }
  const max = chart.scale?.max ?? Math.max(1, ...chart.cells.flat().map((v) => v ?? 0));
  const stops = SEQUENTIAL_RAMP.map(rgbOf);
  return (v) => {
    const t = Math.min(1, Math.max(0, v / max)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(t));
    const f = t - i;
    const a = stops[i]!;
    const b = stops[i + 1]!;
    return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
  };
}

// ---- time labels ------------------------------------------------------------------------------

interface LocalTime {
  hour: number;
  minute: number;
  /** "30 Nov" */
  date: string;
  /** "Mon 30 Nov 10:00", for tooltips. */
  full: string;
}

function localTimes(times: number[], tz: string): LocalTime[] {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return times.map((t) => {
    const p: Record<string, string> = {};
    for (const x of parts.formatToParts(t)) p[x.type] = x.value;
    const date = `${p.day} ${p.month}`;
    return { hour: Number(p.hour), minute: Number(p.minute), date, full: `${p.weekday} ${date} ${p.hour}:${p.minute}` };
  });
}

/**
 * Which buckets carry an axis label, and what it says, for a plot `plotWidthPx` wide: whole
 * hours (every 1, 2, 3, 6 or 12 h; local midnight shows its date) up to 2 days, local midnights
 * (every 1, 2, 7 days) beyond; no more labels than fit at ~70 px each.
 */
export function timeTicks(times: number[], stepMs: number, tz: string, plotWidthPx: number): { labels: string[]; shown: boolean[]; full: string[] } {
  const local = localTimes(times, tz);
  const spanMs = times.length * stepMs;
  const maxLabels = Math.max(2, Math.floor(plotWidthPx / 70));
  const hourly = spanMs <= 2 * 86_400_000;
  const steps = hourly ? [1, 2, 3, 6, 12, 24] : [1, 2, 7, 14, 28];
  const isMark = (l: LocalTime) => l.minute === 0 && (hourly || l.hour === 0);
  let chosen = steps[steps.length - 1]!;
  for (const s of steps) {
    const n = local.filter((l, i) => isMark(l) && keep(l, i, s)).length;
    if (n <= maxLabels) {
      chosen = s;
      break;
    }
  }
  function keep(l: LocalTime, i: number, s: number): boolean {
    if (hourly) return l.hour % s === 0;
    // Days: every s-th local midnight, counted from the first one.
    const firstMidnight = local.findIndex(isMark);
    const dayNo = Math.round(((times[i] ?? 0) - (times[firstMidnight] ?? 0)) / 86_400_000);
    return dayNo % s === 0;
  }
  const shown = local.map((l, i) => isMark(l) && keep(l, i, chosen));
  const labels = local.map((l, i) => (!shown[i] ? '' : hourly && l.hour !== 0 ? `${String(l.hour).padStart(2, '0')}:00` : l.date));
  return { labels, shown, full: local.map((l) => l.full) };
}

// ---- the option -------------------------------------------------------------------------------

function common(chart: Chart, o: ChartOptionOptions) {
  const c = THEME_COLOURS[o.theme];
  return {
    c,
    base: {
      animation: false,
      backgroundColor: c.background,
      textStyle: { fontFamily: o.fontFamily ?? 'sans-serif', fontSize: FONT_PX, color: c.text },
      title: {
        text: chart.title,
        subtext: chart.subtitle,
        left: 12,
        top: 8,
        itemGap: 6,
        textStyle: { fontSize: TITLE_PX, fontWeight: 'bold' as const, color: c.text, fontFamily: o.fontFamily ?? 'sans-serif' },
        subtextStyle: { fontSize: FONT_PX, color: c.subtext, fontFamily: o.fontFamily ?? 'sans-serif' },
      },
    },
  };
}

function timeAxis(chart: Chart, o: ChartOptionOptions, plotWidthPx: number, c: (typeof THEME_COLOURS)['light'], boundaryGap: boolean) {
  const ticks = timeTicks(chart.times, chart.stepMs, chart.tz, plotWidthPx);
  return {
    type: 'category' as const,
    data: ticks.full,
    boundaryGap,
    axisLine: { lineStyle: { color: c.axis } },
    axisTick: { alignWithLabel: true, interval: (i: number) => ticks.shown[i] === true, lineStyle: { color: c.axis } },
    axisLabel: { interval: (i: number) => ticks.shown[i] === true, formatter: (_v: string, i: number) => ticks.labels[i] ?? '', fontSize: FONT_PX, color: c.text, hideOverlap: true },
    splitLine: { show: false },
  };
}

/** The echarts option that draws `chart` at `width`×`height` in `theme`. Pure: same input, same option. */
export function chartOption(chart: Chart, opts: ChartOptionOptions): EChartsOption {
  const option = chart.kind === 'stacked' ? stackedOption(chart, opts) : heatmapOption(chart, opts);
  // Zooming changes which buckets show, never their values: the same chart, closer.
  return opts.interactive ? { ...option, dataZoom: [{ type: 'inside', xAxisIndex: 0, filterMode: 'none', zoomOnMouseWheel: true, moveOnMouseMove: true }] } : option;
}

const GRID_LEFT_PX = 16;
/** Three dashes, the legend's mark for the capacity line. */
const DASH_ICON = 'path://M0 5h6v3H0zM9 5h6v3H9zM18 5h6v3h-6z';
const GRID_RIGHT_PX = 28;

function stackedOption(chart: StackedChart, o: ChartOptionOptions): EChartsOption {
  const { c, base } = common(chart, o);
  // An area needs two neighbouring points: a value alone between gaps (the first minutes of a
  // history, a node back for one bucket) would not show, so such a chart is drawn as touching bars.
  const bars = chart.series.some((s) => s.values.some((v, i) => v !== null && (s.values[i - 1] ?? null) === null && (s.values[i + 1] ?? null) === null));
  const series: NonNullable<EChartsOption['series']> = chart.series.map((s) =>
    bars
      ? {
          type: 'bar' as const,
          name: s.name,
          stack: 'total',
          data: s.values.map((v) => (v === null ? null : v)),
          barCategoryGap: '0%',
          itemStyle: { color: CHART_COLOURS[s.tone] },
          emphasis: { focus: 'series' as const },
        }
      : {
          type: 'line' as const,
          name: s.name,
          stack: 'total',
          data: s.values.map((v) => (v === null ? null : v)),
          connectNulls: false,
          showSymbol: false,
          symbol: 'none',
          lineStyle: { width: 1, color: CHART_COLOURS[s.tone] },
          itemStyle: { color: CHART_COLOURS[s.tone] },
          areaStyle: { color: CHART_COLOURS[s.tone], opacity: 1 },
          emphasis: { focus: 'series' as const },
        },
  );
  if (chart.capacity) {
    series.push({
      type: 'line' as const,
      name: 'capacity',
      data: chart.capacity.map((v) => (v === null ? null : v)),
      connectNulls: false,
      showSymbol: false,
      symbol: 'none',
      z: 10,
      lineStyle: { width: 2, type: 'dashed' as const, color: c.capacity },
      itemStyle: { color: c.capacity },
    });
  }
  // Areas get a filled square in the legend, the capacity a dashed stroke (its own look).
  const legendData = [...chart.series.map((s) => ({ name: s.name, icon: 'roundRect' })), ...(chart.capacity ? [{ name: 'capacity', icon: DASH_ICON }] : [])];
  return {
    ...base,
    grid: { left: GRID_LEFT_PX, right: GRID_RIGHT_PX, top: 82, bottom: 44, containLabel: true },
    legend: { data: legendData, bottom: 8, left: 'center', itemWidth: 22, itemHeight: 12, itemGap: 16, textStyle: { fontSize: FONT_PX, color: c.text } },
    tooltip: { trigger: 'axis' },
    xAxis: timeAxis(chart, o, o.width - GRID_LEFT_PX - GRID_RIGHT_PX - 50, c, false),
    yAxis: {
      type: 'value',
      name: chart.unit,
      nameLocation: 'end',
      nameGap: 10,
      nameTextStyle: { fontSize: FONT_PX, color: c.subtext, align: 'left' },
      min: 0,
      axisLine: { show: true, lineStyle: { color: c.axis } },
      axisLabel: { fontSize: FONT_PX, color: c.text },
      splitLine: { lineStyle: { color: c.split } },
    },
    series,
  };
}

function heatmapOption(chart: HeatmapChart, o: ChartOptionOptions): EChartsOption {
  const { c, base } = common(chart, o);
  const data: [number, number, number][] = [];
  const missing: [number, number, number][] = [];
  chart.cells.forEach((row, y) =>
    row.forEach((v, x) => {
      if (v === null) missing.push([x, y, 0]);
      else data.push([x, y, v]);
    }),
  );
  const categorical = chart.states !== undefined && chart.states.length > 0;
  // On a phone the colour legend fills the bottom line: "no data" goes on a line of its own above it.
  const narrow = o.width < NARROW_PX;
  const bottomPx = HEATMAP_BOTTOM_PX + (narrow ? NARROW_EXTRA_PX : 0);
  const plotHeight = o.height - HEATMAP_TOP_PX - bottomPx;
  // Every row labelled while there is room for a 12 px label; else echarts thins them (auto).
  const allRows = plotHeight / Math.max(1, chart.rows.length) >= MIN_ROW_PX;
  const visualMap: EChartsOption['visualMap'] = categorical
    ? {
        type: 'piecewise',
        seriesIndex: 0,
        orient: 'horizontal',
        left: 'center',
        bottom: 8,
        itemWidth: 18,
        itemHeight: 12,
        itemGap: 14,
        text: [``, `${chart.unit}:`],
        showLabel: true,
        pieces: chart.states!.map((s, i) => ({ value: i, label: s.name, color: CHART_COLOURS[s.tone] })),
        textStyle: { fontSize: FONT_PX, color: c.text },
      }
    : {
        type: 'continuous',
        seriesIndex: 0,
        min: 0,
        max: chart.scale?.max ?? Math.max(1, ...data.map((d) => d[2])),
        orient: 'horizontal',
        left: 'center',
        bottom: 8,
        itemWidth: 12,
        itemHeight: narrow ? Math.max(80, Math.min(200, o.width - 190)) : 200,
        calculable: false,
        text: [`${chart.scale?.max ?? ''} ${chart.unit}`.trim(), `0 ${chart.unit}`],
        inRange: { color: SEQUENTIAL_RAMP },
        textStyle: { fontSize: FONT_PX, color: c.text },
      };
  return {
    ...base,
    grid: { left: GRID_LEFT_PX, right: GRID_RIGHT_PX, top: HEATMAP_TOP_PX, bottom: bottomPx - 30, containLabel: true },
    tooltip: { position: 'top' },
    legend: {
      data: ['no data'],
      right: GRID_RIGHT_PX,
      bottom: narrow ? 8 + NARROW_EXTRA_PX : 8,
      itemWidth: 18,
      itemHeight: 12,
      textStyle: { fontSize: FONT_PX, color: c.text },
    },
    xAxis: { ...timeAxis(chart, o, o.width - GRID_LEFT_PX - GRID_RIGHT_PX - 80, c, true), splitArea: { show: false } },
    yAxis: {
      type: 'category',
      data: chart.rows,
      inverse: true,
      axisLine: { lineStyle: { color: c.axis } },
      axisTick: { show: false },
      axisLabel: { fontSize: FONT_PX, color: c.text, interval: allRows ? 0 : 'auto' },
    },
    // The second map only colours the "no data" series (a heatmap series needs one).
    visualMap: [visualMap as object, { type: 'piecewise', seriesIndex: 1, show: false, pieces: [{ value: 0, color: c.noData }] }] as EChartsOption['visualMap'],
    series: [
      { type: 'heatmap', name: chart.unit, data, progressive: 0, emphasis: { disabled: true } },
      {
        type: 'heatmap',
        name: 'no data',
        data: missing,
        progressive: 0,
        itemStyle: { color: c.noData, decal: { symbol: 'rect', symbolSize: 1, color: c.hatch, dashArrayX: [1, 0], dashArrayY: [2, 4], rotation: -Math.PI / 4 } },
        emphasis: { disabled: true },
      },
    ],
  };
}
