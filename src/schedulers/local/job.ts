// One job, recorded: spawn it (wrap.ts), write `start` to the spool right after the spawn and
// `end` when it is over (same ULID), ring the hub's doorbell after each. Runs in the foreground
// (`flurm run`) and in the detached watcher (`flurm run -d`). A hub that is down or absent never
// fails or delays the job: the doorbell is best-effort with a short timeout.
import { SPOOL_VERSION, type EndEvent, type StartEvent } from '../../spool/events.js';
import { appendEvent, ensureSpool } from '../../spool/writer.js';
import { UserError, errorMessage } from '../../lib/errors.js';
import { ringHub } from '../../lib/doorbell.js';
import { wrapProcess, jobEnv, type WrapResult } from './wrap.js';

/** Everything needed to run and record one job; serialisable (passed to the detached watcher). */
export interface JobSpec {
  id: string;
  /** Program (absolute path), its arguments and argv[0] as typed. */
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

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** "850ms", "4.2s", "2m 10s", "3h 05m". */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function common(spec: Pick<JobSpec, 'id' | 'user' | 'host'>) {
  return { v: SPOOL_VERSION, id: spec.id, ts: new Date().toISOString(), user: spec.user, host: spec.host, src: 'node' };
}

export function startEvent(spec: JobSpec, pid: number, pidStart: string): StartEvent {
  const e: StartEvent = { ...common(spec), type: 'start', pid, pid_start: pidStart, cwd: spec.cwd };
  if (spec.title !== undefined) e.title = spec.title;
  if (spec.cmd !== undefined) e.cmd = spec.cmd;
  if (spec.to && spec.to.length > 0) e.to = spec.to;
  if (spec.log !== undefined) e.log = spec.log;
  e.detached = spec.detached;
  return e;
}

export function endEvent(spec: JobSpec, r: WrapResult): EndEvent {
  const e: EndEvent = {
    ...common(spec),
    type: 'end',
    exit: r.exit,
    signal: r.signal,
    wall_seconds: round(r.wallSeconds, 3),
    cpu_seconds: r.cpuSeconds === null ? null : round(r.cpuSeconds, 2),
    peak_rss_bytes: r.peakRssBytes,
    tail: r.tail,
  };
  if (spec.title !== undefined) e.title = spec.title;
  if (spec.cmd !== undefined) e.cmd = spec.cmd;
  if (spec.to && spec.to.length > 0) e.to = spec.to;
  return e;
}

/** Map a spawn failure (the program vanished or lost its x bit since it was resolved). */
function spawnError(err: unknown, argv0: string): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`command not found: ${argv0}`, { exitCode: 127, cause: err });
  if (code === 'EACCES' || code === 'EISDIR' || code === 'ENOEXEC') return new UserError(`permission denied: ${argv0}`, { exitCode: 126, cause: err });
  return new UserError(`cannot start ${argv0}: ${errorMessage(err)}`, { exitCode: 126, cause: err });
}

/**
 * Run the job to its end and record it. Returns the job's exit code (128+N for signal N).
 * Throws UserError only when the job could not be started (nothing was recorded then).
 */
export async function runJob(spec: JobSpec, deps: JobDeps): Promise<number> {
  ensureSpool(spec.spool); // an unwritable spool is an error before the job starts, not after
  const rings: Array<Promise<boolean>> = [];
  const ring = () => rings.push(ringHub(deps.env, spec.spool, spec.user, deps.doorbellTimeoutMs ?? 300));
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
          ring();
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

  try {
    appendEvent(spec.spool, endEvent(spec, result));
    ring();
  } catch (err) {
    warn(`could not record the end of job ${spec.id}: ${errorMessage(err)}`);
  }
  await Promise.all(rings);

  if (!spec.quiet && !spec.detached) {
    const how = result.signal ? `killed by ${result.signal}` : `exit ${result.exit}`;
    deps.stderr(`flurm: job ${spec.id} ${how} after ${formatDuration(result.wallSeconds)}\n`);
  }
  return result.exitCode;
}
