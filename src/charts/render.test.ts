// The renderers with the real echarts and resvg (no mocks): every fixture against its golden PNG,
// proof that text is drawn (fonts found), and the SVG's text. UPDATE_GOLDEN=1 rewrites the goldens;
// every rendered PNG also lands in test-output/charts/ for a person to look at. docs/charts.md.
import fs from 'node:fs';
import path from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { Chart } from '../model/chart.js';
import { THEME_COLOURS } from './option.js';
import { renderPng, renderSvg } from './render.js';

const ROOT = path.join(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/charts');
const GOLDEN = path.join(FIXTURES, 'golden');
const OUT = path.join(ROOT, 'test-output/charts');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** pixelmatch's per-pixel colour threshold, and the share of pixels allowed to differ. */
const THRESHOLD = 0.1;
const MAX_DIFF_SHARE = 0.005;

const names = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();
const load = (name: string): Chart => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Chart;

fs.mkdirSync(OUT, { recursive: true });

describe('renderPng against the goldens', () => {
  it('has the four fixtures', () => expect(names).toHaveLength(4));

  for (const name of names) {
    for (const theme of ['light', 'dark'] as const) {
      it(`${name} (${theme})`, async () => {
        const png = await renderPng(load(name), { theme });
        const file = `${name}.${theme}.png`;
        fs.writeFileSync(path.join(OUT, file), png);
        const goldenFile = path.join(GOLDEN, file);
        if (UPDATE) {
          fs.mkdirSync(GOLDEN, { recursive: true });
          fs.writeFileSync(goldenFile, png);
          return;
        }
        expect(fs.existsSync(goldenFile), `${goldenFile} is missing: run UPDATE_GOLDEN=1 npx vitest run src/charts`).toBe(true);
        const got = PNG.sync.read(png);
        const want = PNG.sync.read(fs.readFileSync(goldenFile));
        expect([got.width, got.height]).toEqual([want.width, want.height]);
        const diff = new PNG({ width: got.width, height: got.height });
        const differing = pixelmatch(got.data, want.data, diff.data, got.width, got.height, { threshold: THRESHOLD });
        const share = differing / (got.width * got.height);
        if (share > MAX_DIFF_SHARE) fs.writeFileSync(path.join(OUT, `${name}.${theme}.diff.png`), PNG.sync.write(diff));
        expect(share, `${differing} pixels differ (diff in test-output/charts/${name}.${theme}.diff.png)`).toBeLessThanOrEqual(MAX_DIFF_SHARE);
      });
    }
  }
});

/** Pixels in a box that differ clearly from the background colour (hex #RRGGBB). */
function inkIn(png: Buffer, box: { x: number; y: number; w: number; h: number }, background: string): number {
  const img = PNG.sync.read(png);
  const bg = [1, 3, 5].map((i) => parseInt(background.slice(i, i + 2), 16));
  let n = 0;
  for (let y = box.y; y < box.y + box.h; y++) {
    for (let x = box.x; x < box.x + box.w; x++) {
      const o = (y * img.width + x) * 4;
      const d = Math.abs(img.data[o]! - bg[0]!) + Math.abs(img.data[o + 1]! - bg[1]!) + Math.abs(img.data[o + 2]! - bg[2]!);
      if (d > 120) n++;
    }
  }
  return n;
}

describe('text is drawn (the fonts are found)', () => {
  const chart = load('slurm-states-24h');
  // The title and subtitle sit in the top-left corner, above the plot.
  const titleBox = { x: 0, y: 0, w: 420, h: 50 };
  const bg = THEME_COLOURS.light.background;

  it('the title region has ink with the title, none without it', async () => {
    const withText = inkIn(await renderPng(chart), titleBox, bg);
    const without = inkIn(await renderPng({ ...chart, title: '', subtitle: '' }), titleBox, bg);
    expect(withText).toBeGreaterThan(800);
    expect(without).toBeLessThan(20);
  });

  it('the same check sees missing fonts: no font files, no ink', async () => {
    const noFonts = inkIn(await renderPng(chart, { fontFiles: [] }), titleBox, bg);
    expect(noFonts).toBeLessThan(20);
  });

  it('scale 2 doubles the pixels', async () => {
    const img = PNG.sync.read(await renderPng(chart, { scale: 2 }));
    expect([img.width, img.height]).toEqual([1600, 900]);
  });
});

describe('large heatmaps: cells as one image', () => {
  it('look the same as one rect per cell, in a fraction of the SVG', async () => {
    const chart = load('cpu-heatmap-100x7d');
    const asImage = await renderPng(chart);
    const asRects = await renderPng(chart, { rasterMinCells: Infinity });
    const a = PNG.sync.read(asImage);
    const b = PNG.sync.read(asRects);
    const differing = pixelmatch(a.data, b.data, undefined, a.width, a.height, { threshold: THRESHOLD });
    // Only cell edges differ, by one pixel where echarts rounds a rect's edge and the image's
    // nearest-neighbour scaling rounds it the other way (seen: 1.3 % of the pixels, thin lines).
    expect(differing / (a.width * a.height)).toBeLessThanOrEqual(0.02);
    const svg = await renderSvg(chart);
    expect(svg).toContain('<image image-rendering="optimizeSpeed" preserveAspectRatio="none" ');
    expect(svg.length).toBeLessThan((await renderSvg(chart, { rasterMinCells: Infinity })).length / 4);
  });
});

describe('renderSvg', () => {
  it('contains the title and the subtitle as text', async () => {
    for (const name of names) {
      const chart = load(name);
      const svg = await renderSvg(chart);
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain(`>${chart.title}<`);
      expect(svg).toContain(`>${chart.subtitle}<`);
    }
  });

  it('a chart that cannot be drawn rejects, and the next one still renders', async () => {
    const bad = { ...load('slurm-states-24h'), series: null } as unknown as Chart;
    await expect(renderSvg(bad)).rejects.toThrow();
    expect(await renderSvg(load('slurm-states-24h'))).toContain('<svg');
  });
});
