// Following a process flurm did not start (`flurm watch PID`): wait until it is over and measure
// what can be measured from outside. It is not our child, so its exit status cannot be known.
// The process is over when /proc/<pid> is gone, is a zombie (exited, not yet reaped by its
// parent), or now belongs to another process (a different start time: the pid was reused).
// Polled every 100 ms for the first 5 s, then every second, so the end is seen at most one poll
// late. Its wall time is counted from its real start (field 22 of /proc/<pid>/stat, /proc/uptime,
// CLK_TCK) to when the end was seen. Peak RSS is that of the tree while watched, and at least the
// process's own VmHWM (its lifetime peak). CPU seconds are the last seen utime+stime+cutime+cstime
// of the process: a lower bound.
import fs from 'node:fs';
import { UserError } from '../../lib/errors.js';
import { CLK_TCK, isEnded, monotonicMs, processAgeSeconds, readProcLink, readProcOwnerUid, readProcStat, readUptime, type ProcStat } from '../../proc/proc.js';
import { PeakRssSampler } from '../../proc/process-tree.js';
import { Ticker } from '../../lib/ticker.js';

/**
 * Check that `pid` can be watched: it exists, has not ended, and belongs to the caller (root may
 * watch anyone). Returns its stat. Throws UserError (exit 1) otherwise.
 */
export function checkWatchable(pid: number, opts: { procRoot?: string; uid?: number } = {}): ProcStat {
  const stat = readProcStat(pid, opts);
  if (isEnded(stat)) throw new UserError(`no such process: ${pid}`, { exitCode: 1 });
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const owner = readProcOwnerUid(pid, opts);
  if (owner !== null && uid !== 0 && owner !== uid) {
    throw new UserError(`process ${pid} belongs to another user (uid ${owner}); flurm watch follows your own processes only`, { exitCode: 1 });
  }
  return stat!;
}

/** The regular file a process writes its stdout to (`cmd > out.log &`), if any. */
export function stdoutFile(pid: number, procRoot?: string): string | undefined {
  const target = readProcLink(pid, 'fd/1', { procRoot });
  if (!target || !target.startsWith('/')) return undefined;
  try {
    return fs.statSync(target).isFile() ? target : undefined;
  } catch {
    return undefined;
  }
}

export interface FollowOptions {
  procRoot?: string;
  clkTck?: number;
  /** Poll intervals (ms): fastIntervalMs for the first fastPhaseMs, then slowIntervalMs. */
  fastIntervalMs?: number;
  fastPhaseMs?: number;
  slowIntervalMs?: number;
  /** Stop following early (Ctrl-C on a foreground watch). */
  signal?: AbortSignal;
}

export interface FollowResult {
  /** False when following was aborted while the process still ran. */
  ended: boolean;
  /** Seconds since the process started, when its end was seen. */
  wallSeconds: number;
  /** Last seen CPU seconds of the process and its reaped children (lower bound). */
  cpuSeconds: number;
  peakRssBytes: number | null;
}

/** Wait until the process `pid` that started at `pidStart` (clock ticks) is over. */
export async function followProcess(pid: number, pidStart: string, opts: FollowOptions = {}): Promise<FollowResult> {
  const procRoot = opts.procRoot;
  const clkTck = opts.clkTck ?? CLK_TCK;
  const sampler = new PeakRssSampler(pid, { procRoot });
  let cpuTicks = 0;
  const t0 = monotonicMs();
  let ended = false;
  await new Promise<void>((resolve, reject) => {
    const ticker = new Ticker({
      run: () => {
        const st = readProcStat(pid, { procRoot });
        if (isEnded(st) || st!.startTimeTicks !== pidStart) {
          ended = true;
          return finish();
        }
        cpuTicks = st!.utimeTicks + st!.stimeTicks + st!.cutimeTicks + st!.cstimeTicks;
        sampler.sampleNow();
        return monotonicMs() - t0 < (opts.fastPhaseMs ?? 5000) ? (opts.fastIntervalMs ?? 100) : (opts.slowIntervalMs ?? 1000);
      },
      onError: (err) => finish(err),
    });
    function finish(err?: unknown): undefined {
      opts.signal?.removeEventListener('abort', abort);
      void ticker.stop();
      if (err === undefined) resolve();
      else reject(err);
      return undefined;
    }
    const abort = () => finish();
    if (opts.signal?.aborted) return finish();
    opts.signal?.addEventListener('abort', abort);
    ticker.start(0);
  });
  let wallSeconds = (monotonicMs() - t0) / 1000;
  try {
    wallSeconds = processAgeSeconds(pidStart, readUptime({ procRoot }).uptimeSeconds, clkTck);
  } catch {
    /* keep the watched time */
  }
  return { ended, wallSeconds, cpuSeconds: cpuTicks / clkTck, peakRssBytes: sampler.stop() };
}
