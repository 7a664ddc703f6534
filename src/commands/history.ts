// `history`: capacity vs usage over time, as a stacked chart with its figures (now, average,
// peak) — the lab's agent nodes (or some of them) by metric, or SLURM partitions by node state,
// cores, GPUs or jobs. Only a hub keeps history; every front end draws the chart in the answer.
import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import { localTimeZone } from '../lib/time.js';
import type { Message } from '../model/message.js';
import { chartHasData, jobsStacked, nodesStacked, slurmStacked, stackedFields } from './history-chart.js';
import { rangeArgs, rangeOf } from './history-args.js';
import { defineCommand } from './table.js';

export const HISTORY_METRICS = ['cpu', 'mem', 'gpu', 'load', 'jobs'] as const;

export default defineCommand({
  name: 'history',
  description: 'capacity vs usage over time, as a chart: cpu, mem, gpu, load or jobs (SLURM: nodes by state)',
  args: z.object({
    ...rangeArgs,
    metric: z.enum(HISTORY_METRICS).describe('what to chart: cpu, mem, gpu, load or jobs (SLURM: cpu, gpu, jobs; default nodes by state)').optional(),
    node: z.string().regex(/^[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*$/, 'must be node names separated by commas').describe('only these agent nodes (comma-separated)').optional(),
    slurm: z.boolean().describe('SLURM partitions instead of agent nodes').optional(),
    partition: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'is not a partition name').describe('only this SLURM partition (implies slurm)').optional(),
  }),
  cli: { picture: true },
  async run(a, source) {
    const { sinceMs, untilMs } = rangeOf(a, Date.now());
    const tz = localTimeZone();
    const slurm = a.slurm === true || a.partition !== undefined;
    if (slurm && a.node) throw new UserError('give either node (agent nodes) or slurm/partition, not both');
    if (slurm && a.metric === 'mem') throw new UserError('SLURM history has no memory: metric cpu, gpu or jobs (default: nodes by state)');
    if (slurm && a.metric === 'load') throw new UserError('SLURM history has no load: metric cpu, gpu or jobs (default: nodes by state)');
    const metric = a.metric ?? (slurm ? 'nodes' : 'cpu');
    const r = await source.history(
      slurm ? { kind: 'slurm', sinceMs, untilMs, ...(a.partition ? { partition: a.partition } : {}) }
        : metric === 'jobs' ? { kind: 'jobs', sinceMs, untilMs }
          : { kind: 'nodes', metric: metric as 'cpu', sinceMs, untilMs, ...(a.node ? { hosts: a.node.split(',') } : {}) },
    );
    if (!r.ok) throw new UserError(`no history: ${r.why}`, { exitCode: 1 });
    const d = r.data;
    const chart = d.kind === 'slurm' ? slurmStacked(d, metric as 'nodes', tz) : d.kind === 'jobs' ? jobsStacked(d, tz) : d.kind === 'nodes' ? nodesStacked(d, metric as 'cpu', tz) : null;
    if (!chart) throw new Error(`the hub answered a ${d.kind} history to a history question`);
    const empty = !chartHasData(chart);
    const m: Message = {
      title: chart.title,
      severity: 'info',
      summary: empty ? `No history in this range yet (${chart.subtitle}): the hub records it as nodes report${slurm ? ' and SLURM answers' : ''}.` : chart.subtitle,
      ...(empty ? {} : { fields: stackedFields(chart), chart }),
    };
    return { messages: [m], result: { chart, empty }, where: r.where, exitCode: 0 };
  },
});
