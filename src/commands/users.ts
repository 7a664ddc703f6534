// `users`: who uses what right now, across the nodes — cores (the sum of their busy processes'
// %CPU / 100), memory (the sum of their RSS), GPUs (those on which they hold a compute process)
// and the GPU memory held, flurm jobs running, and on which nodes. Busiest (by cores) first.
// Down nodes are left out: their data is old, not "now". Pure: NodeView[] in, Message out.
import { formatBytes, truncate } from '../lib/format.js';
import type { Message } from '../messages/message.js';
import type { NodeView } from './node-view.js';
import { compareHosts, runningJobs, sortByHost, type NodeCommandDeps } from './node-facts.js';

export interface UsersArgs {
  /** False when no hub answered: jobs are then unknown, not zero. Default true. */
  jobs_known?: boolean;
}

export interface UserUsage {
  user: string;
  /** Sum of cpu_pct / 100 over the user's busy processes. */
  cores: number;
  /** Sum of the RSS of the user's busy processes. */
  mem_bytes: number;
  /** GPUs on which the user holds at least one compute process. */
  gpus: number;
  /** GPU memory held by the user's compute processes. */
  gpu_mem_bytes: number;
  /** flurm jobs running. */
  jobs: number;
  /** Nodes where any of the above is, sorted. */
  nodes: string[];
}

/** "31.8", and "0.03" rather than "0.0" for a user who uses a little. */
function formatCores(c: number): string {
  return c > 0 && c < 0.1 ? c.toFixed(2) : c.toFixed(1);
}

/** Owner shown for a GPU process whose owner the agent could not see. */
export const HIDDEN_USER = '(hidden)';

export function usersNow(nodes: readonly NodeView[], args: UsersArgs = {}, _deps: NodeCommandDeps = {}): Message {
  const counted = sortByHost(nodes).filter((n) => n.state !== 'down');
  const down = sortByHost(nodes).filter((n) => n.state === 'down').map((n) => n.host);
  const byUser = new Map<string, UserUsage & { nodeSet: Set<string> }>();
  const get = (user: string) => {
    let u = byUser.get(user);
    if (!u) {
      u = { user, cores: 0, mem_bytes: 0, gpus: 0, gpu_mem_bytes: 0, jobs: 0, nodes: [], nodeSet: new Set() };
      byUser.set(user, u);
    }
    return u;
  };
  for (const n of counted) {
    for (const p of n.snapshot.busy) {
      const u = get(p.user);
      u.cores += (p.cpu_pct ?? 0) / 100;
      u.mem_bytes += p.rss_bytes;
      u.nodeSet.add(n.host);
    }
    for (const g of n.snapshot.gpus ?? []) {
      const holders = new Set<string>();
      for (const p of g.procs) {
        const u = get(p.user ?? HIDDEN_USER);
        u.gpu_mem_bytes += p.mem_bytes ?? 0;
        u.nodeSet.add(n.host);
        holders.add(u.user);
      }
      for (const h of holders) get(h).gpus += 1;
    }
    for (const j of runningJobs(n)) {
      const u = get(j.user);
      u.jobs += 1;
      u.nodeSet.add(n.host);
    }
  }
  const users: UserUsage[] = [...byUser.values()]
    .map(({ nodeSet, ...u }) => ({ ...u, cores: Math.round(u.cores * 100) / 100, nodes: [...nodeSet].sort(compareHosts) }))
    .sort((a, b) => b.cores - a.cores || b.mem_bytes - a.mem_bytes || b.gpus - a.gpus || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));

  const jobsKnown = args.jobs_known !== false;
  const notes: string[] = [];
  if (down.length) notes.push(`not counted (down): ${truncate(down.join(', '), 300)}`);
  if (!jobsKnown) notes.push('jobs unknown: no hub answered');
  const totalCores = users.reduce((s, u) => s + u.cores, 0);
  return {
    title: 'Users now',
    severity: 'info',
    summary: users.length
      ? `${users.length} ${users.length === 1 ? 'user' : 'users'} on ${counted.length} ${counted.length === 1 ? 'node' : 'nodes'}, ${formatCores(totalCores)} cores busy in all`
      : `Nobody is using the ${counted.length} ${counted.length === 1 ? 'node' : 'nodes'} right now.`,
    ...(users.length
      ? {
          table: {
            columns: ['USER', 'CORES', 'MEM', 'GPUS', 'GPU MEM', 'JOBS', 'NODES'],
            rows: users.map((u) => [
              u.user,
              formatCores(u.cores),
              formatBytes(u.mem_bytes),
              String(u.gpus),
              u.gpu_mem_bytes > 0 ? formatBytes(u.gpu_mem_bytes) : '—',
              jobsKnown ? String(u.jobs) : '?',
              truncate(u.nodes.join(', '), 60),
            ]),
          },
        }
      : {}),
    ...(notes.length ? { footer: notes.join(' · ') } : {}),
    data: { users, jobs_known: jobsKnown, not_counted: down },
  };
}
