// The option builder: what each chart kind turns into, checked on the fixed fixtures.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHART_COLOURS, type Chart, type HeatmapChart, type StackedChart } from '../model/chart.js';
import { chartOption, defaultSize, SEQUENTIAL_RAMP, timeTicks } from './option.js';

const FIXTURES = path.join(import.meta.dirname, '../../test/fixtures/charts');
const load = <T extends Chart>(name: string): T => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as T;
const opts = { theme: 'light' as const, width: 800, height: 450 };

/* eslint-disable @typescript-eslint/no-explicit-any -- the option's unions are read loosely here */
describe('chartOption: stacked', () => {
  const chart = load<StackedChart>('cpu-by-user-7d');
  const o = chartOption(chart, opts) as any;

  it('has one stacked area series per chart series, coloured by tone, then the capacity', () => {
    expect(o.series).toHaveLength(chart.series.length + 1);
    chart.series.forEach((s, i) => {
      const e = o.series[i];
      expect(e).toMatchObject({ type: 'line', name: s.name, stack: 'total', showSymbol: false, connectNulls: false });
      expect(e.areaStyle.color).toBe(CHART_COLOURS[s.tone]);
      expect(e.itemStyle.color).toBe(CHART_COLOURS[s.tone]);
    });
  });

  it('draws the capacity as a dashed line outside the stack', () => {
    const cap = o.series.at(-1);
    expect(cap.name).toBe('capacity');
    expect(cap.stack).toBeUndefined();
    expect(cap.areaStyle).toBeUndefined();
    expect(cap.lineStyle.type).toBe('dashed');
    expect(cap.data).toEqual(chart.capacity);
  });

  it('keeps null buckets as gaps', () => {
    const gaps = chart.series[0]!.values.flatMap((v, i) => (v === null ? [i] : []));
    expect(gaps.length).toBeGreaterThan(0); // the fixture's 4-hour gap
    for (const i of gaps) expect(o.series[0].data[i]).toBeNull();
    expect(o.series[0].data).toEqual(chart.series[0]!.values);
  });

  it('names the y axis with the unit, the title and subtitle, the legend at the bottom', () => {
    expect(o.yAxis.name).toBe('cores');
    expect(o.title).toMatchObject({ text: chart.title, subtext: chart.subtitle });
    expect(o.legend.bottom).toBeDefined();
    expect(o.legend.data.map((d: any) => d.name)).toEqual([...chart.series.map((s) => s.name), 'capacity']);
    expect(o.textStyle.fontSize).toBeGreaterThanOrEqual(12);
  });

  it('labels 7 days by local date, at local midnights', () => {
    const shown = o.xAxis.data.flatMap((_: string, i: number) => (o.xAxis.axisLabel.interval(i) ? [o.xAxis.axisLabel.formatter('', i)] : []));
    expect(shown).toEqual(['1 Dec', '2 Dec', '3 Dec', '4 Dec', '5 Dec', '6 Dec', '7 Dec']);
  });
});

describe('chartOption: time labels in the chart time zone', () => {
  const chart = load<StackedChart>('slurm-states-24h');

  it('a Europe/Berlin hour: the first bucket (09:00 UTC) is 10:00, 12:00 Berlin is labelled', () => {
    const o = chartOption(chart, opts) as any;
    expect(new Date(chart.times[0]!).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    expect(o.xAxis.data[0]).toBe('Mon 30 Nov 10:00');
    const i = chart.times.indexOf(Date.parse('2026-11-30T11:00:00Z'));
    expect(o.xAxis.axisLabel.interval(i)).toBe(true);
    expect(o.xAxis.axisLabel.formatter('', i)).toBe('12:00');
    // Local midnight shows the date instead of 00:00.
    const m = chart.times.indexOf(Date.parse('2026-11-30T23:00:00Z'));
    expect(o.xAxis.axisLabel.formatter('', m)).toBe('1 Dec');
  });

  it('the same chart in UTC says 09:00', () => {
    const o = chartOption({ ...chart, tz: 'UTC' }, opts) as any;
    expect(o.xAxis.data[0]).toBe('Mon 30 Nov 09:00');
  });

  it('never shows more labels than fit at ~70 px each', () => {
    for (const width of [320, 800, 1600]) {
      const t = timeTicks(chart.times, chart.stepMs, chart.tz, width);
      expect(t.shown.filter(Boolean).length).toBeLessThanOrEqual(Math.max(2, Math.floor(width / 70)));
      expect(t.shown.filter(Boolean).length).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('chartOption: heatmap', () => {
  it('a numeric scale gets a continuous visualMap 0..max on a sequential ramp', () => {
    const chart = load<HeatmapChart>('cpu-heatmap-100x7d');
    const o = chartOption(chart, { ...opts, ...defaultSize(chart) }) as any;
    expect(o.visualMap[0]).toMatchObject({ type: 'continuous', min: 0, max: 100, seriesIndex: 0 });
    expect(o.visualMap[0].inRange.color).toEqual(SEQUENTIAL_RAMP);
    expect(o.visualMap[0].text.join(' ')).toContain('%');
  });

  it('states get a piecewise visualMap with the tone colours', () => {
    const chart = load<HeatmapChart>('state-heatmap-24h');
    const o = chartOption(chart, { ...opts, ...defaultSize(chart) }) as any;
    expect(o.visualMap[0].type).toBe('piecewise');
    expect(o.visualMap[0].pieces).toEqual(chart.states!.map((s, i) => ({ value: i, label: s.name, color: CHART_COLOURS[s.tone] })));
  });

  it('null cells are a separate "no data" series, never a value', () => {
    const chart = load<HeatmapChart>('state-heatmap-24h');
    const o = chartOption(chart, { ...opts, ...defaultSize(chart) }) as any;
    const nulls = chart.cells.flat().filter((v) => v === null).length;
    expect(nulls).toBeGreaterThan(0);
    expect(o.series[0].data).toHaveLength(chart.cells.flat().length - nulls);
    expect(o.series[1].name).toBe('no data');
    expect(o.series[1].data).toHaveLength(nulls);
    expect(o.legend.data).toEqual(['no data']);
  });

  it('rows top to bottom; 100 rows: the default height gives each row a labelled 14 px', () => {
    const chart = load<HeatmapChart>('cpu-heatmap-100x7d');
    const size = defaultSize(chart);
    expect(size.height).toBeGreaterThanOrEqual(100 * 14);
    const o = chartOption(chart, { ...opts, ...size }) as any;
    expect(o.yAxis).toMatchObject({ type: 'category', inverse: true, data: chart.rows });
    expect(o.yAxis.axisLabel.interval).toBe(0);
    // Squeezed into 450 px, echarts thins the labels instead of overlapping them.
    expect((chartOption(chart, opts) as any).yAxis.axisLabel.interval).toBe('auto');
  });

  it('a stacked chart defaults to 800×450, a small heatmap stays phone-sized', () => {
    expect(defaultSize(load('cpu-by-user-7d'))).toEqual({ width: 800, height: 450 });
    const small = defaultSize(load('state-heatmap-24h'));
    expect(small.width).toBe(800);
    expect(small.height).toBeLessThanOrEqual(600);
  });
});

describe('a value alone between gaps', () => {
  it('draws the stack as touching bars (an area of one point would not show); areas otherwise', () => {
    const c = load<StackedChart>('cpu-by-user-7d');
    expect((chartOption(c, opts).series as { type: string }[])[0]!.type).toBe('line');
    const lonely: StackedChart = { ...c, series: c.series.map((s) => ({ ...s, values: s.values.map((v, i) => (i === s.values.length - 1 ? v : null)) })) };
    const series = chartOption(lonely, opts).series as { type: string; stack?: string; barCategoryGap?: string }[];
    expect(series.filter((s) => s.stack === 'total').every((s) => s.type === 'bar' && s.barCategoryGap === '0%')).toBe(true);
  });
});

describe('a heatmap on a phone', () => {
  it('puts "no data" on its own line above the colour legend, and shortens a continuous one to fit', () => {
    const c = load<HeatmapChart>('cpu-heatmap-100x7d');
    const wide = chartOption(c, { ...opts, width: 800, height: 900 }) as { legend: { bottom: number }; visualMap: { bottom: number; itemHeight?: number }[] };
    const phone = chartOption(c, { ...opts, width: 390, height: 900 }) as typeof wide;
    expect(wide.legend.bottom).toBe(wide.visualMap[0]!.bottom);
    expect(phone.legend.bottom).toBeGreaterThan(phone.visualMap[0]!.bottom + 12);
    expect(phone.visualMap[0]!.itemHeight).toBeLessThanOrEqual(390 - 190);
  });
});

describe('interactive (the dashboard)', () => {
  it('adds zoom on the time axis only when asked; the pictures have none', () => {
    const c = load<StackedChart>('slurm-states-24h');
    expect(chartOption(c, opts).dataZoom).toBeUndefined();
    expect(chartOption(c, { ...opts, interactive: true }).dataZoom).toEqual([expect.objectContaining({ type: 'inside', xAxisIndex: 0 })]);
  });
});
