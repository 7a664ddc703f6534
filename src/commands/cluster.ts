// What several commands read together: the agent nodes and the SLURM view. SLURM first (behind a
// hub that is one request; with no hub, sinfo and squeue here). No node at all is not an error
// where SLURM answers (a SLURM-only site: SLURM alone is the answer), unless the person named a
// hub that did not answer.
import { UserError } from '../lib/errors.js';
import type { DataSource, NodesAnswer, SlurmLoaded } from './source.js';
import type { Where } from './table.js';

export interface Cluster {
  nodes: Extract<NodesAnswer, { ok: true }> | null;
  slurm: SlurmLoaded | null;
  /** The nodes' where, else SLURM's. */
  where: Where;
}

export async function readCluster(source: DataSource, q: { busy?: number } = {}): Promise<Cluster> {
  const s = await source.slurm('no-hub');
  const slurm = s.ok ? s.slurm : null;
  const n = await source.nodes(q);
  if (n.ok) return { nodes: n, slurm, where: n.where };
  if (n.fatal || !slurm) throw new UserError(n.why);
  return { nodes: null, slurm, where: slurm.where };
}

/** A SLURM section of a JSON answer: where it came from, then the renderer's result. */
export function slurmJson(s: SlurmLoaded, result: object): Record<string, unknown> {
  return { source: s.where.source, hub: s.where.hub, ...result };
}
