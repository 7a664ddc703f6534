// `flurm watch [options] PID`: record the end of a process already running on this host, as a job
// with `attached: true` in its `start` and `exit: null, exit_unknown: true` in its `end` (it is
// not flurm's child: its exit status cannot be known). The following itself is
// schedulers/local/watch.ts.
//
// Foreground by default — it is a plain command that returns when the process ends, easy to
// script (`flurm watch $PID && next-step`) — and Ctrl-C stops watching: no `end` is written, since
// the process is still running. -d hands the watching to a detached watcher (its own session,
// survives logout) and returns at once, like `run -d`.
// If the process writes its stdout to a regular file (`cmd > out.log &`), that file is the `log`
// and its last lines are the `tail`.
import type { EndEvent, StartEvent } from '../../spool/events.js';
import { envelope, jobCost, jobDescription, writerOrigin } from '../../spool/envelope.js';
import { appendEvent, ensureSpool } from '../../spool/writer.js';
import { errorMessage } from '../../lib/errors.js';
import { spoolDir } from '../../lib/host.js';
import { newId } from '../../lib/ids.js';
import { processAgeSeconds, readCmdline, readProcLink, readUptime } from '../../proc/proc.js';
import { checkWatchable, followProcess, stdoutFile, type FollowOptions } from '../../schedulers/local/watch.js';
import { displayCommand } from '../../schedulers/local/command-line.js';
import { jobDoorbell } from '../job-doorbell.js';
import { commandIO, toStderr, type CommandIO } from '../command-io.js';

export interface WatchOptions {
  pid: number;
  title?: string;
  /** Already validated destinations (cli/fast-commands.ts). */
  to: string[];
  detach: boolean;
  quiet: boolean;
  hideCommand: boolean;
}

export type WatchCommandDeps = CommandIO;

/** What the (possibly detached) watcher needs; serialisable. */
export interface WatchSpec {
  id: string;
  pid: number;
  title?: string;
  to?: string[];
  hideCommand: boolean;
  quiet: boolean;
  detached: boolean;
  spool: string;
  host: string;
  user: string;
  /**
   * What the parent saw when it checked the pid (detached watch): the process start time, its
   * age then, and its command line. If the process has ended before the detached watcher looks,
   * the watcher still records it from these instead of losing the job.
   */
  seen?: { pidStart: string; ageSeconds: number; cmd?: string; cwd?: string };
}

export interface WatchDeps {
  env: NodeJS.ProcessEnv;
  stderr: (text: string) => void;
  procRoot?: string;
  doorbellTimeoutMs?: number;
  follow?: Omit<FollowOptions, 'procRoot' | 'signal'>;
}

/**
 * Watch until the process ends and record it. Returns 0, or 130 when interrupted (Ctrl-C) in
 * the foreground — then no `end` is written: the process is still running.
 */
export async function watchJob(spec: WatchSpec, deps: WatchDeps): Promise<number> {
  const procRoot = deps.procRoot;
  ensureSpool(spec.spool);
  const bell = jobDoorbell(deps.env, spec.spool, spec.user, deps.doorbellTimeoutMs);
  let first: ReturnType<typeof checkWatchable> | null = null;
  try {
    first = checkWatchable(spec.pid, { procRoot });
    if (spec.seen && first.startTimeTicks !== spec.seen.pidStart) first = null; // pid reused already
  } catch (err) {
    if (!spec.seen) throw err;
  }
  if (!first && spec.seen) {
    // Ended between the parent's check and now: record it from what the parent saw.
    const seen = spec.seen;
    const described = jobDescription({ title: spec.title, cmd: spec.hideCommand ? undefined : seen.cmd, to: spec.to });
    const cwd = seen.cwd !== undefined ? { cwd: seen.cwd } : {};
    const start: StartEvent = { ...envelope('start', spec), pid: spec.pid, pid_start: seen.pidStart, attached: true, detached: true, ...cwd, ...described };
    const end: EndEvent = { ...envelope('end', spec), exit: null, exit_unknown: true, ...jobCost(seen.ageSeconds, null, null), ...described };
    appendEvent(spec.spool, start);
    appendEvent(spec.spool, end);
    bell.ring();
    await bell.settled();
    return 0;
  }
  const pidStart = first!.startTimeTicks;

  const cmdline = readCmdline(spec.pid, { procRoot });
  const cmd = spec.hideCommand ? undefined : cmdline && cmdline.length > 0 ? displayCommand(cmdline, false) : `[${first!.comm}]`;
  const log = stdoutFile(spec.pid, procRoot);
  const cwd = readProcLink(spec.pid, 'cwd', { procRoot });
  const described = jobDescription({ title: spec.title, cmd, to: spec.to });
  const start: StartEvent = {
    ...envelope('start', spec),
    pid: spec.pid,
    pid_start: pidStart,
    attached: true,
    detached: spec.detached,
    ...(cwd ? { cwd } : {}),
    ...described,
    ...(log ? { log } : {}),
  };
  appendEvent(spec.spool, start);
  bell.ring();

  const abort = new AbortController();
  const onInt = () => abort.abort();
  if (!spec.detached) process.on('SIGINT', onInt);
  let r;
  try {
    r = await followProcess(spec.pid, pidStart, { ...deps.follow, procRoot, signal: abort.signal });
  } finally {
    if (!spec.detached) process.removeListener('SIGINT', onInt);
  }

  if (!r.ended) {
    await bell.settled();
    if (!spec.quiet) deps.stderr(`flurm: stopped watching pid ${spec.pid}; it is still running (flurm watch -d watches in the background)\n`);
    return 130;
  }
  const tail = log ? (await import('../../schedulers/local/tail.js')).readLogTail(log) : undefined;
  const end: EndEvent = {
    ...envelope('end', spec),
    exit: null,
    exit_unknown: true,
    ...jobCost(r.wallSeconds, r.cpuSeconds, r.peakRssBytes),
    ...(tail !== undefined ? { tail } : {}),
    ...described,
  };
  try {
    appendEvent(spec.spool, end);
    bell.ring();
  } catch (err) {
    deps.stderr(`flurm: could not record the end of job ${spec.id}: ${errorMessage(err)}\n`);
  }
  await bell.settled();
  if (!spec.quiet && !spec.detached) deps.stderr(`flurm: pid ${spec.pid} ended (job ${spec.id})\n`);
  return 0;
}

/** `flurm __detached watch`: the detached watcher's side. */
export function runDetachedWatch(spec: WatchSpec, env: NodeJS.ProcessEnv): Promise<number> {
  return watchJob(spec, { env, stderr: toStderr });
}

export async function run(opts: WatchOptions, deps: Partial<WatchCommandDeps> = {}): Promise<number> {
  const io = commandIO(deps);
  const { env, stdout, stderr } = io;
  const stat = checkWatchable(opts.pid); // a clear error here, in the terminal, even with -d
  const spool = spoolDir(env);
  ensureSpool(spool);
  const spec: WatchSpec = {
    id: newId(),
    pid: opts.pid,
    title: opts.title,
    to: opts.to.length > 0 ? opts.to : undefined,
    hideCommand: opts.hideCommand,
    quiet: opts.quiet,
    detached: opts.detach,
    spool,
    ...writerOrigin(env),
  };
  if (!opts.detach) return watchJob(spec, { env, stderr });
  const cmdline = readCmdline(opts.pid);
  spec.seen = {
    pidStart: stat.startTimeTicks,
    ageSeconds: processAgeSeconds(stat.startTimeTicks, readUptime().uptimeSeconds),
    cmd: cmdline && cmdline.length > 0 ? displayCommand(cmdline, false) : `[${stat.comm}]`,
    cwd: readProcLink(opts.pid, 'cwd') ?? undefined,
  };
  const { spawnDetached } = await import('../../schedulers/local/detach.js');
  spawnDetached('watch', spec, { env, cwd: io.cwd, outFd: null });
  if (!opts.quiet) stdout(`flurm: watching pid ${opts.pid} in the background (job ${spec.id})\n`);
  return 0;
}
