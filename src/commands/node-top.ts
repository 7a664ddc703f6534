// `top`: the busy processes on each node, or on one — user, %CPU, %MEM, RSS, elapsed, command —
// busiest first within each node. Across the cluster each node shows its TOP_PER_NODE busiest;
// one node shows all the agent listed. Pure: NodeView[] in, neutral Message out.
import type { SnapshotProcess } from '../model/snapshot.js';
import { formatBytes, formatDuration, plural } from '../lib/format.js';
import type { Message, MessageHint } from '../model/message.js';
import type { NodeState, NodeView } from '../model/node-view.js';
import { byCpuDesc, findNode, formatCpuPct, formatAge, formatCmd, sortByHost, type NodeCommandDeps } from '../model/node-facts.js';

export interface TopArgs {
  /** Only this node (UserError listing the known nodes when unknown). */
  node?: string;
  /** Processes shown per node; default TOP_PER_NODE across the cluster, all for one node. */
  per_node?: number;
}

export const TOP_PER_NODE = 10;

export interface TopNode {
  host: string;
  state: NodeState;
  age_seconds: number | null;
  /** Busy processes the agent listed, busiest first. */
  procs: SnapshotProcess[];
  /** How many were left out of `procs` by the per-node limit. */
  omitted: number;
}

export function top(nodes: readonly NodeView[], args: TopArgs = {}, _deps: NodeCommandDeps = {}): Message {
  const chosen = args.node !== undefined ? [findNode(nodes, args.node)] : sortByHost(nodes);
  const limit = args.per_node ?? (args.node !== undefined ? Infinity : TOP_PER_NODE);
  const result: TopNode[] = chosen.map((n) => {
    const procs = [...n.snapshot.busy].sort(byCpuDesc);
    return { host: n.host, state: n.state, age_seconds: n.age_seconds, procs: procs.slice(0, limit), omitted: Math.max(0, procs.length - limit) };
  });
  const one = args.node !== undefined;
  const rows: string[][] = [];
  for (const t of result) {
    const where = t.state === 'fresh' ? t.host : `${t.host} (${t.state})`;
    for (const p of t.procs) {
      rows.push([
        ...(one ? [] : [where]),
        p.user,
        formatCpuPct(p.cpu_pct),
        p.mem_pct.toFixed(1),
        formatBytes(p.rss_bytes),
        formatDuration(p.elapsed_seconds),
        formatCmd(p.cmd),
      ]);
    }
  }
  const total = chosen.reduce((s, n) => s + n.snapshot.busy.length, 0);
  const withBusy = result.filter((t) => t.procs.length > 0).length;
  const omitted = result.reduce((s, t) => s + t.omitted, 0);
  const notFresh = result.filter((t) => t.state !== 'fresh');
  const notes: string[] = [];
  const hints: MessageHint[] = omitted > 0 ? [{ text: `showing the ${limit} busiest per node (${omitted} more): {command} for all of one node`, command: 'top', args: { node: 'NODE' } }] : [];
  if (notFresh.length) notes.push(notFresh.map((t) => `${t.host} is ${t.state}, its list ${t.age_seconds === null ? 'of unknown age' : `${formatAge(t.age_seconds)} old`}`).join('; '));
  const first = result[0];
  return {
    title: one && first ? `Busy processes on ${first.host}` : 'Busy processes',
    severity: notFresh.some((t) => t.state === 'down' || t.state === 'stale') ? 'warning' : 'info',
    summary:
      total === 0
        ? one
          ? `No busy process on ${first?.host} (≥ 2 % CPU or ≥ 1 GiB RSS).`
          : 'No busy process on any node (≥ 2 % CPU or ≥ 1 GiB RSS).'
        : one
          ? plural(total, 'busy process', 'busy processes') + (first && first.state !== 'fresh' ? ` (node ${first.state})` : '')
          : `${plural(total, 'busy process', 'busy processes')} on ${withBusy} of ${result.length} nodes`,
    ...(rows.length ? { table: { columns: [...(one ? [] : ['NODE']), 'USER', '%CPU', '%MEM', 'RSS', 'ELAPSED', 'COMMAND'], rows } } : {}),
    ...(notes.length ? { footer: notes.join(' · ') } : {}),
    ...(hints.length ? { hints } : {}),
    data: { nodes: result },
  };
}
