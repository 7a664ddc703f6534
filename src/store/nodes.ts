// Nodes in the index: the latest snapshot of each host with the hub's conclusions (down, idle
// since), the history samples behind the charts (1-minute and 1-hour averages, downsampled as they
// are written and pruned by age), and the alert state that gives alerts hysteresis and a cool-down
// across restarts.
import type { Statement } from 'better-sqlite3';
import type { NodeSnapshot } from '../model/snapshot.js';
import type { Db } from './db.js';
import { snapshotUsers } from '../model/node-facts.js';

export interface NodeRow {
  host: string;
  seq: number;
  snapshot: NodeSnapshot;
  writer_uid: number | null;
  changed_ms: number;
  idle_since_ms: number | null;
  down: boolean;
  problem: string | null;
}

/** One point of a node's history: averages over the bucket. */
export interface NodeSample {
  bucket_ms: number;
  resolution_seconds: number;
  samples: number;
  load1: number;
  load5: number;
  load1_max: number;
  cpus: number;
  cpu_busy_pct: number | null;
  mem_used_bytes: number;
  mem_total_bytes: number;
  gpu_util_pct: number | null;
  gpu_mem_used_bytes: number;
  gpu_mem_total_bytes: number;
  gpus: number;
  users_max: number;
}

/** 1-minute, 10-minute and 1-hour buckets: a day's chart reads 10-minute ones, a week's hours. */
export const SAMPLE_RESOLUTIONS_SECONDS = [60, 600, 3600] as const;

export interface AlertRow {
  key: string;
  host: string;
  kind: string;
  active: boolean;
  fired_ms: number | null;
  cleared_ms: number | null;
}

export class NodeStore {
  private readonly upsertStmt: Statement;
  private readonly sampleStmt: Statement;
  private readonly alertGet: Statement;
  private readonly alertPut: Statement;

  constructor(private readonly db: Db) {
    this.upsertStmt = db.prepare(`
      INSERT INTO nodes (host, seq, snapshot_json, writer_uid, changed_ms, idle_since_ms, down, problem)
      VALUES (@host, @seq, @snapshot_json, @writer_uid, @changed_ms, @idle_since_ms, @down, NULL)
      ON CONFLICT(host) DO UPDATE SET seq = excluded.seq, snapshot_json = excluded.snapshot_json,
        writer_uid = excluded.writer_uid, changed_ms = excluded.changed_ms,
        idle_since_ms = excluded.idle_since_ms, down = excluded.down, problem = NULL`);
    this.sampleStmt = db.prepare(`
      INSERT INTO node_samples (host, resolution_seconds, bucket_ms, n, load1_sum, load5_sum, load1_max, cpus,
        cpu_busy_sum, cpu_busy_n, mem_used_sum, mem_total_bytes, gpu_util_sum, gpu_util_n, gpu_mem_used_sum,
        gpu_mem_total_bytes, gpus, users_max)
      VALUES (@host, @res, @bucket, 1, @load1, @load5, @load1, @cpus, @cpu, @cpu_n, @mem_used, @mem_total,
        @gpu_util, @gpu_util_n, @gpu_mem_used, @gpu_mem_total, @gpus, @users)
      ON CONFLICT(host, resolution_seconds, bucket_ms) DO UPDATE SET n = n + 1,
        load1_sum = load1_sum + excluded.load1_sum, load5_sum = load5_sum + excluded.load5_sum,
        load1_max = MAX(load1_max, excluded.load1_max), cpus = excluded.cpus,
        cpu_busy_sum = cpu_busy_sum + excluded.cpu_busy_sum, cpu_busy_n = cpu_busy_n + excluded.cpu_busy_n,
        mem_used_sum = mem_used_sum + excluded.mem_used_sum, mem_total_bytes = excluded.mem_total_bytes,
        gpu_util_sum = gpu_util_sum + excluded.gpu_util_sum, gpu_util_n = gpu_util_n + excluded.gpu_util_n,
        gpu_mem_used_sum = gpu_mem_used_sum + excluded.gpu_mem_used_sum,
        gpu_mem_total_bytes = excluded.gpu_mem_total_bytes, gpus = excluded.gpus,
        users_max = MAX(users_max, excluded.users_max)`);
    this.alertGet = db.prepare('SELECT * FROM alerts WHERE key = ?');
    this.alertPut = db.prepare(`
      INSERT INTO alerts (key, host, kind, active, fired_ms, cleared_ms) VALUES (@key, @host, @kind, @active, @fired_ms, @cleared_ms)
      ON CONFLICT(key) DO UPDATE SET active = excluded.active, fired_ms = excluded.fired_ms, cleared_ms = excluded.cleared_ms`);
  }

  all(): NodeRow[] {
    const rows = this.db.prepare('SELECT * FROM nodes ORDER BY host').all() as Record<string, unknown>[];
    const out: NodeRow[] = [];
    for (const r of rows) {
      try {
        out.push({
          host: r.host as string,
          seq: r.seq as number,
          snapshot: JSON.parse(r.snapshot_json as string) as NodeSnapshot,
          writer_uid: (r.writer_uid as number | null) ?? null,
          changed_ms: r.changed_ms as number,
          idle_since_ms: (r.idle_since_ms as number | null) ?? null,
          down: r.down === 1,
          problem: (r.problem as string | null) ?? null,
        });
      } catch {
        /* a row from a broken write: the next snapshot replaces it */
      }
    }
    return out;
  }

  save(row: Omit<NodeRow, 'problem'>): void {
    this.upsertStmt.run({
      host: row.host, seq: row.seq, snapshot_json: JSON.stringify(row.snapshot), writer_uid: row.writer_uid,
      changed_ms: row.changed_ms, idle_since_ms: row.idle_since_ms, down: row.down ? 1 : 0,
    });
  }

  setDown(host: string, down: boolean): void {
    this.db.prepare('UPDATE nodes SET down = ? WHERE host = ?').run(down ? 1 : 0, host);
  }

  setProblem(host: string, problem: string | null): void {
    this.db.prepare('UPDATE nodes SET problem = ? WHERE host = ?').run(problem, host);
  }

  /** Add one snapshot to the 1-minute and 1-hour buckets it falls in (hub clock). */
  addSample(host: string, snap: NodeSnapshot, nowMs: number): void {
    const gpus = snap.gpus ?? [];
    const utils = gpus.map((g) => g.util_pct).filter((u): u is number => u !== null);
    const base = {
      host,
      load1: snap.load[0],
      load5: snap.load[1],
      cpus: snap.cpus,
      cpu: snap.cpu_busy_pct ?? 0,
      cpu_n: snap.cpu_busy_pct === null ? 0 : 1,
      mem_used: Math.max(0, snap.mem.total_bytes - snap.mem.available_bytes),
      mem_total: snap.mem.total_bytes,
      gpu_util: utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : 0,
      gpu_util_n: utils.length ? 1 : 0,
      gpu_mem_used: gpus.reduce((a, g) => a + (g.mem_used_bytes ?? 0), 0),
      gpu_mem_total: gpus.reduce((a, g) => a + (g.mem_total_bytes ?? 0), 0),
      gpus: gpus.length,
      users: snapshotUsers(snap).length,
    };
    for (const res of SAMPLE_RESOLUTIONS_SECONDS) {
      const step = res * 1000;
      this.sampleStmt.run({ ...base, res, bucket: Math.floor(nowMs / step) * step });
    }
  }

  /** Drop samples older than their resolution's retention. */
  prune(nowMs: number, keepMs: Record<(typeof SAMPLE_RESOLUTIONS_SECONDS)[number], number>): number {
    let n = 0;
    const del = this.db.prepare('DELETE FROM node_samples WHERE resolution_seconds = ? AND bucket_ms < ?');
    for (const res of SAMPLE_RESOLUTIONS_SECONDS) n += del.run(res, nowMs - keepMs[res]).changes;
    return n;
  }

  history(host: string, opts: { resolutionSeconds: number; sinceMs: number; limit?: number }): NodeSample[] {
    const rows = this.db
      .prepare('SELECT * FROM node_samples WHERE host = ? AND resolution_seconds = ? AND bucket_ms >= ? ORDER BY bucket_ms LIMIT ?')
      .all(host, opts.resolutionSeconds, opts.sinceMs, Math.min(opts.limit ?? 10_000, 100_000)) as Record<string, number>[];
    return rows.map((r) => ({
      bucket_ms: r.bucket_ms!,
      resolution_seconds: r.resolution_seconds!,
      samples: r.n!,
      load1: r.load1_sum! / r.n!,
      load5: r.load5_sum! / r.n!,
      load1_max: r.load1_max!,
      cpus: r.cpus!,
      cpu_busy_pct: r.cpu_busy_n ? r.cpu_busy_sum! / r.cpu_busy_n : null,
      mem_used_bytes: r.mem_used_sum! / r.n!,
      mem_total_bytes: r.mem_total_bytes!,
      gpu_util_pct: r.gpu_util_n ? r.gpu_util_sum! / r.gpu_util_n : null,
      gpu_mem_used_bytes: r.gpu_mem_used_sum! / r.n!,
      gpu_mem_total_bytes: r.gpu_mem_total_bytes!,
      gpus: r.gpus!,
      users_max: r.users_max!,
    }));
  }

  alert(key: string): AlertRow | undefined {
    const r = this.alertGet.get(key) as (Omit<AlertRow, 'active'> & { active: number }) | undefined;
    return r ? { ...r, active: r.active === 1 } : undefined;
  }

  putAlert(a: AlertRow): void {
    this.alertPut.run({ ...a, active: a.active ? 1 : 0 });
  }
}
