// Parser for `scontrol show job [-o] <id>` output: records of `Key=Value` pairs, typed where
// flurm uses them (ids, array task, state, reason, exit codes, run time, limit, paths, node list,
// CPUs, TRES memory and GPUs, user and uid). Every pair is also kept as printed in `fields`.
//
// Facts (slurm-wlm 22.05.8, test/fixtures/slurm):
// - The multi-line form is one record per job: a `JobId=` line, then lines indented by three
//   spaces, then a line of three spaces and an empty line. `-o` prints one record per line (and a
//   trailing space). `show job <array id>` prints every task of the array, newest first.
// - Values may hold spaces: JobName (last on its line), Command (`/path/burn.sh 3`), WorkDir,
//   StdOut, StdErr, StdIn, Comment, Reason. In the `-o` form such a value runs up to the next
//   known key; in the multi-line form each is last on its line. Values can be empty (`Power=`,
//   `NodeList=` of a pending job).
// - ExitCode is `N:S`; TIMEOUT and CANCELLED jobs show `0:15` (sacct's job line says 0:0).
// - A RUNNING job's EndTime is its start plus the time limit (when it will be killed).
// - An unsplit pending array shows `ArrayTaskId=0-3%2` and StdOut `slurm-48_4294967294.out`
//   (task id NO_VAL), as printed.
// - A job older than MinJobAge (default 300 s) or never known: nothing on stdout,
//   `slurm_load_jobs error: Invalid job id specified` on stderr, exit status 1.
import {
  type ExitStatus,
  SlurmParseError,
  boundedLines,
  capField,
  field,
  fieldReader,
  nonEmpty,
  nullable,
  parseDurationSeconds,
  parseExitStatus,
  parseSizeBytes,
  parseSlurmTime,
  parseTres,
  sample,
  tresGpus,
} from './fields.js';
import { type JobStateName, parseJobState } from './states.js';

/** What scontrol (and squeue) print on stderr, with exit status 1, for an id they do not know. */
export const INVALID_JOB_ID_MESSAGE = 'Invalid job id specified';

/** True when stderr says the job id is unknown (expired past MinJobAge, or never existed). */
export function isInvalidJobId(stderr: string): boolean {
  return stderr.includes(INVALID_JOB_ID_MESSAGE);
}

/** Keys whose values may contain spaces. */
const FREE_TEXT_KEYS = new Set(['JobName', 'Command', 'WorkDir', 'StdErr', 'StdIn', 'StdOut', 'Comment', 'AdminComment', 'SystemComment', 'Reason', 'SubmitLine']);

/**
 * Keys scontrol prints for a job (22.05 and nearby versions). Inside a free-text value, ` Foo=`
 * ends the value only when Foo is one of these; outside, any ` Key=` starts a new pair.
 */
const KNOWN_KEYS = new Set([
  'JobId', 'ArrayJobId', 'ArrayTaskId', 'ArrayTaskThrottle', 'HetJobId', 'HetJobOffset', 'HetJobIdSet', 'JobName',
  'UserId', 'GroupId', 'MCS_label', 'Priority', 'Nice', 'Account', 'QOS', 'JobState', 'Reason', 'Dependency',
  'Requeue', 'Restarts', 'BatchFlag', 'Reboot', 'ExitCode', 'DerivedExitCode', 'RunTime', 'TimeLimit', 'TimeMin',
  'SubmitTime', 'EligibleTime', 'AccrueTime', 'StartTime', 'EndTime', 'Deadline', 'PreemptEligibleTime', 'PreemptTime',
  'SuspendTime', 'SecsPreSuspend', 'LastSchedEval', 'Scheduler', 'Partition', 'AllocNode:Sid', 'ReqNodeList',
  'ExcNodeList', 'NodeList', 'SchedNodeList', 'BatchHost', 'NumNodes', 'NumCPUs', 'NumTasks', 'CPUs/Task', 'ReqB:S:C:T',
  'TRES', 'ReqTRES', 'AllocTRES', 'Socks/Node', 'NtasksPerN:B:S:C', 'CoreSpec', 'MinCPUsNode', 'MinMemoryCPU', 'MinMemoryNode',
  'MinTmpDiskNode', 'Features', 'ClusterFeatures', 'DelayBoot', 'OverSubscribe', 'Contiguous', 'Licenses', 'Network',
  'Command', 'WorkDir', 'StdErr', 'StdIn', 'StdOut', 'Power', 'TresPerNode', 'TresPerJob', 'TresPerTask', 'TresPerSocket',
  'CpusPerTres', 'MemPerTres', 'TresBind', 'TresFreq', 'Comment', 'AdminComment', 'SystemComment', 'MailUser', 'MailType',
  'Reservation', 'Container', 'ContainerID', 'Nodes', 'CPU_IDs', 'Mem', 'GRES', 'BurstBuffer', 'BurstBufferState',
  'CpuFreqMin', 'CpuFreqMax', 'CpuFreqGov', 'NtasksPerTRES', 'ResvPorts', 'SubmitLine',
]);

const KEY_RE = /(^|\s)([A-Za-z][A-Za-z0-9_:/.-]*)=/g;

/**
 * The `Key=Value` pairs of one line. A value runs up to the next ` Key=`; for free-text keys, up
 * to the next ` KnownKey=` or the end of the line. Throws when the line holds no pair or starts
 * with text that is not one.
 */
export function splitKeyValues(line: string, lineNo: number): [string, string][] {
  const marks: { key: string; keyAt: number; valueAt: number }[] = [];
  for (const m of line.matchAll(KEY_RE)) {
    const keyAt = m.index + m[1]!.length;
    marks.push({ key: m[2]!, keyAt, valueAt: keyAt + m[2]!.length + 1 });
  }
  if (marks.length === 0) throw new SlurmParseError('scontrol', `no Key=Value pair: ${sample(line)}`, { line: lineNo });
  if (line.slice(0, marks[0]!.keyAt).trim() !== '') {
    throw new SlurmParseError('scontrol', `text before the first Key=Value: ${sample(line)}`, { line: lineNo });
  }
  const out: [string, string][] = [];
  let cur = marks[0]!;
  for (let i = 1; i <= marks.length; i++) {
    const next = marks[i];
    if (next && FREE_TEXT_KEYS.has(cur.key) && !KNOWN_KEYS.has(next.key)) continue; // part of the value
    const end = next ? next.keyAt : line.length;
    out.push([cur.key, capField(line.slice(cur.valueAt, end).replace(/\s+$/, ''))]);
    if (next) cur = next;
  }
  return out;
}

export interface ScontrolJob {
  /** 1-based line where the record starts. */
  line: number;
  /** JobId: the job's own number (an array task's own id, e.g. 41 for 39_1). */
  job_id: number;
  /** The id users see: "45", "39_1" for an array task, "48_[0-3%2]" for an unsplit array. */
  display_id: string;
  array_job_id: number | null;
  array_task_id: number | null;
  /** ArrayTaskId of an unsplit pending array ("0-3%2"). */
  array_task_spec: string | null;
  name: string | null;
  user: string | null;
  uid: number | null;
  group: string | null;
  gid: number | null;
  state: JobStateName | null;
  /** Pending or end reason (JobHeldUser, Resources, TimeLimit, NonZeroExitCode); null for None. */
  reason: string | null;
  exit: ExitStatus | null;
  derived_exit: ExitStatus | null;
  run_time_seconds: number | null;
  /** null for UNLIMITED. */
  time_limit_seconds: number | null;
  submit: string | null;
  start: string | null;
  /** For a RUNNING job: when the time limit will end it. */
  end: string | null;
  partition: string | null;
  node_list: string | null;
  batch_host: string | null;
  num_nodes: number | null;
  num_cpus: number | null;
  num_tasks: number | null;
  tres: Map<string, string>;
  /** mem= of TRES, in bytes. */
  mem_bytes: number | null;
  /** GPUs in TRES (gres/gpu), null when none. */
  gpus: number | null;
  command: string | null;
  work_dir: string | null;
  std_out: string | null;
  std_err: string | null;
  std_in: string | null;
  /** Every pair as printed (first occurrence of a key). */
  fields: Map<string, string>;
}

export interface ScontrolResult {
  jobs: ScontrolJob[];
  truncated: boolean;
}

/** `cloudsdk(1000)` → name and id; a bare number → id only. */
function nameAndId(text: string | undefined): { name: string | null; id: number | null } {
  const t = nullable(text);
  if (t === null) return { name: null, id: null };
  const m = /^(.*)\((\d+)\)$/.exec(t);
  if (m) return { name: m[1] === '' ? null : m[1]!, id: Number(m[2]) };
  if (/^\d+$/.test(t)) return { name: null, id: Number(t) };
  return { name: t, id: null };
}

/** Leading whole number of `1`, `1-1`, `2-4` (NumNodes / NumCPUs print ranges for pending jobs). */
function leadingCount(text: string | undefined): number | null {
  const t = nullable(text);
  if (t === null) return null;
  const m = /^(\d+)(?:-\d+)?$/.exec(t);
  if (!m) throw new SlurmParseError('slurm', `not a count: ${sample(t)}`);
  return Number(m[1]);
}

function toJob(line: number, pairs: Map<string, string>): ScontrolJob {
  const get = (k: string) => pairs.get(k);
  const f = fieldReader('scontrol', line, get);
  const jobId = f('JobId', (v) => {
    if (!/^\d+$/.test(v ?? '')) throw new SlurmParseError('slurm', `not a job id: ${sample(v ?? '')}`);
    return Number(v);
  });
  const arrayJobId = f('ArrayJobId', leadingCount);
  const taskText = nullable(get('ArrayTaskId'));
  let arrayTaskId: number | null = null;
  let arrayTaskSpec: string | null = null;
  if (taskText !== null) {
    if (/^\d+$/.test(taskText)) arrayTaskId = Number(taskText);
    else arrayTaskSpec = taskText;
  }
  const displayId =
    arrayJobId === null ? String(jobId) : arrayTaskId !== null ? `${arrayJobId}_${arrayTaskId}` : arrayTaskSpec !== null ? `${arrayJobId}_[${arrayTaskSpec}]` : String(jobId);
  const stateText = nullable(get('JobState'));
  let state: JobStateName | null = null;
  if (stateText !== null) {
    const parsed = parseJobState(stateText);
    if (!parsed) throw new SlurmParseError('scontrol', `not a job state: ${sample(stateText)}`, { line, field: 'JobState' });
    state = parsed.state;
  }
  const user = nameAndId(get('UserId'));
  const group = nameAndId(get('GroupId'));
  const tres = parseTres(get('TRES') ?? get('AllocTRES') ?? get('ReqTRES'));
  const memText = tres.get('mem');
  return {
    line,
    job_id: jobId,
    display_id: displayId,
    array_job_id: arrayJobId,
    array_task_id: arrayTaskId,
    array_task_spec: arrayTaskSpec,
    name: nonEmpty(get('JobName')),
    user: user.name,
    uid: user.id,
    group: group.name,
    gid: group.id,
    state,
    reason: nullable(get('Reason')),
    exit: f('ExitCode', parseExitStatus),
    derived_exit: f('DerivedExitCode', parseExitStatus),
    run_time_seconds: f('RunTime', parseDurationSeconds),
    time_limit_seconds: f('TimeLimit', parseDurationSeconds),
    submit: f('SubmitTime', parseSlurmTime),
    start: f('StartTime', parseSlurmTime),
    end: f('EndTime', parseSlurmTime),
    partition: nullable(get('Partition')),
    node_list: nullable(get('NodeList')),
    batch_host: nullable(get('BatchHost')),
    num_nodes: f('NumNodes', leadingCount),
    num_cpus: f('NumCPUs', leadingCount),
    num_tasks: f('NumTasks', leadingCount),
    tres,
    mem_bytes: field('scontrol', line, 'TRES', () => parseSizeBytes(memText, 'M')),
    gpus: tresGpus(tres),
    command: nullable(get('Command')),
    work_dir: nullable(get('WorkDir')),
    std_out: nullable(get('StdOut')),
    std_err: nullable(get('StdErr')),
    std_in: nullable(get('StdIn')),
    fields: pairs,
  };
}

/**
 * Parse `scontrol show job` output, multi-line or `-o`, one or many records. Empty output gives
 * no jobs. Throws SlurmParseError (with the line) on text that is not scontrol's: a first line
 * that is not `JobId=`, a line with no Key=Value, a bad JobId, state, exit code, time or duration.
 */
export function parseScontrolJobs(text: string, opts: { maxLines?: number } = {}): ScontrolResult {
  const { lines, truncated } = boundedLines(text, opts.maxLines);
  const jobs: ScontrolJob[] = [];
  let current: { line: number; pairs: Map<string, string> } | null = null;
  const flush = () => {
    if (current) jobs.push(toJob(current.line, current.pairs));
    current = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const pairs = splitKeyValues(raw, i + 1);
    if (pairs[0]![0] === 'JobId') {
      flush();
      current = { line: i + 1, pairs: new Map() };
    } else if (current === null) {
      throw new SlurmParseError('scontrol', `expected a record starting with JobId=, got ${sample(raw)}`, { line: i + 1 });
    }
    for (const [k, v] of pairs) if (!current!.pairs.has(k)) current!.pairs.set(k, v);
  }
  flush();
  return { jobs, truncated };
}

/** The one job of `scontrol show job <id>` for a plain job or array task; throws unless there is exactly one. */
export function parseScontrolJob(text: string): ScontrolJob {
  const { jobs } = parseScontrolJobs(text);
  if (jobs.length !== 1) throw new SlurmParseError('scontrol', `${jobs.length} job records where one was expected`);
  return jobs[0]!;
}
