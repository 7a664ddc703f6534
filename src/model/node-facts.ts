// Facts about a node that several node commands (status, best, top, inspect, users) state the
// same way: when a GPU counts as free, who is active on a node, how old its data is, how a state
// and a used/total pair are written. Pure functions of NodeView; no I/O.
import type { NodeSnapshot, SnapshotGpu, SnapshotProcess } from './snapshot.js';
import { UserError } from '../lib/errors.js';
import { formatBytes, truncate } from '../lib/format.js';
import type { CellState } from './message.js';
import type { NodeState, NodeView } from './node-view.js';

/** What every node command may be given: the hub's clock and a random source, injectable for tests. */
export interface NodeCommandDeps {
  /** Milliseconds since the epoch on the hub's clock (the NodesResponse's `generated`). Default Date.now. */
  now?: () => number;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
  /** The reader's time zone for the times shown (lib/time.ts). Default TZ, else the system's. */
  timeZone?: string;
}

/**
 * A GPU is free when nobody is on it and nothing suggests otherwise:
 *  - no compute process is listed on it (nvidia-smi's compute apps; a display server is not one),
 *  - its memory used is below GPU_FREE_MAX_MEM_FRACTION of its total — catches processes the agent
 *    cannot see (another container, hidepid) and the few hundred MiB a driver or Xorg keeps,
 *  - its utilisation is below GPU_FREE_MAX_UTIL_PCT.
 * A value nvidia-smi reports as N/A (null) is no evidence of use and does not disqualify the GPU.
 * Someone who holds a GPU idle (a notebook kernel that took memory hours ago) holds it: the GPU has
 * a compute process, so it is not free.
 */
export const GPU_FREE_MAX_MEM_FRACTION = 0.1;
export const GPU_FREE_MAX_UTIL_PCT = 10;

export function gpuIsFree(g: SnapshotGpu): boolean {
  if (g.procs.length > 0) return false;
  if (g.util_pct !== null && g.util_pct >= GPU_FREE_MAX_UTIL_PCT) return false;
  if (g.mem_used_bytes !== null && g.mem_total_bytes !== null && g.mem_total_bytes > 0) {
    if (g.mem_used_bytes >= GPU_FREE_MAX_MEM_FRACTION * g.mem_total_bytes) return false;
  }
  return true;
}

/** A GPU's free memory in bytes; null when nvidia-smi did not report used and total. */
export function gpuFreeBytes(g: SnapshotGpu): number | null {
  if (g.mem_used_bytes === null || g.mem_total_bytes === null) return null;
  return Math.max(0, g.mem_total_bytes - g.mem_used_bytes);
}

/** Indices of the node's free GPUs, ascending. */
export function freeGpuIndices(n: NodeView): number[] {
  return (n.snapshot.gpus ?? []).filter(gpuIsFree).map((g) => g.index).sort((a, b) => a - b);
}

/** 5-minute load average. */
export function load5(n: NodeView): number {
  return n.snapshot.load[1];
}

/** Cores not taken by the 5-minute load (may be negative on an overloaded node). */
export function freeCores(n: NodeView): number {
  return n.snapshot.cpus - load5(n);
}

export function memUsedBytes(n: NodeView): number {
  return Math.max(0, n.snapshot.mem.total_bytes - n.snapshot.mem.available_bytes);
}

/** Jobs the index says run there now. */
export function runningJobs(n: NodeView) {
  return (n.jobs ?? []).filter((j) => j.state === 'running');
}

/**
 * Distinct users active on the node, sorted: owners of busy processes, of running flurm jobs and
 * of GPU compute processes (someone holding a GPU idle is on the node too).
 */
export function activeUsers(n: NodeView): string[] {
  const users = new Set<string>([...(n.active_users ?? []), ...snapshotUsers(n.snapshot)]);
  for (const j of runningJobs(n)) users.add(j.user);
  return [...users].sort();
}

/** Users with a busy process or a GPU compute process in a snapshot, sorted. */
export function snapshotUsers(s: NodeSnapshot): string[] {
  const users = new Set<string>();
  for (const p of s.busy) users.add(p.user);
  for (const g of s.gpus ?? []) for (const p of g.procs) if (p.user) users.add(p.user);
  return [...users].sort();
}

/** Data age in one unit: "12s", "3m", "2h", "4d"; "—" while waiting (null). */
export function formatAge(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** The state as a table cell: down and stale carry a mark that survives without colour. */
export function stateLabel(state: NodeState): string {
  switch (state) {
    case 'fresh':
      return 'fresh';
    case 'stale':
      return 'stale !';
    case 'down':
      return 'DOWN ✗';
    case 'waiting':
      return 'waiting';
  }
}

/** "12.3/64" (load over cores). */
export function formatLoad(load: number, cpus: number): string {
  return `${load.toFixed(1)}/${cpus}`;
}

/** "120/503 GiB": both in the total's unit, so the pair reads at a glance. */
export function formatBytesPair(used: number, total: number): string {
  const t = formatBytes(total);
  const unit = t.split(' ')[1] ?? 'B';
  const power = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'].indexOf(unit);
  const u = used / 1024 ** Math.max(0, power);
  // Far below the total's unit (44 GiB of 1 TiB, 4 MiB of 80 GiB): the used part in its own unit.
  if (used > 0 && u < 0.1) return `${formatBytes(used)}/${t}`;
  const usedText = u < 10 && power > 0 ? u.toFixed(1).replace(/\.0$/, '') : String(Math.round(u));
  return `${usedText}/${t}`;
}

/** "45%" or "—". */
export function formatPct(pct: number | null): string {
  return pct === null || !Number.isFinite(pct) ? '—' : `${Math.round(pct)}%`;
}

/** Users as one cell: "alice, bob +3". */
export function formatUsers(users: readonly string[], max = 3): string {
  if (users.length === 0) return '—';
  const shown = users.slice(0, max).join(', ');
  return users.length > max ? `${shown} +${users.length - max}` : shown;
}

/** A command line for a table cell: whitespace folded, cut. */
export function formatCmd(cmd: string, maxChars = 60): string {
  return truncate(cmd.replace(/\s+/g, ' ').trim(), maxChars);
}

/** %CPU for a table: "0.4", "12", "3180"; "—" when not measured yet. */
export function formatCpuPct(pct: number | null): string {
  if (pct === null || !Number.isFinite(pct)) return '—';
  return pct < 10 ? pct.toFixed(1) : pct.toFixed(0);
}

/** Busy processes, busiest first (an unmeasured %CPU sorts last), then by RSS. */
export function byCpuDesc(a: SnapshotProcess, b: SnapshotProcess): number {
  return (b.cpu_pct ?? -1) - (a.cpu_pct ?? -1) || b.rss_bytes - a.rss_bytes || a.pid - b.pid;
}

let collator: Intl.Collator | undefined;

/** Host names in natural order (gpu2 before gpu10). One collator: localeCompare with options builds one per call. */
export function compareHosts(a: string, b: string): number {
  collator ??= new Intl.Collator('en', { numeric: true });
  return collator.compare(a, b);
}

/** Nodes sorted by host name (natural order: gpu2 before gpu10). */
export function sortByHost(nodes: readonly NodeView[]): NodeView[] {
  return [...nodes].sort((a, b) => compareHosts(a.host, b.host));
}

/**
 * The node named `name` (its host name, or the short name before the first dot); a UserError
 * listing the known nodes when there is none.
 */
export function findNode(nodes: readonly NodeView[], name: string): NodeView {
  const hit = nodes.find((n) => n.host === name) ?? nodes.find((n) => n.host.split('.')[0] === name.split('.')[0]);
  if (hit) return hit;
  const known = sortByHost(nodes).map((n) => n.host);
  const list = known.length ? `known nodes: ${truncate(known.join(', '), 500)}` : 'no node is known yet';
  throw new UserError(`unknown node "${name}"; ${list}`);
}

/** "2 down (gpu2, gpu5), 1 waiting (gpu3)": the nodes that are not fresh, by state. */
export function describeNotFresh(nodes: readonly NodeView[]): string {
  const parts: string[] = [];
  for (const s of ['stale', 'down', 'waiting'] as const) {
    const hosts = sortByHost(nodes.filter((n) => n.state === s)).map((n) => n.host);
    if (hosts.length) parts.push(`${hosts.length} ${s} (${truncate(hosts.join(', '), 200)})`);
  }
  return parts.join(', ');
}

/** How a node's state reads: fresh ok, stale warn, down bad, waiting (freshness unknown) none. */
export function nodeStateCell(state: NodeState): CellState | null {
  return state === 'fresh' ? 'ok' : state === 'stale' ? 'warn' : state === 'down' ? 'bad' : null;
}
