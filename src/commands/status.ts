// `status`: a line per agent node (state, load, CPU, memory, GPUs, users, data age), then, where
// there is SLURM, its partitions and nodes. A SLURM-only site shows SLURM alone.
import { z } from 'zod';
import { nodeStatus } from './node-status.js';
import { slurmStatus } from './slurm-status.js';
import { clockOf, slurmSrc } from './clock.js';
import { readCluster, slurmJson } from './cluster.js';
import { defineCommand } from './table.js';

export default defineCommand({
  name: 'status',
  description: 'a line per node: state, load, CPU, memory, GPUs, users, data age',
  args: z.object({}),
  async run(_args, source) {
    const { nodes, slurm, where } = await readCluster(source, { busy: 0 });
    const s = slurm ? slurmStatus(slurm.view, slurmSrc(slurm)) : null;
    const m = nodes ? nodeStatus(nodes.nodes, {}, clockOf(nodes.where)) : null;
    const showAgents = m !== null && (nodes!.nodes.length > 0 || s === null);
    return {
      messages: [...(showAgents ? [m] : []), ...(s?.messages ?? [])],
      result: { ...(m?.data ?? { nodes: [] }), ...(s && slurm ? { slurm: slurmJson(slurm, s.result) } : {}) },
      where,
      exitCode: 0,
    };
  },
});
