// `users`: who uses what right now, across the nodes — cores (the sum of their busy processes'
// %CPU / 100), memory (the sum of their RSS), GPUs (those on which they hold a compute process)
// and the GPU memory held, flurm jobs running, and on which nodes. Busiest (by cores) first.
// Down nodes are left out: their data is old, not "now". Given a SLURM view too, each user also
// gets what their running SLURM jobs hold (jobs, allocated CPUs and GPUs), in columns of their own:
// measured use on the nodes and allocations by SLURM are different things and are not added up.
// Pure: NodeView[] (and a SlurmClusterView) in, Message out.
import { formatBytes, truncate } from '../lib/format.js';
import type { Message } from '../model/message.js';
import type { NodeView } from '../model/node-view.js';
import { compareHosts, runningJobs, sortByHost, type NodeCommandDeps } from '../model/node-facts.js';
import { queueByUser } from './queue-board.js';
import { slurmSourceLines, type SlurmViewSource } from './slurm-status.js';
import type { SlurmClusterView } from '../model/slurm-view.js';

export interface UsersArgs {
  /** False when no hub answered: jobs are then unknown, not zero. Default true. */
  jobs_known?: boolean;
  /** The SLURM view: adds each user's running SLURM jobs, CPUs and GPUs. Without it, agent nodes only. */
  slurm?: SlurmClusterView | null;
  /** Where the SLURM view came from, for the header. */
  slurm_source?: SlurmViewSource;
}

/** What a user's SLURM jobs hold now (running) and wait for (pending). */
export interface SlurmUsage {
  running_jobs: number;
  pending_jobs: number;
  /** CPUs allocated to the running jobs. */
  cpus: number;
  /** GPUs allocated to the running jobs. */
  gpus: number;
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
  /** Only when a SLURM view was given. */
  slurm?: SlurmUsage;
}

/** "31.8", and "0.03" rather than "0.0" for a user who uses a little. */
function formatCores(c: number): string {
  return c > 0 && c < 0.1 ? c.toFixed(2) : c.toFixed(1);
}

/** Owner shown for a GPU process whose owner the agent could not see. */
export const HIDDEN_USER = '(hidden)';

export function usersNow(nodes: readonly NodeView[], args: UsersArgs = {}, deps: NodeCommandDeps = {}): Message {
  if (args.slurm) return usersWithSlurm(nodes, args.slurm, args, deps);
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

/** The agent part of usersNow as data, for the SLURM-aware table. */
function agentUsage(nodes: readonly NodeView[], args: UsersArgs): { message: Message; users: UserUsage[]; counted: number } {
  const message = usersNow(nodes, { jobs_known: args.jobs_known });
  const users = (message.data?.users ?? []) as UserUsage[];
  return { message, users, counted: nodes.filter((n) => n.state !== 'down').length };
}

/**
 * Users with agent-node use and with running SLURM jobs, in one table: the agent columns (when
 * there are agent nodes) and SLURM JOBS / SLURM CPUS / SLURM GPUS. Sorted by cores in use plus
 * CPUs allocated, highest first. Users with only pending jobs are left out (see `flurm queue`).
 */
function usersWithSlurm(nodes: readonly NodeView[], view: SlurmClusterView, args: UsersArgs, _deps: NodeCommandDeps): Message {
  const agent = agentUsage(nodes, args);
  const hasAgents = nodes.length > 0;
  const byUser = new Map<string, UserUsage>(agent.users.map((u) => [u.user, { ...u }]));
  const q = queueByUser(view.jobs);
  for (const s of q.users) {
    const usage: SlurmUsage = { running_jobs: s.running_jobs, pending_jobs: s.pending_jobs, cpus: s.running_cpus, gpus: s.running_gpus };
    const u = byUser.get(s.user);
    if (u) u.slurm = usage;
    else if (s.running_jobs > 0) byUser.set(s.user, { user: s.user, cores: 0, mem_bytes: 0, gpus: 0, gpu_mem_bytes: 0, jobs: 0, nodes: [], slurm: usage });
  }
  const none: SlurmUsage = { running_jobs: 0, pending_jobs: 0, cpus: 0, gpus: 0 };
  const users = [...byUser.values()]
    .map((u) => ({ ...u, slurm: u.slurm ?? none }))
    .sort((a, b) => b.cores + b.slurm.cpus - (a.cores + a.slurm.cpus) || b.slurm.gpus + b.gpus - (a.slurm.gpus + a.gpus) || b.mem_bytes - a.mem_bytes || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));

  const withGpus = view.nodes.some((n) => n.gpus_total > 0) || q.totals.running_gpus > 0;
  const agentRows = new Map((agent.message.table?.rows ?? []).map((r) => [r[0]!, r]));
  const agentColumns = hasAgents ? (agent.message.table?.columns ?? ['USER', 'CORES', 'MEM', 'GPUS', 'GPU MEM', 'JOBS', 'NODES']) : ['USER'];
  const jobsKnown = args.jobs_known !== false;
  const emptyAgentRow = (user: string) => [user, '0.0', '0 B', '0', '—', jobsKnown ? '0' : '?', ''];
  const columns = [...agentColumns, 'SLURM JOBS', 'SLURM CPUS', ...(withGpus ? ['SLURM GPUS'] : [])];
  const rows = users.map((u) => [
    ...(hasAgents ? (agentRows.get(u.user) ?? emptyAgentRow(u.user)) : [u.user]),
    String(u.slurm.running_jobs),
    String(u.slurm.cpus),
    ...(withGpus ? [String(u.slurm.gpus)] : []),
  ]);
  const t = q.totals;
  const slurmLine = `SLURM: ${t.running_jobs} running ${t.running_jobs === 1 ? 'job' : 'jobs'} hold ${t.running_cpus} CPUs${withGpus ? ` and ${t.running_gpus} GPUs` : ''}; ${t.pending_jobs} pending`;
  const summary = [
    ...(hasAgents ? [agent.message.summary ?? ''] : []),
    ...slurmSourceLines(view, args.slurm_source),
    slurmLine,
  ].filter((l) => l !== '');
  return {
    title: 'Users now',
    severity: view.problem ? 'warning' : 'info',
    summary: summary.join('\n'),
    ...(rows.length ? { table: { columns, rows } } : {}),
    ...(agent.message.footer && hasAgents ? { footer: agent.message.footer } : {}),
    data: { users, jobs_known: jobsKnown, not_counted: (agent.message.data?.not_counted ?? []) as string[], slurm: { running: t.running_jobs, pending: t.pending_jobs, cpus: t.running_cpus, gpus: t.running_gpus } },
  };
}
