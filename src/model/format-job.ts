// Job-specific formatting for notifications, on top of lib/format.ts: CPU time with the average
// number of busy cores ("5h 40m (avg 3.9 cores)"), which tells a user at a glance whether a job
// used the cores it asked for.
import { formatDuration } from '../lib/format.js';

/**
 * CPU time, with the average number of busy cores when the wall time is known (at least 1 s):
 * "5h 40m (avg 3.9 cores)". "" when the CPU seconds are unknown, negative or not finite.
 */
export function formatCpuTime(cpuSeconds: number | null | undefined, wallSeconds?: number | null): string {
  if (cpuSeconds == null || !Number.isFinite(cpuSeconds) || cpuSeconds < 0) return '';
  const text = formatDuration(cpuSeconds);
  if (wallSeconds == null || !Number.isFinite(wallSeconds) || wallSeconds < 1) return text;
  const cores = (cpuSeconds / wallSeconds).toFixed(1);
  return `${text} (avg ${cores} ${cores === '1.0' ? 'core' : 'cores'})`;
}
