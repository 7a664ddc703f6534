// `status`, SLURM side: the partitions (avail, nodes, CPUs allocated/idle/total, GPUs, time limit,
// jobs running and pending) and the nodes (partitions, state and flags, CPUs, memory allocated,
// load, GPUs with their types, why a node is down or drained), under a header that says where the
// view comes from, how old it is and what is wrong (slurmctld unreachable since …). Pure:
// SlurmClusterView in, two neutral Messages out (one table each) with the rows as data.
import { formatBytes, plural } from '../lib/format.js';
import { formatLocalTime } from '../lib/time.js';
import type { Message } from '../model/message.js';
import { compareHosts, formatAge, formatBytesPair, formatLoad, type NodeCommandDeps } from '../model/node-facts.js';
import {
  formatNodeState,
  formatSlurmDuration,
  jobCountsByPartition,
  jobPhase,
  jobTasks,
  secondsBetween,
  type SlurmClusterView,
  type SlurmNodeView,
  slurmNodeCell,
} from '../model/slurm-view.js';

export interface SlurmViewSource {
  /** Where the view came from, in words: "from the hub at http://…" or "live from sinfo and squeue on this host (…)". */
  source?: string;
  /** True when the view was made just now by this command (no age to show). */
  live?: boolean;
}

export interface SlurmPartitionRow {
  name: string;
  default: boolean;
  avail: string | null;
  time_limit_seconds: number | null;
  nodes: number;
  cpus_alloc: number;
  cpus_idle: number;
  cpus_total: number;
  gpus_alloc: number;
  gpus_total: number;
  /** Running jobs in the partition. */
  jobs_running: number;
  /** Pending jobs that name the partition (a job asking for "a,b" counts in both; array tasks count one each). */
  jobs_pending: number;
}

export interface SlurmNodeRow {
  name: string;
  partitions: string[];
  state: string;
  flags: string[];
  cpus_alloc: number | null;
  cpus_total: number | null;
  memory_alloc_bytes: number | null;
  memory_bytes: number | null;
  load: number | null;
  gpus_alloc: number | null;
  gpus_total: number;
  gpu_types: string[];
  reason: string | null;
}

export interface SlurmStatusResult {
  generated: string;
  sinfo_at: string | null;
  squeue_at: string | null;
  /** Age of the node data (sinfo) and of the jobs (squeue) at `generated`; null when never answered. */
  sinfo_age_seconds: number | null;
  squeue_age_seconds: number | null;
  problem: string | null;
  problem_since: string | null;
  /** Running and pending jobs in the whole queue (array tasks one each). */
  jobs_running: number;
  jobs_pending: number;
  partitions: SlurmPartitionRow[];
  nodes: SlurmNodeRow[];
}

export const SLURM_PARTITION_COLUMNS = ['PARTITION', 'AVAIL', 'NODES', 'CPUS A/I/T', 'GPUS A/T', 'TIME LIMIT', 'RUNNING', 'PENDING'] as const;

/** States listed first in the node-state summary, in this order; the rest alphabetically. */
const STATE_ORDER = ['idle', 'mixed', 'allocated', 'completing', 'draining', 'drained', 'down'];

/** "3/4 a100", "—" without GPUs, "?/4" when GresUsed did not say. */
export function formatGpus(alloc: number | null, total: number, types: readonly string[] = []): string {
  if (total === 0) return '—';
  return `${alloc ?? '?'}/${total}${types.length ? ` ${types.join(',')}` : ''}`;
}

/**
 * The header of every SLURM answer: where it comes from and how old it is, then the problem, if
 * any. "from the hub at … · nodes 35s old, jobs 5s old" / "live from sinfo and squeue on this host".
 */
export function slurmSourceLines(view: SlurmClusterView, src: SlurmViewSource = {}): string[] {
  const lines: string[] = [];
  const sinfoAge = secondsBetween(view.sinfo_at, view.generated);
  const squeueAge = secondsBetween(view.squeue_at, view.generated);
  const ages: string[] = [];
  if (!src.live) {
    if (sinfoAge !== null && squeueAge !== null && Math.abs(sinfoAge - squeueAge) < 1) ages.push(`data ${formatAge(sinfoAge)} old`);
    else {
      if (sinfoAge !== null) ages.push(`nodes ${formatAge(sinfoAge)} old`);
      if (squeueAge !== null) ages.push(`jobs ${formatAge(squeueAge)} old`);
    }
  }
  const head = [src.source ?? 'SLURM', ...ages].join(' · ');
  lines.push(head);
  if (view.problem) {
    const since = view.problem_since ? secondsBetween(view.problem_since, view.generated) : null;
    const when = since !== null ? ` — since ${formatLocalTime(view.problem_since!)} (${formatAge(since)} ago)` : '';
    const last =
      view.sinfo_at === null && view.squeue_at === null
        ? '; SLURM has not answered yet'
        : !src.live && (sinfoAge ?? 0) >= 1
          ? `; showing its last answer`
          : '';
    lines.push(`⚠ ${view.problem}${when}${last}`);
  }
  return lines;
}

function nodeRow(n: SlurmNodeView): SlurmNodeRow {
  return {
    name: n.name,
    partitions: n.partitions,
    state: n.state,
    flags: n.flags,
    cpus_alloc: n.cpus_alloc,
    cpus_total: n.cpus_total,
    memory_alloc_bytes: n.alloc_memory_bytes,
    memory_bytes: n.memory_bytes,
    load: n.load,
    gpus_alloc: n.gpus_alloc,
    gpus_total: n.gpus_total,
    gpu_types: n.gpu_types,
    reason: n.reason,
  };
}

/** "1 node: 1 idle", "12 nodes: 8 idle, 2 mixed, 1 allocated, 1 drained". */
function nodeStateSummary(nodes: readonly SlurmNodeView[]): string {
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.state, (counts.get(n.state) ?? 0) + 1);
  const order = [...counts.keys()].sort((a, b) => {
    const ia = STATE_ORDER.indexOf(a);
    const ib = STATE_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  const notResponding = nodes.filter((n) => n.flags.includes('not_responding')).length;
  const parts = order.map((s) => `${counts.get(s)} ${s}`);
  if (notResponding) parts.push(`${notResponding} not responding`);
  return `${plural(nodes.length, 'node')}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

export function slurmStatus(view: SlurmClusterView, src: SlurmViewSource = {}, _deps: NodeCommandDeps = {}): { messages: Message[]; result: SlurmStatusResult } {
  const jobs = jobCountsByPartition(view);
  const partitions: SlurmPartitionRow[] = view.partitions.map((p) => ({
    name: p.name,
    default: p.default,
    avail: p.avail,
    time_limit_seconds: p.time_limit_seconds,
    nodes: p.nodes.length,
    cpus_alloc: p.cpus_alloc,
    cpus_idle: p.cpus_idle,
    cpus_total: p.cpus_total,
    gpus_alloc: p.gpus_alloc,
    gpus_total: p.gpus_total,
    jobs_running: jobs.get(p.name)?.running ?? 0,
    jobs_pending: jobs.get(p.name)?.pending ?? 0,
  }));
  const sortedNodes = [...view.nodes].sort((a, b) => compareHosts(a.name, b.name));
  const nodes = sortedNodes.map(nodeRow);
  let running = 0;
  let pending = 0;
  for (const j of view.jobs) {
    const phase = jobPhase(j.state);
    if (phase === 'running') running += 1;
    else if (phase === 'pending') pending += jobTasks(j);
  }
  const result: SlurmStatusResult = {
    generated: view.generated,
    sinfo_at: view.sinfo_at,
    squeue_at: view.squeue_at,
    sinfo_age_seconds: secondsBetween(view.sinfo_at, view.generated),
    squeue_age_seconds: secondsBetween(view.squeue_at, view.generated),
    problem: view.problem,
    problem_since: view.problem_since ?? null,
    jobs_running: running,
    jobs_pending: pending,
    partitions,
    nodes,
  };

  const troubled = view.problem !== null || view.nodes.some((n) => ['down', 'drained', 'draining', 'fail'].includes(n.state) || n.flags.includes('not_responding'));
  const jobsKnown = view.squeue_at !== null;
  const jobsText = jobsKnown ? `${plural(running, 'job')} running, ${pending} pending` : 'jobs unknown (squeue has not answered)';
  const counts =
    view.sinfo_at === null && view.nodes.length === 0
      ? `no node data yet (sinfo has not answered) · ${jobsText}`
      : `${plural(partitions.length, 'partition')}, ${nodeStateSummary(sortedNodes)} · ${jobsText}`;
  const partitionsMessage: Message = {
    title: 'SLURM partitions',
    severity: troubled ? 'warning' : 'info',
    summary: [...slurmSourceLines(view, src), counts].join('\n'),
    ...(partitions.length
      ? {
          table: {
            columns: [...SLURM_PARTITION_COLUMNS],
            rows: partitions.map((p) => [
              p.default ? `${p.name}*` : p.name,
              p.avail ?? '?',
              String(p.nodes),
              `${p.cpus_alloc}/${p.cpus_idle}/${p.cpus_total}`,
              formatGpus(p.gpus_alloc, p.gpus_total),
              formatSlurmDuration(p.time_limit_seconds),
              jobsKnown ? String(p.jobs_running) : '?',
              jobsKnown ? String(p.jobs_pending) : '?',
            ]),
          },
        }
      : {}),
    data: { slurm: result },
  };

  const withReason = nodes.some((n) => n.reason !== null);
  const columns = ['NODE', 'PARTITIONS', 'STATE', 'CPUS A/T', 'MEM A/T', 'LOAD', 'GPUS A/T', ...(withReason ? ['REASON'] : [])];
  const nodesMessage: Message = {
    title: 'SLURM nodes',
    severity: troubled ? 'warning' : 'info',
    ...(nodes.length
      ? {
          table: {
            columns,
            rows: nodes.map((n) => [
              n.name,
              n.partitions.join(', '),
              formatNodeState(n),
              n.cpus_total === null ? '—' : `${n.cpus_alloc ?? '?'}/${n.cpus_total}`,
              n.memory_bytes === null ? '—' : n.memory_alloc_bytes === null ? `?/${formatBytes(n.memory_bytes)}` : formatBytesPair(n.memory_alloc_bytes, n.memory_bytes),
              n.load === null || n.cpus_total === null ? '—' : formatLoad(n.load, n.cpus_total),
              formatGpus(n.gpus_alloc, n.gpus_total, n.gpu_types),
              ...(withReason ? [n.reason ?? ''] : []),
            ]),
            states: nodes.map((n) => [null, null, slurmNodeCell(n)]),
          },
        }
      : { summary: 'sinfo listed no node' }),
    data: { nodes },
  };
  return { messages: [partitionsMessage, nodesMessage], result };
}
