// Seconds since boot from /proc/uptime; the parser is the one `flurm run` uses
// (schedulers/local/proc.ts).
import fs from 'node:fs';
import { parseUptime } from '../proc/proc.js';
import { procPath, type CollectorResult, type ProcRootOptions } from './types.js';

export { parseUptime };

export function collectUptime(opts: ProcRootOptions = {}): CollectorResult<number> {
  return { value: parseUptime(fs.readFileSync(procPath(opts, 'uptime'), 'utf8')).uptimeSeconds };
}
