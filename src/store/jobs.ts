// The jobs and notes tables: a job is built from its `start` and `end` events (either may come
// alone). Applying the same event twice changes nothing, so re-ingest is harmless.
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import type { EndEvent, NoteEvent, StartEvent } from '../spool/events.js';
import type { JobState, JobView } from '../model/job-view.js';

interface JobRow {
  id: string; user: string; host: string; state: JobState;
  title: string | null; cmd: string | null; cwd: string | null; pid: number | null; pid_start: string | null;
  start_ts: string | null; end_ts: string | null; exit: number | null; signal: string | null; exit_unknown: number;
  wall_seconds: number | null; cpu_seconds: number | null; peak_rss_bytes: number | null;
  tail_json: string | null; log: string | null; detached: number; attached: number; src: string | null;
  to_json: string | null; extra_json: string | null; seen_start_ms: number | null; seen_end_ms: number | null;
}

export function rowToJob(r: JobRow): JobView & { to: string[] } {
  return {
    id: r.id, user: r.user, host: r.host, state: r.state, title: r.title, cmd: r.cmd, cwd: r.cwd, pid: r.pid,
    startTs: r.start_ts, endTs: r.end_ts, exit: r.exit, signal: r.signal, exitUnknown: !!r.exit_unknown,
    wallSeconds: r.wall_seconds, cpuSeconds: r.cpu_seconds, peakRssBytes: r.peak_rss_bytes,
    tail: r.tail_json ? (JSON.parse(r.tail_json) as string[]) : null, log: r.log,
    detached: !!r.detached, attached: !!r.attached, src: r.src,
    to: r.to_json ? (JSON.parse(r.to_json) as string[]) : [],
    ...(r.src === 'slurm' ? { slurm: slurmOf(r.extra_json) } : {}),
  };
}

/** The SLURM facts kept in a SLURM job's extra_json (job id, and its final record once ended). */
function slurmOf(extraJson: string | null): JobView['slurm'] {
  if (!extraJson) return null;
  try {
    const e = JSON.parse(extraJson) as { slurm?: JobView['slurm']; slurm_final?: Record<string, unknown> };
    return e.slurm ? { ...e.slurm, ...(e.slurm_final ? { final: e.slurm_final } : {}) } : null;
  } catch {
    return null;
  }
}

export function endState(ev: Pick<EndEvent, 'exit' | 'signal' | 'exit_unknown'>): JobState {
  if (ev.exit_unknown) return 'unknown';
  if (ev.exit === 0 && !ev.signal) return 'succeeded';
  return 'failed';
}

const KNOWN_START = new Set(['v', 'type', 'id', 'ts', 'user', 'host', 'src', 'pid', 'pid_start', 'cwd', 'title', 'cmd', 'to', 'log', 'detached', 'attached']);

function extras(ev: Record<string, unknown>, known: Set<string>): string | null {
  const e: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ev)) if (!known.has(k)) e[k] = v;
  return Object.keys(e).length ? JSON.stringify(e) : null;
}

export class JobStore {
  private readonly getStmt: Statement;
  private readonly insertStart: Statement;
  private readonly insertEnd: Statement;
  private readonly insertNoteStmt: Statement;

  constructor(private readonly db: Db) {
    this.getStmt = db.prepare('SELECT * FROM jobs WHERE id = ?');
    this.insertStart = db.prepare(`
    INSERT INTO jobs (id, user, host, state, title, cmd, cwd, pid, pid_start, start_ts, log, detached, attached, src, to_json, extra_json, seen_start_ms)
    VALUES (@id, @user, @host, 'running', @title, @cmd, @cwd, @pid, @pid_start, @ts, @log, @detached, @attached, @src, @to_json, @extra_json, @seen)
    ON CONFLICT(id) DO UPDATE SET
      title = COALESCE(jobs.title, excluded.title), cmd = COALESCE(jobs.cmd, excluded.cmd), cwd = COALESCE(jobs.cwd, excluded.cwd),
      pid = COALESCE(jobs.pid, excluded.pid), pid_start = COALESCE(jobs.pid_start, excluded.pid_start),
      start_ts = COALESCE(jobs.start_ts, excluded.start_ts), log = COALESCE(jobs.log, excluded.log),
      to_json = COALESCE(jobs.to_json, excluded.to_json), seen_start_ms = COALESCE(jobs.seen_start_ms, excluded.seen_start_ms)
    WHERE jobs.user = excluded.user`);
    this.insertEnd = db.prepare(`
    INSERT INTO jobs (id, user, host, state, title, cmd, end_ts, exit, signal, exit_unknown, wall_seconds, cpu_seconds, peak_rss_bytes, tail_json, src, to_json, seen_end_ms)
    VALUES (@id, @user, @host, @state, @title, @cmd, @ts, @exit, @signal, @exit_unknown, @wall, @cpu, @rss, @tail, @src, @to_json, @seen)
    ON CONFLICT(id) DO UPDATE SET
      state = excluded.state, end_ts = excluded.end_ts, exit = excluded.exit, signal = excluded.signal,
      exit_unknown = excluded.exit_unknown, wall_seconds = excluded.wall_seconds, cpu_seconds = excluded.cpu_seconds,
      peak_rss_bytes = excluded.peak_rss_bytes, tail_json = excluded.tail_json,
      title = COALESCE(jobs.title, excluded.title), cmd = COALESCE(jobs.cmd, excluded.cmd),
      to_json = COALESCE(jobs.to_json, excluded.to_json), seen_end_ms = excluded.seen_end_ms
    WHERE jobs.user = excluded.user AND jobs.end_ts IS NULL
    RETURNING *`);
    this.insertNoteStmt = db.prepare(
    'INSERT OR IGNORE INTO notes (id, user, host, ts, title, message, seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  }

  get(id: string): (JobView & { to: string[] }) | undefined {
    const r = this.getStmt.get(id) as JobRow | undefined;
    return r ? rowToJob(r) : undefined;
  }

  /** Record a start. Returns false when the id belongs to another user (refused). */
  applyStart(ev: StartEvent, user: string, seenMs: number): boolean {
    // The upsert only touches a row of the same user: 0 changes means the id is someone else's.
    const res = this.insertStart.run({
      id: ev.id, user, host: ev.host, title: ev.title ?? null, cmd: ev.cmd ?? null, cwd: ev.cwd ?? null,
      pid: ev.pid ?? null, pid_start: ev.pid_start ?? null, ts: ev.ts, log: ev.log ?? null,
      detached: ev.detached ? 1 : 0, attached: ev.attached ? 1 : 0, src: ev.src ?? null,
      to_json: ev.to?.length ? JSON.stringify(ev.to) : null,
      extra_json: extras(ev, KNOWN_START), seen: seenMs,
    });
    return res.changes > 0;
  }

  /**
   * Record an end. Returns the job when this event ended it (first time), or undefined for a
   * duplicate end or an id owned by another user — so a job end notifies exactly once.
   */
  applyEnd(ev: EndEvent, user: string, seenMs: number): (JobView & { to: string[] }) | undefined {
    const row = this.insertEnd.get({
      id: ev.id, user, host: ev.host, state: endState(ev), title: ev.title ?? null, cmd: ev.cmd ?? null, ts: ev.ts,
      exit: ev.exit ?? null, signal: ev.signal ?? null, exit_unknown: ev.exit_unknown ? 1 : 0,
      wall: ev.wall_seconds ?? null, cpu: ev.cpu_seconds ?? null, rss: ev.peak_rss_bytes ?? null,
      tail: ev.tail ? JSON.stringify(ev.tail) : null, src: ev.src ?? null,
      to_json: ev.to?.length ? JSON.stringify(ev.to) : null, seen: seenMs,
    });
    return row ? rowToJob(row as JobRow) : undefined;
  }

  /** Returns true when the note is new. */
  applyNote(ev: NoteEvent, user: string, seenMs: number): boolean {
    return this.insertNoteStmt.run(ev.id, user, ev.host, ev.ts, ev.title ?? null, ev.message, seenMs).changes > 0;
  }

  /** The newest running legacy job of (user, host, pid): where a legacy "Finished" line belongs. */
  findOpenLegacy(user: string, host: string, pid: number): (JobView & { to: string[] }) | undefined {
    const r = this.db
      .prepare("SELECT * FROM jobs WHERE user = ? AND host = ? AND pid = ? AND src = 'legacy' AND end_ts IS NULL ORDER BY start_ts DESC LIMIT 1")
      .get(user, host, pid) as JobRow | undefined;
    return r ? rowToJob(r) : undefined;
  }

  /** Jobs the index says are running on `host`, with the (pid, pid_start) that identify them. */
  runningOn(host: string): (JobView & { to: string[]; pidStart: string | null })[] {
    // SLURM jobs are followed through SLURM (the poller), not through the node's process list.
    const rows = this.db.prepare("SELECT * FROM jobs WHERE host = ? AND state = 'running' AND end_ts IS NULL AND (src IS NULL OR src <> 'slurm') ORDER BY start_ts").all(host) as JobRow[];
    return rows.map((r) => ({ ...rowToJob(r), pidStart: r.pid_start }));
  }

  /** How many jobs of `user` the index says are running on `host`. */
  countRunning(user: string, host: string): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE user = ? AND host = ? AND state = 'running'").get(user, host) as { n: number }).n;
  }

  /** Every running job, for the node views. */
  running(limit = 10_000): (JobView & { to: string[] })[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE state = 'running' AND end_ts IS NULL ORDER BY start_ts LIMIT ?").all(limit) as JobRow[]).map(rowToJob);
  }

  /** Mark a running job vanished; returns it when this call did (once), undefined otherwise. */
  markVanished(id: string): (JobView & { to: string[] }) | undefined {
    const r = this.db.prepare("UPDATE jobs SET state = 'vanished' WHERE id = ? AND state = 'running' AND end_ts IS NULL RETURNING *").get(id) as JobRow | undefined;
    return r ? rowToJob(r) : undefined;
  }

  list(opts: { user?: string; running?: boolean; limit?: number; sinceTs?: string } = {}): (JobView & { to: string[] })[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.user) (where.push('user = ?'), args.push(opts.user));
    if (opts.running) where.push("state IN ('running', 'pending')");
    if (opts.sinceTs) (where.push('COALESCE(end_ts, start_ts) >= ?'), args.push(opts.sinceTs));
    const sql = `SELECT * FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY COALESCE(start_ts, end_ts) DESC LIMIT ?`;
    args.push(Math.min(Math.max(opts.limit ?? 50, 1), 10_000));
    return (this.db.prepare(sql).all(...args) as JobRow[]).map(rowToJob);
  }
}
