// What flurm registers for a SLURM batch job — the fields of the `slurm` spool event
// (spool/events.ts SlurmEvent) — worked out two ways:
//   flurm submit       from the submission itself: flurm's own options, sbatch's argv, the script's
//                      #SBATCH lines and the SBATCH_* environment (sbatch-script.ts), sbatch's
//                      answer (sbatch-output.ts): planSubmission(), submitEvent()
//   flurm watch --slurm  from SLURM's record of a job submitted with plain sbatch: `scontrol show
//                      job -o` (scontrol.ts) and squeue's StdOut/StdErr: planAttached()
// `output`/`error` are sbatch filename PATTERNS made absolute against the job's working directory,
// never expanded here: the hub expands them per task once it knows the node (%N) and task (%a).
//
// Where the patterns come from for a job flurm did not submit (checked on slurm-wlm 22.05.8,
// test/fixtures/slurm/submit/, and in Slurm's source up to 26.x):
// - `squeue -O StdOut` prints the pattern as stored, %-tokens and all: the best source. When no
//   --output was given, Slurm ≤ 23.11 prints "<WorkDir>/slurm-<job id>.out" (even for an array,
//   whose real files are slurm-<A>_<a>.out), 24.05–25.05 "(null)", 25.11+ the relative default
//   "slurm-%j.out" / "slurm-%A_%a.out". StdErr falls back to StdOut up to 23.11, "(null)" after.
// - `scontrol show job` prints the pattern with %A %a %j %u %x already replaced by the record's
//   values and the rest (%N, %5j, %%) left as written (22.05): for a plain job that is still a
//   pattern giving the right file; for an array it holds one task's values (4294967294 for the
//   unsplit, pending record). Used only when squeue cannot tell.
// Pure: no I/O. cli/commands/submit.ts and cli/commands/watch-slurm.ts run the commands.
import { UserError } from '../../lib/errors.js';
import { shellQuote } from '../local/command-line.js';
import {
  COMMAND_MAX_CHARS,
  PATH_MAX_CHARS,
  SLURM_ARRAY_MAX_CHARS,
  SLURM_NAME_MAX_CHARS,
  TITLE_MAX_CHARS,
  TO_MAX_ENTRIES,
  clip,
  type SlurmEvent,
} from '../../spool/events.js';
import { envelope, type EventOrigin } from '../../spool/envelope.js';
import { MAX_ARRAY_SIZE_LIMIT, formatTaskIds, parseArraySpec } from './array-spec.js';
import { DEFAULT_ARRAY_OUTPUT_PATTERN, DEFAULT_OUTPUT_PATTERN, NOT_AN_ARRAY_TASK_ID, expandOutputPattern, jobWorkDir, resolveOutputPaths } from './output-path.js';
import { effectiveOptions, parseSbatchDirectives, splitSubmitArgv, type SbatchOptions, type SubmitArgv } from './sbatch-script.js';
import type { SbatchSubmission } from './sbatch-output.js';
import type { ScontrolJob } from './scontrol.js';
import { isFinalState } from './states.js';


// ---------------------------------------------------------------------------------------------
// flurm submit's own options

export interface SubmitCommandLine {
  title?: string;
  to: string[];
  hideCommand: boolean;
  help: boolean;
  /** Everything after flurm's options (and after a `--` that ended them): sbatch's argv, untouched. */
  sbatchArgv: string[];
}

/** A SLURM time limit ("10", "1:30:00", "2-00:00"): what `-t` means to sbatch. */
const SLURM_TIME_RE = /^(?:\d+-)?\d+(?::\d+){0,2}$|^(?:unlimited|infinite)$/i;

/**
 * Split `flurm submit` arguments: flurm's options (-t/--title, --to, --hide-command, -h/--help)
 * come first; the first argument that is not one of them, or a `--` (consumed), ends them, and
 * everything from there goes to sbatch as it is. Throws UserError for a flurm option without its
 * value, and for `-t` with a value that looks like sbatch's time limit (`flurm submit -t 10
 * job.sh` would otherwise set a title and silently drop the limit).
 */
export function splitSubmitCommandLine(argv: readonly string[]): SubmitCommandLine {
  const out: SubmitCommandLine = { to: [], hideCommand: false, help: false, sbatchArgv: [] };
  let i = 0;
  const value = (name: string): string => {
    if (i + 1 >= argv.length) throw new UserError(`submit: ${name} needs a value (see flurm submit --help)`);
    return argv[++i]!;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-h' || a === '--help') out.help = true;
    else if (a === '--hide-command') out.hideCommand = true;
    else if (a === '--title') out.title = value('--title');
    else if (a.startsWith('--title=')) out.title = a.slice('--title='.length);
    else if (a === '--to') out.to.push(value('--to'));
    else if (a.startsWith('--to=')) out.to.push(a.slice('--to='.length));
    else if (a === '-t' || (a.startsWith('-t') && !a.startsWith('--'))) {
      const title = a === '-t' ? value('-t') : a.slice(2);
      if (SLURM_TIME_RE.test(title.trim())) {
        throw new UserError(
          `submit: -t ${title} looks like a time limit, but in flurm submit -t is flurm's --title (flurm's options come first). ` +
            `For sbatch's time limit write --time=${title}, or put it after '--' (flurm submit -- -t ${title} job.sh); for such a title write --title ${title}`,
        );
      }
      out.title = title;
    } else break;
  }
  out.sbatchArgv = argv.slice(i);
  if (out.to.length > TO_MAX_ENTRIES) throw new UserError(`submit: at most ${TO_MAX_ENTRIES} --to destinations per job (got ${out.to.length})`);
  return out;
}

/** "sbatch -p gpu train.sh --lr 3": the command as typed, quoted where a shell would need it. */
export function displaySbatchCommand(sbatchArgv: readonly string[]): string {
  return ['sbatch', ...sbatchArgv.map(shellQuote)].join(' ');
}

// ---------------------------------------------------------------------------------------------
// Planning a submission

/** Where sbatch will read the batch script from. */
export type ScriptSource = { kind: 'file'; path: string } | { kind: 'stdin' } | { kind: 'none' };

/**
 * The script sbatch will read for `sbatchArgv`: a file, standard input (no script and no --wrap),
 * or none (--wrap, or an argv sbatch will refuse anyway).
 */
export function scriptSource(sbatchArgv: readonly string[]): ScriptSource {
  let split: SubmitArgv;
  try {
    split = splitSubmitArgv(sbatchArgv);
  } catch {
    return { kind: 'none' };
  }
  if (split.wrap !== null) return { kind: 'none' };
  if (split.script === null) return { kind: 'stdin' };
  return { kind: 'file', path: split.script };
}

/** The script's text as read (at least its first SCAN_LIMIT_CHARS + 1 characters), or why it could not be. */
export type ScriptText = { text: string } | { error: string } | null;

export interface SubmitContext {
  /** The directory sbatch runs in (absolute). */
  cwd: string;
  /** The environment sbatch runs in (SBATCH_* variables). */
  env: Readonly<Record<string, string | undefined>>;
  /** The batch script (null: --wrap, or none to read). */
  script: ScriptText;
}

export interface SubmitPlan {
  /** sbatch's argv split its way; null when flurm could not read it (`argvError` says why). */
  split: SubmitArgv | null;
  argvError: string | null;
  /** Set when sbatch will submit nothing (--help, --usage, --version, --test-only). */
  noJob: { kind: 'help' | 'version' | 'test-only'; why: string } | null;
  /** -Q/--quiet on the command line: sbatch would not print the job id. */
  quiet: boolean;
  /** --wait / -W (command line, #SBATCH or SBATCH_WAIT): sbatch would block until the job ends. */
  wait: boolean;
  /** %x: --job-name, else "wrap", the script's base name, or "sbatch" for a script on stdin. */
  name: string;
  /** The job's working directory: --chdir (relative to cwd) or cwd. */
  workDir: string;
  /** stdout pattern, absolute, not expanded. */
  output: string;
  /** stderr pattern, absolute, not expanded; null when stderr goes with stdout. */
  error: string | null;
  /** --array as given; null for a plain job. */
  array: string | null;
  /** Number of array tasks; null for a plain job or a spec flurm cannot count. */
  tasks: number | null;
  /** --partition as requested; null when not given (SLURM's default partition). */
  partition: string | null;
  /** Things to tell the user on stderr (flurm's guesses, directives sbatch ignores). */
  warnings: string[];
}

/** `dir` + "/" + `name`, one slash, as Slurm joins them. */
function joinDir(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/**
 * A default file name ("slurm-%j.out") under `dir`, as one pattern. Slurm expands the default
 * name first and puts it under the working directory afterwards, so a '%' in the directory's own
 * name is doubled here to keep it literal when the hub expands the whole pattern. (A backslash in
 * the directory cannot be kept: a pattern with one is not expanded at all.)
 */
export function defaultPatternIn(dir: string, isArray: boolean): string {
  return joinDir(dir.replaceAll('%', '%%'), isArray ? DEFAULT_ARRAY_OUTPUT_PATTERN : DEFAULT_OUTPUT_PATTERN);
}

/** Task count of an --array spec, or null when flurm cannot count it (sbatch will judge it). */
export function countTasks(spec: string | null): number | null {
  if (spec === null || spec === '') return null;
  try {
    // The cluster's MaxArraySize is not known here: take the largest Slurm allows.
    return parseArraySpec(spec, { maxArraySize: MAX_ARRAY_SIZE_LIMIT }).taskIds.length;
  } catch {
    return null;
  }
}

function str(v: string | true | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

/** At most three lines about #SBATCH directives that sbatch does not read. */
function ignoredDirectiveWarnings(ignored: ReadonlyArray<{ line: number; text: string; reason: string }>): string[] {
  const out = ignored.slice(0, 3).map((d) =>
    d.reason === 'indented'
      ? `line ${d.line}: "${d.text}" is ignored by sbatch: #SBATCH must start the line`
      : `line ${d.line}: "${d.text}" is ignored by sbatch: it comes after the first command of the script`,
  );
  if (ignored.length > 3) out.push(`… and ${ignored.length - 3} more #SBATCH lines sbatch ignores`);
  return out;
}

/**
 * What sbatch will do with `sbatchArgv` and where the job's output will go, read the way sbatch
 * reads it: command line over SBATCH_* environment over #SBATCH lines. Never throws on what sbatch
 * itself will judge (a bad option, an unreadable or refused script): sbatch reports those, and if
 * sbatch accepts what flurm could not read, the plan falls back to sbatch's defaults with a warning.
 */
export function planSubmission(sbatchArgv: readonly string[], ctx: SubmitContext): SubmitPlan {
  const warnings: string[] = [];
  let split: SubmitArgv | null = null;
  let argvError: string | null = null;
  try {
    split = splitSubmitArgv(sbatchArgv);
  } catch (err) {
    argvError = (err as Error).message;
    warnings.push(`flurm could not read sbatch's arguments (${argvError}): the job's name and output file are sbatch's defaults`);
  }

  let directives: SbatchOptions = {};
  const script = ctx.script;
  if (script !== null && split !== null && split.wrap === null) {
    if ('error' in script) {
      warnings.push(`cannot read the batch script (${script.error}): its #SBATCH lines are not known to flurm`);
    } else {
      try {
        const parsed = parseSbatchDirectives(script.text);
        directives = parsed.options;
        warnings.push(...ignoredDirectiveWarnings(parsed.ignored));
        if (parsed.truncated) warnings.push('the batch script is very long: flurm read only its first #SBATCH lines');
      } catch (err) {
        warnings.push(`cannot read the batch script's #SBATCH lines (${(err as Error).message})`);
      }
    }
  }

  const eff = effectiveOptions(directives, split?.options ?? {}, { env: ctx.env, script: split?.script ?? null });

  let noJob: SubmitPlan['noJob'] = null;
  const cl = split?.options ?? {};
  if (cl.help !== undefined || cl.usage !== undefined) noJob = { kind: 'help', why: 'sbatch only prints its help' };
  else if (cl.version !== undefined) noJob = { kind: 'version', why: 'sbatch only prints its version' };
  else if (eff.options['test-only'] !== undefined) noJob = { kind: 'test-only', why: '--test-only: sbatch only estimates when the job would start and submits nothing' };

  const workDir = jobWorkDir({ submitDir: ctx.cwd, chdir: eff.chdir }) ?? ctx.cwd;
  const array = eff.array !== null && eff.array !== '' ? eff.array : null;
  const paths = resolveOutputPaths({ output: eff.output, error: eff.error, chdir: eff.chdir, array }, { submitDir: ctx.cwd });
  const output = paths.stdout.isDefault ? defaultPatternIn(workDir, array !== null) : paths.stdout.pattern;
  const errPattern = paths.sameFile || paths.stderr.isDefault ? null : paths.stderr.pattern;
  const error = errPattern === output ? null : errPattern;

  return {
    split,
    argvError,
    noJob,
    quiet: cl.quiet !== undefined,
    wait: eff.options.wait !== undefined,
    name: eff.jobName,
    workDir,
    output,
    error,
    array,
    tasks: countTasks(array),
    partition: str(eff.options.partition) || null,
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// The event

/** What every flurm event carries besides its type (the writer's identity and clock). */
/** The fields of a `slurm` event, before the writer's base. */
export interface SlurmRegistration {
  job_id: string;
  cluster: string | null;
  array: string | null;
  tasks: number | null;
  name: string | null;
  partition: string | null;
  title?: string;
  cmd?: string;
  cwd: string;
  output: string | null;
  error: string | null;
  to: string[];
  attached?: boolean;
}

function name256(s: string | null): string | null {
  return s === null ? null : clip(s, SLURM_NAME_MAX_CHARS);
}

/** The `slurm` event, every field within what spool/validate.ts accepts; a new id and `ts` unless given (tests). */
export function slurmEvent(reg: SlurmRegistration, who: EventOrigin & { id?: string; ts?: string }): SlurmEvent {
  const array = reg.array !== null && reg.array.length <= SLURM_ARRAY_MAX_CHARS ? reg.array : null;
  const e: SlurmEvent = {
    ...envelope('slurm', who),
    slurm: {
      job_id: reg.job_id,
      cluster: name256(reg.cluster),
      array,
      tasks: reg.tasks,
      name: name256(reg.name),
      partition: name256(reg.partition),
    },
  };
  if (reg.title !== undefined) e.title = clip(reg.title, TITLE_MAX_CHARS);
  if (reg.cmd !== undefined) e.cmd = clip(reg.cmd, COMMAND_MAX_CHARS);
  e.cwd = clip(reg.cwd, PATH_MAX_CHARS);
  e.output = reg.output === null ? null : clip(reg.output, PATH_MAX_CHARS);
  e.error = reg.error === null ? null : clip(reg.error, PATH_MAX_CHARS);
  if (reg.to.length > 0) e.to = reg.to.slice(0, TO_MAX_ENTRIES);
  if (reg.attached) e.attached = true;
  return e;
}

export interface SubmitOptions {
  title?: string;
  to: string[];
  hideCommand: boolean;
}

/** The registration of a job sbatch accepted: the plan, sbatch's answer and flurm's options. */
export function submitRegistration(plan: SubmitPlan, submission: SbatchSubmission, sbatchArgv: readonly string[], opts: SubmitOptions, cwd: string): SlurmRegistration {
  const reg: SlurmRegistration = {
    job_id: String(submission.job_id),
    cluster: submission.cluster,
    array: plan.array,
    tasks: plan.tasks,
    name: plan.name,
    partition: plan.partition,
    cwd,
    output: plan.output,
    error: plan.error,
    to: opts.to,
  };
  if (opts.title !== undefined) reg.title = opts.title;
  if (!opts.hideCommand) reg.cmd = displaySbatchCommand(sbatchArgv);
  return reg;
}

// ---------------------------------------------------------------------------------------------
// flurm watch --slurm: a job SLURM already has

/** `squeue -O` fields for the patterns, each followed by \x1f (a size of 0: never cut). */
export const SQUEUE_STDIO_FORMAT = 'JobID:\x1f,StdOut:\x1f,StdErr:\x1f';

/** squeue's arguments for the stdout/stderr patterns of `jobId` (every state: it may have ended). */
export function squeueStdioArgs(jobId: string): string[] {
  return ['--noheader', '-t', 'all', '-j', jobId, '-O', SQUEUE_STDIO_FORMAT];
}

export interface SqueueStdioRow {
  jobId: string;
  /** As printed; null for nothing, "(null)" or "N/A". */
  stdout: string | null;
  stderr: string | null;
}

function unsetValue(v: string | undefined): string | null {
  if (v === undefined) return null;
  return v === '' || v === '(null)' || v === 'N/A' ? null : v;
}

/** Rows of `squeue … -O SQUEUE_STDIO_FORMAT`; lines that are not three \x1f-ended fields are skipped. */
export function parseSqueueStdio(text: string): SqueueStdioRow[] {
  const rows: SqueueStdioRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('\x1f');
    // id, stdout, stderr and what follows the last separator (nothing, or the line's padding).
    if (cells.length !== 4 || !/^\d+$/.test(cells[0]!.trim())) continue;
    rows.push({ jobId: cells[0]!.trim(), stdout: unsetValue(cells[1]), stderr: unsetValue(cells[2]) });
  }
  return rows;
}

export interface AttachedPaths {
  output: string | null;
  error: string | null;
  warnings: string[];
}

/**
 * The stdout/stderr patterns from squeue's rows for one job (all rows of an array share them):
 * null when there are no rows. See the header for what each Slurm version prints.
 */
export function pathsFromSqueue(rows: readonly SqueueStdioRow[], workDir: string, isArray: boolean): AttachedPaths | null {
  const row = rows[0];
  if (!row) return null;
  // Slurm ≤ 23.11 makes up "<WorkDir>/slurm-<job id>.out" for a job with no --output.
  const madeUp = new Set(rows.map((r) => `${workDir}/slurm-${r.jobId}.out`));
  const isDefault = (v: string | null) => v === null || madeUp.has(v);
  const absolute = (v: string) => (v.startsWith('/') ? v : joinDir(workDir.replaceAll('%', '%%'), v));
  const output = isDefault(row.stdout) ? defaultPatternIn(workDir, isArray) : absolute(row.stdout!);
  let error: string | null = null;
  if (row.stderr !== null && row.stderr !== row.stdout && !madeUp.has(row.stderr)) error = absolute(row.stderr);
  if (error === output) error = null;
  return { output, error, warnings: [] };
}

/**
 * The patterns from scontrol's records when squeue could not tell. scontrol has already put the
 * record's own values in for %A %a %j %u %x (22.05; later versions expand more): right for a plain
 * job. For an array only the unsplit pending record can be turned back into a pattern (its %a
 * became 4294967294; a %j in it is the array's id, not each task's), or a task's default name;
 * otherwise the output is null, with a warning.
 */
export function pathsFromScontrol(records: readonly ScontrolJob[], workDir: string, isArray: boolean): AttachedPaths {
  const warnings: string[] = [];
  const meta = records.find((r) => r.array_task_spec !== null) ?? records.find((r) => r.array_job_id !== null && r.job_id === r.array_job_id) ?? records[0];
  const one = (p: string | null | undefined): string | null => {
    if (p === null || p === undefined || !meta) return defaultPatternIn(workDir, isArray);
    if (!isArray) return p;
    if (meta.array_task_spec !== null) return p.replaceAll(String(NOT_AN_ARRAY_TASK_ID), '%a');
    if (meta.array_job_id !== null && meta.array_task_id !== null && p === `${workDir}/slurm-${meta.array_job_id}_${meta.array_task_id}.out`) {
      return defaultPatternIn(workDir, true);
    }
    return null;
  };
  const output = one(meta?.std_out);
  const rawErr = meta?.std_err ?? null;
  const error = rawErr === null || rawErr === meta?.std_out ? null : one(rawErr);
  if (output === null || (rawErr !== null && rawErr !== meta?.std_out && error === null)) {
    warnings.push('flurm could not learn the output file pattern of this array from SLURM (scontrol shows one task\'s file); give it with --output (and --error)');
  }
  return { output, error, warnings };
}

/** The whole array as it still stands in scontrol's records: its spec and task count. */
export function arrayFromRecords(records: readonly ScontrolJob[]): { array: string | null; tasks: number | null } {
  if (!records.some((r) => r.array_job_id !== null)) return { array: null, tasks: null };
  const ids = new Set<number>();
  let throttle: number | null = null;
  for (const r of records) {
    if (r.array_task_id !== null) ids.add(r.array_task_id);
    const t = Number(r.fields.get('ArrayTaskThrottle') ?? '');
    if (Number.isInteger(t) && t > 0) throttle = t;
    if (r.array_task_spec !== null) {
      try {
        const spec = parseArraySpec(r.array_task_spec, { maxArraySize: MAX_ARRAY_SIZE_LIMIT });
        for (const id of spec.taskIds) ids.add(id);
        if (spec.maxRunning !== null) throttle = spec.maxRunning;
      } catch {
        // A spec scontrol cut short ("0,2,4,...": SLURM_BITSTR_LEN): keep it as printed, uncounted.
        return { array: r.array_task_spec, tasks: null };
      }
    }
  }
  if (ids.size === 0) return { array: null, tasks: null };
  return { array: formatTaskIds([...ids]) + (throttle !== null ? `%${throttle}` : ''), tasks: ids.size };
}

export interface AttachedPlan {
  /** The id to register: the job's, or the array's. */
  jobId: string;
  name: string | null;
  user: string | null;
  uid: number | null;
  workDir: string | null;
  partition: string | null;
  array: string | null;
  tasks: number | null;
  /** The job's state when every record is final (it has ended already), else null. */
  endedState: string | null;
  /** The records of this job (every task of an array). */
  records: ScontrolJob[];
}

/**
 * What scontrol's records say of `jobId` for `flurm watch --slurm`. Throws UserError when the id
 * is an array task's own job id (flurm watches the array as one unit) or when scontrol printed no
 * record of it.
 */
export function planAttached(jobId: string, records: readonly ScontrolJob[]): AttachedPlan {
  const id = Number(jobId);
  const own = records.find((r) => r.job_id === id && (r.array_job_id === null || r.array_job_id === id)) ?? null;
  const arrayRecords = records.filter((r) => r.array_job_id === id);
  const task = records.find((r) => r.job_id === id && r.array_job_id !== null && r.array_job_id !== id);
  if (task && !own) {
    throw new UserError(
      `job ${jobId} is task ${task.array_task_id ?? '?'} of array ${task.array_job_id}: flurm watches an array as one unit; run flurm watch --slurm ${task.array_job_id}`,
    );
  }
  const first = own ?? arrayRecords[0];
  if (!first) throw new UserError(`scontrol printed no record of job ${jobId}`, { exitCode: 1 });
  const mine = arrayRecords.length > 0 ? arrayRecords : [first];
  const { array, tasks } = arrayFromRecords(mine);
  const ended = mine.every((r) => r.state !== null && isFinalState(r.state));
  return {
    jobId,
    name: first.name,
    user: first.user,
    uid: first.uid,
    workDir: first.work_dir,
    partition: first.partition,
    array,
    tasks,
    endedState: ended ? [...new Set(mine.map((r) => r.state))].join(',') : null,
    records: mine,
  };
}

/** A path given on the command line (--output/--error) as an absolute pattern: relative to `cwd`. */
export function givenPattern(p: string, cwd: string): string {
  return p.startsWith('/') ? p : joinDir(cwd, p);
}

/**
 * "output: /home/a/proj/slurm-42.out" for flurm's line on stderr: the patterns with what is known
 * at submit time filled in (an array's %a and the node's %N stay as written).
 */
export function describePaths(p: { output: string | null; error: string | null }, job: { jobId: number; isArray: boolean; name: string | null; user: string }): string {
  const ctx = {
    jobId: job.jobId,
    arrayJobId: job.jobId,
    arrayTaskId: job.isArray ? undefined : null,
    ...(job.name !== null ? { jobName: job.name } : {}),
    user: job.user,
    restartCount: 0,
  };
  const show = (pattern: string) => expandOutputPattern(pattern, ctx).path;
  const out = `output: ${p.output === null ? 'unknown' : show(p.output)}`;
  return p.error === null ? out : `${out}, error: ${show(p.error)}`;
}

/**
 * The directories of the output/error files that do not exist. SLURM never creates them: a job
 * whose --output directory is missing ends FAILED 0:53 the moment it starts. A directory with a
 * pattern in it (%u, %x…) cannot be checked and is skipped.
 */
export function missingOutputDirs(p: { output: string | null; error: string | null }, exists: (dir: string) => boolean): string[] {
  const out: string[] = [];
  for (const pattern of [p.output, p.error]) {
    if (!pattern || !pattern.startsWith('/')) continue;
    const dir = pattern.slice(0, pattern.lastIndexOf('/')) || '/';
    if (dir.includes('%') || dir.includes('\\') || out.includes(dir)) continue;
    if (!exists(dir)) out.push(dir);
  }
  return out;
}
