// SEAM (issue 4): the final verdict on a SLURM job, made by the hub's poller from SLURM's final
// record (sacct, else scontrol), and what the job-end message is built from. Pure: no I/O.
// The functions below are filled in by the outcome work; the types are shared with the poller.
import type { SacctJob } from './sacct.js';
import type { ScontrolJob } from './scontrol.js';

export interface SlurmOutcome {
  /** "45", or "39_3" for an array task. */
  job_id: string;
  /** Where the record came from: sacct (accounting), scontrol (accounting off), or none (record never came). */
  source: 'sacct' | 'scontrol' | 'none';
  /** Final SLURM state: COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, BOOT_FAIL, DEADLINE… or UNKNOWN (source none). */
  state: string;
  /** From states.ts finalResult: exit code (null when a signal ended it or unknown), signal number, OOM. */
  exit_code: number | null;
  signal: number | null;
  out_of_memory: boolean;
  success: boolean;
  /** uid and (when resolvable) user name that cancelled it. */
  cancelled_by_uid: number | null;
  cancelled_by: string | null;
  /** DerivedExitCode's code (highest exit of any step), when it differs from exit_code. */
  derived_exit_code: number | null;
  reason: string | null;
  elapsed_seconds: number | null;
  time_limit_seconds: number | null;
  /** MaxRSS of the .batch step (bytes). */
  max_rss_bytes: number | null;
  /** ReqMem as the job's total (bytes), per-node/per-cpu forms multiplied out. */
  req_mem_bytes: number | null;
  alloc_cpus: number | null;
  alloc_gpus: number | null;
  total_cpu_seconds: number | null;
  /** TotalCPU / (Elapsed × AllocCPUS), 0..1; null when not computable. */
  cpu_efficiency: number | null;
  node_list: string | null;
  partition: string | null;
  /** ISO or SLURM local times as printed; null when unknown. */
  start: string | null;
  end: string | null;
}

/** One array as a unit, when every task is final. */
export interface SlurmArrayOutcome {
  array_job_id: string;
  tasks_total: number;
  /** State → number of tasks ("COMPLETED": 7, "FAILED": 2). */
  counts: Record<string, number>;
  /** Task ids whose outcome is not success, ascending. */
  failed_task_ids: number[];
  /** Per task, ascending by task id (bounded by the caller). */
  tasks: (SlurmOutcome & { task_id: number })[];
  success: boolean;
  /** Longest task elapsed, summed CPU, max MaxRSS over tasks: the array's facts. */
  elapsed_seconds: number | null;
  max_rss_bytes: number | null;
  source: 'sacct' | 'scontrol' | 'none';
}

export interface OutcomeContext {
  /** uid → user name (for "cancelled by alice"); null when unknown. */
  userName?: (uid: number) => string | null;
}

export declare function outcomeFromSacct(job: SacctJob, ctx?: OutcomeContext): SlurmOutcome | null;
export declare function outcomeFromScontrol(job: ScontrolJob, ctx?: OutcomeContext): SlurmOutcome | null;
