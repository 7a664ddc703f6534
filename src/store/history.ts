// The lab's history in the index (docs/history.md): what the charts, `flurm history`, `flurm
// heatmap`, `flurm report` and the dashboard draw. Beside the per-node samples NodeStore writes
// (node_samples: load, CPU, memory, GPU, users per 1-minute and 1-hour bucket), this keeps
//   - each node's state per bucket (fresh / stale / down, counted once per hub pass — a down node
//     writes no snapshot, so only the hub can say it was down), in node_samples' state columns;
//   - per GPU per bucket: utilisation and memory (gpu_samples);
//   - per SLURM partition per bucket: nodes by state, cores and GPUs allocated vs total, jobs
//     running and pending (slurm_samples), and each SLURM node's state (slurm_node_samples);
//   - per user per hour: core-seconds, GPU-seconds and memory byte-seconds on agent nodes and on
//     SLURM (user_usage), accumulated from each sample × the time it stands for.
// Every bucket is an upsert of sums and counts, so a sample read twice only weighs in its
// bucket's average, and downsampling is the same upsert into the hour bucket. Rows older than
// their resolution's retention are pruned (prune()). Reads are bounded by time range and step.
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import type { NodeSnapshot } from '../model/snapshot.js';
import type { SlurmClusterView } from '../model/slurm-view.js';
import { jobPhase, jobTasks } from '../model/slurm-view.js';
import { SAMPLE_RESOLUTIONS_SECONDS } from './nodes.js';
import { SLURM_HISTORY_STATES, type HistoryRange, type HistoryState, type HostSeries, type NodeHistory, type NodeMetric, type PartitionSeries, type SampleResolution, type SlurmHistory, type SlurmHistoryState, type UserUsage, type JobsHistory, type JobResult, type GpuHistory } from '../model/history.js';

export * from '../model/history.js';

/** A sample stands for at most this long (a node silent for hours does not count as busy all that time). */
export const MAX_SAMPLE_SECONDS = 300;

/** The state a SLURM base state counts as; null for states that hold no node (future, unknown). */
export function slurmHistoryState(state: string): SlurmHistoryState | null {
  const s = state.toLowerCase().replace(/[*~#!%$@^-]+$/, '');
  if (s.startsWith('idle')) return 'idle';
  if (s.startsWith('mix')) return 'mixed';
  if (s.startsWith('alloc') || s.startsWith('completing')) return 'allocated';
  if (s.startsWith('down') || s.startsWith('drain') || s.startsWith('fail') || s.startsWith('maint') || s.startsWith('reboot') || s.startsWith('power')) return 'down';
  return null;
}

/** A job's state (store/jobs.ts) as a history result. */
export function jobResult(state: string): JobResult {
  return state === 'succeeded' ? 'succeeded' : state === 'failed' || state === 'vanished' ? 'failed' : 'other';
}

function parseTail(json: string | null): string[] {
  if (!json) return [];
  try {
    const t = JSON.parse(json) as unknown;
    return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

const bucketOf = (ms: number, res: number) => Math.floor(ms / (res * 1000)) * res * 1000;

/** How long each resolution is kept, from the hub config's [nodes] retention days. */
export function retentionOf(n: { minute_samples_days: number; ten_minute_samples_days: number; hour_samples_days: number }): Record<SampleResolution, number> {
  return { 60: n.minute_samples_days * 86_400_000, 600: n.ten_minute_samples_days * 86_400_000, 3600: n.hour_samples_days * 86_400_000 };
}

/**
 * The bucket step for a range: the smallest of 1, 5, 10, 30 min, 1, 3, 6, 12 h, 1 day giving at
 * most `maxPoints` buckets, read from the coarsest samples that divide it and are still kept at
 * the range's start (a step finer than what is kept then grows to that resolution).
 */
export function chooseRange(sinceMs: number, untilMs: number, keep: Record<SampleResolution, number>, nowMs: number, maxPoints = 200): HistoryRange {
  const span = Math.max(60_000, untilMs - sinceMs);
  const steps = [1, 5, 10, 30, 60, 180, 360, 720, 1440].map((m) => m * 60_000);
  let stepMs = steps.find((s) => span / s <= maxPoints) ?? steps[steps.length - 1]!;
  const kept = (r: SampleResolution) => sinceMs >= nowMs - keep[r];
  let resolution = ([3600, 600, 60] as const).find((r) => stepMs % (r * 1000) === 0 && kept(r));
  if (resolution === undefined) {
    // Too fine for what is kept that far back: the finest resolution still kept, and its step.
    resolution = ([60, 600, 3600] as const).find((r) => kept(r)) ?? 3600;
    stepMs = Math.max(stepMs, resolution * 1000);
    stepMs = Math.ceil(stepMs / (resolution * 1000)) * resolution * 1000;
  }
  const start = Math.floor(sinceMs / stepMs) * stepMs;
  return { sinceMs: start, untilMs, stepMs, resolution };
}

function timesOf(r: HistoryRange): number[] {
  const out: number[] = [];
  for (let t = r.sinceMs; t < r.untilMs; t += r.stepMs) out.push(t);
  return out;
}

export class HistoryStore {
  private readonly lastNodeMs = new Map<string, number>();
  private lastSlurmMs: number | null = null;
  /** The nodes of each partition in the last SLURM view recorded: a partition's heatmap rows. */
  private readonly partitionNodes = new Map<string, string[]>();

  private readonly statements = new Map<string, Statement<unknown[]>>();

  constructor(private readonly db: Db) {}

  /** A statement prepared once per store (the hub runs these on every snapshot). */
  private cached(key: string, sql: string): Statement<unknown[]> {
    let st = this.statements.get(key);
    if (!st) this.statements.set(key, (st = this.db.prepare(sql)));
    return st;
  }

  /**
   * A node's snapshot, after NodeStore.addSample: its GPUs one by one, and its users' usage for
   * the time since its previous sample (at most MAX_SAMPLE_SECONDS; the first one: its interval).
   */
  recordNode(host: string, snap: NodeSnapshot, nowMs: number): void {
    const prev = this.lastNodeMs.get(host);
    this.lastNodeMs.set(host, nowMs);
    const seconds = Math.min(MAX_SAMPLE_SECONDS, prev !== undefined && nowMs > prev ? (nowMs - prev) / 1000 : snap.interval_seconds);
    const gpuUp = this.cached('gpu', `INSERT INTO gpu_samples (host, gpu, resolution_seconds, bucket_ms, n, util_sum, util_n, mem_used_sum, mem_total_bytes)
      VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)
      ON CONFLICT(host, gpu, resolution_seconds, bucket_ms) DO UPDATE SET n = n + 1, util_sum = util_sum + excluded.util_sum,
        util_n = util_n + excluded.util_n, mem_used_sum = mem_used_sum + excluded.mem_used_sum, mem_total_bytes = excluded.mem_total_bytes`);
    const usage = new Map<string, { cores: number; gpus: number; mem: number }>();
    const add = (user: string, k: 'cores' | 'gpus' | 'mem', v: number) => {
      const u = usage.get(user) ?? { cores: 0, gpus: 0, mem: 0 };
      u[k] += v;
      usage.set(user, u);
    };
    for (const p of snap.busy) {
      if (p.cpu_pct !== null && p.cpu_pct > 0) add(p.user, 'cores', p.cpu_pct / 100);
      add(p.user, 'mem', p.rss_bytes);
    }
    this.db.transaction(() => {
      for (const g of snap.gpus ?? []) {
        for (const res of SAMPLE_RESOLUTIONS_SECONDS) {
          gpuUp.run(host, g.index, res, bucketOf(nowMs, res), g.util_pct ?? 0, g.util_pct === null ? 0 : 1, g.mem_used_bytes ?? 0, g.mem_total_bytes ?? 0);
        }
        // A GPU held by several users is shared between them.
        const holders = [...new Set(g.procs.map((p) => p.user).filter((u): u is string => !!u))];
        for (const u of holders) add(u, 'gpus', 1 / holders.length);
      }
      this.addUsage(usage, 'nodes', nowMs, seconds);
    })();
  }

  /** Once per hub pass: each node's state now, counted in its minute and hour buckets. */
  recordStates(states: { host: string; state: HistoryState; cpus: number; memTotal: number; gpus: number }[], nowMs: number): void {
    const col = { fresh: 'fresh_n', stale: 'stale_n', down: 'down_n' } as const;
    const stmts = Object.fromEntries(
      (Object.keys(col) as HistoryState[]).map((s) => [
        s,
        this.cached(`state:${s}`, `INSERT INTO node_samples (host, resolution_seconds, bucket_ms, n, load1_sum, load5_sum, load1_max, cpus,
            cpu_busy_sum, cpu_busy_n, mem_used_sum, mem_total_bytes, gpu_util_sum, gpu_util_n, gpu_mem_used_sum, gpu_mem_total_bytes, gpus, users_max, ${col[s]})
          VALUES (?, ?, ?, 0, 0, 0, 0, ?, 0, 0, 0, ?, 0, 0, 0, 0, ?, 0, 1)
          ON CONFLICT(host, resolution_seconds, bucket_ms) DO UPDATE SET ${col[s]} = ${col[s]} + 1`),
      ]),
    ) as Record<HistoryState, Statement<unknown[]>>;
    this.db.transaction(() => {
      for (const s of states) for (const res of SAMPLE_RESOLUTIONS_SECONDS) stmts[s.state].run(s.host, res, bucketOf(nowMs, res), s.cpus, s.memTotal, s.gpus);
    })();
  }

  /** One SLURM view (after sinfo/squeue answered): partitions, node states, users' running jobs. */
  recordSlurm(view: SlurmClusterView, nowMs: number): void {
    const prev = this.lastSlurmMs;
    this.lastSlurmMs = nowMs;
    const seconds = Math.min(MAX_SAMPLE_SECONDS, prev !== null && nowMs > prev ? (nowMs - prev) / 1000 : 60);
    const part = this.cached('slurm', `INSERT INTO slurm_samples (partition, resolution_seconds, bucket_ms, n, idle_sum, mixed_sum, allocated_sum, down_sum,
        cpus_alloc_sum, cpus_total, gpus_alloc_sum, gpus_total, jobs_running_sum, jobs_pending_sum)
      VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(partition, resolution_seconds, bucket_ms) DO UPDATE SET n = n + 1, idle_sum = idle_sum + excluded.idle_sum,
        mixed_sum = mixed_sum + excluded.mixed_sum, allocated_sum = allocated_sum + excluded.allocated_sum, down_sum = down_sum + excluded.down_sum,
        cpus_alloc_sum = cpus_alloc_sum + excluded.cpus_alloc_sum, cpus_total = excluded.cpus_total,
        gpus_alloc_sum = gpus_alloc_sum + excluded.gpus_alloc_sum, gpus_total = excluded.gpus_total,
        jobs_running_sum = jobs_running_sum + excluded.jobs_running_sum, jobs_pending_sum = jobs_pending_sum + excluded.jobs_pending_sum`);
    const nodeCols = { idle: 'idle_n', mixed: 'mixed_n', allocated: 'allocated_n', down: 'down_n' } as const;
    const nodeUp = Object.fromEntries(
      SLURM_HISTORY_STATES.map((s) => [
        s,
        this.cached(`slurm-node:${s}`, `INSERT INTO slurm_node_samples (node, resolution_seconds, bucket_ms, ${nodeCols[s]}) VALUES (?, ?, ?, 1)
          ON CONFLICT(node, resolution_seconds, bucket_ms) DO UPDATE SET ${nodeCols[s]} = ${nodeCols[s]} + 1`),
      ]),
    ) as Record<SlurmHistoryState, Statement<unknown[]>>;
    const stateOf = new Map(view.nodes.map((n) => [n.name, slurmHistoryState(n.state)]));
    const jobs = new Map<string, { running: number; pending: number }>();
    for (const j of view.jobs) {
      const phase = jobPhase(j.state);
      if (phase === 'other') continue;
      for (const p of (j.partition ?? '').split(',').filter(Boolean)) {
        const c = jobs.get(p) ?? { running: 0, pending: 0 };
        c[phase] += jobTasks(j);
        jobs.set(p, c);
      }
    }
    const usage = new Map<string, { cores: number; gpus: number; mem: number }>();
    for (const j of view.jobs) {
      if (jobPhase(j.state) !== 'running') continue;
      const u = usage.get(j.user) ?? { cores: 0, gpus: 0, mem: 0 };
      u.cores += j.cpus ?? 0;
      u.gpus += j.gpus;
      u.mem += (j.min_memory_bytes ?? 0) * Math.max(1, j.nodes ?? 1);
      usage.set(j.user, u);
    }
    this.db.transaction(() => {
      for (const p of view.partitions) {
        this.partitionNodes.set(p.name, p.nodes);
        const count: Record<SlurmHistoryState, number> = { idle: 0, mixed: 0, allocated: 0, down: 0 };
        for (const n of p.nodes) {
          const s = stateOf.get(n);
          if (s) count[s]++;
        }
        const j = jobs.get(p.name) ?? { running: 0, pending: 0 };
        for (const res of SAMPLE_RESOLUTIONS_SECONDS) {
          part.run(p.name, res, bucketOf(nowMs, res), count.idle, count.mixed, count.allocated, count.down, p.cpus_alloc, p.cpus_total, p.gpus_alloc, p.gpus_total, j.running, j.pending);
        }
      }
      for (const [node, s] of stateOf) if (s) for (const res of SAMPLE_RESOLUTIONS_SECONDS) nodeUp[s].run(node, res, bucketOf(nowMs, res));
      this.addUsage(usage, 'slurm', nowMs, seconds);
    })();
  }

  private addUsage(usage: Map<string, { cores: number; gpus: number; mem: number }>, source: 'nodes' | 'slurm', nowMs: number, seconds: number): void {
    const up = this.cached('usage', `INSERT INTO user_usage (user, source, bucket_ms, core_seconds, gpu_seconds, mem_byte_seconds) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(user, source, bucket_ms) DO UPDATE SET core_seconds = core_seconds + excluded.core_seconds,
        gpu_seconds = gpu_seconds + excluded.gpu_seconds, mem_byte_seconds = mem_byte_seconds + excluded.mem_byte_seconds`);
    const hour = bucketOf(nowMs, 3600);
    for (const [user, u] of usage) up.run(user, source, hour, u.cores * seconds, u.gpus * seconds, u.mem * seconds);
  }

  /** Drop rows older than their resolution's retention (user usage: as long as hour samples). */
  prune(nowMs: number, keepMs: Record<SampleResolution, number>): number {
    let n = 0;
    for (const t of ['gpu_samples', 'slurm_samples', 'slurm_node_samples']) {
      const del = this.db.prepare(`DELETE FROM ${t} WHERE resolution_seconds = ? AND bucket_ms < ?`);
      for (const res of SAMPLE_RESOLUTIONS_SECONDS) n += del.run(res, nowMs - keepMs[res]).changes;
    }
    n += this.db.prepare('DELETE FROM user_usage WHERE bucket_ms < ?').run(nowMs - keepMs[3600]).changes;
    return n;
  }

  /** Every node's `metric` per bucket of `r` (hosts: only those; else every node the hub knows). */
  nodes(metric: NodeMetric, r: HistoryRange, hosts?: readonly string[]): NodeHistory {
    const times = timesOf(r);
    const value = {
      cpu: ['SUM(cpu_busy_sum * cpus) / 100.0 / NULLIF(SUM(cpu_busy_n), 0)', 'MAX(cpus)'],
      load: ['SUM(load1_sum) / NULLIF(SUM(n), 0)', 'MAX(cpus)'],
      mem: ['SUM(mem_used_sum) / NULLIF(SUM(n), 0)', 'MAX(mem_total_bytes)'],
      gpu: ['SUM(gpu_util_sum * gpus) / 100.0 / NULLIF(SUM(gpu_util_n), 0)', 'MAX(gpus)'],
      gpu_mem: ['SUM(gpu_mem_used_sum) / NULLIF(SUM(n), 0)', 'MAX(gpu_mem_total_bytes)'],
      users: ['CASE WHEN SUM(n) > 0 THEN MAX(users_max) END', 'NULL'],
    }[metric];
    // One primary-key range per host (host, resolution, bucket): rows come in bucket order, and a
    // week of 100 nodes reads no row outside the answer.
    const stmt = this.cached(`nodes:${metric}`, `SELECT (bucket_ms / @step) * @step AS b, ${value[0]} AS used, ${value[1]} AS capacity,
        SUM(fresh_n) AS f, SUM(stale_n) AS s, SUM(down_n) AS d, SUM(n) AS n
      FROM node_samples WHERE host = @host AND resolution_seconds = @res AND bucket_ms >= @since AND bucket_ms < @until
      GROUP BY b ORDER BY b`);
    const index = new Map(times.map((t, i) => [t, i]));
    const names = hosts ?? (this.cached('hosts', 'SELECT host FROM nodes ORDER BY host').pluck().all() as string[]);
    const out: HostSeries[] = [];
    for (const host of names) {
      const rows = stmt.all({ host, step: r.stepMs, res: r.resolution, since: r.sinceMs, until: r.untilMs }) as { b: number; used: number | null; capacity: number | null; f: number; s: number; d: number; n: number }[];
      if (!rows.length) continue;
      const h: HostSeries = { host, used: times.map(() => null), capacity: times.map(() => null), state: times.map(() => null) };
      for (const row of rows) {
        const i = index.get(row.b);
        if (i === undefined) continue;
        h.used[i] = row.used;
        h.capacity[i] = metric === 'gpu' && !row.capacity ? null : row.capacity;
        // The state held most in the bucket; a bucket with samples but no state count (an older hub) is fresh.
        h.state[i] = row.d >= row.s && row.d >= row.f && row.d > 0 ? 'down' : row.s > row.f ? 'stale' : row.f > 0 || row.n > 0 ? 'fresh' : null;
      }
      out.push(h);
    }
    return { ...r, times, hosts: out };
  }

  /** Each GPU per bucket of `r` (hosts: only theirs), along the primary key (host, gpu, resolution, bucket). */
  gpus(r: HistoryRange, hosts?: readonly string[]): GpuHistory {
    const times = timesOf(r);
    const index = new Map(times.map((t, i) => [t, i]));
    const stmt = this.cached('gpus', `SELECT gpu, (bucket_ms / @step) * @step AS b, SUM(util_sum) / NULLIF(SUM(util_n), 0) AS util,
        SUM(mem_used_sum) / NULLIF(SUM(n), 0) AS mem, MAX(mem_total_bytes) AS total
      FROM gpu_samples WHERE host = @host AND resolution_seconds = @res AND bucket_ms >= @since AND bucket_ms < @until
      GROUP BY gpu, b ORDER BY gpu, b`);
    const names = hosts ?? (this.cached('hosts', 'SELECT host FROM nodes ORDER BY host').pluck().all() as string[]);
    const out: GpuHistory['gpus'] = [];
    for (const host of names) {
      const rows = stmt.all({ host, step: r.stepMs, res: r.resolution, since: r.sinceMs, until: r.untilMs }) as { gpu: number; b: number; util: number | null; mem: number | null; total: number | null }[];
      let cur: GpuHistory['gpus'][number] | undefined;
      for (const row of rows) {
        if (!cur || cur.gpu !== row.gpu) out.push((cur = { host, gpu: row.gpu, util: times.map(() => null), mem_used: times.map(() => null), mem_total: times.map(() => null) }));
        const i = index.get(row.b);
        if (i === undefined) continue;
        cur.util[i] = row.util === null ? null : Math.round(row.util * 10) / 10;
        cur.mem_used[i] = row.mem;
        cur.mem_total[i] = row.total;
      }
    }
    return { ...r, times, gpus: out };
  }

  /** SLURM partitions (only `partition` when given) and node states per bucket of `r`. */
  slurm(r: HistoryRange, partition?: string): SlurmHistory {
    const times = timesOf(r);
    const index = new Map(times.map((t, i) => [t, i]));
    const params = { step: r.stepMs, res: r.resolution, since: r.sinceMs, until: r.untilMs };
    const rows = this.db
      .prepare(`SELECT partition, (bucket_ms / @step) * @step AS b, SUM(n) AS n, SUM(idle_sum) AS idle, SUM(mixed_sum) AS mixed,
          SUM(allocated_sum) AS allocated, SUM(down_sum) AS down, SUM(cpus_alloc_sum) AS ca, MAX(cpus_total) AS ct,
          SUM(gpus_alloc_sum) AS ga, MAX(gpus_total) AS gt, SUM(jobs_running_sum) AS jr, SUM(jobs_pending_sum) AS jp
        FROM slurm_samples WHERE resolution_seconds = @res AND bucket_ms >= @since AND bucket_ms < @until
        GROUP BY partition, b ORDER BY partition, b`)
      .all(params) as (Record<string, number> & { partition: string })[];
    const parts = new Map<string, PartitionSeries>();
    const empty = () => times.map(() => null as number | null);
    for (const row of rows) {
      if (partition && row.partition !== partition) continue;
      let p = parts.get(row.partition);
      if (!p) {
        p = { partition: row.partition, nodes: { idle: empty(), mixed: empty(), allocated: empty(), down: empty() }, cpus_alloc: empty(), cpus_total: empty(), gpus_alloc: empty(), gpus_total: empty(), jobs_running: empty(), jobs_pending: empty() };
        parts.set(row.partition, p);
      }
      const i = index.get(row.b!);
      if (i === undefined || !row.n) continue;
      for (const s of SLURM_HISTORY_STATES) p.nodes[s][i] = row[s]! / row.n;
      p.cpus_alloc[i] = row.ca! / row.n;
      p.cpus_total[i] = row.ct!;
      p.gpus_alloc[i] = row.ga! / row.n;
      p.gpus_total[i] = row.gt!;
      p.jobs_running[i] = row.jr! / row.n;
      p.jobs_pending[i] = row.jp! / row.n;
    }
    const nodeRows = this.db
      .prepare(`SELECT node, (bucket_ms / @step) * @step AS b, SUM(idle_n) AS idle, SUM(mixed_n) AS mixed, SUM(allocated_n) AS allocated, SUM(down_n) AS down
        FROM slurm_node_samples WHERE resolution_seconds = @res AND bucket_ms >= @since AND bucket_ms < @until
        GROUP BY node, b ORDER BY node, b`)
      .all(params) as (Record<SlurmHistoryState, number> & { node: string; b: number })[];
    const inPartition = partition ? new Set(this.partitionNodes.get(partition) ?? []) : null;
    const nodes = new Map<string, (SlurmHistoryState | null)[]>();
    for (const row of nodeRows) {
      if (inPartition && !inPartition.has(row.node)) continue;
      let s = nodes.get(row.node);
      if (!s) nodes.set(row.node, (s = times.map(() => null)));
      const i = index.get(row.b);
      if (i === undefined) continue;
      let best: SlurmHistoryState | null = null;
      // Ties go to the worse state (down over allocated over mixed over idle): what a person must see.
      for (const st of ['down', 'allocated', 'mixed', 'idle'] as const) if (row[st] > 0 && (best === null || row[st] > row[best])) best = st;
      s[i] = best;
    }
    return { ...r, times, partitions: [...parts.values()], nodes: [...nodes].map(([node, state]) => ({ node, state })) };
  }

  /** flurm jobs running in each bucket and ended in it, by result (at most 100,000 jobs read). */
  jobs(r: HistoryRange): JobsHistory {
    const times = timesOf(r);
    const running = times.map(() => 0);
    const ended: Record<JobResult, number[]> = { succeeded: times.map(() => 0), failed: times.map(() => 0), other: times.map(() => 0) };
    const rows = this.db
      .prepare(`SELECT start_ts, end_ts, state FROM jobs WHERE (start_ts IS NULL OR start_ts < ?) AND (end_ts IS NULL OR end_ts >= ?) LIMIT 100000`)
      .all(new Date(r.untilMs).toISOString(), new Date(r.sinceMs).toISOString()) as { start_ts: string | null; end_ts: string | null; state: string }[];
    const at = (ms: number) => Math.floor((ms - r.sinceMs) / r.stepMs);
    for (const j of rows) {
      const start = j.start_ts ? Date.parse(j.start_ts) : NaN;
      const end = j.end_ts ? Date.parse(j.end_ts) : NaN;
      if (j.state === 'running' && Number.isNaN(end)) {
        for (let i = Math.max(0, Number.isNaN(start) ? 0 : at(start)); i < times.length; i++) running[i]!++;
        continue;
      }
      if (Number.isNaN(end)) continue;
      const from = Number.isNaN(start) ? at(end) : at(start);
      const to = at(end);
      for (let i = Math.max(0, from); i <= Math.min(times.length - 1, to); i++) running[i]!++;
      if (to >= 0 && to < times.length) ended[jobResult(j.state)][to]!++;
    }
    return { ...r, times, running, ended };
  }

  /** Jobs that ended between two times, with what a report needs (at most `limit`). */
  endedJobs(sinceMs: number, untilMs: number, limit = 20_000): { user: string; state: string; exit: number | null; signal: string | null; tail: string[] }[] {
    const rows = this.db
      .prepare('SELECT user, state, exit, signal, tail_json FROM jobs WHERE end_ts >= ? AND end_ts < ? LIMIT ?')
      .all(new Date(sinceMs).toISOString(), new Date(untilMs).toISOString(), limit) as { user: string; state: string; exit: number | null; signal: string | null; tail_json: string | null }[];
    return rows.map((r) => ({ user: r.user, state: r.state, exit: r.exit, signal: r.signal, tail: parseTail(r.tail_json) }));
  }

  /** Each user's usage between two times (hour buckets overlapping them), most core-hours first. */
  usage(sinceMs: number, untilMs: number): UserUsage[] {
    const rows = this.db
      .prepare(`SELECT user, SUM(core_seconds) / 3600.0 AS core_hours, SUM(gpu_seconds) / 3600.0 AS gpu_hours,
          SUM(mem_byte_seconds) / 3600.0 / 1e9 AS mem_gb_hours,
          SUM(CASE WHEN source = 'slurm' THEN core_seconds ELSE 0 END) / 3600.0 AS slurm_core_hours,
          SUM(CASE WHEN source = 'slurm' THEN gpu_seconds ELSE 0 END) / 3600.0 AS slurm_gpu_hours
        FROM user_usage WHERE bucket_ms >= ? AND bucket_ms < ? GROUP BY user ORDER BY core_hours DESC, user`)
      .all(bucketOf(sinceMs, 3600), untilMs) as UserUsage[];
    return rows;
  }
}
