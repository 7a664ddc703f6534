// `flurm queue`: the SLURM queue by user — running and pending jobs, cores, GPUs, and totals —
// from the hub's SLURM view, or live from squeue/sinfo here when no hub answers or the hub has
// SLURM off. Exit 1 when there is no SLURM to ask (or it never answered), saying why.
import { queueBoard } from '../../commands/queue.js';
import { UserError } from '../../lib/errors.js';
import { printJson, printMessage } from '../nodes-client.js';
import { loadSlurm } from '../slurm-client.js';

export interface QueueOptions {
  json?: boolean;
  hub?: string;
}

export async function run(opts: QueueOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { slurm, why } = await loadSlurm({ hub: opts.hub, mode: 'fallback' }, env);
  if (!slurm) throw new UserError(`no SLURM queue to show: ${why ?? 'no SLURM here'}`, { exitCode: 1 });
  const { view } = slurm;
  if (view.squeue_at === null) {
    throw new UserError(`SLURM did not answer${view.problem ? `: ${view.problem}` : ''}`, { exitCode: 1 });
  }
  const m = queueBoard(view, slurm.src);
  if (opts.json) {
    printJson(
      { source: slurm.source, hub: slurm.hub, generated: view.generated },
      { squeue_at: view.squeue_at, problem: view.problem, ...m.data },
    );
  } else printMessage(m, env);
  return 0;
}
