// Parser for `squeue -o SQUEUE_FORMAT` output: one row per job or array task (an unsplit pending
// array is one row `48_[0-3%2]`), with state, reason, user and uid, time used and limit in
// seconds, nodes, CPUs, memory, GPUs per node and node list. Header-driven: with the header line
// columns are found by name (JOBID, STATE, ...), in any order; without it (--noheader) they
// follow the `format` the caller ran. Used twice: for the jobs flurm watches (`-t all -j ids`)
// and, for all users, for the queue leaderboard (pending and running only: squeue's default).
//
// Facts (slurm-wlm 22.05.8, test/fixtures/slurm):
// - `-t all -j ID` shows a finished job with its final state until MinJobAge (300 s) has passed;
//   without `-t all` an ended job prints nothing (exit 0).
// - One unknown id (`-j 4000000`): nothing on stdout, "slurm_load_jobs error: Invalid job id
//   specified" on stderr, exit 1. Several ids, all unknown: no rows, exit 0.
// - %M (time used) is `M:SS` / `H:MM:SS` / `D-HH:MM:SS`; %l is `5:00` or UNLIMITED; %S is N/A
//   while pending; %N is empty while pending; %K is N/A for a plain job; %r is None when running.
// - %m is the memory asked per CPU or per node as given (`--mem-per-cpu=100M -c 2` shows 100M,
//   where sacct ReqMem shows the job's 200M); a bare number is MB.
// - %j, the job name, may hold `|`: it is the free-text column and the last one.
import {
  type PipeRow,
  SlurmParseError,
  cellOf,
  fieldReader,
  gresGpus,
  nonEmpty,
  nullable,
  parseCount,
  parseDurationSeconds,
  parseFormatTable,
  parseGres,
  parseSizeBytes,
  parseSlurmTime,
  sample,
} from './fields.js';
import { type JobStateName, parseJobState, stateFromShortCode } from './states.js';

/** The format the poller runs squeue with (`-o`); %j (the name) last, it may contain `|`. */
export const SQUEUE_FORMAT = '%i|%F|%K|%T|%r|%u|%U|%P|%M|%l|%D|%C|%m|%b|%V|%S|%N|%j';

/** squeue's header name for each `-o` letter flurm may use (22.05 spelling). */
export const SQUEUE_HEADERS: Readonly<Record<string, string>> = {
  i: 'JOBID',
  A: 'JOBID',
  F: 'ARRAY_JOB_ID',
  K: 'ARRAY_TASK_ID',
  T: 'STATE',
  t: 'ST',
  r: 'REASON',
  R: 'NODELIST(REASON)',
  u: 'USER',
  U: 'UID',
  a: 'ACCOUNT',
  q: 'QOS',
  P: 'PARTITION',
  M: 'TIME',
  l: 'TIME_LIMIT',
  L: 'TIME_LEFT',
  D: 'NODES',
  C: 'CPUS',
  m: 'MIN_MEMORY',
  b: 'TRES_PER_NODE',
  V: 'SUBMIT_TIME',
  S: 'START_TIME',
  e: 'END_TIME',
  N: 'NODELIST',
  j: 'NAME',
};

/**
 * The one squeue flurm runs (the hub's poller each interval, the CLI with no hub): every user,
 * every state, header kept. It covers the watched jobs and the queue views in one call and never
 * fails on ids SLURM forgot (`squeue -j` with only unknown ids exits 1); final rows are what
 * ended within MinJobAge.
 */
export function squeueArgs(): string[] {
  return ['-a', '-t', 'all', '-o', SQUEUE_FORMAT];
}

export interface SqueueRow {
  line: number;
  /** As squeue prints it: "45", "39_3", "48_[0-3%2]". */
  job_id: string;
  /** The array's job id for an array task or unsplit array; null for a plain job. */
  array_job_id: number | null;
  array_task_id: number | null;
  /** "0-3%2" for an unsplit pending array. */
  array_task_spec: string | null;
  state: JobStateName | null;
  /** JobHeldUser, Resources, Priority, TimeLimit, NonZeroExitCode...; null for None. */
  reason: string | null;
  user: string | null;
  uid: number | null;
  partition: string | null;
  time_used_seconds: number | null;
  /** null for UNLIMITED. */
  time_limit_seconds: number | null;
  nodes: number | null;
  cpus: number | null;
  /** %m in bytes (per CPU or per node, as requested). */
  min_memory_bytes: number | null;
  /** %b as printed ("gres:gpu:2"); null for N/A. */
  tres_per_node: string | null;
  /** GPUs per node from %b; null when none. */
  gpus_per_node: number | null;
  submit: string | null;
  /** Actual start, or the scheduler's estimate for a pending job; null when N/A. */
  start: string | null;
  node_list: string | null;
  name: string | null;
  /** Every cell by column name. */
  fields: Map<string, string>;
}

export interface SqueueResult {
  rows: SqueueRow[];
  truncated: boolean;
}

function parseRow(row: PipeRow): SqueueRow {
  const line = row.line;
  const get = (...names: string[]) => cellOf(row, ...names);
  const f = fieldReader('squeue', line, get);

  const id = nullable(get('JOBID'));
  if (id === null) throw new SlurmParseError('squeue', 'empty job id', { line, field: 'JOBID' });
  const m = /^(\d+)(?:_(\d+)|_\[([^\]]*)\])?(?:\+\d+)?$/.exec(id);
  if (!m) throw new SlurmParseError('squeue', `not a job id: ${sample(id)}`, { line, field: 'JOBID' });
  const taskId = m[2] === undefined ? null : Number(m[2]);
  const taskSpec = m[3] ?? null;
  const arrayJobId = taskId !== null || taskSpec !== null ? Number(m[1]) : null;

  let state: JobStateName | null = null;
  const stateText = nullable(get('STATE'));
  const shortText = nullable(get('ST'));
  if (stateText !== null) {
    const parsed = parseJobState(stateText);
    if (!parsed) throw new SlurmParseError('squeue', `not a job state: ${sample(stateText)}`, { line, field: 'STATE' });
    state = parsed.state;
  } else if (shortText !== null) {
    state = stateFromShortCode(shortText) ?? shortText;
  }
  const tres = nullable(get('TRES_PER_NODE'));
  return {
    line,
    job_id: id,
    array_job_id: arrayJobId,
    array_task_id: taskId,
    array_task_spec: taskSpec,
    state,
    reason: nullable(get('REASON')),
    user: nullable(get('USER')),
    uid: f('UID', parseCount),
    partition: nullable(get('PARTITION')),
    time_used_seconds: f('TIME', parseDurationSeconds),
    time_limit_seconds: f('TIME_LIMIT', parseDurationSeconds),
    nodes: f('NODES', parseCount),
    cpus: f('CPUS', parseCount),
    min_memory_bytes: f('MIN_MEMORY', (v) => parseSizeBytes(v, 'M')),
    tres_per_node: tres,
    gpus_per_node: gresGpus(parseGres(tres ?? undefined)),
    submit: f('SUBMIT_TIME', parseSlurmTime),
    start: f('START_TIME', parseSlurmTime),
    node_list: nullable(get('NODELIST')),
    name: nonEmpty(get('NAME')),
    fields: row.cells,
  };
}

export interface SqueueOptions {
  /** The `-o` format the output was made with, for output without a header; default SQUEUE_FORMAT. */
  format?: string;
  maxLines?: number;
}

/**
 * Parse squeue `-o` output with `|` separators, with or without the header line. Empty output
 * gives no rows. Throws SlurmParseError naming line and field on rows that do not fit.
 */
export function parseSqueue(text: string, opts: SqueueOptions = {}): SqueueResult {
  const table = parseFormatTable(text, { command: 'squeue', format: opts.format ?? SQUEUE_FORMAT, headers: SQUEUE_HEADERS, freeText: 'NAME', maxLines: opts.maxLines });
  return { rows: table.rows.map(parseRow), truncated: table.truncated };
}
