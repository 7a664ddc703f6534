// Run one command as a child and measure it: exit status or signal, wall time on a monotonic
// clock, exact CPU time of the child and its waited-for descendants, sampled peak RSS of the whole
// process tree, and the last lines of its output. Used in the foreground (`flurm run`) and by the
// detached watcher (`flurm run -d`).
//
// Output. In the foreground the child's stdout/stderr are pipes that flurm tees to its own
// stdout/stderr, to the tail buffer and, with --log, to the log file. The child therefore sees
// pipes, not a terminal: most programs then block-buffer their output, so PYTHONUNBUFFERED=1 is
// set in the child's environment unless the user set PYTHONUNBUFFERED (even to "", which turns it
// off), else Python output would appear in bursts. Colour auto-detection also sees a pipe. stdin
// is inherited untouched, and the child stays in flurm's process group — the terminal's
// foreground group — so it can read the terminal and gets Ctrl-C / Ctrl-Z from it directly.
// Detached, the child writes straight to the log file (no tee); the tail is read back from it.
// When flurm's stdout is closed (`flurm run -- yes | head -1`), flurm closes the child's pipe too,
// so the child gets SIGPIPE as it would without flurm in between. A terminal that hangs up (EIO)
// only stops the copy to the terminal: the job and its recording go on.
//
// Signals (see forwardSignal below for the rule):
// - SIGTERM, SIGUSR1, SIGUSR2 sent to flurm are always forwarded to the child (a scheduler or a
//   user killing "the job" kills flurm's pid).
// - SIGINT, SIGQUIT, SIGHUP are forwarded only when flurm is NOT in the foreground process group
//   of its controlling terminal. The terminal sends Ctrl-C / Ctrl-\ to its whole foreground
//   process group, and a hang-up goes to that group too (kernel, then the shell re-sends SIGHUP to
//   its jobs' groups), and the child is in flurm's group: it already got the signal, and
//   forwarding it again would deliver it twice (a Python KeyboardInterrupt raised inside the
//   handler of the first one). When flurm has no terminal (detached, cron, ssh host cmd) or runs
//   in a background group (`&`), a SIGINT must have been sent to flurm alone, so it is forwarded.
//   The check is made when the signal arrives, so fg/bg job control is followed. Only blind spot:
//   `kill -INT <flurm pid>` from elsewhere while flurm is in the terminal's foreground is not
//   passed on (use SIGTERM, which always is).
// - flurm itself never dies of these signals: it waits for the child and reports how it ended,
//   and exits with the child's status (128+N when the child was killed by signal N).
//
// CPU time: the cutime+cstime fields of /proc/self/stat (the watcher's own) count the CPU of every
// child it has reaped, including what those children counted for their own reaped descendants. Read
// before the spawn and after the child is reaped, the difference is the job's CPU time exactly (to
// the clock tick), with no sampling — provided this process reaps no other child in between, which
// it does not. Descendants the job never waited for (daemonised grandchildren) are not counted.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../../lib/errors.js';
import { CLK_TCK, readProcStat } from './proc.js';
import { PeakRssSampler } from './process-tree.js';
import { TailBuffer, readLogTail } from './tail.js';

export interface WrapOptions {
  file: string;
  args: string[];
  argv0?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /**
   * 'tee': stdio of the child piped through flurm to its own stdout/stderr (foreground).
   * 'log': stdin /dev/null, stdout+stderr appended to `logFile` directly (detached).
   */
  output: 'tee' | 'log';
  /** Foreground: also append the output here. Detached: where the output goes (required). */
  logFile?: string;
  /** Called synchronously right after the spawn, with the pid and its /proc start time. Must not throw. */
  onSpawn?: (info: { pid: number; pidStart: string }) => void;
  /** Forward signals to the child (see the header). Default true. */
  forwardSignals?: boolean;
  /** For tests: where proc is. */
  procRoot?: string;
}

export interface WrapResult {
  pid: number;
  exit: number | null;
  signal: NodeJS.Signals | null;
  /** What flurm should exit with: the exit status, or 128+N when killed by signal N. */
  exitCode: number;
  wallSeconds: number;
  cpuSeconds: number | null;
  peakRssBytes: number | null;
  tail: string[];
}

/** The environment a job runs with: the user's, plus PYTHONUNBUFFERED=1 unless set. */
export function jobEnv(env: NodeJS.ProcessEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, ...extra };
  if (!('PYTHONUNBUFFERED' in env)) out.PYTHONUNBUFFERED = '1';
  delete out.FLURM_DETACHED_SPEC;
  return out;
}

/** Open (create) a log file for appending; UserError naming it when that is not possible. */
export function openLog(file: string): number {
  try {
    return fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
  } catch (err) {
    throw new UserError(`cannot open the log file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Exit code of a process that ended with (code, signal): the code, or 128+N for signal N. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (os.constants.signals[signal] ?? 0);
  return code ?? 1;
}

/** Signals forwarded always, and those forwarded only when the child did not already get them. */
const ALWAYS_FORWARD: NodeJS.Signals[] = ['SIGTERM', 'SIGUSR1', 'SIGUSR2'];
const GROUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGHUP'];

/**
 * True when this process is in the foreground process group of its controlling terminal, i.e.
 * when a terminal-generated signal (Ctrl-C, Ctrl-\, hang-up) reached the child too.
 */
export function inTerminalForeground(procRoot?: string): boolean {
  try {
    const st = readProcStat('self', { procRoot });
    return !!st && st.ttyNr !== 0 && st.tpgid > 0 && st.tpgid === st.pgrp;
  } catch {
    return false;
  }
}

function childCpuTicks(procRoot?: string): number | null {
  try {
    const st = readProcStat('self', { procRoot });
    return st ? st.cutimeTicks + st.cstimeTicks : null;
  } catch {
    return null;
  }
}

/** Copy a child's stream to one of flurm's, pausing the child when the destination is full. */
function tee(from: Readable, to: Writable | null, name: string, tail: TailBuffer, logFd: number | null, onData: () => void): void {
  let toAlive = to !== null;
  const stopCopy = (err: NodeJS.ErrnoException) => {
    if (!toAlive) return;
    toAlive = false;
    from.resume();
    // Our reader went away (`| head`): close the child's pipe so it gets SIGPIPE, like in a plain
    // pipeline — unless we also log, then the log keeps everything. EIO (terminal gone): keep going.
    if (err.code === 'EPIPE' && logFd === null) from.destroy();
  };
  to?.on('error', stopCopy);
  from.on('data', (chunk: Buffer) => {
    onData();
    tail.push(name, chunk);
    if (logFd !== null) {
      try {
        fs.writeSync(logFd, chunk);
      } catch {
        /* a full disk must not stop the job */
      }
    }
    if (toAlive && to) {
      let ok: boolean;
      try {
        ok = to.write(chunk);
      } catch (err) {
        stopCopy(err as NodeJS.ErrnoException);
        return;
      }
      if (!ok) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    }
  });
  from.on('error', () => {
    /* EOF or destroyed: nothing to do */
  });
}

/** How long to wait for the pipes to drain after the child exited, counted from the last data. */
const DRAIN_IDLE_MS = 200;

/**
 * Spawn the command and resolve when it has ended and its output is copied. Rejects only when it
 * could not be started at all (the error from spawn: ENOENT, EACCES...), before onSpawn.
 */
export function wrapProcess(opts: WrapOptions): Promise<WrapResult> {
  const tail = new TailBuffer();
  const procRoot = opts.procRoot;
  let logFd: number | null = null;
  let logStartBytes = 0;
  if (opts.logFile) {
    logFd = openLog(opts.logFile);
    logStartBytes = fs.fstatSync(logFd).size;
  }
  if (opts.output === 'log' && logFd === null) throw new Error('wrapProcess: output "log" needs logFile');

  const cpuBefore = childCpuTicks(procRoot);
  const t0 = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(opts.file, opts.args, {
      argv0: opts.argv0,
      cwd: opts.cwd,
      env: opts.env,
      stdio: opts.output === 'tee' ? ['inherit', 'pipe', 'pipe'] : ['ignore', logFd!, logFd!],
    });
  } catch (err) {
    if (logFd !== null) fs.closeSync(logFd);
    return Promise.reject(err);
  }

  return new Promise<WrapResult>((resolve, reject) => {
    const pid = child.pid;
    if (pid === undefined) {
      // Spawn failed; the 'error' event (next tick) says why.
      child.once('error', (err) => {
        if (logFd !== null) fs.closeSync(logFd);
        reject(err);
      });
      return;
    }
    // The child cannot have been reaped yet (that happens on the event loop), so its /proc entry
    // is there even if it already exited: a zombie keeps its start time.
    let pidStart = '0';
    try {
      pidStart = readProcStat(pid, { procRoot })?.startTimeTicks ?? '0';
    } catch {
      /* leave 0 */
    }
    const sampler = new PeakRssSampler(pid, { procRoot }).start();

    // Signals.
    const handlers: Array<[NodeJS.Signals, () => void]> = [];
    if (opts.forwardSignals !== false) {
      const forward = (sig: NodeJS.Signals) => {
        if (GROUP_SIGNALS.includes(sig) && inTerminalForeground(procRoot)) return;
        try {
          child.kill(sig);
        } catch {
          /* already gone */
        }
      };
      for (const sig of [...ALWAYS_FORWARD, ...GROUP_SIGNALS]) {
        const h = () => forward(sig);
        handlers.push([sig, h]);
        process.on(sig, h);
      }
    }

    // Output.
    let lastDataMs = performance.now();
    const onData = () => {
      lastDataMs = performance.now();
    };
    if (opts.output === 'tee') {
      tee(child.stdout!, process.stdout, 'stdout', tail, logFd, onData);
      tee(child.stderr!, process.stderr, 'stderr', tail, logFd, onData);
    }

    let exited: { code: number | null; signal: NodeJS.Signals | null; wallSeconds: number; cpuSeconds: number | null } | null = null;
    let closed = opts.output === 'log';
    let drainTimer: NodeJS.Timeout | undefined;
    let finished = false;

    const finish = () => {
      if (finished || !exited) return;
      finished = true;
      if (drainTimer) clearTimeout(drainTimer);
      for (const [sig, h] of handlers) process.removeListener(sig, h);
      // A background grandchild may still hold the pipes open: stop reading, we are done.
      child.stdout?.destroy();
      child.stderr?.destroy();
      let lines: string[];
      if (opts.output === 'log') lines = readLogTail(opts.logFile!, logStartBytes);
      else lines = tail.finish();
      if (logFd !== null) {
        try {
          fs.closeSync(logFd);
        } catch {
          /* ignore */
        }
      }
      const peakRssBytes = sampler.stop();
      resolve({
        pid,
        exit: exited.signal ? null : exited.code,
        signal: exited.signal,
        exitCode: exitCodeOf(exited.code, exited.signal),
        wallSeconds: exited.wallSeconds,
        cpuSeconds: exited.cpuSeconds,
        peakRssBytes,
        tail: lines,
      });
    };

    const waitForDrain = () => {
      if (closed) return finish();
      const idle = performance.now() - lastDataMs;
      if (idle >= DRAIN_IDLE_MS) return finish();
      drainTimer = setTimeout(waitForDrain, DRAIN_IDLE_MS - idle);
    };

    child.once('exit', (code, signal) => {
      const wallSeconds = (performance.now() - t0) / 1000;
      const cpuAfter = childCpuTicks(procRoot);
      const cpuSeconds = cpuBefore !== null && cpuAfter !== null ? Math.max(0, cpuAfter - cpuBefore) / CLK_TCK : null;
      exited = { code, signal, wallSeconds, cpuSeconds };
      sampler.stop();
      lastDataMs = Math.max(lastDataMs, performance.now() - DRAIN_IDLE_MS / 2);
      waitForDrain();
    });
    child.once('close', () => {
      closed = true;
      finish();
    });
    child.on('error', () => {
      /* kill() on a dead child; the exit event still comes */
    });

    try {
      opts.onSpawn?.({ pid, pidStart });
    } catch {
      /* the caller records its own errors; the job runs on */
    }
  });
}
