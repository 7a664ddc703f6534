// The job-end notification of a SLURM batch job, as a neutral Message with the same look as the
// local one (job-message.ts builds both): "✗ train.sh failed on node01 (SLURM 45)", the result in
// words from SLURM's final record (outcome.ts stateWords), Duration / Peak memory / CPU time, what
// was requested, efficiency hints, the diagnosis of the log tail and the tail itself.
//
// Three messages: one job (or one array task as a job), one array as a unit when every task has
// ended (counts per state, failed task ids, the first failure's tail), and a capped per-task
// failure message while the array still runs. `data.slurm` carries the outcome as plain JSON for
// JSON and webhook destinations.
import type { Diagnosis } from '../diagnose/diagnose.js';
import { formatBytes, formatDuration, plural } from '../lib/format.js';
import type { Message, MessageField } from '../model/message.js';
import { formatTaskIds } from '../schedulers/slurm/array-spec.js';
import {
  HINT_MIN_SECONDS,
  type SlurmArrayOutcome,
  type SlurmOutcome,
  type SlurmResultWords,
  efficiencyHints,
  slurmDuration,
  stateWords,
  taskOutputPath,
} from '../schedulers/slurm/outcome.js';
import { firstNode } from '../schedulers/slurm/fields.js';
import { clip } from '../spool/events.js';
import { FIELD_MAX_CHARS, type JobMessageOptions, buildEndMessage } from './job-message.js';
import { jobName } from '../model/job-name.js';
import type { JobView } from '../model/job-view.js';

export interface SlurmMessageOptions extends JobMessageOptions {
  /** The file the tail was read from (readSlurmTail's `file`); default: the job's log pattern, expanded when possible. */
  logFile?: string | null;
}

export interface TaskMessageOptions extends SlurmMessageOptions {
  /** The task's log tail (the array's job row has none while the array runs). */
  tail?: string[] | null;
}

/** Tasks kept in `data.slurm.tasks` of an array message (failed first): a 1000-task array stays small. */
export const DATA_MAX_TASKS = 50;
/** The Failed tasks field is cut (at a comma) to this: past a few hundred characters nobody reads ids. */
export const FAILED_IDS_MAX_CHARS = 300;
/** Nodes named in an array's Host field before "+N more". */
const HOST_MAX_NODES = 4;

type Task = SlurmOutcome & { task_id: number };

// ---- shared pieces ----------------------------------------------------------------------------------

/** Plain JSON: non-finite numbers become null (JSON.stringify would write them as null anyway, silently). */
function jsonSafe<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

/** The options with SLURM's JobName from the record, so the title and data.job.name follow jobName's rule. */
function named<T extends JobMessageOptions>(o: { name?: string | null }, opts?: T): T {
  return { ...opts, schedulerName: o.name ?? null } as T;
}

/** The job's name in a title: flurm's --title (or the SLURM job name it was registered with), else SLURM's JobName, else from the command. */
function nameOf(job: JobView, o: { name?: string | null }, opts?: JobMessageOptions): string {
  return jobName(job, named(o, opts));
}

/** "8 CPUs · 16 GiB · 2 GPUs · limit 2-00:00:00"; "" when nothing is known. */
function requestedWords(o: { alloc_cpus?: number | null; req_mem_bytes?: number | null; alloc_gpus?: number | null; time_limit_seconds?: number | null }): string {
  const parts: string[] = [];
  if (typeof o.alloc_cpus === 'number') parts.push(plural(o.alloc_cpus, 'CPU'));
  if (typeof o.req_mem_bytes === 'number') parts.push(formatBytes(o.req_mem_bytes));
  if (typeof o.alloc_gpus === 'number' && o.alloc_gpus > 0) parts.push(plural(o.alloc_gpus, 'GPU'));
  if (typeof o.time_limit_seconds === 'number') parts.push(`limit ${slurmDuration(o.time_limit_seconds)}`);
  return parts.join(' · ');
}

/** The Efficiency field: the hints, else (for a job long enough to judge) the plain figures. */
function efficiencyText(o: SlurmOutcome): string {
  const hints = efficiencyHints(o);
  if (hints.length > 0) return hints.join('\n');
  if (o.elapsed_seconds === null || o.elapsed_seconds < HINT_MIN_SECONDS) return '';
  const pct = (f: number) => (f > 0 && f < 0.01 ? '<1' : String(Math.round(f * 100)));
  const parts: string[] = [];
  if (o.cpu_efficiency !== null && o.alloc_cpus !== null) parts.push(`CPU ${pct(o.cpu_efficiency)} % of ${plural(o.alloc_cpus, 'core')}`);
  if (o.max_rss_bytes !== null && o.req_mem_bytes !== null && o.req_mem_bytes > 0) {
    parts.push(`memory ${pct(o.max_rss_bytes / o.req_mem_bytes)} % of ${formatBytes(o.req_mem_bytes)}`);
  }
  return parts.join(' · ');
}

/** The log file as a user would look for it: the caller's, else the registered pattern expanded with the record's facts. */
function logFileOf(job: JobView, o: SlurmOutcome, opts?: SlurmMessageOptions): string | null {
  if (opts?.logFile) return opts.logFile;
  const pattern = job.log ?? null;
  if (!pattern || !pattern.includes('%')) return pattern;
  const arrayJobId = o.array_job_id ?? undefined;
  const expanded = taskOutputPath(pattern, {
    jobId: o.raw_job_id ?? (o.array_task_id == null && /^\d+$/.test(o.job_id) ? Number(o.job_id) : undefined),
    arrayJobId: arrayJobId ?? (o.array_task_id == null && /^\d+$/.test(o.job_id) ? Number(o.job_id) : undefined),
    arrayTaskId: o.array_task_id ?? null,
    jobName: o.name ?? undefined,
    user: o.user ?? undefined,
    nodeName: firstNode(o.node_list) ?? undefined,
    workDir: job.cwd ?? undefined,
  });
  return expanded ?? pattern;
}

/** "3, 5, 7-9", cut at a comma to fit `max` characters: "0, 2, 4, … (500 tasks)". */
export function compactTaskIds(ids: readonly number[], max = FIELD_MAX_CHARS): string {
  const unique = [...new Set(ids)];
  const parts = formatTaskIds(unique).split(',').filter(Boolean);
  const full = parts.join(', ');
  if (full.length <= max) return full;
  const suffix = `, … (${plural(unique.length, 'task')})`;
  let out = '';
  for (const p of parts) {
    const next = out ? `${out}, ${p}` : p;
    if (next.length + suffix.length > max) break;
    out = next;
  }
  return clip(out + suffix, max);
}

/** The SLURM field of a single job: "45 · partition gpu · nodes gpu[01-02]". */
function slurmJobWords(o: SlurmOutcome): string {
  const parts = [o.job_id];
  if (o.partition) parts.push(`partition ${o.partition}`);
  if (o.node_list && firstNode(o.node_list) !== o.node_list) parts.push(`nodes ${o.node_list}`);
  return parts.join(' · ');
}

/** The view of the job with the record's facts: the node as host, SLURM's elapsed, CPU and peak memory. */
function viewOf(job: JobView, o: SlurmOutcome): JobView {
  return {
    ...job,
    host: firstNode(o.node_list) ?? job.host,
    wallSeconds: o.elapsed_seconds,
    cpuSeconds: o.total_cpu_seconds,
    peakRssBytes: o.max_rss_bytes,
  };
}

function singleFields(o: SlurmOutcome): MessageField[] {
  const fields: MessageField[] = [{ name: 'SLURM job', value: slurmJobWords(o), inline: true }];
  const requested = requestedWords(o);
  if (requested) fields.push({ name: 'Requested', value: requested, inline: true });
  const eff = efficiencyText(o);
  if (eff) fields.push({ name: 'Efficiency', value: eff, inline: false });
  return fields;
}

function outcomeData(o: SlurmOutcome, r: SlurmResultWords): Record<string, unknown> {
  return { ...(jsonSafe(o) as Record<string, unknown>), result: r.words, severity: r.severity, hints: efficiencyHints(o) };
}

// ---- one job -------------------------------------------------------------------------------------------

/**
 * The job-end message of a SLURM job (or of one array task treated as a job): title
 * "✗ train.sh failed on node01 (SLURM 45)", host = the node, the result sentence, Duration, Peak
 * memory, CPU time, "SLURM job" (id, partition, nodes), "Requested", "Efficiency", the command,
 * directory and log file, the diagnoses and the tail (job.tail). `data.slurm` is the outcome.
 */
export function buildSlurmJobMessage(job: JobView, o: SlurmOutcome, diagnoses: readonly Diagnosis[], opts?: SlurmMessageOptions): Message {
  const r = stateWords(o);
  const view = { ...viewOf(job, o), log: logFileOf(job, o, opts) };
  const node = firstNode(o.node_list);
  const title = `${nameOf(job, o, opts)} ${r.verb}${node ? ` on ${node}` : ''} (SLURM ${o.job_id})`;
  return buildEndMessage(view, r, diagnoses, named(o, opts), {
    title,
    fields: singleFields(o),
    wallSeconds: o.elapsed_seconds,
    data: { slurm: outcomeData(o, r) },
  });
}

// ---- an array as a unit ---------------------------------------------------------------------------------

/** Seconds from the first task's start to the last task's end (SLURM local times, one clock); null if unknown. */
function arraySpanSeconds(tasks: readonly Task[]): number | null {
  let first = Infinity;
  let last = -Infinity;
  for (const t of tasks) {
    const s = t.start ? Date.parse(t.start) : NaN;
    const e = t.end ? Date.parse(t.end) : NaN;
    if (Number.isFinite(s)) first = Math.min(first, s);
    if (Number.isFinite(e)) last = Math.max(last, e);
  }
  return Number.isFinite(first) && Number.isFinite(last) && last >= first ? (last - first) / 1000 : null;
}

/** "vm", "node01, node02, node03, node04 +3 more": the nodes the tasks' batch scripts ran on. */
function arrayHosts(tasks: readonly Task[]): string | null {
  const nodes = [...new Set(tasks.map((t) => firstNode(t.node_list)).filter((n): n is string => n !== null))];
  if (nodes.length === 0) return null;
  const shown = nodes.slice(0, HOST_MAX_NODES).join(', ');
  return nodes.length > HOST_MAX_NODES ? `${shown} +${nodes.length - HOST_MAX_NODES} more` : shown;
}

function arrayData(a: SlurmArrayOutcome, r: SlurmResultWords): Record<string, unknown> {
  const failedFirst = [...a.tasks.filter((t) => !t.success), ...a.tasks.filter((t) => t.success)].slice(0, DATA_MAX_TASKS);
  failedFirst.sort((x, y) => x.task_id - y.task_id);
  return {
    ...(jsonSafe({ ...a, tasks: failedFirst }) as Record<string, unknown>),
    tasks_omitted: a.tasks.length - failedFirst.length,
    result: r.words,
    severity: r.severity,
    hints: efficiencyHints(a),
  };
}

/**
 * One message for a whole array when every task has ended: "✗ sweep array 39: 2 of 8 tasks
 * failed", counts per state, the failed task ids ("3, 5, 7-9"), the first failure in words, the
 * duration (first start to last end, else the longest task), the largest peak memory, the CPU time
 * of all tasks, and the diagnoses and tail of the first failed task (the caller reads its tail into
 * job.tail and diagnoses it).
 */
export function buildSlurmArrayMessage(job: JobView, a: SlurmArrayOutcome, diagnoses: readonly Diagnosis[], opts?: SlurmMessageOptions): Message {
  const r = stateWords(a);
  const name = nameOf(job, a, opts);
  const bad = a.tasks_total - a.tasks.filter((t) => t.success).length;
  const head = `${name} array ${a.array_job_id}`;
  let title: string;
  if (a.success) title = `${head}: ${a.tasks_total === 1 ? 'its task' : `all ${a.tasks_total} tasks`} completed`;
  else if (a.source === 'none') title = `${head} ended: final record missing`;
  else title = `${head}: ${bad} of ${a.tasks_total} tasks ${r.verb}`;

  const span = arraySpanSeconds(a.tasks);
  const first = a.tasks.find((t) => !t.success);
  const view: JobView = {
    ...job,
    host: arrayHosts(a.tasks) ?? job.host,
    peakRssBytes: a.max_rss_bytes,
    cpuSeconds: null, // the sum over tasks is shown on its own: "avg N cores" over the span would mislead
    // The log of the task whose tail is shown (the first failure), else the registered pattern.
    log: first ? logFileOf(job, first, opts) : (opts?.logFile ?? job.log ?? null),
  };

  const fields: MessageField[] = [];
  if (a.tasks.length > 1 && a.elapsed_seconds !== null) fields.push({ name: 'Longest task', value: formatDuration(a.elapsed_seconds), inline: true });
  if (typeof a.total_cpu_seconds === 'number') fields.push({ name: 'CPU time (all tasks)', value: formatDuration(a.total_cpu_seconds), inline: true });
  if (a.failed_task_ids.length > 0) fields.push({ name: 'Failed tasks', value: compactTaskIds(a.failed_task_ids, FAILED_IDS_MAX_CHARS), inline: false });
  if (first) {
    const node = firstNode(first.node_list);
    fields.push({ name: 'First failure', value: `task ${first.task_id}${node ? ` on ${node}` : ''}: ${stateWords(first, { sourceNote: false }).words}`, inline: false });
  }
  const slurmParts = [a.array_job_id, `array of ${a.tasks_total}`];
  if (a.partition) slurmParts.push(`partition ${a.partition}`);
  fields.push({ name: 'SLURM job', value: slurmParts.join(' · '), inline: true });
  const requested = requestedWords({ alloc_cpus: a.alloc_cpus, req_mem_bytes: a.req_mem_bytes });
  if (requested) fields.push({ name: 'Requested per task', value: requested, inline: true });
  const hints = efficiencyHints(a);
  if (hints.length > 0) fields.push({ name: 'Efficiency', value: hints.join('\n'), inline: false });

  return buildEndMessage(view, r, diagnoses, named(a, opts), {
    title,
    fields,
    wallSeconds: span ?? a.elapsed_seconds,
    data: { slurm: arrayData(a, r) },
  });
}

// ---- one failed task while the array runs ------------------------------------------------------------------

/**
 * A failed task's own message while its array still runs (at most `n.cap` per array): "✗ sweep
 * array 39: task 3 failed on node01", summary "task 3 failed with exit code 1 (1 of at most 5 task
 * messages; the array's summary comes at the end)". The tail is `opts.tail` (else job.tail).
 */
export function buildSlurmTaskMessage(
  job: JobView,
  task: Task,
  diagnoses: readonly Diagnosis[],
  n: { index: number; cap: number },
  opts?: TaskMessageOptions,
): Message {
  const r = stateWords(task);
  const arrayId = task.array_job_id ?? job.slurm?.job_id ?? task.job_id.split('_')[0]!;
  const node = firstNode(task.node_list);
  const title = `${nameOf(job, task, opts)} array ${arrayId}: task ${task.task_id} ${r.verb}${node ? ` on ${node}` : ''}`;
  const last = n.index >= n.cap;
  const note = last
    ? `${n.index} of at most ${n.cap} task messages: no more until the array's summary at the end`
    : `${n.index} of at most ${n.cap} task messages; the array's summary comes at the end`;
  const view: JobView = { ...viewOf(job, task), log: logFileOf(job, task, opts), tail: opts?.tail ?? job.tail ?? null, endTs: job.endTs ?? null };
  return buildEndMessage(view, r, diagnoses, named(task, opts), {
    title,
    summary: `task ${task.task_id} ${r.words} (${note})`,
    fields: singleFields(task),
    wallSeconds: task.elapsed_seconds,
    data: { slurm: outcomeData(task, r), task_message: { index: n.index, cap: n.cap, task_id: task.task_id } },
  });
}
