// SEAM (issue 4): the final verdict on a SLURM job, made by the hub's poller from SLURM's final
// record (sacct, else scontrol), and what the job-end message is built from. Pure: no I/O.
//
// - outcomeFromSacct / outcomeFromScontrol / unknownOutcome: one job (or array task) → SlurmOutcome.
//   The exit code and signal follow the rule of states.ts `finalResult` (sacct's job line says 0:0
//   for TIMEOUT/CANCELLED, its .batch step and scontrol say 0:15; 0:125 is SIG_OOM, not a signal).
// - arrayOutcome: the tasks of an array → one SlurmArrayOutcome (the array is one unit).
// - endFacts: the `end` facts for flurm's job row (EndEvent fields), so routing, outbox and
//   receipts treat a SLURM job like a local one.
// - stateWords: the result sentence, its severity and the verb for the title.
// - efficiencyHints: what a user could ask for differently next time (thresholds below).
// - taskOutputPath: the registered output/error pattern expanded for one task once SLURM says
//   where it ran.
import type { Severity } from '../../model/message.js';
import { describeResult, normalizeSignal } from '../../diagnose/result.js';
import { formatBytes, formatDuration, plural } from '../../lib/format.js';
import { expandOutputPattern, type PatternContext } from './output-path.js';
import { type SacctJob, cpuEfficiency, maxRssBytes, reqMemTotalBytes } from './sacct.js';
import type { ScontrolJob } from './scontrol.js';
import { type FinalResult, finalResult } from './states.js';

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
  /** DerivedExitCode's code (highest exit of any step), when it is not 0 and differs from exit_code. */
  derived_exit_code: number | null;
  reason: string | null;
  elapsed_seconds: number | null;
  time_limit_seconds: number | null;
  /** Peak RSS: the largest MaxRSS of the job's steps (the .batch step for a plain sbatch job), bytes. */
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
  // ---- added by the outcome work (optional, so outcomes built elsewhere stay valid) ----
  /** JobName. */
  name?: string | null;
  /** The job's owner as SLURM names it (sacct User, scontrol UserId). */
  user?: string | null;
  /** The job's own numeric id (%j): sacct JobIDRaw, scontrol JobId; for an array task, not the array's id. */
  raw_job_id?: number | null;
  /** The array's job id (%A) and this task's index (%a); null for a plain job. */
  array_job_id?: number | null;
  array_task_id?: number | null;
  /** Where exit_code/signal came from (finalResult's source): the job line, its .batch step, or nowhere. */
  exit_source?: FinalResult['source'];
  /** scontrol only: WorkDir, StdOut, StdErr as SLURM resolved them (the tail's files for `flurm watch --slurm`). */
  work_dir?: string | null;
  std_out?: string | null;
  std_err?: string | null;
}

/** One array as a unit, when every task is final. */
export interface SlurmArrayOutcome {
  array_job_id: string;
  tasks_total: number;
  /** State → number of tasks ("COMPLETED": 7, "FAILED": 2). Tasks with no record count as UNKNOWN. */
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
  // ---- added by the outcome work (optional) ----
  /** CPU time summed over the tasks that report it; null when none does. */
  total_cpu_seconds?: number | null;
  /** The largest per-task request (every task asks the same unless the array was changed). */
  req_mem_bytes?: number | null;
  alloc_cpus?: number | null;
  /** JobName, owner and partition of the first task. */
  name?: string | null;
  user?: string | null;
  partition?: string | null;
}

export interface OutcomeContext {
  /** uid → user name (for "cancelled by alice"); null when unknown. */
  userName?: (uid: number) => string | null;
}

/** What stateWords says about an outcome. */
export interface SlurmResultWords {
  /** The result sentence: "failed with exit code 3", "hit its time limit of 1:00:00 (killed by SIGTERM after 1:01:12)". */
  words: string;
  severity: Severity;
  /** For titles: "<name> <verb> on <node>": completed, failed, timed out, was cancelled, ran out of memory… */
  verb: string;
}

/** The `end` facts of flurm's EndEvent for a SLURM job. */
export interface SlurmEndFacts {
  exit: number | null;
  signal: string | null;
  exit_unknown: boolean;
  wall_seconds: number;
  cpu_seconds: number | null;
  peak_rss_bytes: number | null;
}

// ---- building outcomes -----------------------------------------------------------------------------

function cancelledByName(uid: number | null, ctx?: OutcomeContext): string | null {
  if (uid === null) return null;
  const name = ctx?.userName?.(uid) ?? null;
  if (name) return name;
  return uid === 0 ? 'root' : null;
}

/** DerivedExitCode worth telling: not 0 and not the exit code already told. */
function derivedCode(derived: { code: number } | null, exitCode: number | null): number | null {
  if (!derived || derived.code === 0 || derived.code === exitCode) return null;
  return derived.code;
}

function rawId(text: string | null): number | null {
  return text !== null && /^\d+$/.test(text) ? Number(text) : null;
}

/**
 * The outcome of one job or array task from its sacct rows (job line, .batch and other steps).
 * null while the job line is not in a final state, or when sacct printed no job line for it
 * (only steps): the poller asks again. Memory is the largest MaxRSS of any step (`maxRssBytes`),
 * CPU efficiency TotalCPU / (Elapsed × AllocCPUS) of the job line (`cpuEfficiency`).
 */
export function outcomeFromSacct(job: SacctJob, ctx?: OutcomeContext): SlurmOutcome | null {
  const line = job.job;
  if (!line) return null;
  const fr = finalResult(line, job.batch);
  if (!fr) return null;
  const byUid = fr.cancelled_by_uid;
  return {
    job_id: job.job_id,
    source: 'sacct',
    state: fr.state,
    exit_code: fr.exit_code,
    signal: fr.signal,
    out_of_memory: fr.out_of_memory,
    success: fr.success,
    cancelled_by_uid: byUid,
    cancelled_by: cancelledByName(byUid, ctx),
    derived_exit_code: derivedCode(line.derived_exit, fr.exit_code),
    reason: line.reason,
    elapsed_seconds: line.elapsed_seconds,
    time_limit_seconds: line.time_limit_seconds,
    max_rss_bytes: maxRssBytes(job),
    req_mem_bytes: reqMemTotalBytes(line),
    alloc_cpus: line.alloc_cpus,
    alloc_gpus: line.alloc_gpus,
    total_cpu_seconds: line.total_cpu_seconds,
    cpu_efficiency: cpuEfficiency(job),
    node_list: line.node_list,
    partition: line.partition,
    start: line.start,
    end: line.end,
    name: line.name,
    user: line.user,
    raw_job_id: rawId(line.job_id_raw),
    array_job_id: job.array_task_id === null ? null : job.array_job_id,
    array_task_id: job.array_task_id,
    exit_source: fr.source,
  };
}

/**
 * The outcome from a `scontrol show job` record (accounting off). scontrol has no MaxRSS or
 * TotalCPU (null) and does not say who cancelled a job. null while the job is not final.
 */
export function outcomeFromScontrol(job: ScontrolJob, ctx?: OutcomeContext): SlurmOutcome | null {
  void ctx; // scontrol names no canceller; kept for the same call shape as outcomeFromSacct
  const fr = finalResult({ state: job.state, exit: job.exit });
  if (!fr) return null;
  return {
    job_id: job.display_id,
    source: 'scontrol',
    state: fr.state,
    exit_code: fr.exit_code,
    signal: fr.signal,
    out_of_memory: fr.out_of_memory,
    success: fr.success,
    cancelled_by_uid: null,
    cancelled_by: null,
    derived_exit_code: derivedCode(job.derived_exit, fr.exit_code),
    reason: job.reason,
    elapsed_seconds: job.run_time_seconds,
    time_limit_seconds: job.time_limit_seconds,
    max_rss_bytes: null,
    req_mem_bytes: job.mem_bytes,
    alloc_cpus: job.num_cpus,
    alloc_gpus: job.gpus,
    total_cpu_seconds: null,
    cpu_efficiency: null,
    node_list: job.node_list,
    partition: job.partition,
    start: job.start,
    end: job.end,
    name: job.name,
    user: job.user,
    raw_job_id: job.job_id,
    array_job_id: job.array_task_id === null ? null : job.array_job_id,
    array_task_id: job.array_task_id,
    exit_source: fr.source,
    work_dir: job.work_dir,
    std_out: job.std_out,
    std_err: job.std_err,
  };
}

/**
 * A job whose final record never came (sacct empty past final_record_timeout_seconds, scontrol
 * past MinJobAge): state UNKNOWN, source none, `reason` says why. `known` may carry what the
 * poller last saw in squeue (node_list, partition, elapsed_seconds, name…); the verdict fields
 * (state, exit, signal, success) are never taken from it.
 */
export function unknownOutcome(jobId: string, reason: string, known: Partial<SlurmOutcome> = {}): SlurmOutcome {
  return {
    max_rss_bytes: null,
    req_mem_bytes: null,
    alloc_cpus: null,
    alloc_gpus: null,
    total_cpu_seconds: null,
    cpu_efficiency: null,
    node_list: null,
    partition: null,
    start: null,
    end: null,
    elapsed_seconds: null,
    time_limit_seconds: null,
    derived_exit_code: null,
    ...known,
    job_id: jobId,
    source: 'none',
    state: 'UNKNOWN',
    exit_code: null,
    signal: null,
    out_of_memory: false,
    success: false,
    cancelled_by_uid: null,
    cancelled_by: null,
    reason,
    exit_source: 'none',
  };
}

/**
 * The array as one unit from its tasks' outcomes. `tasksTotal` is the number of tasks the array
 * has (the `slurm` event's `tasks`); tasks with no outcome count as UNKNOWN in `counts` (so the
 * counts add up to tasks_total) and make the array unsuccessful. A task id given twice keeps the
 * last outcome. `source`: none when no task had a record, scontrol when any came from scontrol
 * (the message then says what is missing), else sacct.
 */
export function arrayOutcome(arrayJobId: string, tasks: (SlurmOutcome & { task_id: number })[], tasksTotal: number): SlurmArrayOutcome {
  const byId = new Map<number, SlurmOutcome & { task_id: number }>();
  for (const t of tasks) byId.set(t.task_id, t);
  const sorted = [...byId.values()].sort((a, b) => a.task_id - b.task_id);
  const total = Math.max(tasksTotal, sorted.length);

  const counts: Record<string, number> = {};
  for (const t of sorted) counts[t.state] = (counts[t.state] ?? 0) + 1;
  const missing = total - sorted.length;
  if (missing > 0) counts.UNKNOWN = (counts.UNKNOWN ?? 0) + missing;

  const failed = sorted.filter((t) => !t.success).map((t) => t.task_id);
  const max = (vals: (number | null | undefined)[]): number | null => {
    let m: number | null = null;
    for (const v of vals) if (typeof v === 'number' && Number.isFinite(v) && (m === null || v > m)) m = v;
    return m;
  };
  const cpuKnown = sorted.filter((t) => typeof t.total_cpu_seconds === 'number' && Number.isFinite(t.total_cpu_seconds));
  const source: SlurmArrayOutcome['source'] = sorted.every((t) => t.source === 'none')
    ? 'none'
    : sorted.some((t) => t.source === 'scontrol')
      ? 'scontrol'
      : 'sacct';
  const first = sorted[0];
  return {
    array_job_id: arrayJobId,
    tasks_total: total,
    counts,
    failed_task_ids: failed,
    tasks: sorted,
    success: total > 0 && missing === 0 && failed.length === 0,
    elapsed_seconds: max(sorted.map((t) => t.elapsed_seconds)),
    max_rss_bytes: max(sorted.map((t) => t.max_rss_bytes)),
    source,
    total_cpu_seconds: cpuKnown.length === 0 ? null : cpuKnown.reduce((s, t) => s + t.total_cpu_seconds!, 0),
    req_mem_bytes: max(sorted.map((t) => t.req_mem_bytes)),
    alloc_cpus: max(sorted.map((t) => t.alloc_cpus)),
    name: first?.name ?? null,
    user: first?.user ?? null,
    partition: first?.partition ?? null,
  };
}

export function isArrayOutcome(o: SlurmOutcome | SlurmArrayOutcome): o is SlurmArrayOutcome {
  return 'array_job_id' in o && 'tasks' in o && Array.isArray((o as SlurmArrayOutcome).tasks);
}

// ---- end facts ---------------------------------------------------------------------------------------

function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A signal number as flurm's EndEvent writes it: "SIGTERM" for 15, "SIGKILL" for 9. */
export function signalName(signal: number): string {
  return normalizeSignal(signal).name;
}

/**
 * The EndEvent facts for the job row. exit: the exit code (null when a signal ended the job, or
 * when SLURM does not say, e.g. NODE_FAIL or OUT_OF_MEMORY's 0:125); signal: its name;
 * exit_unknown: the final record never came. An array: exit 0 when every task succeeded, else
 * the first failed task's non-zero exit code, else 1; no signal.
 */
export function endFacts(o: SlurmOutcome | SlurmArrayOutcome): SlurmEndFacts {
  if (isArrayOutcome(o)) {
    const unknown = o.source === 'none';
    let exit: number | null = 0;
    if (unknown) exit = null;
    else if (!o.success) {
      const firstFailed = o.tasks.find((t) => !t.success);
      const code = firstFailed?.exit_code;
      exit = typeof code === 'number' && code !== 0 ? code : 1;
    }
    return {
      exit,
      signal: null,
      exit_unknown: unknown,
      wall_seconds: Math.max(0, finiteOrNull(o.elapsed_seconds) ?? 0),
      cpu_seconds: finiteOrNull(o.total_cpu_seconds),
      peak_rss_bytes: finiteOrNull(o.max_rss_bytes),
    };
  }
  const signal = o.signal === null ? null : signalName(o.signal);
  return {
    exit: signal === null ? o.exit_code : null,
    signal,
    exit_unknown: o.source === 'none',
    wall_seconds: Math.max(0, finiteOrNull(o.elapsed_seconds) ?? 0),
    cpu_seconds: finiteOrNull(o.total_cpu_seconds),
    peak_rss_bytes: finiteOrNull(o.max_rss_bytes),
  };
}

// ---- words -------------------------------------------------------------------------------------------

/** Seconds in SLURM's own time syntax (what --time takes): "0:01:00", "1:01:12", "2-00:00:00". */
export function slurmDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const total = Math.round(seconds);
  const days = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return days > 0 ? `${days}-${pad(h)}:${pad(m)}:${pad(s)}` : `${h}:${pad(m)}:${pad(s)}`;
}

/** What a signal means, for a job that SLURM reports as FAILED with it (SLURM's own kills have their own states). */
function signalWords(signal: number): string {
  const name = signalName(signal);
  if (name === 'SIGKILL') return 'killed by SIGKILL (the kernel’s out-of-memory killer, a user or an admin)';
  return describeResult({ state: 'failed', signal: name }).words;
}

/** "failed with exit code 3", "failed with exit code 137 (128+9: SIGKILL) — likely out of memory". */
function exitWords(code: number): string {
  const local = describeResult({ state: 'failed', exit: code }).words; // "exit 137 (128+9: SIGKILL) — …"
  const prefix = `exit ${code}`;
  return local.startsWith(prefix) ? `failed with exit code ${code}${local.slice(prefix.length)}` : `failed with exit code ${code} (${local})`;
}

function cancellerWords(o: SlurmOutcome): string {
  if (o.cancelled_by_uid === 0) return `cancelled by ${o.cancelled_by ?? 'root'} (an administrator)`;
  if (o.cancelled_by) return `cancelled by ${o.cancelled_by}`;
  if (o.cancelled_by_uid !== null) return `cancelled by uid ${o.cancelled_by_uid}`;
  return 'cancelled';
}

function neverStarted(o: SlurmOutcome): boolean {
  return o.start === null && o.node_list === null && (o.elapsed_seconds === null || o.elapsed_seconds === 0);
}

/** ExitCode `0:53` of a job that ended at once: slurmstepd could not open its stdout/stderr file. */
export const STDIO_OPEN_FAILED_SIGNAL = 53;
export const STDIO_OPEN_FAILED_WORDS =
  'could not start: SLURM could not open its output or error file (exit 0:53) — does the directory of --output/--error exist? SLURM does not create it';

const SCONTROL_NOTE = '(record from scontrol: accounting is off, no peak memory or CPU time)';

function singleWords(o: SlurmOutcome): SlurmResultWords {
  const killedBy = o.signal === null ? '' : `killed by ${signalName(o.signal)} `;
  const after = o.elapsed_seconds === null ? '' : `after ${slurmDuration(o.elapsed_seconds)}`;
  switch (o.state) {
    case 'COMPLETED': {
      if (o.exit_code !== null && o.exit_code !== 0) return { words: exitWords(o.exit_code), severity: 'failure', verb: 'failed' };
      if (o.derived_exit_code !== null) {
        return {
          words: `completed (exit 0), but a step failed: DerivedExitCode ${o.derived_exit_code}`,
          severity: 'warning',
          verb: 'completed',
        };
      }
      return { words: 'completed (exit 0)', severity: 'success', verb: 'completed' };
    }
    case 'FAILED': {
      if (o.out_of_memory) return { words: 'ran out of memory (SLURM’s cgroup limit)', severity: 'failure', verb: 'ran out of memory' };
      if (o.signal !== null && o.exit_code !== null && o.exit_code !== 0) {
        return { words: `failed with exit code ${o.exit_code}, ${signalWords(o.signal)}`, severity: 'failure', verb: 'failed' };
      }
      // Seen on 22.05: a job whose --output/--error directory does not exist ends FAILED 0:53 at
      // once (slurmstepd cannot open the file; SLURM never creates directories).
      if (o.signal === STDIO_OPEN_FAILED_SIGNAL && (o.elapsed_seconds ?? 0) <= 1) {
        return { words: STDIO_OPEN_FAILED_WORDS, severity: 'failure', verb: 'could not start' };
      }
      if (o.signal !== null) return { words: signalWords(o.signal), severity: 'failure', verb: 'failed' };
      if (o.exit_code !== null) return { words: exitWords(o.exit_code), severity: 'failure', verb: 'failed' };
      return { words: 'failed (SLURM gave no exit code)', severity: 'failure', verb: 'failed' };
    }
    case 'TIMEOUT': {
      const limit = o.time_limit_seconds === null ? 'hit its time limit' : `hit its time limit of ${slurmDuration(o.time_limit_seconds)}`;
      const how = `${killedBy}${after}`.trim();
      return { words: how ? `${limit} (${how})` : limit, severity: 'failure', verb: 'timed out' };
    }
    case 'CANCELLED': {
      let words = cancellerWords(o);
      if (neverStarted(o)) words += ' before it started';
      // The owner's own scancel is news to nobody: info. Anyone else's (an admin, unknown): a warning.
      const byOwner = o.cancelled_by !== null && o.user != null && o.cancelled_by === o.user && o.cancelled_by_uid !== 0;
      return { words, severity: byOwner ? 'info' : 'warning', verb: 'was cancelled' };
    }
    case 'OUT_OF_MEMORY':
      return { words: 'ran out of memory (SLURM’s cgroup limit)', severity: 'failure', verb: 'ran out of memory' };
    case 'NODE_FAIL':
      return { words: 'lost its node (NODE_FAIL): the node failed, not your job', severity: 'warning', verb: 'lost its node' };
    case 'PREEMPTED':
      return { words: 'was preempted by a higher-priority job', severity: 'warning', verb: 'was preempted' };
    case 'BOOT_FAIL':
      return { words: 'could not start: its node failed to boot (BOOT_FAIL), not your job', severity: 'warning', verb: 'could not start' };
    case 'DEADLINE':
      return { words: 'missed its deadline (--deadline): SLURM ended it', severity: 'failure', verb: 'missed its deadline' };
    case 'REVOKED':
      return { words: 'was revoked: a sibling of this federated job runs on another cluster', severity: 'info', verb: 'was revoked' };
    case 'UNKNOWN': {
      const why = o.reason ? ` (${o.reason})` : '';
      return { words: `ended, but SLURM’s final record never came: state unknown${why}`, severity: 'warning', verb: 'ended' };
    }
    default:
      return { words: `ended in state ${o.state}`, severity: o.success ? 'success' : 'failure', verb: 'ended' };
  }
}

/** States that are nobody's fault in the job (or the user's own doing): a warning, not a failure. */
const WARNING_STATES = new Set(['CANCELLED', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'UNKNOWN', 'REVOKED']);

function arrayWords(a: SlurmArrayOutcome): SlurmResultWords {
  const states = Object.entries(a.counts).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  const breakdown = states.map(([s, n]) => `${n} ${s}`).join(', ');
  const bad = a.tasks_total - a.tasks.filter((t) => t.success).length;
  if (a.success) {
    const all = a.tasks_total === 1 ? 'its 1 task completed' : `all ${a.tasks_total} tasks completed`;
    return { words: `${all} (exit 0)`, severity: 'success', verb: 'completed' };
  }
  if (a.source === 'none') {
    return {
      words: `ended, but SLURM’s final record never came for any of its ${a.tasks_total} tasks: states unknown`,
      severity: 'warning',
      verb: 'ended',
    };
  }
  const failing = Object.keys(a.counts).some((s) => s !== 'COMPLETED' && !WARNING_STATES.has(s)) || a.tasks.some((t) => t.state === 'COMPLETED' && !t.success);
  return {
    words: `${bad} of ${a.tasks_total} tasks ${failing ? 'failed' : 'did not complete'} (${breakdown})`,
    severity: failing ? 'failure' : 'warning',
    verb: failing ? 'failed' : 'did not complete',
  };
}

/**
 * The result in words, its severity and the title's verb. Success: COMPLETED with exit 0. Failure:
 * the job's own doing (FAILED, TIMEOUT, OUT_OF_MEMORY, DEADLINE). Warning: not the job's fault or
 * not a verdict (NODE_FAIL, BOOT_FAIL, PREEMPTED, UNKNOWN, a cancel by someone else or by an
 * unknown uid, COMPLETED with a failed step). Info: the owner's own scancel, REVOKED. A record
 * from scontrol says so, and that peak memory and CPU time are missing (unless `sourceNote: false`,
 * for a sentence quoted inside a message that says it once).
 */
export function stateWords(o: SlurmOutcome | SlurmArrayOutcome, opts: { sourceNote?: boolean } = {}): SlurmResultWords {
  const r = isArrayOutcome(o) ? arrayWords(o) : singleWords(o);
  if (o.source === 'scontrol' && opts.sourceNote !== false) return { ...r, words: `${r.words} ${SCONTROL_NOTE}` };
  return r;
}

// ---- efficiency hints ----------------------------------------------------------------------------------

/**
 * Thresholds of efficiencyHints, chosen to say something only when acting on it pays off:
 * - A job is judged only when it ran long enough for its usage to mean something: 60 s for a job
 *   that ran its course (COMPLETED, TIMEOUT), 10 min for one that ended early (FAILED, CANCELLED,
 *   PREEMPTED…: a crash after a minute says nothing about what the job needs).
 * - Memory: peak under 25 % of a request of at least 2 GiB (a default 1 GiB request is not worth
 *   a remark). A peak above the request is always said (the cluster did not enforce it; one that
 *   does would have killed the job).
 * - CPU: efficiency under 50 % with 2 or more CPUs allocated.
 * - OUT_OF_MEMORY: always, with the peak and the request.
 */
export const HINT_MIN_SECONDS = 60;
export const HINT_MIN_SECONDS_ENDED_EARLY = 600;
export const MEMORY_HINT_MAX_FRACTION = 0.25;
export const MEMORY_HINT_MIN_REQUEST_BYTES = 2 * 1024 ** 3;
export const CPU_HINT_MAX_EFFICIENCY = 0.5;

interface UsageFacts {
  state: string;
  out_of_memory: boolean;
  elapsed_seconds: number | null;
  max_rss_bytes: number | null;
  req_mem_bytes: number | null;
  alloc_cpus: number | null;
  cpu_efficiency: number | null;
}

const RAN_ITS_COURSE = new Set(['COMPLETED', 'TIMEOUT']);
const NO_USAGE_VERDICT = new Set(['NODE_FAIL', 'BOOT_FAIL', 'UNKNOWN']);

function percent(fraction: number): string {
  const p = fraction * 100;
  return p < 1 ? '<1' : String(Math.round(p));
}

function usageHints(u: UsageFacts, perTask: boolean): string[] {
  const out: string[] = [];
  const each = perTask ? ' per task' : '';
  const rss = finiteOrNull(u.max_rss_bytes);
  const req = finiteOrNull(u.req_mem_bytes);
  if (u.out_of_memory) {
    if (rss !== null && req !== null) out.push(`peak ${formatBytes(rss)} of the ${formatBytes(req)} requested${each}: ask for more with --mem`);
    else if (req !== null) out.push(`it needed more than the ${formatBytes(req)} requested${each}: ask for more with --mem`);
    else out.push('it needed more memory than it had: ask for more with --mem');
    return out;
  }
  if (rss !== null && req !== null && req > 0 && rss > req) {
    out.push(`peak ${formatBytes(rss)} is more than the ${formatBytes(req)} requested${each}: ask for at least that with --mem (a cluster that enforces the limit would kill the job)`);
  }
  if (NO_USAGE_VERDICT.has(u.state)) return out;
  const elapsed = finiteOrNull(u.elapsed_seconds);
  const minSeconds = RAN_ITS_COURSE.has(u.state) ? HINT_MIN_SECONDS : HINT_MIN_SECONDS_ENDED_EARLY;
  if (elapsed === null || elapsed < minSeconds) return out;
  if (rss !== null && req !== null && req >= MEMORY_HINT_MIN_REQUEST_BYTES && rss < req * MEMORY_HINT_MAX_FRACTION) {
    out.push(`used ${percent(rss / req)} % of the ${formatBytes(req)} memory requested${each} (peak ${formatBytes(rss)}): ask for less with --mem and it may start sooner`);
  }
  const eff = finiteOrNull(u.cpu_efficiency);
  const cpus = u.alloc_cpus;
  if (eff !== null && cpus !== null && cpus >= 2 && eff < CPU_HINT_MAX_EFFICIENCY) {
    const busy = eff * cpus;
    out.push(`CPU efficiency ${percent(eff)} % of ${cpus} cores${each} (about ${busy.toFixed(1)} busy over ${formatDuration(elapsed)}): ask for fewer with --cpus-per-task, or check that the program uses them`);
  }
  return out;
}

/**
 * What the job could ask for differently, as short sentences for the message's Efficiency field
 * (thresholds above; [] when there is nothing worth saying). For an array: OOM tasks, and usage
 * judged over the tasks that completed (largest peak, CPU efficiency over all of them).
 */
export function efficiencyHints(o: SlurmOutcome | SlurmArrayOutcome): string[] {
  if (!isArrayOutcome(o)) return usageHints(o, false);
  const out: string[] = [];
  const oom = o.tasks.filter((t) => t.out_of_memory);
  if (oom.length > 0) {
    const worst = oom.reduce((a, b) => ((b.max_rss_bytes ?? -1) > (a.max_rss_bytes ?? -1) ? b : a));
    const [hint] = usageHints({ ...worst, state: 'OUT_OF_MEMORY', out_of_memory: true }, true);
    out.push(`${plural(oom.length, 'task')} ran out of memory: ${hint}`);
  }
  const done = o.tasks.filter((t) => t.state === 'COMPLETED' || t.state === 'TIMEOUT');
  if (done.length > 0) {
    const max = (vals: (number | null)[]) => vals.reduce<number | null>((m, v) => (v !== null && Number.isFinite(v) && (m === null || v > m) ? v : m), null);
    let cpu = 0;
    let capacity = 0;
    for (const t of done) {
      if (t.total_cpu_seconds !== null && t.elapsed_seconds !== null && t.alloc_cpus !== null && t.elapsed_seconds > 0) {
        cpu += t.total_cpu_seconds;
        capacity += t.elapsed_seconds * t.alloc_cpus;
      }
    }
    out.push(
      ...usageHints(
        {
          state: 'COMPLETED',
          out_of_memory: false,
          elapsed_seconds: max(done.map((t) => t.elapsed_seconds)),
          max_rss_bytes: max(done.map((t) => t.max_rss_bytes)),
          req_mem_bytes: max(done.map((t) => t.req_mem_bytes)),
          alloc_cpus: max(done.map((t) => t.alloc_cpus)),
          cpu_efficiency: capacity > 0 ? cpu / capacity : null,
        },
        true,
      ),
    );
  }
  return out;
}

// ---- output files ------------------------------------------------------------------------------------

/**
 * What expandOutputPattern needs for one job or task (%j: the task's own id, sacct JobIDRaw; %N:
 * the first node of the final record's NodeList), with the job's working directory as `workDir`.
 * restartCount unknown: a pattern with %r gives null.
 */
export type TaskPathContext = Omit<PatternContext, 'submitDir' | 'chdir'> & { workDir?: string };

/**
 * The registered output (or error) pattern expanded for one job or task with what the final record
 * says (expandOutputPattern: %j, %A, %a, %x, %u, %N…). null when the pattern is null or a value it
 * needs is still unknown (the caller must not guess a file name).
 */
export function taskOutputPath(pattern: string | null | undefined, ctx: TaskPathContext): string | null {
  if (!pattern) return null;
  const { workDir, ...fields } = ctx;
  const expanded = expandOutputPattern(pattern, { ...fields, submitDir: workDir });
  return expanded.pending.length > 0 ? null : expanded.path;
}
