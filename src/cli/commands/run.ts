// `flurm run [options] -- CMD [ARGS...]`: run a job and record it. In the foreground the output
// passes through and flurm exits with the job's status; detached (-d), the job runs in a session
// of its own with its output in a log file (schedulers/local/detach.ts), and this module's
// runJob() is what the detached watcher runs. Options were parsed, and --to validated, by
// cli/fast-commands.ts.
//
// Recording: `start` is appended to the spool right after the spawn (pid + /proc start time),
// `end` when the job is over (same ULID), and the hub's doorbell rings after each (best-effort,
// 300 ms at most: a hub that is down or absent never fails or delays the job).
//
// A command that cannot be started (not found: 127, not executable: 126) is an error before
// anything is recorded: no `start`, no `end`, nothing to notify — the user sees the message at
// once, in the terminal, even with -d (the lookup is done before detaching). A shell string whose
// command is missing is a job like any other: the shell says so in the tail and exits 127.
import fs from 'node:fs';
import path from 'node:path';
import type { EndEvent, StartEvent } from '../../spool/events.js';
import { envelope, jobCost, jobDescription, writerOrigin } from '../../spool/envelope.js';
import { appendEvent, ensureSpool } from '../../spool/writer.js';
import { UserError, errorMessage } from '../../lib/errors.js';
import { spoolDir } from '../../lib/host.js';
import { newId } from '../../lib/ids.js';
import { resolveCommand } from '../../schedulers/local/command-line.js';
import { jobName } from '../../model/job-name.js';
import { jobDoorbell } from '../job-doorbell.js';
import { commandIO, toStderr, type CommandIO } from '../command-io.js';
import { jobEnv, openLog, wrapProcess, type WrapResult } from '../../schedulers/local/wrap.js';

export interface RunOptions {
  /** The command: program and arguments, or one shell string. */
  command: string[];
  title?: string;
  detach: boolean;
  log?: string;
  to: string[];
  quiet: boolean;
  hideCommand: boolean;
}

export type RunDeps = CommandIO;

/** Everything needed to run and record one job; serialisable (handed to the detached watcher). */
export interface JobSpec {
  id: string;
  /** Program (absolute path), its arguments, and argv[0] as typed. */
  file: string;
  args: string[];
  argv0: string;
  /** The command line as typed; absent with --hide-command. */
  cmd?: string;
  title?: string;
  to?: string[];
  /** Absolute log path: the output goes there (detached) or is also appended there (--log). */
  log?: string;
  detached: boolean;
  quiet: boolean;
  cwd: string;
  spool: string;
  host: string;
  user: string;
}

export interface JobDeps {
  env: NodeJS.ProcessEnv;
  /** flurm's own messages (the end line, warnings). */
  stderr: (text: string) => void;
  procRoot?: string;
  doorbellTimeoutMs?: number;
}

/** Default log name for a detached job: flurm-<the job's name (jobName)>-<last 6 of the id>.log. */
export function defaultLogName(id: string, title: string | undefined, cmd: string | undefined): string {
  const base = jobName({ title, cmd });
  const slug = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 40) || 'job';
  return `flurm-${slug}-${id.slice(-6).toLowerCase()}.log`;
}

/** "850ms", "4.2s", "2m 10s", "3h 05m". */
/**
 * The duration on flurm's own end-of-job line in the terminal: finer than lib/format's
 * formatDuration (used in messages), because here "after 9ms" tells a user the job did not
 * really run.
 */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function startEvent(spec: JobSpec, pid: number, pidStart: string): StartEvent {
  return {
    ...envelope('start', spec),
    pid,
    pid_start: pidStart,
    cwd: spec.cwd,
    ...jobDescription(spec),
    ...(spec.log !== undefined ? { log: spec.log } : {}),
    detached: spec.detached,
  };
}

export function endEvent(spec: JobSpec, r: WrapResult): EndEvent {
  return {
    ...envelope('end', spec),
    exit: r.exit,
    signal: r.signal,
    ...jobCost(r.wallSeconds, r.cpuSeconds, r.peakRssBytes),
    tail: r.tail,
    ...jobDescription(spec), // repeated so that an `end` alone is enough to notify
  };
}

/** A spawn failure (the program vanished or lost its x bit since it was resolved). */
function spawnError(err: unknown, argv0: string): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`command not found: ${argv0}`, { exitCode: 127, cause: err });
  if (code === 'EACCES' || code === 'EISDIR' || code === 'ENOEXEC') return new UserError(`permission denied: ${argv0}`, { exitCode: 126, cause: err });
  return new UserError(`cannot start ${argv0}: ${errorMessage(err)}`, { exitCode: 126, cause: err });
}

/** How long after the start a job's start ring goes out (a shorter job rings once, at its end). */
export const START_RING_DELAY_MS = 100;

/**
 * Run the job to its end and record it. Returns the job's exit code (128+N for signal N).
 * Throws UserError only when the job could not be started (then nothing was recorded).
 */
export async function runJob(spec: JobSpec, deps: JobDeps): Promise<number> {
  ensureSpool(spec.spool); // an unwritable spool is an error before the job starts, not after
  const bell = jobDoorbell(deps.env, spec.spool, spec.user, deps.doorbellTimeoutMs);
  // The start ring waits a moment: a job that ends sooner gets one ring after its end, which
  // makes the hub read both events (one connection instead of two on the shortest jobs).
  let startRing: NodeJS.Timeout | null = null;
  const warn = (msg: string) => deps.stderr(`flurm: ${msg}\n`);

  let result: WrapResult;
  try {
    result = await wrapProcess({
      file: spec.file,
      args: spec.args,
      argv0: spec.argv0,
      cwd: spec.cwd,
      env: jobEnv(deps.env, { FLURM_JOB_ID: spec.id }),
      output: spec.detached ? 'log' : 'tee',
      logFile: spec.log,
      procRoot: deps.procRoot,
      onSpawn: ({ pid, pidStart }) => {
        try {
          appendEvent(spec.spool, startEvent(spec, pid, pidStart));
          startRing = setTimeout(() => {
            startRing = null;
            bell.ring();
          }, START_RING_DELAY_MS);
        } catch (err) {
          warn(`could not record the start of job ${spec.id}: ${errorMessage(err)}`);
        }
      },
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    if ((err as NodeJS.ErrnoException).syscall?.startsWith('spawn')) throw spawnError(err, spec.argv0);
    throw err;
  }

  if (startRing) clearTimeout(startRing);
  try {
    appendEvent(spec.spool, endEvent(spec, result));
    bell.ring();
  } catch (err) {
    warn(`could not record the end of job ${spec.id}: ${errorMessage(err)}`);
  }
  await bell.settled();

  if (!spec.quiet && !spec.detached) {
    const how = result.signal ? `killed by ${result.signal}` : `exit ${result.exit}`;
    deps.stderr(`flurm: job ${spec.id} ${how} after ${formatDuration(result.wallSeconds)}\n`);
  }
  return result.exitCode;
}

/** `flurm __detached run`: the detached watcher's side. */
export function runDetachedJob(spec: JobSpec, env: NodeJS.ProcessEnv): Promise<number> {
  return runJob(spec, { env, stderr: toStderr });
}

export async function run(opts: RunOptions, deps: Partial<RunDeps> = {}): Promise<number> {
  const { env, cwd, stdout, stderr } = commandIO(deps);

  const resolved = resolveCommand(opts.command, env, cwd);
  const spool = spoolDir(env);
  const id = newId();
  const spec: JobSpec = {
    id,
    file: resolved.file,
    args: resolved.args,
    argv0: resolved.argv0,
    cmd: opts.hideCommand ? undefined : resolved.display,
    title: opts.title,
    to: opts.to.length > 0 ? opts.to : undefined,
    log: opts.log !== undefined ? path.resolve(cwd, opts.log) : undefined,
    detached: opts.detach,
    quiet: opts.quiet,
    cwd,
    spool,
    ...writerOrigin(env),
  };

  if (!opts.detach) return runJob(spec, { env, stderr });

  // Detached: check the spool and open the log here, so that errors show in the terminal, and
  // hand the log to the watcher as its stdout/stderr.
  ensureSpool(spool);
  spec.log ??= path.resolve(cwd, defaultLogName(id, opts.title, spec.cmd));
  const { spawnDetached } = await import('../../schedulers/local/detach.js');
  const fd = openLog(spec.log);
  try {
    spawnDetached('run', spec, { env, cwd, outFd: fd });
  } finally {
    fs.closeSync(fd);
  }
  if (!opts.quiet) stdout(`flurm: job ${id} running in the background; output: ${spec.log}\n`);
  return 0;
}
