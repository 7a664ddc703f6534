// `queue`: the SLURM queue by user — running and pending jobs, cores, GPUs, and totals — from the
// hub's SLURM view, or live from squeue/sinfo here when no hub answers or the hub has SLURM off.
// Exit 1 when there is no SLURM to ask (or it never answered), saying why.
import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import { slurmSrc } from './clock.js';
import { queueBoard } from './queue-board.js';
import { defineCommand } from './table.js';

export default defineCommand({
  name: 'queue',
  description: 'the SLURM queue by user: running and pending jobs, cores, GPUs',
  args: z.object({}),
  async run(_args, source) {
    const s = await source.slurm('fallback');
    if (!s.ok) throw new UserError(`no SLURM queue to show: ${s.why}`, { exitCode: 1 });
    const { view } = s.slurm;
    if (view.squeue_at === null) throw new UserError(`SLURM did not answer${view.problem ? `: ${view.problem}` : ''}`, { exitCode: 1 });
    const m = queueBoard(view, slurmSrc(s.slurm));
    return { messages: [m], result: { squeue_at: view.squeue_at, problem: view.problem, ...m.data }, where: s.slurm.where, exitCode: 0 };
  },
});
