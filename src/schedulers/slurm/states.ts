// SLURM job states (the long names sacct, squeue %T and scontrol JobState print, with squeue's
// %t short codes), which of them are final, and `finalResult`: the exit code and signal a user
// should be told when a job ends, reconciled across the places SLURM reports them.
//
// The exit-code rule (checked on test/fixtures/slurm, slurm-wlm 22.05.8):
//
//   SLURM prints `N:S` (exit code : signal). The tools disagree for jobs SLURM itself ended:
//     - a plain `exit 3`: sacct job line 3:0, .batch 3:0, scontrol 3:0 — all agree;
//     - TIMEOUT and CANCELLED: sacct job line 0:0, .batch step 0:15 (CANCELLED), scontrol 0:15;
//     - a script killed by a signal (kill -KILL $$): job line FAILED 0:9, .batch CANCELLED 0:9;
//     - OUT_OF_MEMORY (cgroup OOM kill; not produced on the capture machine): 0:125, which is
//       SLURM's SIG_OOM (253) less the 0x80 signal flag (slurm.h), not a real signal.
//
//   1. State and "cancelled by" come from the job line (the allocation's verdict: TIMEOUT,
//      CANCELLED by 1000). The .batch step's state is not used (it says CANCELLED for a TIMEOUT).
//   2. The job's `N:S` is used, unless it is 0:0 while the state is not COMPLETED: then the
//      .batch step's `N:S` is used when it is not 0:0 (source "batch"). scontrol's ExitCode is
//      passed as the job itself and already carries 0:15.
//   3. A signal S ≠ 0 means the script was killed: signal = S, and exit_code = N only when N ≠ 0
//      (N is meaningless when a signal ended the process, so 0:15 → exit_code null, signal 15).
//   4. Signal 125 (SIG_OOM) is not a signal: signal null, out_of_memory true. A state of
//      OUT_OF_MEMORY also sets out_of_memory.
//   5. A job that did not complete and whose code is still 0:0 (a NODE_FAIL, or a TIMEOUT read
//      from sacct -X without steps) gets exit_code null and signal null: unknown, never "exit 0".
//   6. success = state COMPLETED and exit code 0. Non-final states have no final result (null).

import type { ExitStatus } from './fields.js';

export interface JobStateInfo {
  /** squeue %t code. */
  short: string;
  /** The job will not run again under this id (a requeue gives the same id a new run, see REQUEUED). */
  final: boolean;
}

/** Every job state SLURM 22.05–24.x documents (squeue(1) JOB STATE CODES). */
export const JOB_STATES = {
  BOOT_FAIL: { short: 'BF', final: true },
  CANCELLED: { short: 'CA', final: true },
  COMPLETED: { short: 'CD', final: true },
  CONFIGURING: { short: 'CF', final: false },
  COMPLETING: { short: 'CG', final: false },
  DEADLINE: { short: 'DL', final: true },
  FAILED: { short: 'F', final: true },
  NODE_FAIL: { short: 'NF', final: true },
  OUT_OF_MEMORY: { short: 'OOM', final: true },
  PENDING: { short: 'PD', final: false },
  PREEMPTED: { short: 'PR', final: true },
  RUNNING: { short: 'R', final: false },
  RESV_DEL_HOLD: { short: 'RD', final: false },
  REQUEUE_FED: { short: 'RF', final: false },
  REQUEUE_HOLD: { short: 'RH', final: false },
  REQUEUED: { short: 'RQ', final: false },
  RESIZING: { short: 'RS', final: false },
  REVOKED: { short: 'RV', final: true },
  SIGNALING: { short: 'SI', final: false },
  SPECIAL_EXIT: { short: 'SE', final: false },
  STAGE_OUT: { short: 'SO', final: false },
  STOPPED: { short: 'ST', final: false },
  SUSPENDED: { short: 'S', final: false },
  TIMEOUT: { short: 'TO', final: true },
} as const satisfies Record<string, JobStateInfo>;

export type KnownJobState = keyof typeof JOB_STATES;
/** A state name as SLURM prints it; a known one, or a newer one kept as printed. */
export type JobStateName = KnownJobState | (string & {});

/** SIG_OOM (253) as sacct/scontrol print it in `N:S`: 253 - 128. */
export const SLURM_OOM_SIGNAL = 125;

export function isKnownJobState(state: string): state is KnownJobState {
  return Object.prototype.hasOwnProperty.call(JOB_STATES, state);
}

/** True when the job has ended for good. Unknown (newer) states count as not final. */
export function isFinalState(state: string): boolean {
  return isKnownJobState(state) && JOB_STATES[state].final;
}

/** The long state for squeue's %t code ("TO" → "TIMEOUT"), or null. */
export function stateFromShortCode(code: string): KnownJobState | null {
  for (const [name, info] of Object.entries(JOB_STATES)) if (info.short === code) return name as KnownJobState;
  return null;
}

export interface ParsedJobState {
  state: JobStateName;
  /** uid after "CANCELLED by"; null otherwise. */
  by_uid: number | null;
}

/**
 * `CANCELLED by 1000` → { state: CANCELLED, by_uid: 1000 }; `TIMEOUT` → { TIMEOUT, null }.
 * Returns null when `text` is not a state (lower case, `CANCELLED+` cut by a fixed-width sacct,
 * anything else); callers turn that into a SlurmParseError naming the line.
 */
export function parseJobState(text: string): ParsedJobState | null {
  const m = /^([A-Z][A-Z_]*)(?: by (\d+))?$/.exec(text.trim());
  if (!m) return null;
  return { state: m[1]!, by_uid: m[2] === undefined ? null : Number(m[2]) };
}

/** What `finalResult` reads: a sacct row, or a scontrol record (its ExitCode as `exit`). */
export interface JobOutcomeInput {
  state: JobStateName | null;
  by_uid?: number | null;
  exit: ExitStatus | null;
}

export interface FinalResult {
  state: JobStateName;
  /** uid that cancelled the job (sacct "CANCELLED by N"); null otherwise or unknown. */
  cancelled_by_uid: number | null;
  /** The script's exit code; null when a signal ended it or nothing says. */
  exit_code: number | null;
  /** The signal that ended the script (15 for TIMEOUT/CANCELLED on 22.05); null when none. */
  signal: number | null;
  out_of_memory: boolean;
  /** COMPLETED with exit code 0. */
  success: boolean;
  /** Where exit_code/signal came from: the job itself, its .batch step, or nowhere (unknown). */
  source: 'job' | 'batch' | 'none';
}

/**
 * The verdict to tell a user for a finished job, from its job line (sacct) or record (scontrol)
 * and, when there is one, its `.batch` step. See the rule at the top of this module. null while
 * the job is not in a final state.
 */
export function finalResult(job: JobOutcomeInput, batchStep?: JobOutcomeInput | null): FinalResult | null {
  const state = job.state;
  if (state === null || !isFinalState(state)) return null;
  let exit = job.exit;
  let source: FinalResult['source'] = exit ? 'job' : 'none';
  const zero = (e: ExitStatus | null) => e === null || (e.code === 0 && e.signal === 0);
  if (state !== 'COMPLETED' && zero(exit)) {
    if (batchStep && !zero(batchStep.exit)) {
      exit = batchStep.exit;
      source = 'batch';
    } else {
      exit = null;
      source = 'none';
    }
  }
  let exitCode: number | null = null;
  let signal: number | null = null;
  let oom = state === 'OUT_OF_MEMORY';
  if (exit) {
    if (exit.signal === SLURM_OOM_SIGNAL) oom = true;
    else if (exit.signal !== 0) signal = exit.signal;
    exitCode = exit.signal !== 0 && exit.code === 0 ? null : exit.code;
  }
  return {
    state,
    cancelled_by_uid: job.by_uid ?? null,
    exit_code: exitCode,
    signal,
    out_of_memory: oom,
    success: state === 'COMPLETED' && exitCode === 0,
    source,
  };
}
