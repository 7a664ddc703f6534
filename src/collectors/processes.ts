// Every process on the node, from /proc without spawning `ps`: the (pid, start) pairs the hub
// checks running jobs against, and the "busy" ones (by %CPU or resident memory) with owner and
// command line.
//
// Cost: one readdir, then per process one open/read/close of /proc/PID/stat (state, utime+stime,
// start time, RSS in pages: fields 3, 14, 15, 22, 24, found after the LAST ')' as
// schedulers/local/proc.ts parseProcStat does, but scanned in place from the bytes). Only for the
// busy ones: stat(/proc/PID) for the owner uid (the dir belongs to the process's uid, which still
// works under hidepid=1) and /proc/PID/cmdline. That is 3 syscalls per process, and no string per
// field: measured in bench/agent.mjs.
//
// %CPU = Δ(utime + stime) / CLK_TCK / Δt × 100 (100 = one core), with Δt taken from
// <procRoot>/uptime so a fixture pair (t0, t1) gives exact figures. The previous ticks are kept
// per pid and only reused when the start time matches, so a recycled pid starts over (null).
//
// Processes that vanish mid-scan (ENOENT/ESRCH), that we may not read (EACCES: hidepid=1, another
// user), zombies (state Z, no RSS) and unparsable lines are skipped, never fatal. Zombies and dead
// tasks are left out of `pids` too: for the hub a zombie job has ended.
import fs from 'node:fs';
import { CLK_TCK, parseUptime, processAgeSeconds } from '../proc/proc.js';
import {
  BUSY_MIN_CPU_PCT,
  BUSY_MIN_RSS_BYTES,
  SNAPSHOT_CMD_MAX_CHARS,
  SNAPSHOT_MAX_BUSY,
  SNAPSHOT_MAX_PIDS,
} from '../model/snapshot.js';
import { isDeniedError, type CollectorResult, type ProcRootOptions } from './types.js';

export interface ProcessesOptions extends ProcRootOptions {
  /** Clock ticks per second of /proc times (USER_HZ); default 100. */
  clkTck?: number;
  /** Bytes per page for stat field 24; default: this machine's (detectPageSizeBytes()). */
  pageSizeBytes?: number;
  /** A process is busy at or above this %CPU (100 = one core)... */
  busyMinCpuPct?: number;
  /** ...or at or above this resident memory. */
  busyMinRssBytes?: number;
  maxBusy?: number;
  maxPids?: number;
  /** Our effective uid: root sees through hidepid. Default process.geteuid(). */
  euid?: number;
}

/** A busy process as the collector sees it; the sampler adds the user name and mem_pct. */
export interface BusyProcess {
  pid: number;
  start: string;
  uid: number;
  cpu_pct: number | null;
  rss_bytes: number;
  elapsed_seconds: number;
  cmd: string;
}

export interface ProcessesSample {
  pids: [number, string][];
  pids_truncated: boolean;
  pids_visible: 'all' | 'own';
  busy: BusyProcess[];
  /** Live processes read (zombies excluded). */
  seen: number;
  /** Processes we were not allowed to read (hidepid=1). */
  denied: number;
}

// ---- pure parsers ------------------------------------------------------------------------------

/**
 * The hidepid= value of the proc filesystem mounted on /proc, from /proc/mounts text
 * ("proc /proc proc rw,nosuid,hidepid=2 0 0"), or null when it has none. The last /proc mount
 * wins (it is the one on top).
 */
export function parseMountsHidepid(text: string): string | null {
  let found: string | null = null;
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 4 || f[2] !== 'proc' || f[1] !== '/proc') continue;
    found = hidepidOption(f[3]!) ?? '';
  }
  return found === '' ? null : found;
}

/**
 * The same from /proc/self/mountinfo text ("36 25 0:5 / /proc rw,nosuid - proc proc rw,hidepid=2"):
 * the superblock options follow the " - fstype source " part.
 */
export function parseMountinfoHidepid(text: string): string | null {
  let found: string | null = null;
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    if (left[4] !== '/proc' || right[0] !== 'proc') continue;
    found = hidepidOption(right[2] ?? '') ?? hidepidOption(left[5] ?? '') ?? '';
  }
  return found === '' ? null : found;
}

function hidepidOption(options: string): string | null {
  const o = options.split(',').find((x) => x.startsWith('hidepid='));
  return o ? o.slice('hidepid='.length) : null;
}

/** True when a hidepid value hides (1, noaccess) or makes invisible (2, invisible) other users' processes. */
export function hidepidHidesOthers(value: string | null): boolean {
  return value === '1' || value === '2' || value === 'noaccess' || value === 'invisible';
}

/** A command line from /proc/PID/cmdline bytes: NUL-separated arguments joined by spaces. */
export function formatCmdline(raw: string, comm: string, maxChars = SNAPSHOT_CMD_MAX_CHARS): string {
  const cmd = raw.replace(/\0+$/, '').replace(/\0/g, ' ').trim();
  // Kernel threads (and zombies) have an empty cmdline: show the comm as ps does, in brackets.
  return (cmd || `[${comm}]`).slice(0, maxChars);
}

/** Busiest first: by %CPU (unknown counts as 0), then by resident memory. */
export function compareBusy(a: { cpu_pct: number | null; rss_bytes: number }, b: { cpu_pct: number | null; rss_bytes: number }): number {
  return (b.cpu_pct ?? 0) - (a.cpu_pct ?? 0) || b.rss_bytes - a.rss_bytes;
}

/** The fields of /proc/PID/stat the per-process scan needs (see scanProcStat). */
export interface StatScan {
  /** Field 3, as a character ("R", "S", "Z"...). */
  state: string;
  /** Fields 14 + 15: utime + stime, clock ticks. */
  ticks: number;
  /** Field 22: start time in clock ticks since boot, as a decimal string. */
  start: string;
  /** Field 24: resident set size in pages. */
  rssPages: number;
  /** Byte offsets of the comm between "(" and the LAST ")". */
  commStart: number;
  commEnd: number;
}

/**
 * Read fields 3, 14, 15, 22 and 24 of a /proc/PID/stat line straight from its bytes, splitting
 * after the LAST ")" as parseProcStat() (schedulers/local/proc.ts) does, without building a string
 * per field: this scan runs for every process on the node every interval, and parseProcStat's
 * split was a fifth of a sample's CPU. Tests check it agrees with parseProcStat. Fills `out`;
 * false when the bytes are not a stat line.
 */
export function scanProcStat(buf: Uint8Array, length: number, out: StatScan): boolean {
  const open = buf.indexOf(0x28); // (
  let close = -1;
  for (let i = length - 1; i > open; i--) {
    if (buf[i] === 0x29) {
      close = i; // )
      break;
    }
  }
  if (open < 0 || close < 0 || close + 2 >= length) return false;
  let field = 3;
  let value = 0;
  let fieldStart = close + 2;
  let utime = -1;
  let stime = -1;
  out.state = String.fromCharCode(buf[fieldStart]!);
  for (let i = close + 2; i <= length; i++) {
    const c = i < length ? buf[i]! : 0x20;
    if (c === 0x20 || c === 0x0a) {
      if (field === 14) utime = value;
      else if (field === 15) stime = value;
      else if (field === 22) out.start = String(value);
      else if (field === 24) {
        out.rssPages = buf[fieldStart] === 0x2d ? 0 : value; // "-" never happens for rss; be safe
        out.ticks = utime + stime;
        out.commStart = open + 1;
        out.commEnd = close;
        return utime >= 0 && stime >= 0;
      }
      field++;
      value = 0;
      fieldStart = i + 1;
    } else if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
    }
  }
  return false;
}

// ---- readers -----------------------------------------------------------------------------------

/** One buffer for every small /proc read: stat lines are well under 1 KiB. */
const readBuf = Buffer.allocUnsafe(4096);

/** Read the first 4 KiB of a /proc file into readBuf in one open/read/close; returns the length. */
function readProcBytes(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    return fs.readSync(fd, readBuf, 0, readBuf.length, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Bytes per page on this machine (4096 on x86-64, 16384 or 65536 on some arm64 and ppc64
 * kernels): the smallest KernelPageSize in the first mappings of /proc/self/smaps, read once.
 * Falls back to 4096.
 */
export function detectPageSizeBytes(procRoot = '/proc'): number {
  try {
    const fd = fs.openSync(`${procRoot}/self/smaps`, 'r');
    try {
      const buf = Buffer.alloc(16384);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const sizes = [...buf.toString('latin1', 0, n).matchAll(/^KernelPageSize:\s+(\d+) kB$/gm)].map((m) => Number(m[1]) * 1024);
      const min = Math.min(...sizes.filter((s) => s > 0));
      if (Number.isFinite(min)) return min;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* no smaps (not Linux, or a restricted /proc) */
  }
  return 4096;
}

let machinePageSize: number | undefined;

/** How often the proc mount options (hidepid) are re-read: they rarely change. */
const MOUNTS_RECHECK_MS = 10 * 60_000;

/**
 * Keeps the previous sample's CPU ticks so each collect() reports %CPU since the last one.
 * Options are read at every collect(), so a test can move `procRoot` from a t0 to a t1 fixture.
 */
export class ProcessCollector {
  private prev = new Map<number, { start: string; ticks: number }>();
  private prevUptime: number | null = null;
  private hidepid: { value: string | null; atMs: number } | null = null;

  constructor(private readonly opts: ProcessesOptions = {}) {}

  private hidepidValue(root: string): string | null {
    const now = Date.now();
    if (this.hidepid && now - this.hidepid.atMs < MOUNTS_RECHECK_MS) return this.hidepid.value;
    let value: string | null = null;
    try {
      value = parseMountsHidepid(fs.readFileSync(`${root}/mounts`, 'utf8'));
    } catch {
      try {
        value = parseMountinfoHidepid(fs.readFileSync(`${root}/self/mountinfo`, 'utf8'));
      } catch {
        value = null;
      }
    }
    this.hidepid = { value, atMs: now };
    return value;
  }

  collect(): CollectorResult<ProcessesSample> {
    const o = this.opts;
    const root = o.procRoot ?? '/proc';
    const clkTck = o.clkTck ?? CLK_TCK;
    const pageSize = o.pageSizeBytes ?? (machinePageSize ??= detectPageSizeBytes());
    const minCpu = o.busyMinCpuPct ?? BUSY_MIN_CPU_PCT;
    const minRss = o.busyMinRssBytes ?? BUSY_MIN_RSS_BYTES;
    const maxPids = o.maxPids ?? SNAPSHOT_MAX_PIDS;
    const maxBusy = o.maxBusy ?? SNAPSHOT_MAX_BUSY;

    const uptime = parseUptime(fs.readFileSync(`${root}/uptime`, 'utf8')).uptimeSeconds;
    const dt = this.prevUptime === null ? 0 : uptime - this.prevUptime;
    const names = fs.readdirSync(root);
    const next = new Map<number, { start: string; ticks: number }>();
    const pids: [number, string][] = [];
    const candidates: (BusyProcess & { comm: string })[] = [];
    let truncated = false;
    let seen = 0;
    let denied = 0;
    const st: StatScan = { state: '', ticks: 0, start: '', rssPages: 0, commStart: 0, commEnd: 0 };

    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue; // not a pid dir
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      let n: number;
      try {
        n = readProcBytes(`${root}/${name}/stat`);
      } catch (err) {
        // Gone since readdir (ENOENT/ESRCH), hidden from us (EACCES), or anything else odd
        // about one process: skip it, never fail the whole sample.
        if (isDeniedError(err)) denied++;
        continue;
      }
      if (!scanProcStat(readBuf, n, st)) continue;
      if (st.state === 'Z' || st.state === 'X' || st.state === 'x') continue;
      seen++;
      const start = st.start;
      const ticks = st.ticks;
      next.set(pid, { start, ticks });
      if (pids.length < maxPids) pids.push([pid, start]);
      else truncated = true;

      const before = this.prev.get(pid);
      const cpuPct =
        before !== undefined && before.start === start && dt > 0 ? Math.max(0, ((ticks - before.ticks) / clkTck / dt) * 100) : null;
      const rss = st.rssPages * pageSize;
      if ((cpuPct !== null && cpuPct >= minCpu) || rss >= minRss) {
        candidates.push({
          pid,
          start,
          uid: -1, // looked up below, for the ones listed
          cpu_pct: cpuPct === null ? null : Math.round(cpuPct * 10) / 10,
          rss_bytes: rss,
          elapsed_seconds: Math.round(processAgeSeconds(start, uptime, clkTck) * 100) / 100,
          cmd: '',
          comm: readBuf.toString('utf8', st.commStart, st.commEnd),
        });
      }
    }
    this.prev = next;
    this.prevUptime = uptime;

    candidates.sort(compareBusy);
    const busy: BusyProcess[] = [];
    for (const cand of candidates.slice(0, maxBusy)) {
      try {
        // The owner is the uid of /proc/PID (still visible under hidepid=1).
        cand.uid = fs.statSync(`${root}/${cand.pid}`).uid;
      } catch {
        continue; // gone since we read its stat
      }
      let raw = '';
      try {
        raw = readBuf.toString('utf8', 0, readProcBytes(`${root}/${cand.pid}/cmdline`));
      } catch {
        /* gone or hidden: fall back to [comm] */
      }
      const { comm, ...rest } = cand;
      busy.push({ ...rest, cmd: formatCmdline(raw, comm) });
    }

    const hidepid = this.hidepidValue(root);
    const euid = o.euid ?? process.geteuid?.() ?? -1;
    const own = hidepidHidesOthers(hidepid) && euid !== 0;
    let note: string | undefined;
    if (own) note = `hidepid=${hidepid}: only this user's processes are visible`;
    if (denied > 0) note = `${note ? note + '; ' : ''}${denied} processes not readable`;
    return {
      value: { pids, pids_truncated: truncated, pids_visible: own ? 'own' : 'all', busy, seen, denied },
      note,
    };
  }
}
