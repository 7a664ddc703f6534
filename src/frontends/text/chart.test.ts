import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Chart, HeatmapChart, StackedChart } from '../../model/chart.js';
import { ansi256, columnSpans, MIN_CHART_WIDTH, niceScale, renderChartText } from './chart.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/charts');
const load = <T extends Chart>(name: string): T => JSON.parse(fs.readFileSync(path.join(fixtures, `${name}.json`), 'utf8')) as T;
const NAMES = ['slurm-states-24h', 'cpu-by-user-7d', 'state-heatmap-24h', 'cpu-heatmap-100x7d'] as const;

const plain = (c: Chart, width = 80) => renderChartText(c, { width, colour: false });
const lines = (s: string) => s.replace(/\n$/, '').split('\n');
// Independent of the renderer's own measure: every character these charts use is one column wide.
const columns = (line: string) => [...line.replace(/\u001b\[[0-9;]*m/g, '')].length;

/** The plot lines of a stacked chart (y label, then ┤ or │), and where the plot starts. */
function plot(out: string): { rows: string[]; start: number; first: number } {
  const all = lines(out);
  const first = all.findIndex((l) => /^ *\d[\d.kM]* ┤/.test(l));
  const rows = all.slice(first).filter((l, i, a) => /^ *[\d.kM]* [┤│]/.test(l) && a.slice(0, i).every((x) => /^ *[\d.kM]* [┤│]/.test(x)));
  return { rows, start: rows[0]!.search(/[┤│]/) + 1, first };
}

describe('renderChartText: what a terminal user sees', () => {
  for (const name of NAMES) {
    it(`draws ${name} at 80 columns (snapshot)`, async () => {
      await expect(plain(load(name))).toMatchFileSnapshot(`__snapshots__/chart-${name}.txt`);
    });
  }

  it('never prints a line wider than the terminal, in colour or not', () => {
    for (const name of NAMES) {
      for (const width of [40, 80, 160]) {
        for (const colour of [false, true]) {
          const out = renderChartText(load(name), { width, colour });
          for (const l of lines(out)) expect(columns(l), `${name} at ${width}${colour ? ' in colour' : ''}: ${l}`).toBeLessThanOrEqual(width);
        }
      }
    }
  });

  it('says "too narrow" in one short line below the minimum width', () => {
    for (const width of [MIN_CHART_WIDTH - 1, 12, 3]) {
      const out = lines(plain(load('cpu-by-user-7d'), width));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/^to/);
      expect(columns(out[0]!)).toBeLessThanOrEqual(width);
    }
    expect(plain(load('cpu-by-user-7d'), MIN_CHART_WIDTH - 1)).toBe('too narrow: needs 30 columns\n');
    expect(lines(plain(load('cpu-by-user-7d'), MIN_CHART_WIDTH)).length).toBeGreaterThan(10);
  });

  it('starts with the title and subtitle and names the unit', () => {
    const c = load<StackedChart>('cpu-by-user-7d');
    const out = lines(plain(c));
    expect(out.slice(0, 3)).toEqual([c.title, c.subtitle, 'cores']);
  });

  it('names every series in the legend with the fill it is drawn in, so piped output tells them apart', () => {
    const out = plain(load('slurm-states-24h'));
    expect(lines(out).at(-1)).toBe('█ allocated  ▓ mixed  ▒ idle  ░ down');
    const users = plain(load('cpu-by-user-7d'));
    expect(lines(users).at(-1)).toBe('█ alice  ▓ bob  ▒ carol  ░ dave  ▔ capacity  blank: no data');
    for (const fill of ['█', '▓', '▒', '░']) expect(plot(users).rows.join('')).toContain(fill);
  });

  it('has 12 plot rows by default, and the height asked for', () => {
    const c = load<StackedChart>('slurm-states-24h');
    expect(plot(plain(c)).rows).toHaveLength(12);
    expect(plot(renderChartText(c, { width: 80, colour: false, height: 6 })).rows).toHaveLength(6);
  });

  it('labels the y axis with 3–5 nice values and 0 on the x axis', () => {
    const out = lines(plain(load('slurm-states-24h')));
    const ticks = out.filter((l) => /^ *\d+ [┤└]/.test(l)).map((l) => Number(l.trim().split(' ')[0]));
    expect(ticks).toEqual([40, 30, 20, 10, 0]);
    expect(out.filter((l) => /^ *\d+ [┤└]/.test(l)).map((l) => l.search(/[┤└]/))).toEqual([3, 3, 3, 3, 3]);
  });

  it('leaves blank columns where the data has its 4-hour gap (and only there)', () => {
    for (const width of [80, 160]) {
      const c = load<StackedChart>('cpu-by-user-7d');
      const { rows, start } = plot(plain(c, width));
      const spans = columnSpans(c.times.length, columns(rows[0]!) - start);
      const inGap = spans.map(([from, to]) => from >= 60 && to <= 64);
      expect(inGap.filter(Boolean).length, `width ${width}`).toBeGreaterThan(0);
      spans.forEach((_, col) => {
        const column = rows.map((r) => r[start + col] ?? ' ').join('');
        if (inGap[col]) expect(column.trim(), `column ${col} at ${width}`).toBe('');
        else expect(column.trim(), `column ${col} at ${width}`).not.toBe('');
      });
    }
  });

  it('draws the capacity at its height: 256 cores on the 250 row edge, 224 after the drop', () => {
    const { rows, start } = plot(plain(load('cpu-by-user-7d')));
    const at = (label: string) => rows.findIndex((r) => r.startsWith(`${label} ┤`));
    // 300 / 12 rows = 25 cores a row: the 200 tick's row has its top edge at 200.
    expect(at('300')).toBe(0);
    expect(at('200')).toBe(4);
    const first = rows.map((r) => r[start]);
    const last = rows.map((r) => r.at(-1));
    expect(first.indexOf('▔')).toBe(at('200') - 2); // top edge at 250 ≈ 256
    expect(last.indexOf('▔')).toBe(at('200') - 1); // top edge at 225 ≈ 224
    expect(rows.filter((r) => r.includes('▔')).length).toBe(2);
  });

  it('labels times in the chart zone: HH:MM within 2 days, weekday and day beyond', () => {
    const day = lines(plain(load('slurm-states-24h')));
    const dayLabels = day[day.length - 2]!.trim().split(/\s+/);
    expect(dayLabels.length).toBeGreaterThanOrEqual(3);
    expect(dayLabels.length).toBeLessThanOrEqual(6);
    expect(dayLabels).toContain('00:00'); // Berlin midnight, 23:00 UTC
    for (const l of dayLabels) expect(l).toMatch(/^\d\d:\d\d$/);
    const week = lines(plain(load('cpu-by-user-7d')));
    expect(week[week.length - 2]!.trim().split(/\s+/).join(' ')).toBe('Tue 1 Thu 3 Sat 5 Mon 7');
    // Each label is centred under its ┬.
    const axis = week[week.length - 3]!;
    const labelsLine = week[week.length - 2]!;
    const ticks = [...axis].flatMap((ch, i) => (ch === '┬' ? [i] : []));
    expect(ticks).toHaveLength(4);
    for (const t of ticks) expect(labelsLine[t]).not.toBe(' ');
  });

  it('uses ANSI colours only when asked', () => {
    for (const name of NAMES) {
      expect(plain(load(name))).not.toContain('\u001b');
      const coloured = renderChartText(load(name), { width: 80, colour: true });
      expect(coloured).toMatch(/\u001b\[38;5;\d+m/);
      // Same layout, same lines.
      expect(lines(coloured)).toHaveLength(lines(plain(load(name))).length);
    }
    // Each series in its tone's colour: allocated bluish green, mixed orange, idle sky blue, down vermillion.
    const coloured = renderChartText(load('slurm-states-24h'), { width: 80, colour: true });
    for (const code of [35, 178, 74, 166]) expect(coloured).toContain(`38;5;${code}m`);
  });
});

describe('heatmaps', () => {
  it('prints one line per row, labels right-aligned to the longest, then the time axis and the legend', () => {
    const c = load<HeatmapChart>('cpu-heatmap-100x7d');
    const out = lines(plain(c));
    const body = out.filter((l) => /^ *node\d+ │/.test(l));
    expect(body).toHaveLength(100);
    expect(body.map((l) => l.trim().split(' ')[0])).toEqual(c.rows);
    expect(out).toHaveLength(2 + 100 + 2 + 1);
    expect(out[102]).toMatch(/^ {8}└─/);
    expect(out.at(-1)).toBe("' ' 0  ░ ≤25  ▒ ≤50  ▓ ≤75  █ ≤100%  ? no data");
  });

  it('shows no data as ? where a node stopped reporting', () => {
    const c = load<HeatmapChart>('cpu-heatmap-100x7d');
    const row = lines(plain(c)).find((l) => l.startsWith('node043 │'))!;
    const cells = row.slice('node043 │'.length);
    const spans = columnSpans(c.times.length, cells.length);
    spans.forEach(([from, to], col) => {
      if (from >= 91) expect(cells[col]).toBe('?');
      if (to <= 91) expect(cells[col]).not.toBe('?');
    });
  });

  it('shows the down period with the down character in the down node\'s row only', () => {
    const c = load<HeatmapChart>('state-heatmap-24h');
    const out = lines(plain(c));
    expect(out.at(-1)).toBe('· idle  ▒ mixed  █ allocated  X down  ? no data');
    const body = out.filter((l) => /^ *gpu\d+ │/.test(l));
    expect(body).toHaveLength(12);
    const gpu4 = body.find((l) => l.trim().startsWith('gpu4 '))!;
    const cells = gpu4.slice(gpu4.indexOf('│') + 1);
    const spans = columnSpans(c.times.length, cells.length);
    spans.forEach(([from, to], col) => {
      if (from >= 100 && to <= 120) expect(cells[col], `column ${col}`).toBe('X');
      if (to <= 100 || from >= 120) expect(cells[col], `column ${col}`).not.toBe('X');
    });
    expect(body.filter((l) => l.includes('X'))).toEqual([gpu4]);
    // gpu8 has no data for its first hour.
    expect(body.find((l) => l.trim().startsWith('gpu8 '))!).toMatch(/│\?\?\?[^?]/);
  });

  it('cuts long row labels at 16 columns', () => {
    const c: HeatmapChart = { ...load<HeatmapChart>('state-heatmap-24h'), rows: ['a-very-long-node-name.cluster.example.org', 'b'], cells: [[0, 1], [2, 3]], times: [0, 600_000] };
    const out = lines(plain(c));
    expect(out[2]).toMatch(/^a-very-long-nod… │/);
    expect(out[3]).toMatch(/^ {15}b │/);
  });
});

describe('helpers', () => {
  it('nice scales: 2–4 intervals of 1, 2, 2.5 or 5 × 10^k', () => {
    expect(niceScale(40)).toEqual({ step: 10, top: 40 });
    expect(niceScale(256)).toEqual({ step: 100, top: 300 });
    expect(niceScale(7)).toEqual({ step: 2, top: 8 });
    expect(niceScale(100)).toEqual({ step: 25, top: 100 });
    expect(niceScale(0)).toEqual({ step: 1, top: 1 });
  });

  it('maps the chart colours to the nearest ANSI 256 colours', () => {
    expect(['#56B4E9', '#E69F00', '#009E73', '#D55E00', '#0072B2', '#BBBBBB', '#F0E442', '#CC79A7'].map(ansi256)).toEqual([74, 178, 35, 166, 25, 250, 221, 175]);
    expect(ansi256('#999999')).toBe(247);
  });

  it('splits times into columns, stretching when there are fewer times than columns', () => {
    expect(columnSpans(6, 3)).toEqual([[0, 2], [2, 4], [4, 6]]);
    expect(columnSpans(2, 4)).toEqual([[0, 1], [0, 1], [1, 2], [1, 2]]);
  });
});
