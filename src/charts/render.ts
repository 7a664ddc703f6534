// Draws a neutral chart (model/chart.ts) as SVG (echarts server-side rendering) or PNG (that SVG
// through resvg, with the DejaVu fonts of the dejavu-fonts-ttf package, so no system font is
// needed). echarts and resvg are imported on first use only (echarts alone costs ~0.5 s) and then
// kept, so a warm render pays neither again. docs/charts.md.
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import type { Chart, HeatmapChart } from '../model/chart.js';
import { chartOption, defaultSize, heatmapCellColour, type ChartTheme } from './option.js';

export interface RenderOptions {
  theme?: ChartTheme;
  /** CSS pixels; defaults from defaultSize() (800×450; a heatmap as tall as its rows need). */
  width?: number;
  height?: number;
  /** A heatmap with this many cells or more is drawn with its cells as one image (RASTER_MIN_CELLS). */
  rasterMinCells?: number;
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

/**
 * From this many cells on, a heatmap's cells are drawn as one image (a pixel per cell, scaled up
 * without smoothing) instead of one SVG rect each: 100 nodes × 7 days of hours is 16,800 rects,
 * ~0.5 s of echarts and 2.8 MB of SVG; as an image, a few ms. Same colours (heatmapCellColour),
 * same axes, legend and "no data" cells (still a series of their own, drawn over the image).
 */
export const RASTER_MIN_CELLS = 4000;

/** A PNG with one pixel per cell, transparent where a cell has no data. */
export function cellsPng(chart: HeatmapChart): Buffer {
  const cols = chart.times.length;
  const rows = chart.rows.length;
  const colour = heatmapCellColour(chart);
  const stride = cols * 4 + 1;
  const raw = Buffer.alloc(stride * rows); // filter byte 0 (none) per scanline, RGBA after it
  for (let y = 0; y < rows; y++) {
    const row = chart.cells[y] ?? [];
    for (let x = 0; x < cols; x++) {
      const v = row[x];
      if (v === null || v === undefined) continue;
      const o = y * stride + 1 + x * 4;
      const [r, g, b] = colour(v);
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
      raw[o + 3] = 255;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(cols, 0);
  ihdr.writeUInt32BE(rows, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

type Instance = ReturnType<Echarts['init']>;

/** Swap a large heatmap's cell rects for one image over the same grid cells (RASTER_MIN_CELLS). */
function rasterise(instance: Instance, chart: HeatmapChart): void {
  const cols = chart.times.length;
  const rows = chart.rows.length;
  const at = (x: number, y: number) => instance.convertToPixel({ gridIndex: 0 }, [x, y]) as unknown as [number, number];
  const [x0, y0] = at(0, 0);
  const [x1, y1] = at(cols - 1, rows - 1);
  const cw = (x1 - x0) / (cols - 1);
  const ch = (y1 - y0) / (rows - 1);
  const image = `data:image/png;base64,${cellsPng(chart).toString('base64')}`;
  instance.setOption({
    graphic: [{ type: 'image', silent: true, z: 1, style: { image, x: x0 - cw / 2, y: y0 - ch / 2, width: cw * cols, height: ch * rows } }],
  });
}

async function svgWith(chart: Chart, opts: RenderOptions, fontFamily: string | undefined): Promise<string> {
  const echarts = await loadEcharts();
  const size = defaultSize(chart);
  const width = opts.width ?? size.width;
  const height = opts.height ?? size.height;
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    const option = chartOption(chart, { theme: opts.theme ?? 'light', width, height, fontFamily });
    const raster = chart.kind === 'heatmap' && chart.times.length >= 2 && chart.rows.length >= 2 && chart.times.length * chart.rows.length >= (opts.rasterMinCells ?? RASTER_MIN_CELLS);
    // setOption draws at once (SSR): the cells must be gone before, not swapped out after.
    if (raster && Array.isArray(option.series)) option.series = option.series.map((s, i) => (i === 0 ? { ...s, data: [] } : s)) as typeof option.series;
    instance.setOption(option);
    if (raster) rasterise(instance, chart);
    const svg = instance.renderToSVGString();
    // Cells stay crisp squares when the image is scaled up (no smoothing) and fill the grid exactly
    // (no aspect ratio kept), in resvg and in browsers.
    return raster ? svg.replace('<image ', '<image image-rendering="optimizeSpeed" preserveAspectRatio="none" ') : svg;
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
