// Memory from /proc/meminfo ("Key:   value kB" lines, proc(5)): total, available (what new work
// can get without swapping; "used" = total − available) and swap.
import fs from 'node:fs';
import { procPath, type CollectorResult, type ProcRootOptions } from './types.js';

export interface Meminfo {
  total_bytes: number;
  available_bytes: number;
  swap_total_bytes: number;
  swap_free_bytes: number;
}

/** Parse /proc/meminfo. Throws when MemTotal is missing; MemAvailable falls back to MemFree. */
export function parseMeminfo(text: string): Meminfo {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]) * 1024);
  }
  const total = kb.get('MemTotal');
  if (total === undefined) throw new Error('no MemTotal in /proc/meminfo');
  return {
    total_bytes: total,
    // MemAvailable exists since Linux 3.14; before it, MemFree is the closest figure.
    available_bytes: kb.get('MemAvailable') ?? kb.get('MemFree') ?? 0,
    swap_total_bytes: kb.get('SwapTotal') ?? 0,
    swap_free_bytes: kb.get('SwapFree') ?? 0,
  };
}

export function collectMeminfo(opts: ProcRootOptions = {}): CollectorResult<Meminfo> {
  return { value: parseMeminfo(fs.readFileSync(procPath(opts, 'meminfo'), 'utf8')) };
}
