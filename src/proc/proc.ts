// /proc readers for local jobs: pure parsers (text → typed value) beside thin readers that take an
// injectable `procRoot`, so every parser runs against test/fixtures/proc. Kept dependency-free: it
// is on the `flurm run` fast path.
//
// Facts relied on (Linux proc(5)):
// - /proc/<pid>/stat: "pid (comm) state ppid ...". comm may hold spaces and parentheses, so the
//   fields are split after the LAST ')'. Times are in clock ticks (USER_HZ).
// - /proc/<pid>/status: "Key:\tvalue" lines; VmRSS / VmHWM in kB (absent for kernel threads and
//   zombies).
// - /proc/uptime: seconds since boot and idle seconds.
import fs from 'node:fs';

/**
 * Clock ticks per second of the times in /proc (CLK_TCK, the kernel's USER_HZ). The kernel
 * exports /proc times in USER_HZ, which is fixed at 100 on every architecture Node.js runs on
 * (x86, arm, arm64, ppc64, s390x, riscv64, loong64), whatever CONFIG_HZ is; only alpha and ia64
 * used 1024. So it is assumed rather than asked of `getconf CLK_TCK` (a process spawn on the fast
 * path). Functions that use it take it as a parameter so tests and odd kernels can pass another.
 */
export const CLK_TCK = 100;

/**
 * Milliseconds on a monotonic clock. process.hrtime rather than performance.now(): the global
 * `performance` loads perf_hooks on first use (~1 ms on the fast path).
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The fields of /proc/<pid>/stat that flurm uses. */
export interface ProcStat {
  pid: number;
  /** Executable name, up to 15 characters; may contain spaces and parentheses. */
  comm: string;
  /** R, S, D, Z (zombie), T, t, X, I... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Controlling terminal device number; 0 when there is none. */
  ttyNr: number;
  /** Foreground process group of the controlling terminal; -1 when there is none. */
  tpgid: number;
  utimeTicks: number;
  stimeTicks: number;
  /** User / system time of waited-for children (and their waited-for descendants). */
  cutimeTicks: number;
  cstimeTicks: number;
  numThreads: number;
  /** Field 22: start time in clock ticks since boot, as a decimal string (the spool's pid_start). */
  startTimeTicks: string;
  /** Field 24: resident set size in pages. */
  rssPages: number;
}

/** Parse /proc/<pid>/stat. Throws on text that is not a stat line. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 2).trim().split(' ');
  // f[0] is field 3 (state); field N is f[N - 3].
  if (f.length < 22 || !Number.isInteger(pid)) throw new Error(`short /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  const num = (i: number) => Number(f[i]);
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: f[0]!,
    ppid: num(1),
    pgrp: num(2),
    session: num(3),
    ttyNr: num(4),
    tpgid: num(5),
    utimeTicks: num(11),
    stimeTicks: num(12),
    cutimeTicks: num(13),
    cstimeTicks: num(14),
    numThreads: num(17),
    startTimeTicks: f[19]!,
    rssPages: num(21),
  };
}

/** The fields of /proc/<pid>/status that flurm uses. */
export interface ProcStatus {
  name: string;
  state: string;
  ppid: number;
  /** Real uid. */
  uid: number;
  threads?: number;
  /** Current resident set size (bytes); undefined for kernel threads and zombies. */
  vmRssBytes?: number;
  /** Peak resident set size of this process over its life ("high water mark", bytes). */
  vmHwmBytes?: number;
}

/** Parse /proc/<pid>/status. */
export function parseProcStatus(text: string): ProcStatus {
  const out: ProcStatus = { name: '', state: '', ppid: 0, uid: -1 };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    switch (key) {
      case 'Name':
        out.name = value;
        break;
      case 'State':
        out.state = value.charAt(0);
        break;
      case 'PPid':
        out.ppid = Number(value);
        break;
      case 'Uid':
        out.uid = Number(value.split(/\s+/)[0]);
        break;
      case 'Threads':
        out.threads = Number(value);
        break;
      case 'VmRSS':
        out.vmRssBytes = kbToBytes(value);
        break;
      case 'VmHWM':
        out.vmHwmBytes = kbToBytes(value);
        break;
    }
  }
  return out;
}

function kbToBytes(value: string): number | undefined {
  const m = /^(\d+)\s*kB$/.exec(value);
  return m ? Number(m[1]) * 1024 : undefined;
}

export interface Uptime {
  uptimeSeconds: number;
  idleSeconds: number;
}

/** Parse /proc/uptime ("12345.67 23456.78"). */
export function parseUptime(text: string): Uptime {
  const [a, b] = text.trim().split(/\s+/);
  const uptimeSeconds = Number(a);
  if (!Number.isFinite(uptimeSeconds)) throw new Error(`not a /proc/uptime line: ${JSON.stringify(text.slice(0, 80))}`);
  return { uptimeSeconds, idleSeconds: Number(b) };
}

/** Parse /proc/<pid>/cmdline (NUL-separated arguments). Empty for kernel threads and zombies. */
export function parseCmdline(text: string): string[] {
  const parts = text.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Seconds a process has been running: uptime now minus its start time (field 22). */
export function processAgeSeconds(startTimeTicks: string | number, uptimeSeconds: number, clkTck: number = CLK_TCK): number {
  return Math.max(0, uptimeSeconds - Number(startTimeTicks) / clkTck);
}

// ---- readers ------------------------------------------------------------------------------------

export interface ProcOptions {
  /** Where proc is mounted (tests point it at test/fixtures/proc). */
  procRoot?: string;
}

/** True for the errors that mean "no such process (any more)". */
function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR';
}

function readProcFile(pid: number | 'self', file: string, opts: ProcOptions): string | null {
  try {
    return fs.readFileSync(`${opts.procRoot ?? '/proc'}/${pid}/${file}`, 'utf8');
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/** /proc/<pid>/stat, or null when there is no such process. */
export function readProcStat(pid: number | 'self', opts: ProcOptions = {}): ProcStat | null {
  const text = readProcFile(pid, 'stat', opts);
  return text === null ? null : parseProcStat(text);
}

/** /proc/<pid>/status, or null when there is no such process. */
export function readProcStatus(pid: number | 'self', opts: ProcOptions = {}): ProcStatus | null {
  const text = readProcFile(pid, 'status', opts);
  return text === null ? null : parseProcStatus(text);
}

/** /proc/<pid>/cmdline, or null when there is no such process. */
export function readCmdline(pid: number | 'self', opts: ProcOptions = {}): string[] | null {
  const text = readProcFile(pid, 'cmdline', opts);
  return text === null ? null : parseCmdline(text);
}

export function readUptime(opts: ProcOptions = {}): Uptime {
  return parseUptime(fs.readFileSync(`${opts.procRoot ?? '/proc'}/uptime`, 'utf8'));
}

/** Owner uid of /proc/<pid> (the process's real uid; works under hidepid=1), or null if gone. */
export function readProcOwnerUid(pid: number, opts: ProcOptions = {}): number | null {
  try {
    return fs.statSync(`${opts.procRoot ?? '/proc'}/${pid}`).uid;
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/** Target of a /proc/<pid>/{cwd,exe,fd/N} link, or null when it cannot be read. */
export function readProcLink(pid: number, link: string, opts: ProcOptions = {}): string | null {
  try {
    return fs.readlinkSync(`${opts.procRoot ?? '/proc'}/${pid}/${link}`);
  } catch {
    return null;
  }
}

/** A process is over when it is gone, a zombie (exited, not yet reaped) or dead (X). */
export function isEnded(stat: ProcStat | null): boolean {
  return stat === null || stat.state === 'Z' || stat.state === 'X';
}
