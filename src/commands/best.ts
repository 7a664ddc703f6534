// `best`: where to run now. Among agent nodes: the least-loaded fresh node that meets cpus, mem,
// gpus and gpu_mem, picked at random among near-ties. On SLURM: the partition and node that could
// start the job now, with an sbatch line. SLURM is asked with `slurm` or `partition`, or when there
// is no agent node at all (a SLURM-only site); otherwise the agent nodes, and a "no node fits"
// answer points at SLURM when it is there too. Exit 1 when nothing fits.
import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import { best as nodeBest } from './node-best.js';
import { slurmBest } from './slurm-best.js';
import { bytesOf, count, size } from './args.js';
import { clockOf, slurmSrc } from './clock.js';
import type { SlurmLoaded } from './source.js';
import { CommandArgsError, defineCommand, type CommandAnswer } from './table.js';

const args = z.object({
  cpus: count('free cores needed').optional(),
  mem: size('free memory needed ("32G", "500M")').optional(),
  gpus: count('free GPUs needed').optional(),
  gpu_mem: size('free memory needed on each of those GPUs ("20G")').optional(),
  partition: z.string().min(1).max(200).describe('SLURM: only this partition (asks SLURM)').optional(),
  slurm: z.boolean().describe('ask SLURM (which partition and node could start the job now), not the agent nodes').optional(),
});

type Req = { cpus?: number; mem_bytes?: number; gpus?: number; gpu_mem_bytes?: number };

function onSlurm(s: SlurmLoaded, req: Req, partition: string | undefined): CommandAnswer {
  const { gpu_mem_bytes: _unused, ...slurmReq } = req;
  const { message, result } = slurmBest(s.view, { ...slurmReq, ...(partition !== undefined ? { partition } : {}) }, slurmSrc(s), clockOf(s.view));
  return { messages: [message], result: { ...result }, where: s.where, exitCode: result.chosen ? 0 : 1 };
}

export default defineCommand({
  name: 'best',
  description: 'where to run now: the least-loaded node that fits (on SLURM: partition and node)',
  args,
  cli: { wait: true },
  async run(a, source) {
    const req: Req = {
      ...(a.cpus !== undefined ? { cpus: a.cpus } : {}),
      ...(a.mem !== undefined ? { mem_bytes: bytesOf(a.mem) } : {}),
      ...(a.gpus !== undefined ? { gpus: a.gpus } : {}),
      ...(a.gpu_mem !== undefined ? { gpu_mem_bytes: bytesOf(a.gpu_mem) } : {}),
    };
    if (a.slurm === true || a.partition !== undefined) {
      if (req.gpu_mem_bytes !== undefined) {
        throw new CommandArgsError('best', [{ field: 'gpu_mem', message: 'SLURM does not report free GPU memory; ask for gpus (and a GPU type with sbatch --gres)' }]);
      }
      const s = await source.slurm('fallback');
      if (!s.ok) throw new CommandArgsError('best', [{ field: a.slurm ? 'slurm' : 'partition', message: `no SLURM to ask: ${s.why}` }]);
      return onSlurm(s.slurm, req, a.partition);
    }
    const n = await source.nodes({ busy: 0 });
    if (!n.ok) {
      // No hub and no agent snapshot: on a SLURM host, SLURM is the cluster.
      if (n.fatal || req.gpu_mem_bytes !== undefined) throw new UserError(n.why);
      const s = await source.slurm('no-hub');
      if (!s.ok) throw new UserError(n.why);
      return onSlurm(s.slurm, req, undefined);
    }
    if (n.nodes.length === 0 && req.gpu_mem_bytes === undefined) {
      // A hub with no agent node: SLURM, if the hub serves it.
      const s = await source.slurm('no-hub');
      if (s.ok) return onSlurm(s.slurm, req, undefined);
    }
    const { message, result } = nodeBest(n.nodes, req, clockOf(n.where));
    if (!result.chosen && (await source.slurmAvailable())) {
      message.hints = [{ text: 'SLURM is here too: {command} (or with a partition) asks it', command: 'best', args: { slurm: true } }];
    }
    return { messages: [message], result: { ...result }, where: n.where, exitCode: result.chosen ? 0 : 1 };
  },
});
