// `top [node]`: the busy processes on each agent node, or on one (an unknown node is a usage error
// listing the known ones); then, where there is SLURM, the biggest running SLURM jobs (on a node:
// every job running there). The node may be a SLURM node that runs no agent.
import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import { truncate } from '../lib/format.js';
import type { Message } from '../model/message.js';
import { hostName } from './args.js';
import { clockOf, slurmSrc } from './clock.js';
import { readCluster, slurmJson } from './cluster.js';
import { top as nodeTop } from './node-top.js';
import { findSlurmNode, slurmTop } from './slurm-top.js';
import { defineCommand } from './table.js';

function slurmNames(nodes: readonly { name: string }[]): string {
  return nodes.length ? truncate(nodes.map((n) => n.name).join(', '), 500) : 'none';
}

export default defineCommand({
  name: 'top',
  description: 'the busy processes on each node (or one): user, %CPU, %MEM, elapsed, command',
  args: z.object({ node: hostName('only this node').optional() }),
  cli: { positional: ['node'], maxCellChars: 80 },
  async run({ node }, source) {
    const { nodes, slurm, where } = await readCluster(source);
    const slurmNode = slurm && node !== undefined ? findSlurmNode(slurm.view, node) : null;
    let m: Message | null = null;
    if (nodes && (nodes.nodes.length > 0 || !slurm)) {
      try {
        m = nodeTop(nodes.nodes, node !== undefined ? { node } : {}, clockOf(nodes.where));
      } catch (err) {
        // Not an agent node: fine if SLURM knows it, else the error names both kinds.
        if (!(err instanceof UserError) || !slurm) throw err;
        if (slurmNode === null) throw new UserError(`${err.message}; SLURM nodes: ${slurmNames(slurm.view.nodes)}`);
      }
    } else if (node !== undefined && slurm && slurmNode === null) {
      throw new UserError(`unknown node "${node}"; SLURM nodes: ${slurmNames(slurm.view.nodes)}`);
    }
    // With a node: the SLURM jobs only when SLURM knows that node.
    const s = slurm && (node === undefined || slurmNode !== null) ? slurmTop(slurm.view, slurmNode !== null ? { node: slurmNode } : {}, slurmSrc(slurm)) : null;
    return {
      messages: [...(m ? [m] : []), ...(s ? [s] : [])],
      result: { ...(m?.data ?? { nodes: [] }), ...(s && slurm ? { slurm: slurmJson(slurm, s.data?.slurm as object) } : {}) },
      where,
      exitCode: 0,
    };
  },
});
