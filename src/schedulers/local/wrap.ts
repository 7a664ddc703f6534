// Run one command as a child and measure it: exit status or signal, wall time on a monotonic
// clock, exact CPU time of the child and its waited-for descendants, sampled peak RSS of the whole
// process tree, and the last lines of its output. Used in the foreground (`flurm run`) and by the
// detached watcher (`flurm run -d`).
//
// Output. In the foreground the child's stdout/stderr are pipes (Node makes them socketpairs)
// that flurm tees to its own stdout/stderr, to the tail buffer and, with --log, to the log file.
// The child therefore sees pipes, not a terminal: most programs then block-buffer their output, so PYTHONUNBUFFERED=1 is
// set in the child's environment unless the user set PYTHONUNBUFFERED (even to "", which turns it
// off), else Python output would appear in bursts. Colour auto-detection also sees a pipe. stdin
// is inherited untouched, and the child stays in flurm's process group — the terminal's
// foreground group — so it can read the terminal and gets Ctrl-C / Ctrl-Z from it directly.
// Detached, the child writes straight to the log file (no tee); the tail is read back from it.
// When flurm's stdout is closed (`flurm run -- yes | head -1`), flurm sends the child SIGPIPE and
// closes its pipe, so it ends as it would without flurm in between (a child that ignores SIGPIPE,
// as Python does, gets an error on its next write). A terminal that hangs up (EIO)
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
// Cost on the fast path: the line parsing of the tail (tail.ts) and the tree sampler
// (process-tree.ts) are imported only when needed — the output is kept as raw bytes (the last
// 64 KiB, interleaved as a terminal shows them) and cut into lines once, at the end; the sampler
// is loaded at its first tick (20 ms) — so a job that prints nothing and ends at once loads
// neither. A job that short gets no peak RSS figure (null), rather than a wrong one.
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
import { CLK_TCK, monotonicMs, readProcStat } from '../../proc/proc.js';
import type { PeakRssSampler } from '../../proc/process-tree.js';

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

/**
 * Write flurm's own message to fd 1 or 2 directly: setting up process.stdout/stderr streams costs
 * milliseconds on the fast path. Falls back to the stream if the fd would block; never throws.
 */
export function writeFd(fd: 1 | 2, text: string): void {
  try {
    fs.writeSync(fd, text);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return; // closed terminal, EPIPE: drop it
    try {
      (fd === 1 ? process.stdout : process.stderr).write(text);
    } catch {
      /* give up */
    }
  }
}

/** The last `maxBytes` of a job's output, stdout and stderr interleaved as they arrived. */
export class OutputRing {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** True once older output was dropped (the first kept line is then probably cut). */
  dropped = false;

  constructor(private readonly maxBytes = 64 * 1024) {}

  push(chunk: Buffer): void {
    if (chunk.length >= this.maxBytes) {
      this.chunks = [chunk.subarray(chunk.length - this.maxBytes)];
      this.bytes = this.maxBytes;
      this.dropped = true;
      return;
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes - this.chunks[0]!.length >= this.maxBytes) {
      this.bytes -= this.chunks.shift()!.length;
      this.dropped = true;
    }
  }

  get length(): number {
    return this.bytes;
  }

  contents(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Last lines of the ring's output (imports the line parser only when there is output). */
async function ringTail(ring: OutputRing): Promise<string[]> {
  if (ring.length === 0) return [];
  const { tailLines } = await import('./tail.js');
  let text = ring.contents().toString('utf8');
  if (ring.dropped) text = text.slice(text.indexOf('\n') + 1);
  return tailLines(text);
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

/**
 * Copy a child's stream to one of flurm's, pausing the child when the destination is full. The
 * destination is created on the first chunk (`process.stdout` costs a few ms to set up, and most
 * short jobs print nothing).
 */
function tee(from: Readable, open: () => Writable, ring: OutputRing, logFd: number | null, onData: () => void, onBrokenPipe: () => void): void {
  let to: Writable | null = null;
  let toAlive = true;
  const stopCopy = (err: NodeJS.ErrnoException) => {
    if (!toAlive) return;
    toAlive = false;
    from.resume();
    // Our reader went away (`| head`): the child gets SIGPIPE, as in a plain pipeline (the
    // socketpair closed under it would give ECONNRESET instead). EIO (terminal gone): keep going.
    if (err.code === 'EPIPE') {
      onBrokenPipe();
      from.destroy();
    }
  };
  from.on('data', (chunk: Buffer) => {
    onData();
    ring.push(chunk);
    if (logFd !== null) {
      try {
        fs.writeSync(logFd, chunk);
      } catch {
        /* a full disk must not stop the job */
      }
    }
    if (toAlive) {
      let ok: boolean;
      try {
        if (!to) {
          to = open();
          to.on('error', stopCopy);
        }
        ok = to.write(chunk);
      } catch (err) {
        stopCopy(err as NodeJS.ErrnoException);
        return;
      }
      if (!ok) {
        from.pause();
        to!.once('drain', () => from.resume());
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
  const ring = new OutputRing();
  const procRoot = opts.procRoot;
  let logFd: number | null = null;
  let logStartBytes = 0;
  if (opts.logFile) {
    logFd = openLog(opts.logFile);
    logStartBytes = fs.fstatSync(logFd).size;
  }
  if (opts.output === 'log' && logFd === null) throw new Error('wrapProcess: output "log" needs logFile');

  const cpuBefore = childCpuTicks(procRoot);
  const t0 = monotonicMs();
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
    // The tree sampler, loaded at its first tick (see the header).
    let sampler: PeakRssSampler | null = null;
    let samplerStopped = false;
    const samplerTimer = setTimeout(() => {
      import('../../proc/process-tree.js').then(
        (m) => {
          if (!samplerStopped) sampler = new m.PeakRssSampler(pid, { procRoot, firstDelayMs: 0 }).start();
        },
        () => {
          /* no sampling then */
        },
      );
    }, 20);
    samplerTimer.unref();
    const stopSampler = (): number | null => {
      samplerStopped = true;
      clearTimeout(samplerTimer);
      return sampler ? sampler.stop() : null;
    };

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
    let lastDataMs = monotonicMs();
    const onData = () => {
      lastDataMs = monotonicMs();
    };
    if (opts.output === 'tee') {
      const brokenPipe = () => {
        try {
          child.kill('SIGPIPE');
        } catch {
          /* gone */
        }
      };
      tee(child.stdout!, () => process.stdout, ring, logFd, onData, brokenPipe);
      tee(child.stderr!, () => process.stderr, ring, logFd, onData, brokenPipe);
    }

    let exited: { code: number | null; signal: NodeJS.Signals | null; wallSeconds: number; cpuSeconds: number | null } | null = null;
    let closed = opts.output === 'log';
    let drainTimer: NodeJS.Timeout | undefined;
    let finished = false;

    const finish = () => {
      if (finished || !exited) return;
      finished = true;
      const ended = exited;
      if (drainTimer) clearTimeout(drainTimer);
      for (const [sig, h] of handlers) process.removeListener(sig, h);
      // A background grandchild may still hold the pipes open: stop reading, we are done.
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (logFd !== null) {
        try {
          fs.closeSync(logFd);
        } catch {
          /* ignore */
        }
      }
      const peakRssBytes = stopSampler();
      const lines: Promise<string[]> =
        opts.output === 'log' ? import('./tail.js').then((m) => m.readLogTail(opts.logFile!, logStartBytes)) : ringTail(ring);
      lines.then(
        (tail) => resolve({ ...result(ended, peakRssBytes), tail }),
        () => resolve({ ...result(ended, peakRssBytes), tail: [] }),
      );
    };
    const result = (e: NonNullable<typeof exited>, peakRssBytes: number | null): Omit<WrapResult, 'tail'> => ({
      pid,
      exit: e.signal ? null : e.code,
      signal: e.signal,
      exitCode: exitCodeOf(e.code, e.signal),
      wallSeconds: e.wallSeconds,
      cpuSeconds: e.cpuSeconds,
      peakRssBytes,
    });

    const waitForDrain = () => {
      if (closed) return finish();
      const idle = monotonicMs() - lastDataMs;
      if (idle >= DRAIN_IDLE_MS) return finish();
      drainTimer = setTimeout(waitForDrain, DRAIN_IDLE_MS - idle);
    };

    child.once('exit', (code, signal) => {
      const wallSeconds = (monotonicMs() - t0) / 1000;
      const cpuAfter = childCpuTicks(procRoot);
      const cpuSeconds = cpuBefore !== null && cpuAfter !== null ? Math.max(0, cpuAfter - cpuBefore) / CLK_TCK : null;
      exited = { code, signal, wallSeconds, cpuSeconds };
      stopSampler();
      lastDataMs = Math.max(lastDataMs, monotonicMs() - DRAIN_IDLE_MS / 2);
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
