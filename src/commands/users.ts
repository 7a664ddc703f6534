// `users`: per-user usage now across the agent nodes — cores, memory, GPUs, jobs, where — and,
// where there is SLURM, what each user's running SLURM jobs hold (jobs, CPUs, GPUs).
import { z } from 'zod';
import { clockOf, slurmSrc } from './clock.js';
import { readCluster, slurmJson } from './cluster.js';
import { defineCommand } from './table.js';
import { usersNow } from './users-now.js';

export default defineCommand({
  name: 'users',
  description: 'per-user usage now across nodes: cores, memory, GPUs, jobs',
  args: z.object({}),
  async run(_args, source) {
    const { nodes, slurm, where } = await readCluster(source);
    const m = usersNow(
      nodes?.nodes ?? [],
      { jobs_known: nodes?.where.source === 'hub', ...(slurm ? { slurm: slurm.view, slurm_source: slurmSrc(slurm) } : {}) },
      clockOf(where),
    );
    return {
      messages: [m],
      result: { ...m.data, ...(slurm ? { slurm: slurmJson(slurm, m.data?.slurm as object) } : {}) },
      where,
      exitCode: 0,
    };
  },
});
