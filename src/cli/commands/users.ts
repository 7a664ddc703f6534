// `flurm users`: per-user usage now across the nodes — cores, memory, GPUs, jobs, where.
import { usersNow } from '../../commands/users.js';
import { depsFor, loadNodes, printJson, printMessage } from '../nodes-client.js';

export interface UsersOptions {
  json?: boolean;
  hub?: string;
}

export async function run(opts: UsersOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const loaded = await loadNodes(opts, env);
  const m = usersNow(loaded.nodes, { jobs_known: loaded.source === 'hub' }, depsFor(loaded));
  if (opts.json) printJson(loaded, m.data);
  else printMessage(m, env);
  return 0;
}
