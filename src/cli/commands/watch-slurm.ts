// `flurm watch --slurm JOBID [--output F] [--error F]`: register a SLURM job the user submitted
// with plain sbatch, as `flurm submit` would have: one `slurm` event with `attached: true`. The
// hub's poller owns the job from there; this command returns at once.
//
// What SLURM is asked (binaries injectable: $FLURM_SCONTROL, $FLURM_SQUEUE):
// - `scontrol show job -o JOBID`: that the job exists and is the user's (refused otherwise), its
//   name, working directory, partition, and for an array its tasks (schedulers/slurm/scontrol.ts).
// - `squeue -t all -j JOBID -O JobID,StdOut,StdErr`: the output patterns as stored, %-tokens and
//   all; scontrol prints them half-expanded (schedulers/slurm/submit.ts says what each version
//   prints). Skipped when --output and --error are both given; when squeue fails, scontrol's paths
//   are used where they can be turned back into a pattern.
// Decisions (docs/slurm.md): no scontrol → an error even with --output: flurm registers only a job
// it has seen is the user's. A job SLURM no longer lists (ended more than MinJobAge ago, or never
// existed) → an error, exit 1. A job that has already ended is registered (the hub reports it at
// once). Loaded only for --slurm (cli/fast-commands.ts imports it outside the fast bundle).
import { ExecError, UserError, errorMessage } from '../../lib/errors.js';
import { execCommand, findExecutable } from '../../lib/exec.js';
import { spoolDir } from '../../lib/host.js';
import { ringHub } from '../../lib/doorbell.js';
import { writerOrigin } from '../../spool/envelope.js';
import { appendEvent, ensureSpool } from '../../spool/writer.js';
import { commandIO, type CommandIO } from '../command-io.js';
import { isInvalidJobId, parseScontrolJobs, type ScontrolJob } from '../../schedulers/slurm/scontrol.js';
import {
  describePaths,
  givenPattern,
  parseSqueueStdio,
  pathsFromScontrol,
  pathsFromSqueue,
  planAttached,
  slurmEvent,
  squeueStdioArgs,
  type AttachedPaths,
} from '../../schedulers/slurm/submit.js';

export interface WatchSlurmOptions {
  /** Digits (cli/fast-commands.ts parseSlurmJobId). */
  jobId: string;
  output?: string;
  error?: string;
  title?: string;
  /** Already validated destinations. */
  to: string[];
  quiet: boolean;
}

export interface WatchSlurmDeps extends Omit<CommandIO, 'stdout'> {
  /** The user's uid (the job must be theirs). */
  uid: number;
  doorbellTimeoutMs: number;
}

const SLURM_TIMEOUT_MS = 60_000;
/** An array of many thousand tasks prints a record each (~2 KB). */
const SCONTROL_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
const ALL_EXIT_CODES = Array.from({ length: 256 }, (_, i) => i);

/** A SLURM client binary: $FLURM_<NAME> or <name> on PATH; null when there is none. */
function slurmBinary(name: 'scontrol' | 'squeue', env: NodeJS.ProcessEnv): { file: string | null; shown: string } {
  const fromEnv = env[`FLURM_${name.toUpperCase()}`]?.trim();
  const shown = fromEnv || name;
  return { file: findExecutable(shown, env), shown };
}

/** scontrol's records of `jobId`; UserError (exit 1) with what to do when SLURM cannot say. */
async function scontrolRecords(jobId: string, env: NodeJS.ProcessEnv): Promise<ScontrolJob[]> {
  const bin = slurmBinary('scontrol', env);
  if (!bin.file) {
    throw new UserError(
      `watch: ${bin.shown === 'scontrol' ? 'scontrol not found on PATH' : `FLURM_SCONTROL=${bin.shown} is not an executable file`}: ` +
        'flurm watch --slurm asks SLURM whose job it is and where its output goes; run it on a SLURM login node (or set FLURM_SCONTROL)',
      { exitCode: 1 },
    );
  }
  let r;
  try {
    r = await execCommand(bin.file, ['show', 'job', '-o', jobId], { timeoutMs: SLURM_TIMEOUT_MS, maxOutputBytes: SCONTROL_MAX_OUTPUT_BYTES, okExitCodes: ALL_EXIT_CODES, env });
  } catch (err) {
    const why = err instanceof ExecError ? err.message : errorMessage(err);
    throw new UserError(`watch: cannot ask SLURM about job ${jobId}: ${why}`, { exitCode: 1, cause: err });
  }
  if (r.exitCode !== 0) {
    if (isInvalidJobId(r.stderr)) {
      throw new UserError(
        `watch: SLURM does not know job ${jobId} (scontrol: Invalid job id specified): it never existed, or it ended longer ago than ` +
          "SLURM keeps finished jobs (MinJobAge, 5 minutes by default); flurm can only watch a job SLURM still lists",
        { exitCode: 1 },
      );
    }
    const last = r.stderr.trim().split('\n').slice(-1)[0] ?? '';
    throw new UserError(`watch: scontrol show job ${jobId} failed (exit status ${r.exitCode})${last ? `: ${last}` : ''}`, { exitCode: 1 });
  }
  try {
    return parseScontrolJobs(r.stdout).jobs;
  } catch (err) {
    throw new UserError(`watch: cannot read scontrol's answer about job ${jobId}: ${errorMessage(err)}`, { exitCode: 1, cause: err });
  }
}

/** The patterns from squeue, or null (with why) when squeue cannot tell. */
async function squeuePaths(jobId: string, workDir: string, isArray: boolean, env: NodeJS.ProcessEnv): Promise<AttachedPaths | string> {
  const bin = slurmBinary('squeue', env);
  if (!bin.file) return `${bin.shown} not found`;
  try {
    const r = await execCommand(bin.file, squeueStdioArgs(jobId), { timeoutMs: SLURM_TIMEOUT_MS, maxOutputBytes: SCONTROL_MAX_OUTPUT_BYTES, env });
    return pathsFromSqueue(parseSqueueStdio(r.stdout), workDir, isArray) ?? 'squeue did not list the job';
  } catch (err) {
    return errorMessage(err);
  }
}

export async function run(opts: WatchSlurmOptions, deps: Partial<WatchSlurmDeps> = {}): Promise<number> {
  const { env, cwd, stderr } = commandIO(deps);
  const uid = deps.uid ?? process.getuid?.() ?? -1;
  const origin = writerOrigin(env);
  const me = origin.user;
  const spool = spoolDir(env);
  ensureSpool(spool);

  const records = await scontrolRecords(opts.jobId, env);
  if (records.length === 0) throw new UserError(`watch: scontrol printed nothing about job ${opts.jobId}`, { exitCode: 1 });
  const plan = planAttached(opts.jobId, records);
  if (plan.uid !== null ? plan.uid !== uid : plan.user !== me) {
    const owner = plan.user ?? `uid ${plan.uid}`;
    throw new UserError(
      `watch: job ${opts.jobId} belongs to ${owner}${plan.uid !== null && plan.user !== null ? ` (uid ${plan.uid})` : ''}, not to you (${me}): ` +
        `flurm notifies a job's owner; ${owner} can run flurm watch --slurm ${opts.jobId}`,
      { exitCode: 1 },
    );
  }
  const workDir = plan.workDir ?? cwd;
  const isArray = plan.array !== null;

  let paths: AttachedPaths;
  const warnings: string[] = [];
  if (opts.output !== undefined && opts.error !== undefined) {
    paths = { output: null, error: null, warnings: [] };
  } else {
    const fromSqueue = await squeuePaths(opts.jobId, workDir, isArray, env);
    if (typeof fromSqueue === 'string') {
      paths = pathsFromScontrol(plan.records, workDir, isArray);
      if (paths.warnings.length > 0) warnings.push(`squeue could not say where the job's output goes (${fromSqueue})`);
    } else {
      paths = fromSqueue;
    }
    warnings.push(...paths.warnings);
  }
  const output = opts.output !== undefined ? givenPattern(opts.output, cwd) : paths.output;
  const error = opts.error !== undefined ? givenPattern(opts.error, cwd) : paths.error;

  const event = slurmEvent(
    {
      job_id: opts.jobId,
      cluster: null,
      array: plan.array,
      tasks: plan.tasks,
      name: plan.name,
      partition: plan.partition,
      ...(opts.title !== undefined ? { title: opts.title } : {}),
      cwd: workDir,
      output,
      error: error === output ? null : error,
      to: opts.to,
      attached: true,
    },
    origin,
  );
  appendEvent(spool, event);
  await ringHub(env, spool, me, deps.doorbellTimeoutMs ?? 300);
  if (!opts.quiet) {
    for (const w of warnings) stderr(`flurm: warning: ${w}\n`);
    const what = isArray ? `array ${opts.jobId} (${plan.tasks ?? '?'} tasks)` : `job ${opts.jobId}`;
    const ended = plan.endedState ? `; it has already ended (${plan.endedState}), the hub reports it now` : '';
    const shown = describePaths({ output: event.output ?? null, error: event.error ?? null }, { jobId: Number(opts.jobId), isArray, name: plan.name, user: me });
    stderr(`flurm: watching ${what} (${shown})${ended}\n`);
  }
  return 0;
}
