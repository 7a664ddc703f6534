// `flurm status`: a line per node (state, load, CPU, memory, GPUs, users, data age), from the hub,
// or from the snapshot files when no hub answers; then, where there is SLURM, its partitions and
// nodes (from the hub's SLURM view, or live from sinfo/squeue when no hub answers). The state
// columns are coloured on a terminal.
import { nodeStatus, type StatusRow } from '../../commands/node-status.js';
import { slurmStatus } from '../../commands/slurm-status.js';
import { stateColour } from '../../frontends/cli/colour.js';
import { depsFor, printJson, printMessage } from '../nodes-client.js';
import { loadNodesAndSlurm, printSlurmMessages } from '../slurm-client.js';

export interface StatusOptions {
  json?: boolean;
  hub?: string;
}

export async function run(opts: StatusOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { loaded, slurm } = await loadNodesAndSlurm({ hub: opts.hub, busy: 0 }, env);
  const s = slurm ? slurmStatus(slurm.view, slurm.src) : null;
  const showAgents = loaded !== null && (loaded.nodes.length > 0 || s === null);
  const m = loaded ? nodeStatus(loaded.nodes, {}, depsFor(loaded)) : null;
  if (opts.json) {
    const where = loaded ?? { source: slurm!.source, hub: slurm!.hub, generated: slurm!.view.generated };
    printJson(where, { ...(m?.data ?? { nodes: [] }), ...(s ? { slurm: { source: slurm!.source, hub: slurm!.hub, ...s.result } } : {}) });
    return 0;
  }
  if (showAgents && m) {
    const rows = (m.data?.nodes ?? []) as StatusRow[];
    printMessage(m, env, { columnColours: { column: 'STATE', colours: rows.map((r) => stateColour(r.state)) } });
  }
  if (s) printSlurmMessages(s.messages, env, { after: showAgents, nodes: s.result.nodes });
  return 0;
}
