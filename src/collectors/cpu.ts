// Whole-node CPU busy % from the aggregate "cpu" line of /proc/stat (proc(5)): the fields are
// cumulative clock ticks user nice system idle iowait irq softirq steal guest guest_nice.
// guest and guest_nice are already counted in user and nice, so total = the first eight.
// busy % = 1 − Δ(idle + iowait) / Δtotal between two samples: a rate, so the first sample of a
// collector has none (null).
import fs from 'node:fs';
import { procPath, type CollectorResult, type ProcRootOptions } from './types.js';

export interface CpuTimes {
  /** idle + iowait ticks. */
  idleTicks: number;
  /** user + nice + system + idle + iowait + irq + softirq + steal ticks. */
  totalTicks: number;
}

/** Parse the aggregate "cpu" line of /proc/stat. */
export function parseProcStatCpu(text: string): CpuTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no "cpu" line in /proc/stat');
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 4 || f.some((x) => !Number.isFinite(x))) throw new Error(`bad /proc/stat cpu line: ${JSON.stringify(line.slice(0, 80))}`);
  const at = (i: number) => f[i] ?? 0;
  return { idleTicks: at(3) + at(4), totalTicks: f.reduce((a, b) => a + b, 0) };
}

/** Busy % between two samples (100 = every CPU busy), or null when no time passed. */
export function cpuBusyPct(prev: CpuTimes, cur: CpuTimes): number | null {
  const dTotal = cur.totalTicks - prev.totalTicks;
  const dIdle = cur.idleTicks - prev.idleTicks;
  if (!(dTotal > 0)) return null;
  return Math.min(100, Math.max(0, (1 - dIdle / dTotal) * 100));
}

/** Keeps the previous sample so each collect() reports the busy % since the last one. */
export class CpuCollector {
  private prev: CpuTimes | null = null;
  constructor(private readonly opts: ProcRootOptions = {}) {}

  collect(): CollectorResult<number | null> {
    const cur = parseProcStatCpu(fs.readFileSync(procPath(this.opts, 'stat'), 'utf8'));
    const pct = this.prev ? cpuBusyPct(this.prev, cur) : null;
    this.prev = cur;
    return { value: pct };
  }
}
