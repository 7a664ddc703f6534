// `flurm top [NODE]`: the busy processes on each node, or on NODE (an unknown NODE is a usage
// error listing the known ones).
import { top } from '../../commands/top.js';
import { depsFor, loadNodes, printJson, printMessage } from '../nodes-client.js';

export interface TopOptions {
  node?: string;
  json?: boolean;
  hub?: string;
}

export async function run(opts: TopOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const loaded = await loadNodes(opts, env);
  const m = top(loaded.nodes, opts.node !== undefined ? { node: opts.node } : {}, depsFor(loaded));
  if (opts.json) printJson(loaded, m.data);
  else printMessage(m, env, { maxCellChars: 80 });
  return 0;
}
