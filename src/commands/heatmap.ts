// `heatmap`: every node × time in one picture — CPU, memory, GPU (% of each node's), load per
// core, or the node's state (reporting / stale / down); for SLURM, each node's state (idle, mixed,
// allocated, down). Only a hub keeps history.
import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import { localTimeZone } from '../lib/time.js';
import type { Message } from '../model/message.js';
import { chartHasData, gpusHeatmap, nodesHeatmap, slurmHeatmap } from './history-chart.js';
import { rangeArgs, rangeOf } from './history-args.js';
import { defineCommand } from './table.js';

export const HEATMAP_METRICS = ['cpu', 'mem', 'gpu', 'load', 'state'] as const;

export default defineCommand({
  name: 'heatmap',
  description: 'every node over time in one picture: cpu, mem, gpu, load or state (SLURM: node states)',
  args: z.object({
    ...rangeArgs,
    metric: z.enum(HEATMAP_METRICS).describe('what each cell shows: cpu or mem (% of the node), gpu (% per GPU, a row each), load (per core) or state (default cpu)').optional(),
    slurm: z.boolean().describe('SLURM nodes\' states instead of agent nodes').optional(),
    partition: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'is not a partition name').describe('only this SLURM partition\'s nodes (implies slurm)').optional(),
  }),
  cli: { picture: true },
  async run(a, source) {
    const { sinceMs, untilMs } = rangeOf(a, Date.now());
    const tz = localTimeZone();
    const slurm = a.slurm === true || a.partition !== undefined;
    if (slurm && a.metric !== undefined && a.metric !== 'state') throw new UserError('a SLURM heatmap shows node states only: leave out metric, or drop slurm/partition');
    const metric = a.metric ?? 'cpu';
    const r = await source.history(
      slurm ? { kind: 'slurm', sinceMs, untilMs, ...(a.partition ? { partition: a.partition } : {}) }
        : metric === 'gpu' ? { kind: 'gpus', sinceMs, untilMs }
          : { kind: 'nodes', metric: metric === 'state' ? 'cpu' : metric, sinceMs, untilMs },
    );
    if (!r.ok) throw new UserError(`no history: ${r.why}`, { exitCode: 1 });
    const d = r.data;
    const chart = d.kind === 'slurm' ? slurmHeatmap(d, tz) : d.kind === 'gpus' ? gpusHeatmap(d, tz) : d.kind === 'nodes' ? nodesHeatmap(d, metric as 'cpu', tz) : null;
    if (!chart) throw new Error(`the hub answered a ${d.kind} history to a heatmap question`);
    const empty = !chartHasData(chart);
    const m: Message = {
      title: chart.title,
      severity: 'info',
      summary: empty ? `No history in this range yet (${chart.subtitle}).` : `${chart.rows.length} ${d.kind === 'gpus' ? 'GPUs' : 'nodes'} · ${chart.subtitle}`,
      ...(empty ? {} : { chart }),
    };
    return { messages: [m], result: { chart, empty }, where: r.where, exitCode: 0 };
  },
});
