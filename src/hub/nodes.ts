// The hub's view of the nodes: it reads <cluster dir>/nodes/<host>.json (bounded, no symlinks,
// no FIFOs), judges each node fresh / stale / down only by its `seq` changing on the hub's own
// monotonic clock (never by comparing the agent's clock with ours), keeps history samples, and
// raises what a user or the lab must hear: a node down and back, a job whose process vanished
// without an `end`, a job whose node went silent, and the threshold alerts of hub/alerts.ts.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BUSY_MIN_CPU_PCT, SNAPSHOT_MAX_BYTES, type NodeSnapshot } from '../model/snapshot.js';
import type { HubConfig } from '../config/schema.js';
import type { JobView } from '../model/job-view.js';
import type { NodeState, NodeView } from '../model/node-view.js';
import { snapshotUsers } from '../model/node-facts.js';
import { jobNodeDownMessage, nodeBackMessage, nodeDownMessage } from '../messages/alert-message.js';
import type { Message } from '../model/message.js';
import type { Logger } from '../lib/logger.js';
import { safeHostFileName } from '../lib/host.js';
import { Ticker } from '../lib/ticker.js';
import { inTransaction, type Db } from '../store/db.js';
import type { JobStore } from '../store/jobs.js';
import type { NodeStore } from '../store/nodes.js';
import { AlertRules } from './alerts.js';
import { parseSnapshot } from '../model/snapshot-schema.js';
import { readSmallFile, type SmallFile } from '../lib/small-file.js';
import { retentionOf, type HistoryStore } from '../store/history.js';

/** What the watcher asks the hub to send (the hub turns these into outbox rows). */
export interface NodeEventSink {
  jobVanished(job: JobView & { to: string[] }, reason: string): void;
  jobNodeDown(job: JobView & { to: string[] }, message: Message, keyBase: string): void;
  labAlert(keyBase: string, host: string, message: Message): void;
}

export interface NodeWatcherOptions {
  clusterDir: string;
  nodes: HubConfig['nodes'];
  alerts: HubConfig['alerts'];
  db: Db;
  store: NodeStore;
  /** The lab's history beyond node_samples (per GPU, states, users' usage); absent: not kept. */
  history?: HistoryStore;
  jobs: JobStore;
  sink: NodeEventSink;
  log: Logger;
  /** Only the active hub raises alerts and vanished jobs; a standby only watches. */
  isActive: () => boolean;
  /**
   * The host whose agent runs in this very process (`flurm up`): it is alive by construction, so
   * its first snapshot already counts as fresh.
   */
  inProcessHost?: string;
  /** Something the nodes answer shows changed: a snapshot accepted, a node's state (the dashboard's stream). */
  onChange?: () => void;
  /** Wall clock (history buckets, display) and monotonic clock (freshness). */
  now?: () => number;
  mono?: () => number;
}

/** At most this many node files are read per pass. */
const MAX_NODE_FILES = 5000;
/** Idle: no process at or above the busy CPU threshold, CPU below this, no GPU above 5 %. */
const IDLE_CPU_PCT = 10;
const IDLE_GPU_UTIL_PCT = 5;
const VANISHED_REASON = 'node rebooted or the wrapper was killed';

interface Tracked {
  host: string;
  file: string;
  seq: number;
  snapshot: NodeSnapshot;
  writerUid: number | null;
  /** Monotonic ms of the last seq change this process saw; null: none yet. */
  changedMono: number | null;
  /** Monotonic ms when this process started watching the node. */
  watchMono: number;
  /** Hub wall ms of the last seq change (persisted; display across restarts). */
  changedMs: number;
  /** Wall ms of the last change seen before this process started (a restart), else null. */
  priorChangedMs: number | null;
  idleSinceMs: number | null;
  down: boolean;
  state: NodeState;
  problem: string | null;
}

interface VanishWatch {
  host: string;
  misses: number;
  lastSeq: number;
  firstMissMono: number | null;
}

export class NodeWatcher {
  private readonly tracked = new Map<string, Tracked>();
  private readonly vanish = new Map<string, VanishWatch>();
  /** file → ino:size:mtime of its last read: an unchanged file is not read again. */
  private readonly stamps = new Map<string, string>();
  private readonly rules: AlertRules;
  private readonly now: () => number;
  private readonly mono: () => number;
  private readonly ticker: Ticker;
  private lastPruneMs = 0;
  private polling = false;

  constructor(private readonly o: NodeWatcherOptions) {
    this.now = o.now ?? Date.now;
    this.mono = o.mono ?? (() => performance.now());
    this.rules = new AlertRules(o.alerts, o.store);
    this.ticker = new Ticker({
      run: () => this.poll(),
      intervalMs: o.nodes.poll_interval_seconds * 1000,
      onError: (err) => this.o.log.error('node pass failed; will retry', { error: (err as Error).message }),
      unref: true,
    });
    const startMono = this.mono();
    for (const r of o.store.all()) {
      this.tracked.set(r.host, {
        host: r.host,
        file: path.join(this.dir, `${safeHostFileName(r.host)}.json`),
        seq: r.seq,
        snapshot: r.snapshot,
        writerUid: r.writer_uid,
        changedMono: null,
        watchMono: startMono,
        changedMs: r.changed_ms,
        priorChangedMs: r.changed_ms,
        idleSinceMs: r.idle_since_ms,
        down: r.down,
        state: r.down ? 'down' : 'waiting',
        problem: r.problem,
      });
    }
  }

  get dir(): string {
    return path.join(this.o.clusterDir, 'nodes');
  }

  start(): void {
    this.ticker.start(0);
  }

  /** Stop watching; resolves when a pass in progress has ended. */
  stop(): Promise<void> {
    return this.ticker.stop();
  }

  /** One pass: read changed files, judge every node, raise what must be raised. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.readAll();
      this.judgeAll();
      const now = this.now();
      this.recordStates(now);
      if (now - this.lastPruneMs > 10 * 60_000) {
        this.lastPruneMs = now;
        const keep = retentionOf(this.o.nodes);
        this.o.store.prune(now, keep);
        this.o.history?.prune(now, keep);
      }
    } catch (err) {
      this.o.log.error('node pass failed; will retry', { error: (err as Error).message });
    } finally {
      this.polling = false;
    }
  }

  private readAll(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.o.log.once('nodes-dir', 'warn', 'cannot list the nodes dir', { dir: this.dir, error: (err as Error).message });
      return;
    }
    if (names.length > MAX_NODE_FILES) {
      this.o.log.once('nodes-many', 'warn', `more than ${MAX_NODE_FILES} node files; reading the first ones only`, { dir: this.dir });
      names = names.sort().slice(0, MAX_NODE_FILES);
    }
    for (const name of names) this.readOne(path.join(this.dir, name), name);
  }

  private readOne(file: string, name: string): void {
    let read: SmallFile;
    try {
      read = readSmallFile(file, SNAPSHOT_MAX_BYTES, { unlessStamp: this.stamps.get(file) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // renamed away between readdir and open
      const msg = (err as Error).message;
      this.refuse(name, msg.startsWith(`${file} `) ? msg.slice(file.length + 1) : `cannot be read: ${msg}`);
      return;
    }
    const { text, stamp, uid } = read;
    if (text === null) return; // unchanged since the last read
    let snap: NodeSnapshot;
    try {
      snap = parseSnapshot(text);
    } catch (err) {
      this.refuse(name, `is not a valid snapshot: ${(err as Error).message}`);
      return;
    }
    if (`${safeHostFileName(snap.host)}.json` !== name) {
      this.refuse(name, `names host "${snap.host}", which does not match its file name`);
      return;
    }
    this.stamps.set(file, stamp);
    this.accept(file, uid, snap);
  }

  private refuse(name: string, why: string): void {
    this.o.log.once(`node-refused:${name}:${why}`, 'warn', `node file ${name} ${why}`, { dir: this.dir });
    const host = name.replace(/\.json$/, '');
    const t = this.tracked.get(host);
    if (t) {
      t.problem = `${name} ${why}`;
      this.o.store.setProblem(host, t.problem);
    }
  }

  private accept(file: string, uid: number, snap: NodeSnapshot): void {
    const mono = this.mono();
    const now = this.now();
    let t = this.tracked.get(snap.host);
    const isNew = !t;
    if (!t) {
      t = {
        host: snap.host, file, seq: snap.seq, snapshot: snap, writerUid: uid, changedMono: null, watchMono: mono,
        changedMs: now, priorChangedMs: null, idleSinceMs: null, down: false, state: 'waiting', problem: null,
      };
      this.tracked.set(snap.host, t);
    }
    t.problem = null;
    if (!isNew && snap.seq === t.seq) return;
    const firstChange = t.changedMono === null;
    const wasDown = t.down;
    const silentSeconds = t.changedMono !== null ? (mono - t.changedMono) / 1000 : t.priorChangedMs !== null ? (now - t.priorChangedMs) / 1000 : null;
    t.seq = snap.seq;
    t.snapshot = snap;
    t.writerUid = uid;
    if (!isNew) {
      t.changedMono = mono;
      t.changedMs = now;
    }
    t.idleSinceMs = isIdle(snap) ? (t.idleSinceMs ?? now) : null;
    if (!isNew) t.down = false;
    this.o.store.save({ host: t.host, seq: t.seq, snapshot: snap, writer_uid: uid, changed_ms: t.changedMs, idle_since_ms: t.idleSinceMs, down: t.down });
    this.o.onChange?.();
    if (isNew && snap.host === this.o.inProcessHost) {
      t.changedMono = mono;
      t.changedMs = now;
    }
    if (isNew) return; // the first sight says nothing about freshness: wait for seq to change
    this.o.store.addSample(t.host, snap, now);
    this.o.history?.recordNode(t.host, snap, now);
    if (!this.o.isActive()) return;
    if (wasDown) this.nodeBack(t, silentSeconds);
    else if (firstChange) this.o.log.info('node reporting', { host: t.host, seq: t.seq });
    this.checkVanished(t);
    for (const a of this.rules.evaluate(t.host, snap, mono, now)) {
      this.o.log.warn('node alert', { host: a.host, kind: a.kind });
      this.o.sink.labAlert(a.keyBase, a.host, a.message);
    }
  }

  private nodeBack(t: Tracked, silentSeconds: number | null): void {
    const key = `${t.host}:down`;
    const state = this.o.store.alert(key);
    this.o.log.info('node reporting again', { host: t.host });
    if (state?.active) {
      this.o.store.putAlert({ ...state, active: false, cleared_ms: this.now() });
      if (this.o.alerts.node_down) this.o.sink.labAlert(`alert:${t.host}:back:${t.seq}`, t.host, nodeBackMessage(t.host, silentSeconds, t.snapshot));
    }
  }

  private thresholds(t: Tracked): { staleMs: number; downMs: number } {
    const interval = t.snapshot.interval_seconds;
    const n = this.o.nodes;
    return {
      staleMs: interval * n.stale_after_intervals * 1000,
      downMs: Math.max(interval * n.down_after_intervals, n.min_down_after_seconds) * 1000,
    };
  }

  /** Each known node's state in this pass, for the history (a node still waiting counts nowhere). */
  private recordStates(now: number): void {
    if (!this.o.history) return;
    const states = [...this.tracked.values()]
      .filter((t): t is Tracked & { state: 'fresh' | 'stale' | 'down' } => t.state !== 'waiting')
      .map((t) => ({ host: t.host, state: t.state, cpus: t.snapshot.cpus, memTotal: t.snapshot.mem.total_bytes, gpus: t.snapshot.gpus?.length ?? 0 }));
    if (states.length) this.o.history.recordStates(states, now);
  }

  private judgeAll(): void {
    const mono = this.mono();
    for (const t of this.tracked.values()) {
      const { staleMs, downMs } = this.thresholds(t);
      const since = t.changedMono ?? t.watchMono;
      const silentMs = mono - since;
      let state: NodeState;
      if (silentMs >= downMs) state = 'down';
      else if (t.changedMono === null) state = t.down ? 'down' : 'waiting';
      else state = silentMs >= staleMs ? 'stale' : 'fresh';
      if (state !== t.state) this.o.onChange?.();
      t.state = state;
      if (state === 'down' && !t.down) this.nodeDown(t, silentMs / 1000);
    }
  }

  private nodeDown(t: Tracked, silentSeconds: number): void {
    if (!this.o.isActive()) return;
    t.down = true;
    this.o.store.setDown(t.host, true);
    this.rules.reset(t.host);
    const running = this.o.jobs.runningOn(t.host);
    this.o.log.warn('node stopped reporting', { host: t.host, silent_seconds: Math.round(silentSeconds), running_jobs: running.length });
    if (this.o.alerts.node_down) {
      const key = `${t.host}:down`;
      const state = this.o.store.alert(key);
      const now = this.now();
      const cooled = !state?.fired_ms || now - state.fired_ms >= this.o.alerts.cooldown_minutes * 60_000;
      if (cooled) {
        this.o.store.putAlert({ key, host: t.host, kind: 'node-down', active: true, fired_ms: now, cleared_ms: null });
        this.o.sink.labAlert(`alert:${t.host}:down:${t.seq}`, t.host, nodeDownMessage(t.host, silentSeconds, running.length));
      }
    }
    for (const job of running) this.o.sink.jobNodeDown(job, jobNodeDownMessage(job, silentSeconds), `${job.id}:nodedown`);
  }

  /**
   * A running job is gone when its (pid, start) is missing from `vanish_after_snapshots`
   * successive snapshots taken after the hub first checked it, and stays missing for the grace
   * period (an `end` still on its way through NFS wins: the job is re-read before it is marked).
   */
  private checkVanished(t: Tracked): void {
    const snap = t.snapshot;
    const jobs = this.o.jobs.runningOn(t.host);
    const live = new Set(jobs.length ? snap.pids.map(([pid, start]) => `${pid}:${start}`) : []);
    const livePids = new Set(jobs.length ? snap.pids.map(([pid]) => pid) : []);
    const mono = this.mono();
    const seen = new Set<string>();
    for (const job of jobs) {
      if (!job.pid) continue;
      seen.add(job.id);
      if (snap.pids_visible === 'own' && job.user !== snap.agent.user) continue;
      const known = job.pidStart && job.pidStart !== '0';
      const alive = known ? live.has(`${job.pid}:${job.pidStart}`) : livePids.has(job.pid);
      let w = this.vanish.get(job.id);
      if (!w) {
        w = { host: t.host, misses: 0, lastSeq: snap.seq, firstMissMono: null };
        // The first check may see a snapshot sampled before the job started: it does not count.
        this.vanish.set(job.id, w);
        continue;
      }
      if (snap.seq === w.lastSeq) continue;
      w.lastSeq = snap.seq;
      if (alive || snap.pids_truncated) {
        w.misses = 0;
        w.firstMissMono = null;
        continue;
      }
      w.misses++;
      w.firstMissMono ??= mono;
      if (w.misses < this.o.nodes.vanish_after_snapshots) continue;
      if (mono - w.firstMissMono < this.o.nodes.vanish_grace_seconds * 1000) continue;
      const marked = inTransaction(this.o.db, () => {
        const j = this.o.jobs.markVanished(job.id);
        if (j) this.o.sink.jobVanished(j, VANISHED_REASON);
        return j;
      });
      this.vanish.delete(job.id);
      if (marked) this.o.log.warn('job vanished', { id: job.id, user: job.user, host: t.host, pid: job.pid });
    }
    // Jobs of this host that ended (or were marked) stop being watched.
    for (const id of this.vanishByHost(t.host)) if (!seen.has(id)) this.vanish.delete(id);
  }

  private vanishByHost(host: string): string[] {
    return [...this.vanish.entries()].filter(([, w]) => w.host === host).map(([id]) => id);
  }

  /**
   * Every node as the command layer sees it. The (pid, start) list is the hub's own business and
   * is left out; `busyLimit` keeps only the N busiest processes (status and best need none).
   */
  views(opts: { busyLimit?: number } = {}): NodeView[] {
    const mono = this.mono();
    const now = this.now();
    const byHost = new Map<string, JobView[]>();
    for (const j of this.o.jobs.running()) {
      const { to: _to, ...view } = j;
      const list = byHost.get(j.host) ?? [];
      list.push(view);
      byHost.set(j.host, list);
    }
    return [...this.tracked.values()]
      .sort((a, b) => a.host.localeCompare(b.host))
      .map((t) => {
        const s = t.snapshot;
        const limit = opts.busyLimit ?? Infinity;
        const view: NodeView = {
          host: t.host,
          state: t.state,
          age_seconds: t.changedMono !== null ? round1((mono - t.changedMono) / 1000) : t.priorChangedMs !== null && t.down ? round1((now - t.priorChangedMs) / 1000) : null,
          snapshot: { ...s, pids: [], busy: s.busy.length > limit ? s.busy.slice(0, limit) : s.busy },
          jobs: byHost.get(t.host) ?? [],
          idle_since: t.idleSinceMs === null ? null : new Date(t.idleSinceMs).toISOString(),
          active_users: snapshotUsers(s),
        };
        if (s.busy.length > limit) view.busy_omitted = s.busy.length - limit;
        if (t.problem) view.problem = t.problem;
        return view;
      });
  }

  summary(): Record<NodeState, number> {
    const s: Record<NodeState, number> = { fresh: 0, stale: 0, down: 0, waiting: 0 };
    for (const t of this.tracked.values()) s[t.state]++;
    return s;
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function isIdle(snap: NodeSnapshot): boolean {
  if ((snap.cpu_busy_pct ?? 0) >= IDLE_CPU_PCT) return false;
  if (snap.busy.some((p) => (p.cpu_pct ?? 0) >= BUSY_MIN_CPU_PCT)) return false;
  if ((snap.gpus ?? []).some((g) => (g.util_pct ?? 0) >= IDLE_GPU_UTIL_PCT)) return false;
  return true;
}
