// `flurm best`: where to run now. Among agent nodes: the least-loaded fresh node that meets --cpus,
// --mem, --gpus and --gpu-mem, picked at random among near-ties. On SLURM: the partition and node
// that could start the job now (--cpus, --mem, --gpus; --partition P), with an sbatch line.
// SLURM is used with --slurm or --partition, or when there is no agent node at all (a SLURM-only
// site); otherwise the agent nodes, as before, and a "no node fits" answer adds that SLURM is
// there too. Exit 1 when nothing fits (so scripts can branch on it), 2 for a bad size or option.
import { best } from '../../commands/best.js';
import { slurmBest } from '../../commands/slurm-best.js';
import { UserError } from '../../lib/errors.js';
import { parseSize } from '../../lib/size.js';
import { depsFor, loadNodes, printJson, printMessage, type LoadedNodes } from '../nodes-client.js';
import { loadSlurm, slurmAvailable, type LoadedSlurm } from '../slurm-client.js';

export interface BestOptions {
  cpus?: number;
  mem?: string;
  gpus?: number;
  gpuMem?: string;
  partition?: string;
  slurm?: boolean;
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
  const wantSlurm = opts.slurm === true || opts.partition !== undefined;
  if (wantSlurm) {
    if (args.gpu_mem_bytes !== undefined) throw new UserError('--gpu-mem: SLURM does not report free GPU memory; ask for --gpus (and a GPU type with sbatch --gres)');
    const { slurm, why } = await loadSlurm({ hub: opts.hub, mode: 'fallback' }, env);
    if (!slurm) throw new UserError(`--${opts.slurm ? 'slurm' : 'partition'}: no SLURM to ask: ${why ?? 'no SLURM here'}`);
    return runSlurm(slurm, args, opts, env);
  }

  let loaded: LoadedNodes;
  try {
    loaded = await loadNodes({ hub: opts.hub, busy: 0 }, env);
  } catch (err) {
    // No hub and no agent snapshot: on a SLURM host, SLURM is the cluster.
    if (opts.hub || !(err instanceof UserError) || args.gpu_mem_bytes !== undefined) throw err;
    const { slurm } = await loadSlurm({}, env);
    if (!slurm) throw err;
    return runSlurm(slurm, args, opts, env);
  }
  if (loaded.nodes.length === 0 && args.gpu_mem_bytes === undefined) {
    // A hub with no agent node: SLURM, if the hub serves it.
    const { slurm } = await loadSlurm({ hub: loaded.hub ?? opts.hub }, env);
    if (slurm) return runSlurm(slurm, args, opts, env);
  }
  const { message, result } = best(loaded.nodes, args, depsFor(loaded));
  if (!result.chosen && !opts.json && (await slurmAvailable({ hub: opts.hub }, env))) {
    message.footer = 'SLURM is here too: `flurm best --slurm` (or --partition P) asks it';
  }
  if (opts.json) printJson(loaded, { ...result });
  else printMessage(message, env, { titleColour: result.chosen ? 'green' : 'red' });
  return result.chosen ? 0 : 1;
}

function runSlurm(slurm: LoadedSlurm, args: { cpus?: number; mem_bytes?: number; gpus?: number }, opts: BestOptions, env: NodeJS.ProcessEnv): number {
  const { view } = slurm;
  const t = Date.parse(view.generated);
  const { message, result } = slurmBest(view, { ...args, ...(opts.partition !== undefined ? { partition: opts.partition } : {}) }, slurm.src, {
    now: () => (Number.isFinite(t) ? t : Date.now()),
  });
  if (opts.json) printJson({ source: slurm.source, hub: slurm.hub, generated: view.generated }, { ...result });
  else printMessage(message, env, { titleColour: result.chosen ? 'green' : 'red' });
  return result.chosen ? 0 : 1;
}
