// SEAM (issue 4): the SLURM cluster as the command layer sees it — nodes and partitions from one
// `sinfo` call, jobs from one `squeue` call, both made by the hub's poller (or by the CLI itself
// when no hub answers). The hub's GET /api/v1/slurm returns a SlurmClusterView; status, best,
// top, users and queue render it with pure functions, like NodeView for agent nodes.

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
}

export interface SlurmClusterView {
  /** ISO time (hub clock) of this answer. */
  generated: string;
  /** ISO times (hub clock) when sinfo / squeue last answered; null if never. */
  sinfo_at: string | null;
  squeue_at: string | null;
  /** The latest failure of a SLURM command ("slurmctld unreachable: …"); null when the last calls worked. */
  problem: string | null;
  nodes: SlurmNodeView[];
  partitions: SlurmPartitionView[];
  /** Jobs in the queue (pending, running, and other non-final states); final ones are left out. */
  jobs: SlurmQueueJob[];
}
