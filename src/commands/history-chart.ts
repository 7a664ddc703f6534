// From history answers (model/history.ts) to the neutral chart (model/chart.ts) and the message
// around it: capacity vs usage stacked over time, a node × time heatmap, and the figures a person
// reads beside the picture (now, average, peak). Pure: the history, heatmap and report commands
// call these; every front end draws the chart they return.
import { formatBytes } from '../lib/format.js';
import type { Chart, ChartSeries, HeatmapChart, StackedChart } from '../model/chart.js';
import { SLURM_HISTORY_STATES, type GpuHistory, type HistoryState, type JobsHistory, type NodeHistory, type NodeMetric, type SlurmHistory, type SlurmHistoryState } from '../model/history.js';
import type { MessageField } from '../model/message.js';

export type HistoryMetric = NodeMetric | 'jobs';

const GIB = 1024 ** 3;

/** The unit a metric is charted in, and how a value is scaled to it. */
const UNITS: Record<NodeMetric, { unit: string; scale: number; what: string }> = {
  cpu: { unit: 'cores', scale: 1, what: 'CPU cores busy' },
  load: { unit: 'load', scale: 1, what: 'load (1 min) vs cores' },
  mem: { unit: 'GiB', scale: 1 / GIB, what: 'memory used' },
  gpu: { unit: 'GPUs', scale: 1, what: 'GPUs busy (utilisation × GPUs)' },
  gpu_mem: { unit: 'GiB', scale: 1 / GIB, what: 'GPU memory used' },
  users: { unit: 'users', scale: 1, what: 'users with busy processes' },
};

const round = (v: number) => Math.round(v * 100) / 100;

/** "last 24 h · 30 Nov 10:00 – 1 Dec 10:00 (Europe/Berlin)". */
export function rangeSubtitle(sinceMs: number, untilMs: number, tz: string): string {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const at = (ms: number) => {
    const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
    return `${p.day} ${p.month} ${p.hour}:${p.minute}`;
  };
  const minutes = Math.round((untilMs - sinceMs) / 60_000);
  const span = minutes < 60 ? `last ${minutes} min` : minutes < 48 * 60 ? `last ${Math.round(minutes / 60)} h` : `last ${Math.round(minutes / 1440)} days`;
  return `${span} · ${at(sinceMs)} – ${at(untilMs)} (${tz})`;
}

function sumAt(series: readonly (number | null)[][], i: number): number | null {
  let s: number | null = null;
  for (const v of series) if (v[i] !== null && v[i] !== undefined) s = (s ?? 0) + v[i]!;
  return s;
}

/** Now, average and peak of a series (its nulls left out). */
export function figures(values: readonly (number | null)[]): { now: number | null; avg: number | null; peak: number | null } {
  const known = values.filter((v): v is number => v !== null);
  if (!known.length) return { now: null, avg: null, peak: null };
  return { now: [...values].reverse().find((v) => v !== null) ?? null, avg: known.reduce((a, b) => a + b, 0) / known.length, peak: Math.max(...known) };
}

/**
 * The lab's agent nodes stacked: busy (tone used), free capacity on nodes that reported (free),
 * and the capacity of nodes that were stale or down (down) — together, the lab's capacity.
 */
export function nodesStacked(h: NodeHistory, metric: NodeMetric, tz: string): StackedChart {
  const u = UNITS[metric];
  const used: (number | null)[] = [];
  const free: (number | null)[] = [];
  const down: (number | null)[] = [];
  const cap: (number | null)[] = [];
  for (let i = 0; i < h.times.length; i++) {
    let a: number | null = null;
    let f: number | null = null;
    let d: number | null = null;
    for (const host of h.hosts) {
      const state: HistoryState | null = host.state[i] ?? null;
      const c = host.capacity[i];
      if (state === 'down' || state === 'stale') {
        if (c !== null && c !== undefined) d = (d ?? 0) + c * u.scale;
        continue;
      }
      const v = host.used[i];
      if (v === null || v === undefined) continue;
      a = (a ?? 0) + v * u.scale;
      if (c !== null && c !== undefined && metric !== 'users') f = (f ?? 0) + Math.max(0, c - v) * u.scale;
    }
    used.push(a === null ? null : round(a));
    free.push(f === null ? null : round(f));
    down.push(d === null ? (a === null ? null : 0) : round(d));
    cap.push(a === null && d === null ? null : round((a ?? 0) + (f ?? 0) + (d ?? 0)));
  }
  const series: ChartSeries[] = [{ name: metric === 'load' ? 'load' : 'used', tone: 'used', values: used }];
  if (metric !== 'users') series.push({ name: 'free', tone: 'free', values: free }, { name: 'down or stale', tone: 'down', values: down });
  return {
    kind: 'stacked',
    title: `${cap1(u.what)}${h.hosts.length === 1 ? ` on ${h.hosts[0]!.host}` : ` on ${h.hosts.length} nodes`}`,
    subtitle: rangeSubtitle(h.sinceMs, h.untilMs, tz),
    unit: u.unit,
    times: h.times,
    stepMs: h.stepMs,
    tz,
    series,
  };
}

const cap1 = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A SLURM partition (or all of them, summed) over time: nodes by state, or cores / GPUs allocated vs total, or jobs. */
export function slurmStacked(h: SlurmHistory, metric: 'nodes' | 'cpu' | 'gpu' | 'jobs', tz: string): StackedChart {
  const parts = h.partitions;
  const name = parts.length === 1 ? `Partition ${parts[0]!.partition}` : `${parts.length} partitions`;
  const at = (pick: (p: (typeof parts)[number]) => (number | null)[]) => h.times.map((_, i) => {
    const v = sumAt(parts.map(pick), i);
    return v === null ? null : round(v);
  });
  const base = { kind: 'stacked' as const, subtitle: rangeSubtitle(h.sinceMs, h.untilMs, tz), times: h.times, stepMs: h.stepMs, tz };
  if (metric === 'nodes') {
    return { ...base, title: `${name}: nodes by state`, unit: 'nodes', series: SLURM_HISTORY_STATES.map((s) => ({ name: s, tone: s, values: at((p) => p.nodes[s]) })) };
  }
  if (metric === 'jobs') {
    return { ...base, title: `${name}: jobs`, unit: 'jobs', series: [{ name: 'running', tone: 'running', values: at((p) => p.jobs_running) }, { name: 'pending', tone: 'pending', values: at((p) => p.jobs_pending) }] };
  }
  const alloc = at((p) => (metric === 'cpu' ? p.cpus_alloc : p.gpus_alloc));
  const total = at((p) => (metric === 'cpu' ? p.cpus_total : p.gpus_total));
  const idle = alloc.map((a, i) => (a === null || total[i] === null ? null : round(Math.max(0, total[i]! - a))));
  return {
    ...base,
    title: `${name}: ${metric === 'cpu' ? 'cores' : 'GPUs'} allocated vs total`,
    unit: metric === 'cpu' ? 'cores' : 'GPUs',
    series: [{ name: 'allocated', tone: 'allocated', values: alloc }, { name: 'idle', tone: 'idle', values: idle }],
    capacity: total,
  };
}

/** flurm jobs over time: running, and (as their own series) ended failed per bucket. */
export function jobsStacked(h: JobsHistory, tz: string): StackedChart {
  return {
    kind: 'stacked',
    title: 'flurm jobs running',
    subtitle: rangeSubtitle(h.sinceMs, h.untilMs, tz),
    unit: 'jobs',
    times: h.times,
    stepMs: h.stepMs,
    tz,
    series: [{ name: 'running', tone: 'running', values: h.running }],
  };
}

/** Each agent node × time: a metric in % of the node's capacity (or load per core), or its state. */
export function nodesHeatmap(h: NodeHistory, metric: NodeMetric | 'state', tz: string): HeatmapChart {
  const base = { kind: 'heatmap' as const, subtitle: rangeSubtitle(h.sinceMs, h.untilMs, tz), times: h.times, stepMs: h.stepMs, tz, rows: h.hosts.map((x) => x.host) };
  if (metric === 'state') {
    const states: HistoryState[] = ['fresh', 'stale', 'down'];
    return {
      ...base,
      title: 'Node states',
      unit: 'state',
      cells: h.hosts.map((x) => x.state.map((s) => (s === null ? null : states.indexOf(s)))),
      states: [{ name: 'reporting', tone: 'ok' }, { name: 'stale', tone: 'stale' }, { name: 'down', tone: 'down' }],
    };
  }
  const perCore = metric === 'load';
  return {
    ...base,
    title: perCore ? 'Load per core, per node' : `${cap1(UNITS[metric].what)} per node, % of the node's`,
    unit: perCore ? 'load / core' : '%',
    cells: h.hosts.map((x) =>
      x.used.map((v, i) => {
        const c = x.capacity[i];
        if (v === null || v === undefined || !c) return null;
        return perCore ? round(v / c) : Math.round(Math.min(100, (v / c) * 100));
      }),
    ),
    scale: { max: perCore ? 2 : 100 },
  };
}

/** Each GPU × time ("gpu3/0"): its utilisation in % — the one stuck at 0 or at 100 shows. */
export function gpusHeatmap(h: GpuHistory, tz: string): HeatmapChart {
  return {
    kind: 'heatmap',
    title: 'GPU utilisation per GPU',
    subtitle: rangeSubtitle(h.sinceMs, h.untilMs, tz),
    unit: '%',
    times: h.times,
    stepMs: h.stepMs,
    tz,
    rows: h.gpus.map((g) => `${g.host}/${g.gpu}`),
    cells: h.gpus.map((g) => g.util.map((v) => (v === null ? null : Math.round(Math.min(100, Math.max(0, v)))))),
    scale: { max: 100 },
  };
}

/** Each SLURM node × time: its state (the most held in each bucket). */
export function slurmHeatmap(h: SlurmHistory, tz: string): HeatmapChart {
  const order: SlurmHistoryState[] = ['idle', 'mixed', 'allocated', 'down'];
  return {
    kind: 'heatmap',
    title: `${h.partitions.length === 1 ? `Partition ${h.partitions[0]!.partition}` : 'SLURM'}: node states`,
    subtitle: rangeSubtitle(h.sinceMs, h.untilMs, tz),
    unit: 'state',
    times: h.times,
    stepMs: h.stepMs,
    tz,
    rows: h.nodes.map((n) => n.node),
    cells: h.nodes.map((n) => n.state.map((s) => (s === null ? null : order.indexOf(s)))),
    states: order.map((s) => ({ name: s, tone: s })),
  };
}

/** "12.5 cores" / "40 GiB": a value in a chart's unit, for the figures beside it. */
export function formatValue(v: number | null, unit: string): string {
  if (v === null) return '—';
  if (unit === 'GiB') return formatBytes(v * GIB);
  return `${round(v)} ${unit}`;
}

/** The figures under a stacked chart: each series now / average / peak, and the capacity. */
export function stackedFields(c: StackedChart): MessageField[] {
  // A series that was never above zero (no node down all along) says nothing worth a line.
  const fields: MessageField[] = c.series.flatMap((s) => {
    const f = figures(s.values);
    if (!f.peak) return [];
    return [{ name: s.name, value: `now ${formatValue(f.now, c.unit)} · avg ${formatValue(f.avg, c.unit)} · peak ${formatValue(f.peak, c.unit)}`, inline: true }];
  });
  const total = c.capacity ?? c.times.map((_, i) => sumAt(c.series.map((s) => s.values), i));
  const t = figures(total);
  fields.push({ name: 'capacity', value: `now ${formatValue(t.now, c.unit)} · peak ${formatValue(t.peak, c.unit)}`, inline: true });
  return fields;
}

/** Whether a chart has any value at all (an empty history says so instead of drawing nothing). */
export function chartHasData(c: Chart): boolean {
  return c.kind === 'stacked' ? c.series.some((s) => s.values.some((v) => v !== null)) : c.cells.some((r) => r.some((v) => v !== null));
}

