// `flurm users`: per-user usage now across the nodes — cores, memory, GPUs, jobs, where — and,
// where there is SLURM, what each user's running SLURM jobs hold (jobs, CPUs, GPUs).
import { usersNow } from '../../commands/users.js';
import { depsFor, printJson, printMessage } from '../nodes-client.js';
import { loadNodesAndSlurm } from '../slurm-client.js';

export interface UsersOptions {
  json?: boolean;
  hub?: string;
}

export async function run(opts: UsersOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { loaded, slurm } = await loadNodesAndSlurm(opts, env);
  const nodes = loaded?.nodes ?? [];
  const where = loaded ?? { source: slurm!.source, hub: slurm!.hub, generated: slurm!.view.generated };
  const m = usersNow(nodes, { jobs_known: loaded?.source === 'hub', ...(slurm ? { slurm: slurm.view, slurm_source: slurm.src } : {}) }, depsFor(where));
  if (opts.json) printJson(where, { ...m.data, ...(slurm ? { slurm: { source: slurm.source, hub: slurm.hub, ...(m.data?.slurm as object) } } : {}) });
  else printMessage(m, env);
  return 0;
}
