// The SLURM cluster as the command layer sees it — nodes and partitions from one
// `sinfo` call, jobs from one `squeue` call, both made by the hub's poller (or by the CLI itself
// when no hub answers). The hub's GET /api/v1/slurm returns a SlurmClusterView; status, best,
// top, users and queue render it with pure functions, like NodeView for agent nodes. It is built
// from parsed sinfo/squeue output by schedulers/slurm/view.ts.
import { splitTopLevel } from '../lib/split.js';
import type { CellState } from './message.js';

export interface SlurmNodeView {
  name: string;
  /** Partitions the node is in ("gpu", "debug"); the default partition is marked in partitions[]. */
  partitions: string[];
  /** Base state, lower case as sinfo prints it: idle, mixed, allocated, down, drained, draining… */
  state: string;
  /** State flags (not_responding, maintenance, …), see sinfo.ts NODE_STATE_FLAGS. */
  flags: string[];
  cpus_total: number | null;
  cpus_alloc: number | null;
  cpus_idle: number | null;
  memory_bytes: number | null;
  /** Memory allocated to jobs (sinfo AllocMem); null when not reported. */
  alloc_memory_bytes: number | null;
  /** Memory free to the OS (sinfo FreeMem); null when not reported. */
  free_memory_bytes: number | null;
  gpus_total: number;
  /** GPUs allocated (GresUsed); null when unknown. */
  gpus_alloc: number | null;
  gpu_types: string[];
  load: number | null;
  reason: string | null;
}

export interface SlurmPartitionView {
  name: string;
  default: boolean;
  /** up, down, drain, inact. */
  avail: string | null;
  time_limit_seconds: number | null;
  nodes: string[];
  cpus_total: number;
  cpus_alloc: number;
  cpus_idle: number;
  gpus_total: number;
  gpus_alloc: number;
}

export interface SlurmQueueJob {
  /** As squeue prints it: "45", "39_3", "48_[0-3%2]". */
  job_id: string;
  array_job_id: number | null;
  array_task_id: number | null;
  user: string;
  /** Long state name (PENDING, RUNNING, COMPLETED…). */
  state: string;
  reason: string | null;
  partition: string | null;
  name: string | null;
  cpus: number | null;
  nodes: number | null;
  /** GPUs of the whole job (per node × nodes); 0 when none. */
  gpus: number;
  min_memory_bytes: number | null;
  node_list: string | null;
  time_used_seconds: number | null;
  time_limit_seconds: number | null;
  submit: string | null;
  start: string | null;
  /**
   * Added with the views: jobs this row stands for — all the tasks of an unsplit pending array
   * (`48_[0-3%2]` → 4), else 1. Optional: read it with jobTasks().
   */
  tasks?: number;
}

export interface SlurmClusterView {
  /** ISO time (hub clock) of this answer. */
  generated: string;
  /** ISO times (hub clock) when sinfo / squeue last answered; null if never. */
  sinfo_at: string | null;
  squeue_at: string | null;
  /** The latest failure of a SLURM command ("slurmctld unreachable: …"); null when the last calls worked. */
  problem: string | null;
  /** Added with the views (optional): ISO time (hub clock) since when `problem` has held. */
  problem_since?: string | null;
  nodes: SlurmNodeView[];
  partitions: SlurmPartitionView[];
  /** Jobs in the queue (pending, running, and other non-final states); final ones are left out. */
  jobs: SlurmQueueJob[];
}

// ---- facts shared by the SLURM renderers -----------------------------------------------------

/** How a job state counts: holding resources (running), waiting for them (pending), or neither. */
export type JobPhase = 'running' | 'pending' | 'other';

const RUNNING_STATES = new Set(['RUNNING', 'COMPLETING', 'CONFIGURING', 'STAGE_OUT', 'SIGNALING', 'RESIZING']);
const PENDING_STATES = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SPECIAL_EXIT']);

/**
 * RUNNING and the states in which a job still holds its nodes (COMPLETING, CONFIGURING,
 * STAGE_OUT, SIGNALING, RESIZING) are running; PENDING and the requeued/held-for-requeue ones are
 * pending; SUSPENDED, STOPPED and unknown states are other.
 */
export function jobPhase(state: string): JobPhase {
  if (RUNNING_STATES.has(state)) return 'running';
  if (PENDING_STATES.has(state)) return 'pending';
  return 'other';
}

/**
 * Running and pending jobs per partition. A pending job that names several partitions ("a,b")
 * counts in each; pending array tasks count one each.
 */
export function jobCountsByPartition(view: Pick<SlurmClusterView, 'jobs'>): Map<string, { running: number; pending: number }> {
  const by = new Map<string, { running: number; pending: number }>();
  for (const j of view.jobs) {
    const phase = jobPhase(j.state);
    if (phase === 'other' || !j.partition) continue;
    for (const p of j.partition.split(',')) {
      let c = by.get(p);
      if (!c) by.set(p, (c = { running: 0, pending: 0 }));
      if (phase === 'running') c.running += 1;
      else c.pending += jobTasks(j);
    }
  }
  return by;
}

/** Jobs a row stands for: the tasks of an unsplit pending array, else 1. */
export function jobTasks(j: SlurmQueueJob): number {
  if (typeof j.tasks === 'number' && j.tasks >= 1) return j.tasks;
  const m = /_\[([^\]]*)\]$/.exec(j.job_id);
  return m ? (countArrayTasks(m[1]!) ?? 1) : 1;
}

/**
 * Tasks in an array spec as squeue prints it ("0-3%2", "1,3,5-11:2", "[0-999]"): counted, not
 * enumerated, so a huge array costs nothing. null when the spec is not of that form.
 */
export function countArrayTasks(spec: string): number | null {
  const body = spec.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (body === '') return null;
  let n = 0;
  for (const tok of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(tok.trim());
    if (!m) return null;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (last < first || step < 1) return null;
    n += Math.floor((last - first) / step) + 1;
  }
  return n;
}

/**
 * True when the SLURM host list `list` ("vm", "node[01-03,07],gpu5", "rack1-n[1-4]-ib") names
 * `host`. One bracket group per name, as squeue and sinfo print them; zero-padded ranges match
 * only with the same width.
 */
export function hostlistIncludes(list: string | null, host: string): boolean {
  if (!list) return false;
  for (const item of splitTopLevel(list, ',')) {
    const m = /^([^[\]]*)\[([^\]]*)\]([^[\]]*)$/.exec(item.trim());
    if (!m) {
      if (item.trim() === host) return true;
      continue;
    }
    const [, prefix, ranges, suffix] = m as unknown as [string, string, string, string];
    if (!host.startsWith(prefix) || !host.endsWith(suffix) || host.length <= prefix.length + suffix.length) continue;
    const mid = host.slice(prefix.length, host.length - suffix.length);
    if (!/^\d+$/.test(mid)) continue;
    const v = Number(mid);
    for (const r of ranges.split(',')) {
      const rm = /^(\d+)(?:-(\d+))?$/.exec(r.trim());
      if (!rm) continue;
      const lo = rm[1]!;
      const hi = rm[2] ?? lo;
      const padded = lo.length > 1 && lo.startsWith('0');
      if (padded && mid.length !== lo.length) continue;
      if (!padded && mid.length > 1 && mid.startsWith('0')) continue;
      if (v >= Number(lo) && v <= Number(hi)) return true;
    }
  }
  return false;
}

/** A duration as squeue and sinfo print it: "0:05", "1:02:03", "2-00:00:00"; "infinite" for null. */
export function formatSlurmDuration(seconds: number | null): string {
  if (seconds === null) return 'infinite';
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  const days = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (days > 0) return `${days}-${pad(h)}:${pad(m)}:${pad(sec)}`;
  if (h > 0) return `${h}:${pad(m)}:${pad(sec)}`;
  return `${m}:${pad(sec)}`;
}

/** Node states in which SLURM starts no new job there, whatever its CPUs say. */
const UNUSABLE_FLAGS = new Set([
  'drain',
  'not_responding',
  'maintenance',
  'reboot_pending',
  'reboot_issued',
  'powering_down',
  'power_down_pending',
  'fail',
]);

/** True when the node is in service: idle, mixed, allocated or completing, with no drain/down/not-responding flag. */
export function nodeInService(n: SlurmNodeView): boolean {
  return ['idle', 'mixed', 'allocated', 'completing'].includes(n.state) && !n.flags.some((f) => UNUSABLE_FLAGS.has(f));
}

/** True when SLURM may start a job on the node now: in service and idle or mixed. */
export function nodeAcceptsJobs(n: SlurmNodeView): boolean {
  return (n.state === 'idle' || n.state === 'mixed') && nodeInService(n);
}

/** "idle", "mixed (planned)", "down (not responding)", "idle (drain)". */
/** How a SLURM node's state reads: down, drained, failing, draining-to-drain or not responding bad; draining warn; idle ok. */
export function slurmNodeCell(n: Pick<SlurmNodeView, 'state' | 'flags'>): CellState | null {
  if (n.flags.includes('not_responding') || ['down', 'drained', 'fail', 'failing'].includes(n.state) || n.flags.includes('drain')) return 'bad';
  if (n.state === 'draining') return 'warn';
  if (n.state === 'idle') return 'ok';
  return null;
}

export function formatNodeState(n: Pick<SlurmNodeView, 'state' | 'flags'>): string {
  return n.flags.length ? `${n.state} (${n.flags.map((f) => f.replace(/_/g, ' ')).join(', ')})` : n.state;
}

/** Seconds from ISO `from` to ISO `to`; null when either is missing or unreadable. */
export function secondsBetween(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const a = Date.parse(from);
  const b = Date.parse(to);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
  return Math.max(0, (b - a) / 1000);
}
