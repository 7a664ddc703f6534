// Parser for `sacct --parsable2` output: one row per job, array task and step, grouped per job
// (the job line, its .batch and .extern steps, other steps), with typed values: state and
// "cancelled by" uid, `N:S` exit codes, durations in seconds, MaxRSS / ReqMem in bytes, TRES,
// CPU efficiency. Header-driven: with the header line (no --noheader) columns are found by name,
// in any order, unknown ones kept in `fields`; without it the caller's field list is assumed.
// The poller runs `sacctArgs(ids)`, whose fields are SACCT_FIELDS.
//
// Facts (slurm-wlm 22.05.8, test/fixtures/slurm):
// - JobName may hold `|`; it is the one free-text column, so extra cells are given back to it.
// - Step rows (.batch, .extern, .0) have User, Partition, Reason and ReqMem empty; MaxRSS is
//   only on steps (the .batch row for sbatch jobs), empty while the step runs.
// - Array tasks are rows `39_3` (JobIDRaw is the task's own id, 42) with `39_3.batch` steps; an
//   unsplit pending array is one row `48_[0-3%2]`.
// - ReqMem is the job's total in 21.08+ ("200M" for -c 2 --mem-per-cpu=100M); before that it
//   carried a suffix: `4Gn` per node, `100Mc` per CPU.
// - PENDING rows: NodeList "None assigned", Start/End "Unknown"; RUNNING rows: End "Unknown",
//   TotalCPU "00:00:00" until a step ends.
// - Accounting off: sacct prints "Slurm accounting storage is disabled" on stderr, exit 1.
import {
  type ExitStatus,
  type PipeRow,
  SlurmParseError,
  cellOf,
  field,
  fieldReader,
  nonEmpty,
  nullable,
  parseCount,
  parseDurationSeconds,
  parseExitStatus,
  parseJobIdParts,
  parsePipeTable,
  parseSizeBytes,
  parseSlurmTime,
  parseTres,
  tresGpus,
} from './fields.js';
import { type JobStateName, isFinalState, parseJobState } from './states.js';

/** The fields the poller asks sacct for, in order. JobName is the free-text column. */
export const SACCT_FIELDS = [
  'JobID',
  'JobIDRaw',
  'JobName',
  'User',
  'Partition',
  'State',
  'ExitCode',
  'DerivedExitCode',
  'Reason',
  'Elapsed',
  'Timelimit',
  'MaxRSS',
  'ReqMem',
  'AllocCPUS',
  'AllocTRES',
  'TotalCPU',
  'NodeList',
  'Submit',
  'Start',
  'End',
] as const;

/** `--format=` value for SACCT_FIELDS. */
export const SACCT_FORMAT = SACCT_FIELDS.join(',');

/** sacct's message (stderr, exit 1) when the cluster has no accounting storage. */
export const SACCT_DISABLED_MESSAGE = 'Slurm accounting storage is disabled';

/** Arguments for sacct on these job ids, header kept (the parser is header-driven). */
export function sacctArgs(jobIds: readonly (string | number)[]): string[] {
  return ['--parsable2', '-j', jobIds.join(','), `--format=${SACCT_FORMAT}`];
}

/** True when sacct's stderr says accounting is off (then only squeue/scontrol can be used). */
export function isSacctDisabled(stderr: string): boolean {
  return stderr.includes(SACCT_DISABLED_MESSAGE);
}

export interface ReqMem {
  /** The number as printed, in bytes. */
  bytes: number;
  /** What it is per: the whole job (21.08+, no suffix), each node (`n`) or each CPU (`c`). */
  per: 'job' | 'node' | 'cpu';
}

export interface SacctRow {
  /** 1-based line in the output. */
  line: number;
  /** JobID as printed: "18", "18.batch", "39_3", "39_3.batch", "48_[0-3%2]". */
  job_id: string;
  /** JobID without the step: the key of the job this row belongs to ("39_3"). */
  base_job_id: string;
  /** JobIDRaw: the numeric id ("42", "42.batch"); null when not asked for. */
  job_id_raw: string | null;
  /** "batch", "extern", "interactive", "0"...; null for the job (or array task) line. */
  step: string | null;
  /** The number before `_`, or the job id of a plain job. */
  array_job_id: number;
  array_task_id: number | null;
  /** Task set of an unsplit pending array row ("0-3%2"). */
  array_task_spec: string | null;
  name: string | null;
  user: string | null;
  partition: string | null;
  state: JobStateName | null;
  /** uid from "CANCELLED by 1000". */
  by_uid: number | null;
  exit: ExitStatus | null;
  derived_exit: ExitStatus | null;
  reason: string | null;
  elapsed_seconds: number | null;
  /** null when UNLIMITED / Partition_Limit / not asked for. */
  time_limit_seconds: number | null;
  max_rss_bytes: number | null;
  req_mem: ReqMem | null;
  alloc_cpus: number | null;
  alloc_tres: Map<string, string>;
  /** GPUs in AllocTRES (gres/gpu), null when none. */
  alloc_gpus: number | null;
  total_cpu_seconds: number | null;
  /** null for "None assigned". */
  node_list: string | null;
  /** Times as printed (cluster-local, no zone); null for Unknown / None. */
  submit: string | null;
  start: string | null;
  end: string | null;
  /** Every cell by column name, unknown columns included. */
  fields: Map<string, string>;
}

export interface SacctJob {
  /** "18", "39_3" (an array task is a job of its own), "48_[0-3%2]". */
  job_id: string;
  array_job_id: number;
  array_task_id: number | null;
  /** The job (allocation) line; null if only steps were printed. */
  job: SacctRow | null;
  batch: SacctRow | null;
  extern: SacctRow | null;
  /** Other steps (srun steps "0", "1", "interactive"), in output order. */
  steps: SacctRow[];
}

export interface SacctResult {
  /** By job id (base_job_id), in output order. */
  jobs: Map<string, SacctJob>;
  rows: SacctRow[];
  /** More than SLURM_MAX_LINES lines: the rest was not read. */
  truncated: boolean;
}

function isSacctHeader(cells: string[]): boolean {
  return cells.length > 0 && cells[0]!.trim() !== '' && cells.some((c) => c.trim().toLowerCase() === 'jobid') && cells.every((c) => /^[A-Za-z][A-Za-z0-9]*$/.test(c.trim()));
}

/**
 * ReqMem in bytes and what it is per: `1G`, `200M` (21.08+: the job's total), `4Gn` (per node),
 * `100Mc` (per CPU, before 21.08). A bare number is MB. null for no value.
 */
export function parseReqMem(text: string | undefined): ReqMem | null {
  const t = nullable(text);
  if (t === null) return null;
  const m = /^(\d+(?:\.\d+)?[KMGTP]?)([nc]?)$/i.exec(t);
  if (!m) throw new SlurmParseError('slurm', `not a ReqMem value: ${JSON.stringify(t.slice(0, 80))}`);
  const bytes = parseSizeBytes(m[1], 'M')!;
  const suffix = m[2]!.toLowerCase();
  return { bytes, per: suffix === 'n' ? 'node' : suffix === 'c' ? 'cpu' : 'job' };
}

function parseRow(row: PipeRow): SacctRow {
  const line = row.line;
  const get = (name: string) => cellOf(row, name);
  const f = fieldReader('sacct', line, get);

  const idText = get('JobID');
  if (idText === undefined) throw new SlurmParseError('sacct', 'no JobID column', { line });
  const id = field('sacct', line, 'JobID', () => parseJobIdParts(idText));
  const stateText = get('State');
  let state: JobStateName | null = null;
  let byUid: number | null = null;
  if (stateText !== undefined && stateText.trim() !== '') {
    const parsed = parseJobState(stateText);
    if (!parsed) {
      throw new SlurmParseError('sacct', `not a job state: ${JSON.stringify(stateText.slice(0, 80))}${stateText.endsWith('+') ? ' (cut by fixed-width output; use --parsable2)' : ''}`, { line, field: 'State' });
    }
    state = parsed.state;
    byUid = parsed.by_uid;
  }
  const allocTres = parseTres(get('AllocTRES'));
  return {
    line,
    job_id: idText.trim(),
    base_job_id: id.job_id,
    job_id_raw: nullable(get('JobIDRaw')),
    step: id.step,
    array_job_id: id.base_id,
    array_task_id: id.array_task_id,
    array_task_spec: id.array_task_spec,
    name: nonEmpty(get('JobName')),
    user: nullable(get('User')),
    partition: nullable(get('Partition')),
    state,
    by_uid: byUid,
    exit: f('ExitCode', parseExitStatus),
    derived_exit: f('DerivedExitCode', parseExitStatus),
    reason: nullable(get('Reason')),
    elapsed_seconds: f('Elapsed', parseDurationSeconds),
    time_limit_seconds: f('Timelimit', parseDurationSeconds),
    max_rss_bytes: f('MaxRSS', (v) => parseSizeBytes(v, '')),
    req_mem: f('ReqMem', parseReqMem),
    alloc_cpus: f('AllocCPUS', parseCount),
    alloc_tres: allocTres,
    alloc_gpus: tresGpus(allocTres),
    total_cpu_seconds: f('TotalCPU', parseDurationSeconds),
    node_list: nullable(get('NodeList')),
    submit: f('Submit', parseSlurmTime),
    start: f('Start', parseSlurmTime),
    end: f('End', parseSlurmTime),
    fields: row.cells,
  };
}

export interface SacctOptions {
  /** Field list of output printed without a header (--noheader); default SACCT_FIELDS. */
  fields?: readonly string[];
  maxLines?: number;
}

/**
 * Parse `sacct --parsable2` output, with or without its header line. Empty output (an unknown
 * job id) gives no jobs. Throws SlurmParseError naming the line and field on a row that is not
 * sacct's (too few fields, a bad state, exit code, duration or size).
 */
export function parseSacct(text: string, opts: SacctOptions = {}): SacctResult {
  const table = parsePipeTable(text, {
    command: 'sacct',
    columns: opts.fields ?? SACCT_FIELDS,
    isHeader: isSacctHeader,
    freeText: 'JobName',
    maxLines: opts.maxLines,
  });
  const rows = table.rows.map(parseRow);
  const jobs = new Map<string, SacctJob>();
  for (const r of rows) {
    let job = jobs.get(r.base_job_id);
    if (!job) {
      job = { job_id: r.base_job_id, array_job_id: r.array_job_id, array_task_id: r.array_task_id, job: null, batch: null, extern: null, steps: [] };
      jobs.set(r.base_job_id, job);
    }
    if (r.step === null) job.job = r;
    else if (r.step === 'batch') job.batch = r;
    else if (r.step === 'extern') job.extern = r;
    else job.steps.push(r);
  }
  return { jobs, rows, truncated: table.truncated };
}

/** The tasks of array job `arrayJobId` ("39_0".."39_3", and any unsplit "39_[..]" row), by task id. */
export function arrayTasks(result: SacctResult, arrayJobId: number): SacctJob[] {
  return [...result.jobs.values()]
    .filter((j) => j.array_job_id === arrayJobId && (j.array_task_id !== null || j.job_id.includes('[')))
    .sort((a, b) => (a.array_task_id ?? Infinity) - (b.array_task_id ?? Infinity));
}

/** The largest MaxRSS of the job's steps (the .batch step for a plain sbatch job), in bytes. */
export function maxRssBytes(job: SacctJob): number | null {
  let max: number | null = null;
  for (const r of [job.job, job.batch, job.extern, ...job.steps]) {
    if (r?.max_rss_bytes != null && (max === null || r.max_rss_bytes > max)) max = r.max_rss_bytes;
  }
  return max;
}

/**
 * CPU efficiency of a finished job: TotalCPU / (Elapsed × AllocCPUS) from its job line, 0..1 (a
 * little over 1 is possible from rounding: Elapsed is whole seconds). null while the job runs
 * (sacct fills TotalCPU only as steps end: a RUNNING job shows 00:00:00), when a value is missing,
 * or when Elapsed is 0.
 */
export function cpuEfficiency(job: SacctJob): number | null {
  const r = job.job;
  if (!r || r.state === null || !isFinalState(r.state) || r.total_cpu_seconds === null || r.elapsed_seconds === null || r.alloc_cpus === null) return null;
  if (r.elapsed_seconds <= 0 || r.alloc_cpus <= 0) return null;
  return r.total_cpu_seconds / (r.elapsed_seconds * r.alloc_cpus);
}

/**
 * The job's requested memory in bytes for the whole job: ReqMem as is (21.08+), × AllocCPUS
 * for per-CPU, × nodes (AllocTRES node=) for per-node. null when unknown.
 */
export function reqMemTotalBytes(row: SacctRow): number | null {
  const m = row.req_mem;
  if (!m) return null;
  if (m.per === 'job') return m.bytes;
  if (m.per === 'cpu') return row.alloc_cpus === null ? null : m.bytes * row.alloc_cpus;
  const nodes = Number(row.alloc_tres.get('node') ?? NaN);
  return Number.isInteger(nodes) && nodes > 0 ? m.bytes * nodes : null;
}
