// `flurm best`: where to run now — the least-loaded fresh node that meets --cpus, --mem, --gpus and
// --gpu-mem, picked at random among near-ties. Exit 1 when no node fits (so scripts can branch on
// it), 2 for a bad size.
import { best } from '../../commands/best.js';
import { parseSize } from '../../lib/size.js';
import { depsFor, loadNodes, printJson, printMessage } from '../nodes-client.js';

export interface BestOptions {
  cpus?: number;
  mem?: string;
  gpus?: number;
  gpuMem?: string;
  json?: boolean;
  hub?: string;
}

export async function run(opts: BestOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Sizes first: a typo is reported before any hub is asked.
  const args = {
    ...(opts.cpus !== undefined ? { cpus: opts.cpus } : {}),
    ...(opts.mem !== undefined ? { mem_bytes: parseSize(opts.mem, '--mem') } : {}),
    ...(opts.gpus !== undefined ? { gpus: opts.gpus } : {}),
    ...(opts.gpuMem !== undefined ? { gpu_mem_bytes: parseSize(opts.gpuMem, '--gpu-mem') } : {}),
  };
  const loaded = await loadNodes({ hub: opts.hub, busy: 0 }, env);
  const { message, result } = best(loaded.nodes, args, depsFor(loaded));
  if (opts.json) printJson(loaded, { ...result });
  else printMessage(message, env, { titleColour: result.chosen ? 'green' : 'red' });
  return result.chosen ? 0 : 1;
}
