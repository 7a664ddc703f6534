// The commands' clock: an answer's `generated` time, so run times and "idle for" match the data
// they are computed from (the hub's clock, or this host's for files and live SLURM).
import type { NodeCommandDeps } from '../model/node-facts.js';
import type { Where } from './table.js';

export function clockOf(where: Pick<Where, 'generated'>): NodeCommandDeps {
  const t = Date.parse(where.generated);
  return { now: () => (Number.isFinite(t) ? t : Date.now()) };
}

/** The SLURM renderers' "where from" in words. */
export function slurmSrc(s: { source: string; live: boolean }): { source: string; live?: boolean } {
  return s.live ? { source: s.source, live: true } : { source: s.source };
}
