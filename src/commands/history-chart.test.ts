// History answers turned into charts: what a person reads off them — busy vs free vs the
// capacity of nodes that were down, a SLURM partition's states, each node's cell in a heatmap.
import { describe, expect, it } from 'vitest';
import type { NodeHistory, SlurmHistory } from '../model/history.js';
import { chartHasData, gpusHeatmap, nodesHeatmap, nodesStacked, rangeSubtitle, slurmHeatmap, slurmStacked, stackedFields } from './history-chart.js';

const H = 3_600_000;
const T0 = Date.parse('2026-11-30T09:00:00Z');
const times = [T0, T0 + H, T0 + 2 * H];
const range = { sinceMs: T0, untilMs: T0 + 3 * H, stepMs: H, resolution: 3600 as const, times };

const nodes: NodeHistory = {
  ...range,
  hosts: [
    { host: 'a', used: [4, 6, 8], capacity: [8, 8, 8], state: ['fresh', 'fresh', 'fresh'] },
    { host: 'b', used: [2, null, null], capacity: [4, 4, 4], state: ['fresh', 'down', 'down'] },
    { host: 'c', used: [null, null, 1], capacity: [null, null, 16], state: [null, null, 'fresh'] },
  ],
};

describe('nodesStacked', () => {
  it('busy, free, and the capacity of down nodes stack to the lab\'s capacity', () => {
    const c = nodesStacked(nodes, 'cpu', 'Europe/Berlin');
    expect(c.title).toBe('CPU cores busy on 3 nodes');
    expect(c.series.map((s) => [s.name, s.tone, s.values])).toEqual([
      ['used', 'used', [6, 6, 9]],
      ['free', 'free', [6, 2, 15]],
      ['down or stale', 'down', [0, 4, 4]],
    ]);
    expect(c.subtitle).toBe('last 3 h · 30 Nov 10:00 – 30 Nov 13:00 (Europe/Berlin)');
    expect(stackedFields(c).map((f) => `${f.name}: ${f.value}`)).toEqual([
      'used: now 9 cores · avg 7 cores · peak 9 cores',
      'free: now 15 cores · avg 7.67 cores · peak 15 cores',
      'down or stale: now 4 cores · avg 2.67 cores · peak 4 cores',
      'capacity: now 28 cores · peak 28 cores',
    ]);
  });

  it('memory in GiB; a series never above zero gets no figure line', () => {
    const mem: NodeHistory = { ...range, hosts: [{ host: 'a', used: [2 * 1024 ** 3, null, null], capacity: [8 * 1024 ** 3, null, null], state: ['fresh', null, null] }] };
    const c = nodesStacked(mem, 'mem', 'UTC');
    expect(c).toMatchObject({ unit: 'GiB', title: 'Memory used on a' });
    expect(c.series[0]!.values).toEqual([2, null, null]);
    expect(stackedFields(c).map((f) => f.name)).toEqual(['used', 'free', 'capacity']);
  });

  it('an empty history has no data (the command says so instead of drawing nothing)', () => {
    expect(chartHasData(nodesStacked({ ...range, hosts: [] }, 'cpu', 'UTC'))).toBe(false);
    expect(chartHasData(nodesStacked(nodes, 'cpu', 'UTC'))).toBe(true);
  });
});

describe('heatmaps', () => {
  it('agent nodes: % of each node\'s own capacity, load per core, or the state', () => {
    expect(nodesHeatmap(nodes, 'cpu', 'UTC')).toMatchObject({ rows: ['a', 'b', 'c'], cells: [[50, 75, 100], [50, null, null], [null, null, 6]], scale: { max: 100 }, unit: '%' });
    expect(nodesHeatmap(nodes, 'load', 'UTC')).toMatchObject({ cells: [[0.5, 0.75, 1], [0.5, null, null], [null, null, 0.06]], scale: { max: 2 } });
    const s = nodesHeatmap(nodes, 'state', 'UTC');
    expect(s.cells).toEqual([[0, 0, 0], [0, 2, 2], [null, null, 0]]);
    expect(s.states!.map((x) => x.name)).toEqual(['reporting', 'stale', 'down']);
  });

  it('GPUs: a row per GPU, its utilisation in %', () => {
    const g = gpusHeatmap({ ...range, gpus: [{ host: 'g1', gpu: 0, util: [100, 100, 0], mem_used: [1, 1, 1], mem_total: [2, 2, 2] }, { host: 'g1', gpu: 1, util: [null, 42.4, 101], mem_used: [null, 1, 1], mem_total: [null, 2, 2] }] }, 'UTC');
    expect(g).toMatchObject({ rows: ['g1/0', 'g1/1'], cells: [[100, 100, 0], [null, 42, 100]], unit: '%', scale: { max: 100 } });
  });

  it('SLURM: each node\'s state; a partition\'s nodes by state, cores allocated vs total', () => {
    const h: SlurmHistory = {
      ...range,
      partitions: [{ partition: 'gpu', nodes: { allocated: [1, 2, 2], mixed: [0, 0, 1], idle: [2, 1, 0], down: [1, 1, 1] }, cpus_alloc: [32, 64, 80], cpus_total: [128, 128, 128], gpus_alloc: [4, 8, 9], gpus_total: [16, 16, 16], jobs_running: [1, 2, 3], jobs_pending: [0, 3, 1] }],
      nodes: [{ node: 'g1', state: ['allocated', 'allocated', 'mixed'] }, { node: 'g4', state: ['down', 'down', null] }],
    };
    const st = slurmStacked(h, 'nodes', 'UTC');
    expect(st.title).toBe('Partition gpu: nodes by state');
    expect(st.series.map((s) => `${s.name}=${s.values.join(',')}`)).toEqual(['allocated=1,2,2', 'mixed=0,0,1', 'idle=2,1,0', 'down=1,1,1']);
    const cpu = slurmStacked(h, 'cpu', 'UTC');
    expect(cpu.series.map((s) => s.values)).toEqual([[32, 64, 80], [96, 64, 48]]);
    expect(cpu.capacity).toEqual([128, 128, 128]);
    expect(slurmHeatmap(h, 'UTC')).toMatchObject({ rows: ['g1', 'g4'], cells: [[2, 2, 1], [3, 3, null]], states: [{ name: 'idle' }, { name: 'mixed' }, { name: 'allocated' }, { name: 'down' }] });
  });
});

it('rangeSubtitle names the span in minutes, hours or days, in the zone', () => {
  expect(rangeSubtitle(T0, T0 + 10 * 60_000, 'UTC')).toBe('last 10 min · 30 Nov 09:00 – 30 Nov 09:10 (UTC)');
  expect(rangeSubtitle(T0, T0 + 7 * 24 * H, 'America/New_York')).toBe('last 7 days · 30 Nov 04:00 – 7 Dec 04:00 (America/New_York)');
});
