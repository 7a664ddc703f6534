// Draws a neutral chart (model/chart.ts) as SVG (echarts server-side rendering) or PNG (that SVG
// through resvg, with the DejaVu fonts of the dejavu-fonts-ttf package, so no system font is
// needed). echarts and resvg are imported on first use only (echarts alone costs ~0.5 s) and then
// kept, so a warm render pays neither again. docs/charts.md.
import { createRequire } from 'node:module';
import type { Chart } from '../model/chart.js';
import { chartOption, defaultSize, type ChartTheme } from './option.js';

export interface RenderOptions {
  theme?: ChartTheme;
  /** CSS pixels; defaults from defaultSize() (800×450; a heatmap as tall as its rows need). */
  width?: number;
  height?: number;
}

export interface PngOptions extends RenderOptions {
  /** Device pixels per CSS pixel: 2 for a crisp picture on a phone. Default 1. */
  scale?: number;
  /** The font files resvg may use; default DejaVu Sans and DejaVu Sans Bold. Tests point it elsewhere. */
  fontFiles?: string[];
}

/** The face the PNG's SVG names and resvg loads. */
export const PNG_FONT_FAMILY = 'DejaVu Sans';

type Echarts = typeof import('echarts');
type ResvgModule = typeof import('@resvg/resvg-js');

let echartsP: Promise<Echarts> | undefined;
let resvgP: Promise<ResvgModule> | undefined;
let defaultFonts: string[] | undefined;

function loadEcharts(): Promise<Echarts> {
  echartsP ??= import('echarts').catch((err: unknown) => {
    echartsP = undefined;
    throw err;
  });
  return echartsP;
}

function loadResvg(): Promise<ResvgModule> {
  resvgP ??= import('@resvg/resvg-js')
    .then((m) => ((m as { default?: ResvgModule }).default ?? m) as ResvgModule)
    .catch((err: unknown) => {
      resvgP = undefined;
      throw err;
    });
  return resvgP;
}

/** DejaVu Sans (regular and bold) from the dejavu-fonts-ttf package. */
export function fontFiles(): string[] {
  if (!defaultFonts) {
    const require = createRequire(import.meta.url);
    defaultFonts = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`));
  }
  return defaultFonts;
}

async function svgWith(chart: Chart, opts: RenderOptions, fontFamily: string | undefined): Promise<string> {
  const echarts = await loadEcharts();
  const size = defaultSize(chart);
  const width = opts.width ?? size.width;
  const height = opts.height ?? size.height;
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    instance.setOption(chartOption(chart, { theme: opts.theme ?? 'light', width, height, fontFamily }));
    return instance.renderToSVGString();
  } finally {
    instance.dispose(); // always: an undisposed SSR instance keeps the process alive
  }
}

/** The chart as an SVG document (text as text, in the viewer's sans-serif). */
export function renderSvg(chart: Chart, opts: RenderOptions = {}): Promise<string> {
  return svgWith(chart, opts, undefined);
}

/** The chart as a PNG, `scale` device pixels per CSS pixel. */
export async function renderPng(chart: Chart, opts: PngOptions = {}): Promise<Buffer> {
  const [svg, { Resvg }] = await Promise.all([svgWith(chart, opts, PNG_FONT_FAMILY), loadResvg()]);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: opts.scale ?? 1 },
    font: {
      fontFiles: opts.fontFiles ?? fontFiles(),
      loadSystemFonts: false,
      defaultFontFamily: PNG_FONT_FAMILY,
      sansSerifFamily: PNG_FONT_FAMILY,
    },
    // Heatmap cells meet edge to edge: anti-aliased edges would show as seams between them.
    shapeRendering: chart.kind === 'heatmap' ? 1 : 2,
    logLevel: 'off',
  });
  return resvg.render().asPng();
}
