// A job's process tree and its memory: the descendants of a pid (by the ppid of every process in
// /proc, or by the cheaper /proc/<pid>/task/<tid>/children lists where the kernel has them), the
// tree's resident memory, and a sampler that keeps the peak while the job runs.
//
// Peak RSS of a tree is sampled, so it is a lower bound: max over samples of the sum of VmRSS of
// the live tree, and of the largest single VmHWM seen (each process's own exact peak, which covers
// the moments between samples). Sums of RSS count shared pages (fork()ed workers) once per process.
// Orphans re-parented away from the tree (daemonised grandchildren) are not followed.
import fs from 'node:fs';
import { monotonicMs, readProcStatus, type ProcOptions } from './proc.js';
import { Ticker } from '../lib/ticker.js';

/** Descendants of `rootPid` (not including it) given each process's parent; breadth-first. */
export function descendantsFromParents(rootPid: number, parents: Iterable<readonly [pid: number, ppid: number]>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    if (pid === ppid) continue;
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const seen = new Set<number>([rootPid]);
  const queue = [rootPid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (seen.has(c)) continue;
      seen.add(c);
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** (pid, ppid) of every process in procRoot, from /proc/<pid>/stat (split after the last ')'). */
export function scanParents(opts: ProcOptions = {}): Array<[number, number]> {
  const root = opts.procRoot ?? '/proc';
  const out: Array<[number, number]> = [];
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let text: string;
    try {
      text = fs.readFileSync(`${root}/${name}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    const close = text.lastIndexOf(')');
    if (close < 0) continue;
    // After ") " come state and ppid.
    const rest = text.slice(close + 2);
    const sp1 = rest.indexOf(' ');
    const sp2 = rest.indexOf(' ', sp1 + 1);
    const ppid = Number(rest.slice(sp1 + 1, sp2));
    if (Number.isInteger(ppid)) out.push([Number(name), ppid]);
  }
  return out;
}

/** Children of `pid`, from /proc/<pid>/task/<tid>/children of each thread; null if unsupported. */
export function readChildren(pid: number, opts: ProcOptions = {}): number[] | null {
  const root = opts.procRoot ?? '/proc';
  let tids: string[];
  try {
    tids = fs.readdirSync(`${root}/${pid}/task`);
  } catch {
    return []; // gone
  }
  const out: number[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = fs.readFileSync(`${root}/${pid}/task/${tid}/children`, 'latin1');
    } catch (err) {
      // No children file at all: kernel without CONFIG_PROC_CHILDREN.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(`${root}/${pid}/task/${tid}`)) return null;
      continue;
    }
    for (const s of text.split(' ')) if (s) out.push(Number(s));
  }
  return out;
}

export type TreeMethod = 'auto' | 'scan' | 'children';

export interface TreeOptions extends ProcOptions {
  /**
   * 'children' walks /proc/<pid>/task/<tid>/children (cost grows with the tree, not with the
   * node's process count); 'scan' reads the ppid of every process; 'auto' (default) uses children
   * lists where the kernel has them and falls back to a scan.
   */
  method?: TreeMethod;
}

/** `rootPid` and all its descendants, root first. Empty when the root is gone. */
export function listProcessTree(rootPid: number, opts: TreeOptions = {}): number[] {
  const method = opts.method ?? 'auto';
  if (method !== 'scan') {
    const out: number[] = [];
    const seen = new Set<number>();
    const queue = [rootPid];
    let supported = true;
    while (queue.length > 0) {
      const pid = queue.shift()!;
      if (seen.has(pid)) continue;
      seen.add(pid);
      out.push(pid);
      const kids = readChildren(pid, opts);
      if (kids === null) {
        supported = false;
        break;
      }
      queue.push(...kids);
    }
    if (supported) return fs.existsSync(`${opts.procRoot ?? '/proc'}/${rootPid}`) ? out : [];
    if (method === 'children') throw new Error('this kernel has no /proc/<pid>/task/<tid>/children');
  }
  const parents = scanParents(opts);
  if (!parents.some(([pid]) => pid === rootPid)) return [];
  return [rootPid, ...descendantsFromParents(rootPid, parents)];
}

export interface TreeMemory {
  pids: number[];
  /** Sum of VmRSS over the tree now (bytes). */
  rssBytes: number;
  /** Largest VmHWM (lifetime peak RSS) of any single process of the tree (bytes). */
  maxHwmBytes: number;
}

/** Current resident memory of the tree rooted at `rootPid`. */
export function sampleTreeMemory(rootPid: number, opts: TreeOptions = {}): TreeMemory {
  const pids = listProcessTree(rootPid, opts);
  let rssBytes = 0;
  let maxHwmBytes = 0;
  for (const pid of pids) {
    let st;
    try {
      st = readProcStatus(pid, opts);
    } catch {
      continue; // e.g. EACCES under hidepid: count what we can see
    }
    if (!st) continue;
    rssBytes += st.vmRssBytes ?? 0;
    maxHwmBytes = Math.max(maxHwmBytes, st.vmHwmBytes ?? 0);
  }
  return { pids, rssBytes, maxHwmBytes };
}

export interface PeakRssSamplerOptions extends TreeOptions {
  /** Delay of the first sample (ms); short so jobs of a few tens of ms still get a figure. */
  firstDelayMs?: number;
  /** Interval during the first `fastPhaseMs` (ms). */
  fastIntervalMs?: number;
  fastPhaseMs?: number;
  /** Interval afterwards (ms); at most 1000 so the peak is sampled at least once a second. */
  slowIntervalMs?: number;
}

/**
 * Samples the tree's memory on a timer: every 100 ms for the first 5 s, then every second. The
 * timer is unref()ed, so it never keeps the process alive on its own.
 */
export class PeakRssSampler {
  private peakBytes = 0;
  private samples = 0;
  private readonly startedMs = monotonicMs();
  private readonly ticker = new Ticker({
    run: () => {
      this.sampleNow();
      const fast = monotonicMs() - this.startedMs < (this.opts.fastPhaseMs ?? 5000);
      return fast ? (this.opts.fastIntervalMs ?? 100) : Math.min(this.opts.slowIntervalMs ?? 1000, 1000);
    },
    onError: () => {}, // sampleNow() does not throw
    unref: true,
  });

  constructor(
    private readonly rootPid: number,
    private readonly opts: PeakRssSamplerOptions = {},
  ) {}

  start(): this {
    this.ticker.start(this.opts.firstDelayMs ?? 20);
    return this;
  }

  /** Take one sample now; returns it. */
  sampleNow(): TreeMemory | null {
    let mem: TreeMemory;
    try {
      mem = sampleTreeMemory(this.rootPid, this.opts);
    } catch {
      return null;
    }
    if (mem.pids.length > 0) {
      this.samples++;
      this.peakBytes = Math.max(this.peakBytes, mem.rssBytes, mem.maxHwmBytes);
    }
    return mem;
  }

  /** Peak so far (bytes), or null when no sample saw the tree (a job of a few ms). */
  peak(): number | null {
    return this.samples > 0 ? this.peakBytes : null;
  }

  /** Stop sampling; returns the peak (bytes) or null. */
  stop(): number | null {
    // Samples are synchronous: none can be half done, and none starts after this.
    void this.ticker.stop();
    return this.peak();
  }
}
