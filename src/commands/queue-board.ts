// `queue`: the SLURM queue as a leaderboard by user — running jobs, pending jobs, running cores,
// pending cores, running GPUs — most running cores first, and a totals line. Counted over
// SlurmQueueJob (the hub's or the live view), not squeue rows: an unsplit pending array
// (`48_[0-3%2]`) counts as its 4 pending tasks, each with its CPUs; states in which a job still
// holds its nodes (COMPLETING, CONFIGURING…) count as running; SUSPENDED and other states are
// counted apart. Pure: SlurmClusterView in, neutral Message out.
import { plural } from '../lib/format.js';
import type { Message } from '../model/message.js';
import type { NodeCommandDeps } from '../model/node-facts.js';
import { slurmSourceLines, type SlurmViewSource } from './slurm-status.js';
import { jobPhase, jobTasks, type SlurmClusterView, type SlurmQueueJob } from '../model/slurm-view.js';

export interface QueueUserRow {
  user: string;
  running_jobs: number;
  pending_jobs: number;
  running_cpus: number;
  pending_cpus: number;
  running_gpus: number;
  pending_gpus: number;
  /** Jobs neither running nor pending (SUSPENDED, STOPPED…). */
  other_jobs: number;
}

export interface QueueResult {
  users: QueueUserRow[];
  totals: Omit<QueueUserRow, 'user'> & { users: number };
}

/** Sum the queue per user, most running CPUs first, then running jobs, pending CPUs, name. */
export function queueByUser(jobs: readonly SlurmQueueJob[]): QueueResult {
  const by = new Map<string, QueueUserRow>();
  const totals = { users: 0, running_jobs: 0, pending_jobs: 0, running_cpus: 0, pending_cpus: 0, running_gpus: 0, pending_gpus: 0, other_jobs: 0 };
  for (const j of jobs) {
    let u = by.get(j.user);
    if (!u) by.set(j.user, (u = { user: j.user, running_jobs: 0, pending_jobs: 0, running_cpus: 0, pending_cpus: 0, running_gpus: 0, pending_gpus: 0, other_jobs: 0 }));
    const phase = jobPhase(j.state);
    if (phase === 'running') {
      u.running_jobs += 1;
      u.running_cpus += j.cpus ?? 0;
      u.running_gpus += j.gpus;
    } else if (phase === 'pending') {
      const n = jobTasks(j);
      u.pending_jobs += n;
      u.pending_cpus += (j.cpus ?? 0) * n;
      u.pending_gpus += j.gpus * n;
    } else {
      u.other_jobs += 1;
    }
  }
  const users = [...by.values()].sort(
    (a, b) => b.running_cpus - a.running_cpus || b.running_jobs - a.running_jobs || b.pending_cpus - a.pending_cpus || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0),
  );
  for (const u of users) {
    totals.users += 1;
    totals.running_jobs += u.running_jobs;
    totals.pending_jobs += u.pending_jobs;
    totals.running_cpus += u.running_cpus;
    totals.pending_cpus += u.pending_cpus;
    totals.running_gpus += u.running_gpus;
    totals.pending_gpus += u.pending_gpus;
    totals.other_jobs += u.other_jobs;
  }
  return { users, totals };
}

export function queueBoard(view: SlurmClusterView, src: SlurmViewSource = {}, _deps: NodeCommandDeps = {}): Message {
  const result = queueByUser(view.jobs);
  const t = result.totals;
  const withGpus = t.running_gpus + t.pending_gpus > 0 || view.nodes.some((n) => n.gpus_total > 0);
  const gpusText = withGpus ? `, ${t.running_gpus} GPUs` : '';
  const totalsLine =
    t.users === 0
      ? 'The queue is empty: no job running or pending.'
      : `${plural(t.users, 'user')}: ${plural(t.running_jobs, 'job')} running (${t.running_cpus} cores${gpusText}), ${t.pending_jobs} pending (${t.pending_cpus} cores)` +
        (t.other_jobs ? `, ${t.other_jobs} suspended or other` : '');
  const columns = ['USER', 'RUNNING', 'PENDING', 'CORES', 'PENDING CORES', ...(withGpus ? ['GPUS'] : [])];
  const row = (u: Omit<QueueUserRow, 'user'>, name: string) => [
    name,
    String(u.running_jobs),
    String(u.pending_jobs),
    String(u.running_cpus),
    String(u.pending_cpus),
    ...(withGpus ? [String(u.running_gpus)] : []),
  ];
  return {
    title: 'SLURM queue by user',
    severity: view.problem ? 'warning' : 'info',
    summary: [...slurmSourceLines(view, src), totalsLine].join('\n'),
    ...(t.users ? { table: { columns, rows: [...result.users.map((u) => row(u, u.user)), row(t, 'total')] } } : {}),
    ...(t.users ? { footer: 'CORES and GPUS: held by running jobs; PENDING CORES: asked for by pending ones (array tasks one each)' } : {}),
    data: { ...result },
  };
}
