// The history answers (store/history.ts computes them; GET /api/v1/history serves them; the
// history, heatmap and report commands turn them into charts and tables). Times are bucket starts
// in ms since the epoch (UTC); each array has one entry per time; null: nothing known then.

/** A history bucket's resolution read: 1-minute, 10-minute or 1-hour samples. */
export type SampleResolution = 60 | 600 | 3600;
export type HistoryState = 'fresh' | 'stale' | 'down';
/** SLURM node states as history counts them: drained and draining nodes count as down. */
export type SlurmHistoryState = 'idle' | 'mixed' | 'allocated' | 'down';
export const SLURM_HISTORY_STATES: readonly SlurmHistoryState[] = ['allocated', 'mixed', 'idle', 'down'];

/** One node's value per bucket, for the metric asked; null where the node said nothing. */
export interface HostSeries {
  host: string;
  /** CPU: busy cores; load: load1; mem: bytes used; gpu: busy GPUs (util × count); gpu_mem: bytes; users: max present. */
  used: (number | null)[];
  /** What `used` is out of: cores, cores (load), bytes, GPUs, GPU bytes; null when unknown. */
  capacity: (number | null)[];
  /** The state the node was in most in each bucket (null: not known to the hub then). */
  state: (HistoryState | null)[];
}

export type NodeMetric = 'cpu' | 'load' | 'mem' | 'gpu' | 'gpu_mem' | 'users';
export const NODE_METRICS: readonly NodeMetric[] = ['cpu', 'load', 'mem', 'gpu', 'gpu_mem', 'users'];

export interface HistoryRange {
  sinceMs: number;
  untilMs: number;
  /** Bucket size of the answer (a multiple of the resolution read). */
  stepMs: number;
  resolution: SampleResolution;
}

export interface NodeHistory extends HistoryRange {
  times: number[];
  hosts: HostSeries[];
}

export interface PartitionSeries {
  partition: string;
  /** Average nodes per state in each bucket. */
  nodes: Record<SlurmHistoryState, (number | null)[]>;
  cpus_alloc: (number | null)[];
  cpus_total: (number | null)[];
  gpus_alloc: (number | null)[];
  gpus_total: (number | null)[];
  jobs_running: (number | null)[];
  jobs_pending: (number | null)[];
}

export interface SlurmHistory extends HistoryRange {
  times: number[];
  partitions: PartitionSeries[];
  /** Each SLURM node's most frequent state per bucket. */
  nodes: { node: string; state: (SlurmHistoryState | null)[] }[];
}

export interface UserUsage {
  user: string;
  core_hours: number;
  gpu_hours: number;
  mem_gb_hours: number;
  /** Of that, on SLURM (the rest on agent nodes). */
  slurm_core_hours: number;
  slurm_gpu_hours: number;
}


/** How an ended job counts in history: succeeded, failed (a non-zero exit, a signal, vanished), or other (unknown). */
export type JobResult = 'succeeded' | 'failed' | 'other';
export const JOB_RESULTS: readonly JobResult[] = ['succeeded', 'failed', 'other'];

/** flurm jobs (run, notify, submit) per bucket: running during it, and ended in it by result. */
export interface JobsHistory extends HistoryRange {
  times: number[];
  running: number[];
  ended: Record<JobResult, number[]>;
}

/** One user's week (or days): usage, jobs by result, failures by diagnosis. */
export interface ReportUser extends UserUsage {
  jobs: Record<JobResult, number>;
  /** The first diagnosis of each failed job ("CUDA out of memory"), most frequent first; "no diagnosis" for the rest. */
  failures: { diagnosis: string; count: number }[];
}

export interface HistoryReport {
  sinceMs: number;
  untilMs: number;
  users: ReportUser[];
}

/** Each GPU's utilisation (%) and memory used (bytes) per bucket. */
export interface GpuHistory extends HistoryRange {
  times: number[];
  gpus: { host: string; gpu: number; util: (number | null)[]; mem_used: (number | null)[]; mem_total: (number | null)[] }[];
}

export type HistoryQuery =
  | { kind: 'nodes'; metric: NodeMetric; sinceMs: number; untilMs: number; hosts?: string[] }
  | { kind: 'gpus'; sinceMs: number; untilMs: number; hosts?: string[] }
  | { kind: 'slurm'; sinceMs: number; untilMs: number; partition?: string }
  | { kind: 'jobs'; sinceMs: number; untilMs: number }
  | { kind: 'report'; sinceMs: number; untilMs: number };

export type HistoryData =
  | ({ kind: 'nodes' } & NodeHistory)
  | ({ kind: 'gpus' } & GpuHistory)
  | ({ kind: 'slurm' } & SlurmHistory)
  | ({ kind: 'jobs' } & JobsHistory)
  | ({ kind: 'report' } & HistoryReport);

const HOST_LIST = /^[A-Za-z0-9._-]{1,128}(,[A-Za-z0-9._-]{1,128}){0,199}$/;
const NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** The query as GET /api/v1/history's parameters (kind, metric, since, until in ms; hosts; partition). */
export function historyQueryParams(q: HistoryQuery): string {
  const p = new URLSearchParams({ kind: q.kind, since: String(Math.round(q.sinceMs)), until: String(Math.round(q.untilMs)) });
  if (q.kind === 'nodes') p.set('metric', q.metric);
  if ((q.kind === 'nodes' || q.kind === 'gpus') && q.hosts?.length) p.set('hosts', q.hosts.join(','));
  if (q.kind === 'slurm' && q.partition) p.set('partition', q.partition);
  return p.toString();
}

/** GET /api/v1/history's parameters read back; a string says what is wrong. */
export function parseHistoryQuery(get: (name: string) => string | undefined): HistoryQuery | string {
  const kind = get('kind') ?? 'nodes';
  const sinceMs = Number(get('since'));
  const untilMs = Number(get('until') ?? Date.now());
  if (!Number.isFinite(sinceMs) || !Number.isFinite(untilMs)) return '`since` and `until` must be times in ms since the epoch';
  if (kind === 'nodes') {
    const metric = (get('metric') ?? 'cpu') as NodeMetric;
    if (!NODE_METRICS.includes(metric)) return `metric must be one of ${NODE_METRICS.join(', ')}`;
    const hosts = get('hosts');
    if (hosts !== undefined && !HOST_LIST.test(hosts)) return '`hosts` must be node names separated by commas';
    return { kind, metric, sinceMs, untilMs, ...(hosts ? { hosts: hosts.split(',') } : {}) };
  }
  if (kind === 'gpus') {
    const hosts = get('hosts');
    if (hosts !== undefined && !HOST_LIST.test(hosts)) return '`hosts` must be node names separated by commas';
    return { kind, sinceMs, untilMs, ...(hosts ? { hosts: hosts.split(',') } : {}) };
  }
  if (kind === 'slurm') {
    const partition = get('partition');
    if (partition !== undefined && !NAME.test(partition)) return '`partition` must be a partition name';
    return { kind, sinceMs, untilMs, ...(partition ? { partition } : {}) };
  }
  if (kind === 'jobs' || kind === 'report') return { kind, sinceMs, untilMs };
  return 'kind must be nodes, gpus, slurm, jobs or report';
}
