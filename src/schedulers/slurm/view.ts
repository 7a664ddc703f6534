// buildSlurmView: the model's SlurmClusterView (model/slurm-view.ts) from parsed sinfo and squeue
// output. The hub's poller and the CLI's live fallback both call it. Pure.
import { countArrayTasks, type SlurmClusterView, type SlurmNodeView, type SlurmPartitionView, type SlurmQueueJob } from '../../model/slurm-view.js';
import type { SinfoNodeRow } from './sinfo.js';
import type { SqueueRow } from './squeue.js';
import { isFinalState } from './states.js';

export interface BuildSlurmViewInput {
  /** Parsed `sinfo -N -O SINFO_NODE_FORMAT_LONG` (the parse result or its rows); null if sinfo never answered. */
  sinfo: { rows: readonly SinfoNodeRow[] } | readonly SinfoNodeRow[] | null;
  /** Parsed `squeue -a -t all -o SQUEUE_FORMAT`; final states are left out here. null/[] when none. */
  squeue: readonly SqueueRow[] | null;
  /** ISO times when sinfo / squeue last answered; null if never. */
  sinfoAt: string | null;
  squeueAt: string | null;
  problem: string | null;
  /** ISO time since when `problem` holds. */
  problemSince?: string | null;
  /** The clock of this answer (`generated`). */
  now: Date | number;
}

/**
 * The cluster view from one sinfo and one squeue answer: one SlurmNodeView per node (its rows
 * per partition merged), one SlurmPartitionView per partition (CPUs and GPUs summed over its
 * nodes), one SlurmQueueJob per squeue row that is not final.
 */
export function buildSlurmView(input: BuildSlurmViewInput): SlurmClusterView {
  const sinfoRows: readonly SinfoNodeRow[] = input.sinfo === null ? [] : 'rows' in input.sinfo ? input.sinfo.rows : input.sinfo;
  const nodes = new Map<string, SlurmNodeView>();
  const parts = new Map<string, { view: SlurmPartitionView; nodeSet: Set<string> }>();
  for (const r of sinfoRows) {
    let n = nodes.get(r.node);
    if (!n) {
      n = {
        name: r.node,
        partitions: [],
        state: r.state ?? 'unknown',
        flags: [...r.state_flags],
        cpus_total: r.cpu_counts?.total ?? r.cpus,
        cpus_alloc: r.cpu_counts?.allocated ?? null,
        cpus_idle: r.cpu_counts?.idle ?? null,
        memory_bytes: r.memory_bytes,
        alloc_memory_bytes: r.alloc_memory_bytes,
        free_memory_bytes: r.free_memory_bytes,
        gpus_total: r.gpus ?? 0,
        gpus_alloc: r.gpus_alloc,
        gpu_types: [...r.gpu_types],
        load: r.cpu_load,
        reason: r.reason,
      };
      nodes.set(r.node, n);
    }
    if (r.partition === null) continue;
    if (!n.partitions.includes(r.partition)) n.partitions.push(r.partition);
    let p = parts.get(r.partition);
    if (!p) {
      p = {
        view: {
          name: r.partition,
          default: false,
          avail: r.avail,
          time_limit_seconds: r.time_limit_seconds,
          nodes: [],
          cpus_total: 0,
          cpus_alloc: 0,
          cpus_idle: 0,
          gpus_total: 0,
          gpus_alloc: 0,
        },
        nodeSet: new Set(),
      };
      parts.set(r.partition, p);
    }
    if (r.default_partition) p.view.default = true;
    if (p.nodeSet.has(r.node)) continue;
    p.nodeSet.add(r.node);
    p.view.nodes.push(r.node);
    p.view.cpus_total += n.cpus_total ?? 0;
    p.view.cpus_alloc += n.cpus_alloc ?? 0;
    p.view.cpus_idle += n.cpus_idle ?? 0;
    p.view.gpus_total += n.gpus_total;
    p.view.gpus_alloc += n.gpus_alloc ?? 0;
  }

  const jobs: SlurmQueueJob[] = [];
  for (const r of input.squeue ?? []) {
    const state = r.state ?? 'UNKNOWN';
    if (isFinalState(state)) continue;
    jobs.push({
      job_id: r.job_id,
      array_job_id: r.array_job_id,
      array_task_id: r.array_task_id,
      user: r.user ?? (r.uid === null ? '?' : String(r.uid)),
      state,
      reason: r.reason,
      partition: r.partition,
      name: r.name,
      cpus: r.cpus,
      nodes: r.nodes,
      gpus: (r.gpus_per_node ?? 0) * (r.nodes ?? 1),
      min_memory_bytes: r.min_memory_bytes,
      node_list: r.node_list,
      time_used_seconds: r.time_used_seconds,
      time_limit_seconds: r.time_limit_seconds,
      submit: r.submit,
      start: r.start,
      tasks: r.array_task_spec === null ? 1 : (countArrayTasks(r.array_task_spec) ?? 1),
    });
  }

  const now = input.now instanceof Date ? input.now : new Date(input.now);
  return {
    generated: now.toISOString(),
    sinfo_at: input.sinfoAt,
    squeue_at: input.squeueAt,
    problem: input.problem,
    ...(input.problem !== null && input.problemSince ? { problem_since: input.problemSince } : {}),
    nodes: [...nodes.values()],
    partitions: [...parts.values()].map((p) => p.view),
    jobs,
  };
}
