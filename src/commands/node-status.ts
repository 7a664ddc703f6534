// `status`: a line per node — state, 5-minute load over cores, CPU busy, memory, GPUs busy, who is
// active, and how old the data is — and a summary by state ("5 nodes: 4 fresh, 1 down"). Pure:
// NodeView[] in, neutral Message out (with the rows as data for JSON front ends).
import type { Message } from '../model/message.js';
import type { NodeState, NodeView } from '../model/node-view.js';
import {
  nodeStateCell,
  activeUsers,
  formatAge,
  formatBytesPair,
  formatLoad,
  formatPct,
  formatUsers,
  freeGpuIndices,
  load5,
  memUsedBytes,
  sortByHost,
  stateLabel,
  type NodeCommandDeps,
} from '../model/node-facts.js';

export interface StatusRow {
  host: string;
  state: NodeState;
  age_seconds: number | null;
  cpus: number;
  load_5m: number;
  cpu_busy_pct: number | null;
  mem_used_bytes: number;
  mem_total_bytes: number;
  /** null: no GPUs seen on this node (no nvidia-smi). Busy = not free by the rule in node-facts.ts. */
  gpus_busy: number | null;
  gpus_total: number | null;
  users: string[];
}

export const STATUS_COLUMNS = ['NODE', 'STATE', 'LOAD/CORES', 'CPU', 'MEM', 'GPUS', 'USERS', 'AGE'] as const;

export function statusRow(n: NodeView): StatusRow {
  const gpus = n.snapshot.gpus;
  return {
    host: n.host,
    state: n.state,
    age_seconds: n.age_seconds,
    cpus: n.snapshot.cpus,
    load_5m: load5(n),
    cpu_busy_pct: n.snapshot.cpu_busy_pct,
    mem_used_bytes: memUsedBytes(n),
    mem_total_bytes: n.snapshot.mem.total_bytes,
    gpus_busy: gpus ? gpus.length - freeGpuIndices(n).length : null,
    gpus_total: gpus ? gpus.length : null,
    users: activeUsers(n),
  };
}

/** "5 nodes: 4 fresh, 1 down". */
export function stateSummary(nodes: readonly NodeView[]): string {
  const counts = (['fresh', 'stale', 'down', 'waiting'] as const)
    .map((s) => [s, nodes.filter((n) => n.state === s).length] as const)
    .filter(([, c]) => c > 0)
    .map(([s, c]) => `${c} ${s}`);
  const noun = nodes.length === 1 ? 'node' : 'nodes';
  return counts.length ? `${nodes.length} ${noun}: ${counts.join(', ')}` : 'no nodes';
}

export function nodeStatus(nodes: readonly NodeView[], _args: object = {}, _deps: NodeCommandDeps = {}): Message {
  const sorted = sortByHost(nodes);
  const rows = sorted.map(statusRow);
  const troubled = sorted.some((n) => n.state === 'down' || n.state === 'stale');
  const waiting = sorted.length > 0 && sorted.every((n) => n.state === 'waiting');
  return {
    title: 'Cluster status',
    severity: troubled ? 'warning' : 'info',
    summary:
      sorted.length === 0
        ? 'No node has written a snapshot yet: run `flurm agent` on each node (or `flurm up` on a workstation).'
        : stateSummary(sorted) + (waiting ? ' (freshness unknown)' : ''),
    table: {
      columns: [...STATUS_COLUMNS],
      rows: rows.map((r) => [
        r.host,
        stateLabel(r.state),
        formatLoad(r.load_5m, r.cpus),
        formatPct(r.cpu_busy_pct),
        formatBytesPair(r.mem_used_bytes, r.mem_total_bytes),
        r.gpus_total === null ? '—' : `${r.gpus_busy}/${r.gpus_total}`,
        formatUsers(r.users),
        formatAge(r.age_seconds),
      ]),
      states: rows.map((r) => [null, nodeStateCell(r.state)]),
    },
    data: { nodes: rows },
  };
}
