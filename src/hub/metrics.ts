// GET /metrics (docs/metrics.md): the hub's own prom-client Registry — never prom-client's global
// default one, so two hubs in one process (tests) or a library user never share series. Every
// metric is read at scrape time by a collect() callback from what the hub already holds (node
// views, the SLURM view, the index), so nothing is kept twice and nothing drifts.
//
// Counters derived from the index (jobs finished, messages delivered / failed) are counts of rows
// "since the index began": a hub restart keeps them (the index survives), a rebuilt index starts
// them again from what it re-read — Prometheus sees that as a counter reset, never a double count.
// Names follow Prometheus' rules: base units (seconds, bytes, ratios 0–1), `_total` on counters
// only; no URL (URLs hold secrets) and no user name unless `[metrics] user_labels = true`.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Db } from '../store/db.js';
import type { NodeView } from '../model/node-view.js';
import { jobTasks, type SlurmClusterView } from '../model/slurm-view.js';
import { parseDestination } from '../notifiers/registry.js';

export interface MetricsSource {
  version: string;
  /** active: sends notifications; standby: ingests and watches only. */
  role(): 'active' | 'standby';
  /** When this hub process started (ms since the epoch). */
  startedMs: number;
  /** Agent nodes as /api/v1/nodes shows them; null without a cluster dir. */
  nodes(): NodeView[] | null;
  /** The SLURM view (null before the first poll); the function itself is null when SLURM is off (no SLURM series then). */
  slurm: (() => SlurmClusterView | null) | null;
  /** The index (read-only queries). */
  db: Db;
  /** The ingest loop's counters since start and what it follows now. */
  ingest(): { events: number; invalid: number; ticks: number; lastTickMs: number; spools: number; files: number; refused: number };
  /** `[metrics] user_labels`: label per-user series with the user name. */
  userLabels: boolean;
  now?: () => number;
}

export interface HubMetrics {
  registry: Registry;
  scrape(): Promise<{ contentType: string; body: string }>;
}

/**
 * Job states that are final: a job in one of these has ended and stays so. `vanished` is not one
 * of them: a late `end` turns a vanished job into succeeded/failed, which would make a counter go
 * down; vanished jobs are a gauge (flurm_jobs_vanished) instead.
 */
const FINISHED = ['succeeded', 'failed', 'unknown'] as const;
/** Outbox row states as the index keeps them. */
const OUTBOX_STATES = ['pending', 'sent', 'failed'] as const;
/** A collector name from an agent's file becomes a label only if it looks like one (bounded cardinality). */
const COLLECTOR_RE = /^[A-Za-z0-9_.-]{1,32}$/;
const MAX_COLLECTORS_PER_NODE = 32;
/** Lag is read from recent ends only: a backfill or a long-idle lab says nothing about now. */
const LAG_WINDOW_MS = 15 * 60_000;

/** The destination kind (notifier name: discord, slack, ntfy, email, json…) of a stored destination URL; never the URL. */
export function destKind(dest: string, cache?: Map<string, string>): string {
  const hit = cache?.get(dest);
  if (hit) return hit;
  let kind: string;
  try {
    kind = parseDestination(dest).kind;
  } catch {
    kind = 'unknown';
  }
  if (!/^[a-z0-9_-]{1,32}$/.test(kind)) kind = 'unknown';
  cache?.set(dest, kind);
  return kind;
}

export function createHubMetrics(src: MetricsSource): HubMetrics {
  const registry = new Registry();
  const now = src.now ?? Date.now;
  const registers = [registry];
  const kinds = new Map<string, string>();
  const userLabel = src.userLabels ? (['user'] as const) : ([] as const);

  // ---- the hub itself ----------------------------------------------------------------------
  new Gauge({
    name: 'flurm_build_info',
    help: 'Always 1; the flurm version of this hub as a label.',
    labelNames: ['version'],
    registers,
    collect() {
      this.reset();
      this.set({ version: src.version }, 1);
    },
  });
  new Gauge({
    name: 'flurm_hub_role',
    help: '1 for the role this hub has now (active: sends notifications and runs the bots; standby: ingests only), 0 for the other.',
    labelNames: ['role'],
    registers,
    collect() {
      const r = src.role();
      this.set({ role: 'active' }, r === 'active' ? 1 : 0);
      this.set({ role: 'standby' }, r === 'standby' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'flurm_hub_start_time_seconds',
    help: 'When this hub process started, seconds since the Unix epoch.',
    registers,
    collect() {
      this.set(src.startedMs / 1000);
    },
  });

  // prom-client calls collect() in registration order at each scrape (registry.metrics()), so the
  // first metric of a group reads the shared state (views, outbox counts, ingest stats, SLURM
  // view) once and the others of the group use it.

  // ---- agent nodes ---------------------------------------------------------------------------
  // One views() per scrape, shared by every node gauge: the first node gauge's collect() reads it.
  let views: NodeView[] = [];
  const nodeGauge = (name: string, help: string, labelNames: readonly string[], fill: (g: Gauge<string>, v: NodeView) => void, first = false) =>
    new Gauge({
      name,
      help,
      labelNames: ['host', ...labelNames],
      registers,
      collect() {
        if (first) views = src.nodes() ?? [];
        this.reset();
        for (const v of views) fill(this, v);
      },
    });
  const setIf = (g: Gauge<string>, labels: Record<string, string | number>, x: number | null | undefined) => {
    if (typeof x === 'number' && Number.isFinite(x)) g.set(labels, x);
  };
  // The node's state: fresh (seq changed lately: up), stale, down, or waiting (hub just started).
  nodeGauge('flurm_node_state', 'Always 1, for the node state the hub judges now: fresh, stale, down or waiting (no seq change seen yet since the hub started).', ['state'], (g, v) => g.set({ host: v.host, state: v.state }, 1), true);
  nodeGauge('flurm_node_up', '1 when the node\'s snapshot is fresh (its seq changed within stale_after), else 0.', [], (g, v) => g.set({ host: v.host }, v.state === 'fresh' ? 1 : 0));
  nodeGauge('flurm_node_snapshot_age_seconds', 'Seconds since the hub last saw the node\'s snapshot seq change (hub clock).', [], (g, v) => setIf(g, { host: v.host }, v.age_seconds));
  nodeGauge('flurm_node_load1', '1-minute load average of the node.', [], (g, v) => setIf(g, { host: v.host }, v.snapshot.load[0]));
  nodeGauge('flurm_node_load5', '5-minute load average of the node.', [], (g, v) => setIf(g, { host: v.host }, v.snapshot.load[1]));
  nodeGauge('flurm_node_load15', '15-minute load average of the node.', [], (g, v) => setIf(g, { host: v.host }, v.snapshot.load[2]));
  nodeGauge('flurm_node_cpus', 'CPUs (logical) of the node.', [], (g, v) => setIf(g, { host: v.host }, v.snapshot.cpus));
  nodeGauge('flurm_node_cpu_busy_ratio', 'Share of all the node\'s CPU time that was busy over the agent\'s sample window, 0–1.', [], (g, v) =>
    setIf(g, { host: v.host }, v.snapshot.cpu_busy_pct === null ? null : v.snapshot.cpu_busy_pct / 100),
  );
  nodeGauge('flurm_node_memory_size_bytes', 'Memory of the node (MemTotal), bytes.', [], (g, v) => setIf(g, { host: v.host }, v.snapshot.mem.total_bytes));
  nodeGauge('flurm_node_memory_available_bytes', 'Memory available to new work (MemAvailable), bytes.', [], (g, v) => setIf(g, { host: v.host }, v.snapshot.mem.available_bytes));
  nodeGauge('flurm_node_memory_used_bytes', 'Memory in use (MemTotal − MemAvailable), bytes.', [], (g, v) => setIf(g, { host: v.host }, v.snapshot.mem.total_bytes - v.snapshot.mem.available_bytes));
  nodeGauge('flurm_node_jobs_running', 'flurm jobs the index says are running on the node.', [], (g, v) => g.set({ host: v.host }, v.jobs.length));
  nodeGauge('flurm_node_gpu_utilization_ratio', 'GPU utilisation as nvidia-smi reports it, 0–1.', ['gpu'], (g, v) => {
    for (const x of v.snapshot.gpus ?? []) setIf(g, { host: v.host, gpu: x.index }, x.util_pct === null ? null : x.util_pct / 100);
  });
  nodeGauge('flurm_node_gpu_memory_used_bytes', 'GPU memory in use, bytes.', ['gpu'], (g, v) => {
    for (const x of v.snapshot.gpus ?? []) setIf(g, { host: v.host, gpu: x.index }, x.mem_used_bytes);
  });
  nodeGauge('flurm_node_gpu_memory_size_bytes', 'GPU memory of the GPU, bytes.', ['gpu'], (g, v) => {
    for (const x of v.snapshot.gpus ?? []) setIf(g, { host: v.host, gpu: x.index }, x.mem_total_bytes);
  });
  nodeGauge('flurm_node_gpu_temperature_celsius', 'GPU temperature, degrees Celsius.', ['gpu'], (g, v) => {
    for (const x of v.snapshot.gpus ?? []) setIf(g, { host: v.host, gpu: x.index }, x.temp_c);
  });
  nodeGauge('flurm_node_gpu_power_watts', 'GPU power draw, watts.', ['gpu'], (g, v) => {
    for (const x of v.snapshot.gpus ?? []) setIf(g, { host: v.host, gpu: x.index }, x.power_w);
  });
  nodeGauge('flurm_node_collector_up', '1 when the agent\'s collector worked in the latest snapshot, 0 when it failed (e.g. nvidia-smi without a driver).', ['collector'], (g, v) => {
    let n = 0;
    for (const [name, s] of Object.entries(v.snapshot.collectors ?? {})) {
      if (!COLLECTOR_RE.test(name) || ++n > MAX_COLLECTORS_PER_NODE) continue;
      g.set({ host: v.host, collector: name }, s.ok ? 1 : 0);
    }
  });
  nodeGauge('flurm_node_collector_duration_seconds', 'Wall seconds the agent\'s collector took in the latest snapshot.', ['collector'], (g, v) => {
    let n = 0;
    for (const [name, s] of Object.entries(v.snapshot.collectors ?? {})) {
      if (!COLLECTOR_RE.test(name) || ++n > MAX_COLLECTORS_PER_NODE) continue;
      setIf(g, { host: v.host, collector: name }, s.seconds);
    }
  });

  // ---- jobs (the index) ----------------------------------------------------------------------
  const db = src.db;
  const finishedSql = src.userLabels
    ? db.prepare(`SELECT state, user, COUNT(*) AS n FROM jobs WHERE state IN (${FINISHED.map(() => '?').join(',')}) GROUP BY state, user`)
    : db.prepare(`SELECT state, COUNT(*) AS n FROM jobs WHERE state IN (${FINISHED.map(() => '?').join(',')}) GROUP BY state`);
  new Counter({
    name: 'flurm_jobs_finished_total',
    help: 'Jobs that ended, by result (succeeded, failed, unknown: exit status not known), counted from the index since it began.',
    labelNames: ['result', ...userLabel],
    registers,
    collect() {
      this.reset();
      for (const r of FINISHED) if (!src.userLabels) this.inc({ result: r }, 0);
      for (const row of finishedSql.all(...FINISHED) as { state: string; user?: string; n: number }[]) {
        this.inc(src.userLabels ? { result: row.state, user: row.user! } : { result: row.state }, row.n);
      }
    },
  });
  // Jobs in one state now (a gauge: a vanished job may yet end), by user when configured.
  const jobsIn = (state: 'vanished' | 'running', name: string, help: string) => {
    const sql = src.userLabels
      ? db.prepare('SELECT user, COUNT(*) AS n FROM jobs WHERE state = ? GROUP BY user')
      : db.prepare('SELECT COUNT(*) AS n FROM jobs WHERE state = ?');
    new Gauge({
      name,
      help,
      labelNames: [...userLabel],
      registers,
      collect() {
        this.reset();
        if (!src.userLabels) this.set((sql.get(state) as { n: number }).n);
        else for (const row of sql.all(state) as { user: string; n: number }[]) this.set({ user: row.user }, row.n);
      },
    });
  };
  jobsIn('vanished', 'flurm_jobs_vanished', 'Jobs whose process disappeared without an end event (until a late end turns one into succeeded or failed).');
  jobsIn('running', 'flurm_jobs_running', 'Jobs the index says are running now (local and SLURM jobs flurm follows).');

  // ---- outbox (the index) --------------------------------------------------------------------
  // Grouped by the stored destination, then folded into its kind here: the URL never leaves.
  const outboxSql = db.prepare(`SELECT dest, status, COUNT(*) AS n FROM outbox GROUP BY dest, status`);
  let outbox = new Map<string, Record<(typeof OUTBOX_STATES)[number], number>>();
  const readOutbox = () => {
    outbox = new Map();
    for (const row of outboxSql.all() as { dest: string; status: string; n: number }[]) {
      const k = destKind(row.dest, kinds);
      let c = outbox.get(k);
      if (!c) outbox.set(k, (c = { pending: 0, sent: 0, failed: 0 }));
      if (row.status === 'pending' || row.status === 'sent' || row.status === 'failed') c[row.status] += row.n;
    }
  };
  new Gauge({
    name: 'flurm_outbox_pending',
    help: 'Notifications queued and not yet delivered, by destination kind.',
    labelNames: ['kind'],
    registers,
    collect() {
      readOutbox();
      this.reset();
      for (const [kind, c] of outbox) this.set({ kind }, c.pending);
    },
  });
  new Counter({
    name: 'flurm_outbox_delivered_total',
    help: 'Notifications delivered (or found already delivered by another hub\'s receipt), by destination kind, counted from the index since it began.',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      for (const [kind, c] of outbox) this.inc({ kind }, c.sent);
    },
  });
  new Counter({
    name: 'flurm_outbox_failed_total',
    help: 'Notifications given up on (permanent error, or retried past give_up_after_hours), by destination kind, counted from the index since it began.',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      for (const [kind, c] of outbox) this.inc({ kind }, c.failed);
    },
  });
  const disabledSql = db.prepare(`SELECT dest FROM dest_state WHERE disabled_reason IS NOT NULL`);
  new Gauge({
    name: 'flurm_outbox_disabled_destinations',
    help: 'Destinations the hub gave up on (401/404…) until a restart or a successful test, by kind.',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      for (const row of disabledSql.all() as { dest: string }[]) this.inc({ kind: destKind(row.dest, kinds) });
    },
  });

  // ---- ingest ---------------------------------------------------------------------------------
  const lagSql = db.prepare(`SELECT end_ts, seen_end_ms FROM jobs WHERE seen_end_ms >= ? AND end_ts IS NOT NULL ORDER BY seen_end_ms DESC LIMIT 1`);
  new Gauge({
    name: 'flurm_ingest_lag_seconds',
    help: 'For the latest job end seen in the last 15 minutes: hub time it was ingested minus the end event\'s own time (writer\'s clock, so it includes clock skew; at least 0). 0 when no job ended lately.',
    registers,
    collect() {
      const r = lagSql.get(now() - LAG_WINDOW_MS) as { end_ts: string; seen_end_ms: number } | undefined;
      const t = r ? Date.parse(r.end_ts) : NaN;
      this.set(r && Number.isFinite(t) ? Math.max(0, (r.seen_end_ms - t) / 1000) : 0);
    },
  });
  let ingest = src.ingest();
  new Counter({
    name: 'flurm_ingest_events_total',
    help: 'Spool events ingested by this hub process since it started.',
    registers,
    collect() {
      ingest = src.ingest();
      this.reset();
      this.inc(ingest.events);
    },
  });
  new Counter({
    name: 'flurm_ingest_invalid_lines_total',
    help: 'Spool lines refused as invalid by this hub process since it started.',
    registers,
    collect() {
      this.reset();
      this.inc(ingest.invalid);
    },
  });
  new Gauge({
    name: 'flurm_ingest_last_tick_duration_seconds',
    help: 'How long the ingest loop\'s latest round took, seconds.',
    registers,
    collect() {
      this.set(ingest.lastTickMs / 1000);
    },
  });
  new Gauge({
    name: 'flurm_ingest_files',
    help: 'Spool files the hub follows (followed) and refuses (refused: symlink, wrong owner…).',
    labelNames: ['state'],
    registers,
    collect() {
      this.set({ state: 'followed' }, ingest.files);
      this.set({ state: 'refused' }, ingest.refused);
    },
  });
  new Gauge({
    name: 'flurm_ingest_spools',
    help: 'User spools the hub reads.',
    registers,
    collect() {
      this.set(ingest.spools);
    },
  });

  // ---- SLURM ------------------------------------------------------------------------------------
  if (src.slurm) addSlurmMetrics(registry, src.slurm, src.userLabels);

  return {
    registry,
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/**
 * The SLURM series, from one SlurmClusterView per scrape (none at all when SLURM is off). Exported
 * so a fixture view can be checked without a hub.
 */
export function addSlurmMetrics(registry: Registry, view: () => SlurmClusterView | null, userLabels = false): void {
  const registers = [registry];
  let v: SlurmClusterView | null = null;
  new Gauge({
    name: 'flurm_slurm_up',
    help: '1 when the hub\'s latest SLURM commands (sinfo, squeue) worked, 0 when the latest failed or none answered yet.',
    registers,
    collect() {
      v = view();
      this.set(v && !v.problem && (v.sinfo_at || v.squeue_at) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'flurm_slurm_nodes',
    help: 'SLURM nodes by partition and base state as sinfo prints it (idle, mixed, allocated, down, drained…); a node in two partitions counts in each.',
    labelNames: ['partition', 'state'],
    registers,
    collect() {
      this.reset();
      if (!v) return;
      for (const n of v.nodes) for (const p of n.partitions) this.inc({ partition: p, state: n.state });
    },
  });
  const partitionGauge = (name: string, help: string, fill: (g: Gauge<string>, p: SlurmClusterView['partitions'][number]) => void) =>
    new Gauge({
      name,
      help,
      labelNames: ['partition', 'state'],
      registers,
      collect() {
        this.reset();
        if (!v) return;
        for (const p of v.partitions) fill(this, p);
      },
    });
  partitionGauge('flurm_slurm_cpus', 'CPU cores of a partition by state: allocated, idle, other (on nodes that are down, drained…); the sum is the partition\'s cores.', (g, p) => {
    g.set({ partition: p.name, state: 'allocated' }, p.cpus_alloc);
    g.set({ partition: p.name, state: 'idle' }, p.cpus_idle);
    g.set({ partition: p.name, state: 'other' }, Math.max(0, p.cpus_total - p.cpus_alloc - p.cpus_idle));
  });
  partitionGauge('flurm_slurm_gpus', 'GPUs of a partition by state: allocated, free (not allocated); the sum is the partition\'s GPUs.', (g, p) => {
    g.set({ partition: p.name, state: 'allocated' }, p.gpus_alloc);
    g.set({ partition: p.name, state: 'free' }, Math.max(0, p.gpus_total - p.gpus_alloc));
  });
  new Gauge({
    name: 'flurm_slurm_jobs',
    help: 'Jobs in the SLURM queue by partition (as squeue prints it, "a,b" for a job pending on two) and state (PENDING, RUNNING…); a pending array counts each task.',
    labelNames: ['partition', 'state', ...(userLabels ? ['user'] : [])],
    registers,
    collect() {
      this.reset();
      if (!v) return;
      for (const j of v.jobs) {
        const labels: Record<string, string> = { partition: j.partition ?? '', state: j.state };
        if (userLabels) labels.user = j.user;
        this.inc(labels, jobTasks(j));
      }
    },
  });
}
