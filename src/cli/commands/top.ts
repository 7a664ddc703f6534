// `flurm top [NODE]`: the busy processes on each node, or on NODE (an unknown NODE is a usage
// error listing the known ones); then, where there is SLURM, the biggest running SLURM jobs (on
// NODE: every job running there). NODE may be a SLURM node that runs no agent.
import { top } from '../../commands/top.js';
import { findSlurmNode, slurmTop } from '../../commands/slurm-top.js';
import type { Message } from '../../model/message.js';
import { UserError } from '../../lib/errors.js';
import { truncate } from '../../lib/format.js';
import { depsFor, printJson, printMessage } from '../nodes-client.js';
import { loadNodesAndSlurm, printSlurmMessages } from '../slurm-client.js';

export interface TopOptions {
  node?: string;
  json?: boolean;
  hub?: string;
}

export async function run(opts: TopOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { loaded, slurm } = await loadNodesAndSlurm(opts, env);
  const slurmNode = slurm && opts.node !== undefined ? findSlurmNode(slurm.view, opts.node) : null;
  let m: Message | null = null;
  if (loaded && (loaded.nodes.length > 0 || !slurm)) {
    try {
      m = top(loaded.nodes, opts.node !== undefined ? { node: opts.node } : {}, depsFor(loaded));
    } catch (err) {
      // NODE is no agent node: fine if SLURM knows it, else the error names both kinds.
      if (!(err instanceof UserError) || !slurm) throw err;
      if (slurmNode === null) throw new UserError(`${err.message}; SLURM nodes: ${slurmNames(slurm.view.nodes)}`);
    }
  } else if (opts.node !== undefined && slurm && slurmNode === null) {
    throw new UserError(`unknown node "${opts.node}"; SLURM nodes: ${slurmNames(slurm.view.nodes)}`);
  }
  // With NODE: the SLURM jobs only when SLURM knows that node.
  const s = slurm && (opts.node === undefined || slurmNode !== null) ? slurmTop(slurm.view, slurmNode !== null ? { node: slurmNode } : {}, slurm.src) : null;
  if (opts.json) {
    const where = loaded ?? { source: slurm!.source, hub: slurm!.hub, generated: slurm!.view.generated };
    printJson(where, { ...(m?.data ?? { nodes: [] }), ...(s ? { slurm: { source: slurm!.source, hub: slurm!.hub, ...(s.data?.slurm as object) } } : {}) });
    return 0;
  }
  if (m) printMessage(m, env, { maxCellChars: 80 });
  if (s) printSlurmMessages([s], env, { after: m !== null });
  return 0;
}

function slurmNames(nodes: readonly { name: string }[]): string {
  return nodes.length ? truncate(nodes.map((n) => n.name).join(', '), 500) : 'none';
}
