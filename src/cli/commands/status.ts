// `flurm status`: a line per node (state, load, CPU, memory, GPUs, users, data age), from the hub,
// or from the snapshot files when no hub answers; then, where there is SLURM, its partitions and
// nodes (from the hub's SLURM view, or live from sinfo/squeue when no hub answers). The state
// columns are coloured on a terminal.
import { nodeStatus, type StatusRow } from '../../commands/node-status.js';
import { slurmStatus } from '../../commands/slurm-status.js';
import { stateColour } from '../../frontends/cli/colour.js';
import { UserError } from '../../lib/errors.js';
import { depsFor, loadNodes, printJson, printMessage, type LoadedNodes } from '../nodes-client.js';
import { loadSlurm, printSlurmMessages } from '../slurm-client.js';

export interface StatusOptions {
  json?: boolean;
  hub?: string;
}

export async function run(opts: StatusOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // SLURM first: behind a hub that is one request; with no hub, sinfo and squeue here.
  const { slurm } = await loadSlurm({ hub: opts.hub }, env);
  let loaded: LoadedNodes | null = null;
  try {
    loaded = await loadNodes({ hub: opts.hub, busy: 0 }, env);
  } catch (err) {
    // No hub and no snapshot: on a SLURM host, SLURM alone is the answer.
    if (!(slurm && !opts.hub && err instanceof UserError)) throw err;
  }
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
