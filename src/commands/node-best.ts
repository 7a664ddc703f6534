// `best`: where to run now. Among the FRESH nodes that meet every requirement (free cores, free
// memory, free GPUs, free memory on each of those GPUs), score each by how little it is loaded,
// and pick one AT RANDOM among those within BEST_TIE_MARGIN of the best score: load averages lag
// about a minute and frameworks take GPU memory lazily, so a whole lab asking at once must not
// pile onto the one node that looked best. When nothing fits, say for each requirement which node
// comes closest. Pure: NodeView[] in, a typed result and a neutral Message out.
import { formatBytes, plural } from '../lib/format.js';
import type { Message, MessageField } from '../model/message.js';
import type { NodeState, NodeView } from '../model/node-view.js';
import {
  compareHosts,
  describeNotFresh,
  formatAge,
  formatLoad,
  freeCores,
  freeGpuIndices,
  gpuFreeBytes,
  load5,
  sortByHost,
  type NodeCommandDeps,
} from '../model/node-facts.js';

export interface BestArgs {
  /** Free cores needed: cpus − 5-minute load ≥ this. */
  cpus?: number;
  /** Free memory needed: MemAvailable ≥ this. */
  mem_bytes?: number;
  /** Free GPUs needed (see gpuIsFree in node-facts.ts). */
  gpus?: number;
  /** Free memory needed on each chosen GPU (total − used). Implies gpus ≥ 1. */
  gpu_mem_bytes?: number;
}

/**
 * The score, in [0, 1], higher is better: a weighted sum of
 *   load:  1 − min(1, load5 / cpus)        (an idle node 1, a full or overloaded one 0)
 *   mem:   MemAvailable / MemTotal
 *   gpu:   usable free GPUs / GPUs          (only when GPUs are asked for)
 * With GPUs asked for, the GPUs weigh most: a job that needs GPUs is slowed most by sharing them.
 */
export const BEST_WEIGHTS = {
  cpu: { load: 0.6, mem: 0.4, gpu: 0 },
  gpu: { load: 0.35, mem: 0.25, gpu: 0.4 },
} as const;

/**
 * Nodes scoring within this of the best are near-ties, and one of them is picked at random. 0.05
 * is a difference of about 0.08 in load per core (5 cores busier on a 64-core node), or 12 % of
 * memory, or, on an 8-GPU node asked for GPUs, less than one GPU: differences that a load
 * average a minute behind, or a job that has not yet allocated its GPU memory, easily hide.
 */
export const BEST_TIE_MARGIN = 0.05;

/** How many runners-up the message names. */
const RUNNERS_UP = 3;

export interface BestCandidate {
  host: string;
  state: NodeState;
  age_seconds: number | null;
  score: number;
  cpus: number;
  load_5m: number;
  load_per_core: number;
  free_cores: number;
  mem_available_bytes: number;
  mem_total_bytes: number;
  gpus_total: number;
  /** Indices of the free GPUs. */
  gpus_free: number[];
  /** Free GPUs that also have gpu_mem_bytes free (all free GPUs without --gpu-mem). */
  gpus_usable: number[];
  /** The most free memory on any one free GPU; null without free GPUs or when nvidia-smi did not say. */
  gpus_free_max_mem_bytes: number | null;
  /** The GPUs to use (most free memory first), ascending; empty when no GPUs are asked for. */
  gpus_chosen: number[];
  /** Requirements this node misses, in words; empty for a candidate that fits. */
  misses: string[];
}

export interface BestResult {
  requirements: BestArgs;
  /** null: no fresh node meets every requirement. */
  chosen: BestCandidate | null;
  /** Hosts within `margin` of the best score, among which `chosen` was picked at random. */
  near_ties: string[];
  margin: number;
  /** Fresh nodes that meet every requirement, best score first. */
  candidates: BestCandidate[];
  /** Every other node and why it was left out. */
  rejected: { host: string; state: NodeState; reasons: string[] }[];
  /** Why the choice, or why nothing fits: one sentence each. */
  reasons: string[];
}

const cores = (x: number) => (Math.abs(x - Math.round(x)) < 0.05 ? String(Math.round(x)) : x.toFixed(1));

function gpusNeeded(args: BestArgs): number {
  return args.gpus ?? (args.gpu_mem_bytes !== undefined ? 1 : 0);
}

/**
 * Requirements in words, in no front end's syntax (agent nodes and SLURM alike):
 * "8 cores, 32 GiB memory, 2 GPUs with 20 GiB free each, partition gpu".
 */
export function describeRequirements(req: BestArgs & { partition?: string }): string {
  const parts: string[] = [];
  if (req.cpus !== undefined) parts.push(plural(req.cpus, 'core'));
  if (req.mem_bytes !== undefined) parts.push(`${formatBytes(req.mem_bytes)} memory`);
  if (req.gpus !== undefined && (req.gpus > 0 || req.gpu_mem_bytes !== undefined)) parts.push(plural(req.gpus, 'GPU'));
  if (req.gpu_mem_bytes !== undefined) parts.push(`${formatBytes(req.gpu_mem_bytes)} free on each GPU`);
  if (req.partition !== undefined) parts.push(`partition ${req.partition}`);
  return parts.length ? parts.join(', ') : 'none (any fresh node)';
}

function evaluate(n: NodeView, args: BestArgs): BestCandidate {
  const s = n.snapshot;
  const gpus = s.gpus ?? [];
  const need = gpusNeeded(args);
  const free = freeGpuIndices(n);
  const byIndex = new Map(gpus.map((g) => [g.index, g]));
  const usable = free.filter((i) => {
    if (args.gpu_mem_bytes === undefined) return true;
    const f = gpuFreeBytes(byIndex.get(i)!);
    return f !== null && f >= args.gpu_mem_bytes;
  });
  // Use the usable GPUs with the most free memory, then the least used, then the lowest index.
  const chosen = [...usable]
    .sort((a, b) => {
      const ga = byIndex.get(a)!;
      const gb = byIndex.get(b)!;
      return (gpuFreeBytes(gb) ?? 0) - (gpuFreeBytes(ga) ?? 0) || (ga.util_pct ?? 0) - (gb.util_pct ?? 0) || a - b;
    })
    .slice(0, need)
    .sort((a, b) => a - b);

  const freeMems = free.map((i) => gpuFreeBytes(byIndex.get(i)!)).filter((b): b is number => b !== null);
  const misses: string[] = [];
  const fc = Math.round(freeCores(n) * 100) / 100; // as reported, so every check agrees with it
  if (args.cpus !== undefined && fc < args.cpus) misses.push(`only ${cores(Math.max(0, fc))} free cores (needs ${args.cpus})`);
  if (args.mem_bytes !== undefined && s.mem.available_bytes < args.mem_bytes) {
    misses.push(`only ${formatBytes(s.mem.available_bytes)} free memory (needs ${formatBytes(args.mem_bytes)})`);
  }
  if (need > 0 && free.length < need) misses.push(`${gpus.length === 0 ? 'no GPUs' : `${plural(free.length, 'free GPU')} of ${gpus.length}`} (needs ${need})`);
  else if (need > 0 && usable.length < need && args.gpu_mem_bytes !== undefined) {
    misses.push(`${plural(usable.length, 'free GPU')} with ${formatBytes(args.gpu_mem_bytes)} free memory (needs ${need})`);
  }

  const w = need > 0 ? BEST_WEIGHTS.gpu : BEST_WEIGHTS.cpu;
  const loadPerCore = s.cpus > 0 ? load5(n) / s.cpus : 1;
  const memFree = s.mem.total_bytes > 0 ? s.mem.available_bytes / s.mem.total_bytes : 0;
  const gpuFree = gpus.length > 0 ? usable.length / gpus.length : 0;
  const score = w.load * (1 - Math.min(1, loadPerCore)) + w.mem * Math.min(1, memFree) + w.gpu * gpuFree;

  return {
    host: n.host,
    state: n.state,
    age_seconds: n.age_seconds,
    score: Math.round(score * 10_000) / 10_000,
    cpus: s.cpus,
    load_5m: load5(n),
    load_per_core: Math.round(loadPerCore * 1000) / 1000,
    free_cores: fc,
    mem_available_bytes: s.mem.available_bytes,
    mem_total_bytes: s.mem.total_bytes,
    gpus_total: gpus.length,
    gpus_free: free,
    gpus_usable: usable,
    gpus_free_max_mem_bytes: freeMems.length ? Math.max(...freeMems) : null,
    gpus_chosen: need > 0 ? chosen : [],
    misses,
  };
}

function ranked(a: BestCandidate, b: BestCandidate): number {
  return b.score - a.score || compareHosts(a.host, b.host);
}

/** "load 3.1/64, 410 GiB free, 6 free GPUs": a node in one short line. */
function brief(c: BestCandidate, args: BestArgs): string {
  const parts = [`load ${formatLoad(c.load_5m, c.cpus)}`, `${formatBytes(c.mem_available_bytes)} free`];
  if (gpusNeeded(args) > 0 || c.gpus_total > 0) parts.push(`${c.gpus_free.length}/${c.gpus_total} GPUs free`);
  return parts.join(', ');
}

/** For each requirement no fresh node meets on its own, the node that comes closest. */
function closestPerRequirement(fresh: BestCandidate[], args: BestArgs): string[] {
  const out: string[] = [];
  const top = <T>(xs: T[], key: (x: T) => number) => xs.reduce((m, x) => (key(x) > key(m) ? x : m));
  if (args.cpus !== undefined && !fresh.some((c) => c.free_cores >= args.cpus!)) {
    const c = top(fresh, (x) => x.free_cores);
    out.push(`no fresh node has ${plural(args.cpus, 'free core')}: ${c.host} has ${cores(Math.max(0, c.free_cores))} free of ${c.cpus}`);
  }
  if (args.mem_bytes !== undefined && !fresh.some((c) => c.mem_available_bytes >= args.mem_bytes!)) {
    const c = top(fresh, (x) => x.mem_available_bytes);
    out.push(`no fresh node has ${formatBytes(args.mem_bytes)} free memory: ${c.host} has ${formatBytes(c.mem_available_bytes)} free of ${formatBytes(c.mem_total_bytes)}`);
  }
  const need = gpusNeeded(args);
  if (need > 0) {
    if (!fresh.some((c) => c.gpus_free.length >= need)) {
      const c = top(fresh, (x) => x.gpus_free.length * 1000 + x.gpus_total);
      out.push(
        c.gpus_total === 0
          ? `no fresh node has ${plural(need, 'free GPU')}: none of them has a GPU`
          : `no fresh node has ${plural(need, 'free GPU')}: ${c.host} has ${c.gpus_free.length} free of ${c.gpus_total}`,
      );
    } else if (args.gpu_mem_bytes !== undefined && !fresh.some((c) => c.gpus_usable.length >= need)) {
      const c = fresh.reduce((m, x) =>
        x.gpus_usable.length > m.gpus_usable.length ||
        (x.gpus_usable.length === m.gpus_usable.length && (x.gpus_free_max_mem_bytes ?? -1) > (m.gpus_free_max_mem_bytes ?? -1))
          ? x
          : m,
      );
      const most = c.gpus_free_max_mem_bytes !== null ? `; the most on one is ${formatBytes(c.gpus_free_max_mem_bytes)}` : '';
      out.push(
        `no fresh node has ${plural(need, 'free GPU')} with ${formatBytes(args.gpu_mem_bytes)} free memory each: ` +
          `${c.host} has ${c.gpus_usable.length} of its ${c.gpus_free.length} free GPUs${most}`,
      );
    }
  }
  return out;
}

function noFitReasons(nodes: readonly NodeView[], fresh: BestCandidate[], args: BestArgs): string[] {
  if (nodes.length === 0) return ['no node has written a snapshot yet: run `flurm agent` on each node (or `flurm up`)'];
  if (fresh.length === 0) {
    const why = [`no fresh node: ${describeNotFresh(nodes)}`];
    if (nodes.some((n) => n.state === 'waiting')) {
      why.push('a waiting node is not a candidate until a hub has seen its agent write again: the hub has just started, or none is answering (start `flurm hub` or `flurm up`)');
    }
    return why;
  }
  const per = closestPerRequirement(fresh, args);
  if (per.length) return per;
  // Each requirement alone is met somewhere, but never all on one node.
  const closest = [...fresh].sort((a, b) => a.misses.length - b.misses.length || ranked(a, b))[0]!;
  return [`no fresh node meets all of ${describeRequirements(args)} at once; closest: ${closest.host}, which has ${closest.misses.join(' and ')}`];
}

export function best(nodes: readonly NodeView[], args: BestArgs, deps: NodeCommandDeps = {}): { message: Message; result: BestResult } {
  const random = deps.random ?? Math.random;
  const all = sortByHost(nodes);
  const fresh = all.filter((n) => n.state === 'fresh').map((n) => evaluate(n, args));
  const fitting = fresh.filter((c) => c.misses.length === 0).sort(ranked);
  const rejected = [
    ...fresh.filter((c) => c.misses.length > 0).map((c) => ({ host: c.host, state: c.state, reasons: c.misses })),
    ...all.filter((n) => n.state !== 'fresh').map((n) => ({ host: n.host, state: n.state, reasons: [`${n.state}: not a candidate`] })),
  ];
  const requirements = { ...args };

  if (fitting.length === 0) {
    const reasons = noFitReasons(all, fresh, args);
    const fields: MessageField[] = [{ name: 'Requirements', value: describeRequirements(args) }];
    const notFresh = describeNotFresh(all);
    if (notFresh && fresh.length > 0) fields.push({ name: 'Not considered', value: notFresh });
    const result: BestResult = { requirements, chosen: null, near_ties: [], margin: BEST_TIE_MARGIN, candidates: [], rejected, reasons };
    return { message: { title: 'No node fits', severity: 'failure', titleState: 'bad', summary: reasons.join('\n'), fields, data: { result } }, result };
  }

  const top = fitting[0]!.score;
  const ties = fitting.filter((c) => c.score >= top - BEST_TIE_MARGIN - 1e-9);
  const r = random();
  const pick = ties[Math.min(ties.length - 1, Math.max(0, Math.floor((Number.isFinite(r) ? r : 0) * ties.length)))]!;
  const need = gpusNeeded(args);

  const why = [
    `5-min load ${formatLoad(pick.load_5m, pick.cpus)} cores (${Math.round(pick.load_per_core * 100)} %), ${cores(Math.max(0, pick.free_cores))} free`,
    `${formatBytes(pick.mem_available_bytes)} of ${formatBytes(pick.mem_total_bytes)} memory free`,
  ];
  if (pick.gpus_total > 0 || need > 0) {
    why.push(`${pick.gpus_free.length} of ${pick.gpus_total} GPUs free${pick.gpus_free.length ? ` (${pick.gpus_free.join(', ')})` : ''}`);
  }
  const reasons = [`${pick.host}: ${why.join('; ')}`];
  if (ties.length > 1) {
    reasons.push(`picked at random among ${ties.length} near-equal nodes (scores within ${BEST_TIE_MARGIN} of the best), so the lab spreads out`);
  }

  const fields: MessageField[] = [{ name: 'Why', value: why.join('\n') }];
  if (need > 0) fields.push({ name: 'GPUs to use', value: `${pick.gpus_chosen.join(', ')}  (CUDA_VISIBLE_DEVICES=${pick.gpus_chosen.join(',')})` });
  if (ties.length > 1) fields.push({ name: 'Near-ties', value: `picked at random among ${ties.map((c) => c.host).join(', ')} (within ${BEST_TIE_MARGIN} of the best score), so the lab spreads out` });
  const runnersUp = fitting.filter((c) => c !== pick).slice(0, RUNNERS_UP);
  if (runnersUp.length) fields.push({ name: 'Runners-up', value: runnersUp.map((c) => `${c.host}: ${brief(c, args)}`).join('\n') });
  fields.push({ name: 'Requirements', value: describeRequirements(args), inline: true });
  fields.push({ name: 'Data age', value: formatAge(pick.age_seconds), inline: true });

  const result: BestResult = { requirements, chosen: pick, near_ties: ties.map((c) => c.host), margin: BEST_TIE_MARGIN, candidates: fitting, rejected, reasons };
  const gpuHint = need > 0 ? `, GPUs ${pick.gpus_chosen.join(',')}` : '';
  return {
    message: {
      title: `Best node: ${pick.host}`,
      severity: 'success',
      titleState: 'ok',
      summary: `Run on ${pick.host}${gpuHint} — ${brief(pick, args)} (data ${formatAge(pick.age_seconds)} old)`,
      fields,
      footer: `load averages lag about a minute and GPU memory is taken lazily: near-equal nodes are picked at random`,
      data: { result },
    },
    result,
  };
}
