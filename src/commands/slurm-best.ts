// `best`, SLURM side: which partition and node could start my job NOW. A candidate is a node that
// accepts jobs (idle or mixed, no drain/down/not-responding flag) in a partition that is `up`
// (the one asked with --partition, if any), with cpus_idle ≥ cpus, memory − allocated memory ≥
// mem and GPUs − allocated GPUs ≥ gpus. The least-allocated fit wins, and among near-ties
// (within BEST_TIE_MARGIN, as for agent nodes) one is picked at random, so a lab asking at once
// spreads out. The answer names partition AND node and gives an sbatch line. When nothing fits
// it says which partition comes closest and why ("gpu: 0 of 8 GPUs free, 14 jobs pending").
// Pure: SlurmClusterView in, typed result and neutral Message out; randomness injected.
import { UserError } from '../lib/errors.js';
import { formatBytes, plural, truncate } from '../lib/format.js';
import type { Message, MessageField } from '../model/message.js';
import { BEST_TIE_MARGIN, BEST_WEIGHTS, describeRequirements } from './node-best.js';
import { compareHosts, formatAge, type NodeCommandDeps } from '../model/node-facts.js';
import { slurmSourceLines, type SlurmViewSource } from './slurm-status.js';
import {
  formatNodeState,
  formatSlurmDuration,
  jobCountsByPartition,
  nodeAcceptsJobs,
  nodeInService,
  secondsBetween,
  type SlurmClusterView,
  type SlurmNodeView,
  type SlurmPartitionView,
} from '../model/slurm-view.js';

export interface SlurmBestArgs {
  /** CPUs needed on one node (idle CPUs ≥ this). Default 1. */
  cpus?: number;
  /** Memory needed: node memory − memory allocated to jobs ≥ this. */
  mem_bytes?: number;
  /** GPUs needed on one node: GPUs − allocated GPUs ≥ this. Default 0. */
  gpus?: number;
  /** Only this partition (UserError listing the partitions when unknown). */
  partition?: string;
}

export interface SlurmBestCandidate {
  node: string;
  /** The partition to submit to: --partition, else the default partition if the node is in it, else its first up partition. */
  partition: string;
  /** Every up partition (matching --partition) the node could be reached through. */
  partitions: string[];
  state: string;
  flags: string[];
  cpus_idle: number;
  cpus_total: number;
  /** Memory not allocated to jobs; null when sinfo did not say. */
  mem_free_bytes: number | null;
  memory_bytes: number | null;
  /** GPUs not allocated; null when unknown. */
  gpus_free: number | null;
  gpus_total: number;
  gpu_types: string[];
  load: number | null;
  score: number;
  /** Requirements this node misses, in words; empty for a fit. */
  misses: string[];
}

export interface SlurmBestPartition {
  name: string;
  avail: string | null;
  time_limit_seconds: number | null;
  cpus_idle: number;
  cpus_total: number;
  /** Free GPUs on the nodes that take jobs now. */
  gpus_free: number;
  gpus_total: number;
  jobs_running: number;
  jobs_pending: number;
  /** Nodes of the partition in service (not drained, down or not responding). */
  nodes_in_service: number;
  nodes: number;
  /** Some node of it fits every requirement now. */
  fits: boolean;
}

export interface SlurmBestResult {
  scheduler: 'slurm';
  requirements: { cpus: number; gpus: number; mem_bytes?: number; partition?: string };
  /** null: nothing can start now. */
  chosen: SlurmBestCandidate | null;
  /** Nodes within `margin` of the best score; `chosen` was picked among them at random. */
  near_ties: string[];
  margin: number;
  /** Nodes that fit, best first. */
  candidates: SlurmBestCandidate[];
  /** Every other node and why it was left out. */
  rejected: { node: string; state: string; reasons: string[] }[];
  /** The partitions considered. */
  partitions: SlurmBestPartition[];
  /** When nothing fits: the partition (and its node) that comes closest, and why it does not fit. */
  closest: { partition: string; node: string | null; why: string } | null;
  /** Why the choice, or why nothing fits: one sentence each. */
  reasons: string[];
  /** A ready sbatch line (for the choice, or to queue in the closest partition). */
  sbatch: string | null;
}

/** How many runners-up the message names. */
const RUNNERS_UP = 3;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** sbatch's --mem value: "32G", "1500M" (whole MiB, rounded up). */
export function sbatchMem(bytes: number): string {
  if (bytes % GiB === 0) return `${bytes / GiB}G`;
  return `${Math.ceil(bytes / MiB)}M`;
}

/** The sbatch line: `sbatch -p gpu -w node03 -c 8 --mem=32G --gres=gpu:2 job.sh`. */
export function sbatchLine(req: SlurmBestResult['requirements'], partition: string, node: string | null): string {
  const parts = ['sbatch', '-p', partition];
  if (node) parts.push('-w', node);
  if (req.cpus > 1) parts.push('-c', String(req.cpus));
  if (req.mem_bytes !== undefined) parts.push(`--mem=${sbatchMem(req.mem_bytes)}`);
  if (req.gpus > 0) parts.push(`--gres=gpu:${req.gpus}`);
  parts.push('job.sh');
  return parts.join(' ');
}

function memFree(n: SlurmNodeView): number | null {
  if (n.memory_bytes === null) return null;
  return Math.max(0, n.memory_bytes - (n.alloc_memory_bytes ?? 0));
}

function gpusFree(n: SlurmNodeView): number | null {
  if (n.gpus_total === 0) return 0;
  return n.gpus_alloc === null ? null : Math.max(0, n.gpus_total - n.gpus_alloc);
}

function evaluate(n: SlurmNodeView, usable: string[], defaultPartition: string | null, req: SlurmBestResult['requirements']): SlurmBestCandidate {
  const misses: string[] = [];
  if (usable.length === 0) {
    misses.push(req.partition !== undefined ? `not in partition ${req.partition}, or it is not up` : 'in no partition that is up');
  }
  if (!nodeAcceptsJobs(n)) misses.push(`${formatNodeState(n)}: takes no new job${n.reason ? ` (${n.reason})` : ''}`);
  const total = n.cpus_total ?? 0;
  const idle = n.cpus_idle ?? 0;
  if (idle < req.cpus) misses.push(`${idle} of ${total} CPUs idle (needs ${req.cpus})`);
  const mf = memFree(n);
  if (req.mem_bytes !== undefined) {
    if (mf !== null && mf < req.mem_bytes) misses.push(`${formatBytes(mf)} memory unallocated (needs ${formatBytes(req.mem_bytes)})`);
  } else if (mf !== null && mf <= 0) {
    misses.push('all its memory is allocated');
  }
  const gf = gpusFree(n);
  if (req.gpus > 0) {
    if (n.gpus_total === 0) misses.push(`no GPUs (needs ${req.gpus})`);
    else if (gf === null) misses.push('GPU use unknown (sinfo GresUsed)');
    else if (gf < req.gpus) misses.push(`${gf} of ${n.gpus_total} GPUs free (needs ${req.gpus})`);
  }
  const w = req.gpus > 0 ? BEST_WEIGHTS.gpu : BEST_WEIGHTS.cpu;
  const cpuPart = total > 0 ? idle / total : 0;
  const memPart = mf !== null && n.memory_bytes ? mf / n.memory_bytes : 0;
  const gpuPart = n.gpus_total > 0 && gf !== null ? gf / n.gpus_total : 0;
  const score = w.load * cpuPart + w.mem * Math.min(1, memPart) + w.gpu * gpuPart;
  const partition = req.partition ?? (defaultPartition !== null && usable.includes(defaultPartition) ? defaultPartition : (usable[0] ?? n.partitions[0] ?? '?'));
  return {
    node: n.name,
    partition,
    partitions: usable,
    state: n.state,
    flags: n.flags,
    cpus_idle: idle,
    cpus_total: total,
    mem_free_bytes: mf,
    memory_bytes: n.memory_bytes,
    gpus_free: gf,
    gpus_total: n.gpus_total,
    gpu_types: n.gpu_types,
    load: n.load,
    score: Math.round(score * 10_000) / 10_000,
    misses,
  };
}

function ranked(a: SlurmBestCandidate, b: SlurmBestCandidate): number {
  return b.score - a.score || compareHosts(a.node, b.node);
}

/** "2 of 2 CPUs idle, 23.5 GiB unallocated, 3/4 GPUs free". */
function brief(c: SlurmBestCandidate, req: SlurmBestResult['requirements']): string {
  const parts = [`${c.cpus_idle} of ${c.cpus_total} CPUs idle`];
  if (c.mem_free_bytes !== null) parts.push(`${formatBytes(c.mem_free_bytes)} memory unallocated`);
  if (req.gpus > 0 || c.gpus_total > 0) parts.push(`${c.gpus_free ?? '?'} of ${c.gpus_total} GPUs free${c.gpu_types.length ? ` (${c.gpu_types.join(',')})` : ''}`);
  return parts.join(', ');
}

/** For a partition that does not fit: what it lacks, on its closest node, in words. */
function partitionWhy(p: SlurmBestPartition, best: SlurmBestCandidate | null, req: SlurmBestResult['requirements']): string {
  const parts: string[] = [];
  if (p.avail !== 'up') parts.push(`partition ${p.avail ?? 'state unknown'}`);
  if (p.nodes_in_service === 0 && p.nodes > 0) parts.push(p.nodes === 1 ? 'its node is out of service (drained, down or not responding)' : `all ${p.nodes} of its nodes are out of service`);
  const onOne = (n: number | null | undefined, all: number) => (p.nodes > 1 && n !== null && n !== undefined && n < all ? `, at most ${n} on one node` : '');
  if (req.gpus > 0) {
    if (p.gpus_total === 0) parts.push('no GPUs');
    else if (!best || best.gpus_free === null || best.gpus_free < req.gpus) parts.push(`${p.gpus_free} of ${p.gpus_total} GPUs free${onOne(best?.gpus_free, p.gpus_free)}, needs ${req.gpus}`);
  }
  if (best && best.cpus_idle < req.cpus) parts.push(`${p.cpus_idle} of ${p.cpus_total} CPUs idle${onOne(best.cpus_idle, p.cpus_idle)}, needs ${req.cpus}`);
  if (best && req.mem_bytes !== undefined && best.mem_free_bytes !== null && best.mem_free_bytes < req.mem_bytes) {
    parts.push(`at most ${formatBytes(best.mem_free_bytes)} memory unallocated on one node, needs ${formatBytes(req.mem_bytes)}`);
  }
  if (best && parts.length === 0 && best.misses.length) parts.push(best.misses.join(', '));
  parts.push(`${plural(p.jobs_pending, 'job')} pending`);
  return parts.join(', ');
}

export function slurmBest(view: SlurmClusterView, args: SlurmBestArgs, src: SlurmViewSource = {}, deps: NodeCommandDeps = {}): { message: Message; result: SlurmBestResult } {
  const random = deps.random ?? Math.random;
  const req: SlurmBestResult['requirements'] = {
    cpus: args.cpus ?? 1,
    gpus: args.gpus ?? 0,
    ...(args.mem_bytes !== undefined ? { mem_bytes: args.mem_bytes } : {}),
    ...(args.partition !== undefined ? { partition: args.partition } : {}),
  };
  if (req.partition !== undefined && !view.partitions.some((p) => p.name === req.partition)) {
    const known = view.partitions.map((p) => p.name);
    throw new UserError(`unknown partition "${req.partition}"; ${known.length ? `SLURM partitions: ${truncate(known.join(', '), 500)}` : 'SLURM listed no partition'}`);
  }
  const byName = new Map(view.partitions.map((p) => [p.name, p]));
  const defaultPartition = view.partitions.find((p) => p.default)?.name ?? null;
  const considered: SlurmPartitionView[] = view.partitions.filter((p) => req.partition === undefined || p.name === req.partition);
  const upNames = new Set(considered.filter((p) => p.avail === 'up').map((p) => p.name));

  const evaluated = [...view.nodes]
    .sort((a, b) => compareHosts(a.name, b.name))
    .filter((n) => req.partition === undefined || n.partitions.includes(req.partition))
    .map((n) =>
      evaluate(
        n,
        n.partitions.filter((p) => upNames.has(p)),
        defaultPartition,
        req,
      ),
    );
  const fitting = evaluated.filter((c) => c.misses.length === 0).sort(ranked);
  const rejected = evaluated.filter((c) => c.misses.length > 0).map((c) => ({ node: c.node, state: c.state, reasons: c.misses }));
  const counts = jobCountsByPartition(view);
  const nodeByName = new Map(view.nodes.map((n) => [n.name, n]));
  const partitions: SlurmBestPartition[] = considered.map((p) => {
    const members = p.nodes.map((n) => nodeByName.get(n)).filter((n): n is SlurmNodeView => n !== undefined);
    return {
      name: p.name,
      avail: p.avail,
      time_limit_seconds: p.time_limit_seconds,
      cpus_idle: p.cpus_idle,
      cpus_total: p.cpus_total,
      // Free GPUs on the nodes that take jobs (a drained node's idle GPUs are not free to anyone).
      gpus_free: members.filter(nodeInService).reduce((s, n) => s + (gpusFree(n) ?? 0), 0),
      gpus_total: p.gpus_total,
      jobs_running: counts.get(p.name)?.running ?? 0,
      jobs_pending: counts.get(p.name)?.pending ?? 0,
      nodes_in_service: members.filter(nodeInService).length,
      nodes: members.length,
      fits: p.avail === 'up' && fitting.some((c) => c.partitions.includes(p.name)),
    };
  });

  const header = slurmSourceLines(view, src);
  const age = secondsBetween(view.sinfo_at, view.generated);
  const dataAge = src.live ? 'just now (live)' : formatAge(age);

  if (fitting.length === 0) {
    const reasons: string[] = [];
    let closest: SlurmBestResult['closest'] = null;
    let sbatch: string | null = null;
    if (view.sinfo_at === null && view.nodes.length === 0) {
      reasons.push(view.problem ? `SLURM did not answer: ${view.problem}` : 'no node data from SLURM yet');
    } else if (considered.length === 0) {
      reasons.push('SLURM listed no partition');
    } else {
      // Requirements that no node of the considered partitions could EVER meet.
      const pool = evaluated;
      const maxCpus = Math.max(0, ...pool.map((c) => c.cpus_total));
      const maxMem = Math.max(0, ...pool.map((c) => c.memory_bytes ?? 0));
      const maxGpus = Math.max(0, ...pool.map((c) => c.gpus_total));
      const where = req.partition !== undefined ? `partition ${req.partition}` : 'any partition';
      if (req.cpus > maxCpus) reasons.push(`no node in ${where} has ${req.cpus} CPUs at all (the most on one node is ${maxCpus}): such a job would never start`);
      if (req.mem_bytes !== undefined && req.mem_bytes > maxMem) reasons.push(`no node in ${where} has ${formatBytes(req.mem_bytes)} of memory at all (the most is ${formatBytes(maxMem)}): such a job would never start`);
      if (req.gpus > maxGpus) reasons.push(maxGpus === 0 ? `no node in ${where} has a GPU` : `no node in ${where} has ${req.gpus} GPUs at all (the most on one node is ${maxGpus}): such a job would never start`);
      // The closest partition: its best node misses the fewest requirements, then scores best.
      const bestOf = (p: SlurmBestPartition) =>
        evaluated.filter((c) => nodeByName.get(c.node)?.partitions.includes(p.name)).sort((a, b) => a.misses.length - b.misses.length || ranked(a, b))[0] ?? null;
      // Could a node of the partition ever hold the job (its size, not what is free now)?
      const possible = (p: SlurmBestPartition) =>
        evaluated.some(
          (c) =>
            nodeByName.get(c.node)?.partitions.includes(p.name) &&
            c.cpus_total >= req.cpus &&
            (req.mem_bytes === undefined || (c.memory_bytes ?? 0) >= req.mem_bytes) &&
            c.gpus_total >= req.gpus,
        );
      const ranking = partitions
        .map((p) => ({ p, best: bestOf(p), possible: possible(p) }))
        .sort(
          (a, b) =>
            Number(b.p.avail === 'up') - Number(a.p.avail === 'up') ||
            Number(b.possible) - Number(a.possible) ||
            (a.best?.misses.length ?? 99) - (b.best?.misses.length ?? 99) ||
            (b.best?.score ?? 0) - (a.best?.score ?? 0) ||
            a.p.jobs_pending - b.p.jobs_pending,
        );
      const top = ranking[0]!;
      closest = { partition: top.p.name, node: top.best?.node ?? null, why: partitionWhy(top.p, top.best, req) };
      reasons.push(`nothing can start now; closest: ${top.p.name}${top.best ? ` (${top.best.node})` : ''}: ${closest.why}`);
      for (const other of ranking.slice(1, 4)) reasons.push(`${other.p.name}${other.best ? ` (${other.best.node})` : ''}: ${partitionWhy(other.p, other.best, req)}`);
      if (top.p.avail === 'up' && req.cpus <= maxCpus && (req.mem_bytes === undefined || req.mem_bytes <= maxMem) && req.gpus <= maxGpus) {
        sbatch = sbatchLine(req, top.p.name, null);
      }
    }
    const fields: MessageField[] = [{ name: 'Requirements', value: describeRequirements(req) }];
    if (sbatch) fields.push({ name: 'To queue it anyway', value: sbatch });
    const result: SlurmBestResult = { scheduler: 'slurm', requirements: req, chosen: null, near_ties: [], margin: BEST_TIE_MARGIN, candidates: [], rejected, partitions, closest, reasons, sbatch };
    return {
      message: { title: 'No SLURM node fits now', severity: 'failure', titleState: 'bad', summary: [...header, ...reasons].join('\n'), fields, data: { result } },
      result,
    };
  }

  // A job without GPUs goes to a node without GPUs while one fits: GPU nodes are kept for GPU jobs.
  const plain = req.gpus === 0 ? fitting.filter((c) => c.gpus_total === 0) : [];
  const pool = plain.length ? plain : fitting;
  const keptForGpus = plain.length > 0 && plain.length < fitting.length;
  const ordered = keptForGpus ? [...plain, ...fitting.filter((c) => c.gpus_total > 0)] : fitting;
  const topScore = pool[0]!.score;
  const ties = pool.filter((c) => c.score >= topScore - BEST_TIE_MARGIN - 1e-9);
  const r = random();
  const pick = ties[Math.min(ties.length - 1, Math.max(0, Math.floor((Number.isFinite(r) ? r : 0) * ties.length)))]!;
  const part = partitions.find((p) => p.name === pick.partition);
  const sbatch = sbatchLine(req, pick.partition, pick.node);

  const why = [`${pick.node}: ${brief(pick, req)}; ${formatNodeState(pick)}`];
  const limit = byName.get(pick.partition)?.time_limit_seconds ?? null;
  why.push(`partition ${pick.partition}: up, time limit ${formatSlurmDuration(limit)}${part ? `, ${plural(part.jobs_running, 'job')} running, ${part.jobs_pending} pending` : ''}`);
  const reasons = [...why];
  if (part && part.jobs_pending > 0) {
    reasons.push(`${plural(part.jobs_pending, 'job')} pending in ${pick.partition} may be given these resources first (priority, backfill)`);
  }
  if (keptForGpus) reasons.push('nodes with GPUs are left to GPU jobs while a node without GPUs fits');
  if (ties.length > 1) reasons.push(`picked at random among ${ties.length} near-equal nodes (scores within ${BEST_TIE_MARGIN} of the best), so the lab spreads out`);

  const fields: MessageField[] = [
    { name: 'Submit', value: `${sbatch}\n(without -w, SLURM picks any node of ${pick.partition})` },
    { name: 'Why', value: why.join('\n') },
  ];
  const queueNote = reasons.find((x) => x.includes('may be given these resources first'));
  if (queueNote) fields.push({ name: 'Queue', value: queueNote });
  if (keptForGpus) fields.push({ name: 'GPU nodes', value: 'left to GPU jobs while a node without GPUs fits (ask --gpus N for one)' });
  if (pick.partitions.length > 1) fields.push({ name: 'Also reachable through', value: pick.partitions.filter((p) => p !== pick.partition).join(', ') });
  if (ties.length > 1) fields.push({ name: 'Near-ties', value: `picked at random among ${ties.map((c) => c.node).join(', ')} (within ${BEST_TIE_MARGIN} of the best score)` });
  const runnersUp = ordered.filter((c) => c !== pick).slice(0, RUNNERS_UP);
  if (runnersUp.length) fields.push({ name: 'Runners-up', value: runnersUp.map((c) => `${c.node} (${c.partition}): ${brief(c, req)}`).join('\n') });
  fields.push({ name: 'Requirements', value: describeRequirements(req), inline: true });
  fields.push({ name: 'Data age', value: dataAge, inline: true });

  const result: SlurmBestResult = {
    scheduler: 'slurm',
    requirements: req,
    chosen: pick,
    near_ties: ties.map((c) => c.node),
    margin: BEST_TIE_MARGIN,
    candidates: ordered,
    rejected,
    partitions,
    closest: null,
    reasons,
    sbatch,
  };
  return {
    message: {
      title: `Best SLURM node: ${pick.node} in ${pick.partition}`,
      severity: 'success',
      titleState: 'ok',
      summary: [...header, `Run in partition ${pick.partition} on ${pick.node} — ${brief(pick, req)}`].join('\n'),
      fields,
      footer: 'what SLURM starts next also depends on priorities and backfill: this is where resources are free now',
      data: { result },
    },
    result,
  };
}
