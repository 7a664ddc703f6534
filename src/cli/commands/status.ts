// `flurm status`: a line per node (state, load, CPU, memory, GPUs, users, data age), from the hub,
// or from the snapshot files when no hub answers. The state column is coloured on a terminal.
import { nodeStatus, type StatusRow } from '../../commands/node-status.js';
import { stateColour } from '../../frontends/cli/colour.js';
import { depsFor, loadNodes, printJson, printMessage } from '../nodes-client.js';

export interface StatusOptions {
  json?: boolean;
  hub?: string;
}

export async function run(opts: StatusOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const loaded = await loadNodes({ hub: opts.hub, busy: 0 }, env);
  const m = nodeStatus(loaded.nodes, {}, depsFor(loaded));
  if (opts.json) {
    printJson(loaded, m.data);
    return 0;
  }
  const rows = (m.data?.nodes ?? []) as StatusRow[];
  printMessage(m, env, { columnColours: { column: 'STATE', colours: rows.map((r) => stateColour(r.state)) } });
  return 0;
}
