// `top`, SLURM side: the running SLURM jobs, biggest first (GPUs, then CPUs, then longest
// running) — job id, user, name, partition, nodes, CPUs, GPUs, elapsed over limit — and how many
// are pending. Across the cluster the SLURM_TOP_LIMIT biggest; with NODE, every job on that node
// (the node lists are SLURM host lists, "node[01-04]"). Pure: SlurmClusterView in, Message out.
import { plural, truncate } from '../lib/format.js';
import type { Message, MessageHint } from '../model/message.js';
import { compareHosts, type NodeCommandDeps } from '../model/node-facts.js';
import { slurmSourceLines, type SlurmViewSource } from './slurm-status.js';
import { formatSlurmDuration, hostlistIncludes, jobPhase, jobTasks, type SlurmClusterView, type SlurmQueueJob } from '../model/slurm-view.js';

export interface SlurmTopArgs {
  /** Only the jobs running on this SLURM node. */
  node?: string;
  /** Jobs shown; default SLURM_TOP_LIMIT across the cluster, all on one node. */
  limit?: number;
}

export const SLURM_TOP_LIMIT = 20;

export interface SlurmTopResult {
  node: string | null;
  /** Running jobs shown, biggest first. */
  jobs: SlurmQueueJob[];
  /** Running jobs left out by the limit. */
  omitted: number;
  running: number;
  pending: number;
  cpus_running: number;
  gpus_running: number;
}

/** Biggest first: GPUs, then CPUs, then the longest running, then job id. */
export function byJobSizeDesc(a: SlurmQueueJob, b: SlurmQueueJob): number {
  return (
    b.gpus - a.gpus ||
    (b.cpus ?? 0) - (a.cpus ?? 0) ||
    (b.time_used_seconds ?? 0) - (a.time_used_seconds ?? 0) ||
    compareHosts(a.job_id, b.job_id)
  );
}

/** True when the view knows `name` as a SLURM node (exact name, or the short name before the first dot). */
export function findSlurmNode(view: SlurmClusterView, name: string): string | null {
  const hit = view.nodes.find((n) => n.name === name) ?? view.nodes.find((n) => n.name.split('.')[0] === name.split('.')[0]);
  return hit?.name ?? null;
}

export function slurmTop(view: SlurmClusterView, args: SlurmTopArgs = {}, src: SlurmViewSource = {}, _deps: NodeCommandDeps = {}): Message {
  const node = args.node ?? null;
  const all = view.jobs.filter((j) => jobPhase(j.state) === 'running' && (node === null || hostlistIncludes(j.node_list, node))).sort(byJobSizeDesc);
  const pendingJobs = view.jobs.filter((j) => jobPhase(j.state) === 'pending');
  const pending = pendingJobs.reduce((s, j) => s + jobTasks(j), 0);
  const limit = args.limit ?? (node !== null ? Infinity : SLURM_TOP_LIMIT);
  const shown = all.slice(0, limit);
  const result: SlurmTopResult = {
    node,
    jobs: shown,
    omitted: Math.max(0, all.length - shown.length),
    running: all.length,
    pending,
    cpus_running: all.reduce((s, j) => s + (j.cpus ?? 0), 0),
    gpus_running: all.reduce((s, j) => s + j.gpus, 0),
  };
  const withGpus = view.jobs.some((j) => j.gpus > 0) || view.nodes.some((n) => n.gpus_total > 0);
  const rows = shown.map((j) => [
    j.job_id,
    j.user,
    truncate(j.name ?? '', 40),
    j.partition ?? '?',
    j.node_list ?? '',
    j.cpus === null ? '?' : String(j.cpus),
    ...(withGpus ? [String(j.gpus)] : []),
    `${formatSlurmDuration(j.time_used_seconds ?? 0)} / ${formatSlurmDuration(j.time_limit_seconds)}`,
  ]);
  const where = node !== null ? ` on ${node}` : '';
  const counts =
    all.length === 0
      ? `No SLURM job running${where}; ${pending} pending in the queue.`
      : `${plural(all.length, 'job')} running${where}: ${result.cpus_running} CPUs${withGpus ? `, ${result.gpus_running} GPUs` : ''}; ${pending} pending in the queue`;
  const hints: MessageHint[] =
    result.omitted > 0
      ? [
          { text: `showing the ${limit} biggest (${result.omitted} more): {command} by user`, command: 'queue' },
          { text: '{command} for one node', command: 'top', args: { node: 'NODE' } },
        ]
      : [];
  return {
    title: node !== null ? `SLURM jobs on ${node}` : 'SLURM jobs running',
    severity: view.problem ? 'warning' : 'info',
    summary: [...slurmSourceLines(view, src), counts].join('\n'),
    ...(rows.length
      ? { table: { columns: ['JOBID', 'USER', 'NAME', 'PARTITION', 'NODES', 'CPUS', ...(withGpus ? ['GPUS'] : []), 'TIME / LIMIT'], rows } }
      : {}),
    ...(hints.length ? { hints } : {}),
    data: { slurm: result },
  };
}
