// JobView: one job as the command layer and notifications see it, built by the store from the
// `start` and `end` events (either may be missing: a job seen only at its end, or still running).

/** `pending`: a SLURM job waiting in the queue. */
export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'unknown' | 'vanished';

export interface JobView {
  id: string;
  user: string;
  host: string;
  state: JobState;
  title?: string | null;
  cmd?: string | null;
  cwd?: string | null;
  pid?: number | null;
  /** ISO times on the writer's clock. */
  startTs?: string | null;
  endTs?: string | null;
  exit?: number | null;
  signal?: string | null;
  exitUnknown?: boolean;
  wallSeconds?: number | null;
  cpuSeconds?: number | null;
  peakRssBytes?: number | null;
  tail?: string[] | null;
  log?: string | null;
  detached?: boolean;
  attached?: boolean;
  /** Source writer: node, bash, legacy, slurm. */
  src?: string | null;
  /** For a SLURM batch job (src 'slurm'): its SLURM id, and the final record once it ended. */
  slurm?: {
    job_id: string;
    cluster?: string | null;
    array?: string | null;
    tasks?: number | null;
    /** The SlurmOutcome (or SlurmArrayOutcome) the end was made from; see schedulers/slurm/outcome.ts. */
    final?: Record<string, unknown>;
  } | null;
}
