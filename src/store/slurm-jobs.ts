// The slurm_jobs table: what the hub's poller needs to follow a SLURM batch job from its `slurm`
// event to the `end` the hub makes from SLURM's final record. The job itself is a row of `jobs`
// (src 'slurm', state pending → running → succeeded/failed), so `flurm jobs`, routing, the outbox
// and receipts treat it like any other job. Everything here survives a hub restart: the poller
// resumes from the open rows, there is no per-job process to recover.
import type { Db } from './db.js';
import type { EndEvent, SlurmEvent } from '../spool/events.js';
import type { JobStore } from './jobs.js';
import type { JobView } from '../model/job-view.js';
import { firstNode } from '../schedulers/slurm/fields.js';

export interface SlurmJobRow {
  id: string;
  user: string;
  owner_uid: number | null;
  job_id: string;
  cluster: string;
  array_spec: string | null;
  tasks: number | null;
  name: string | null;
  partition: string | null;
  work_dir: string | null;
  output: string | null;
  error: string | null;
  slurm_state: string | null;
  node_list: string | null;
  info_json: string | null;
  registered_ms: number;
  left_queue_ms: number | null;
  final_attempts: number;
  next_final_ms: number | null;
  silent: number;
  done: number;
}

export type RegisterResult = 'new' | 'duplicate' | 'foreign';

/** What the poller learned from squeue about a job still in the queue. */
export interface QueueUpdate {
  /** SLURM state (long name) of the job, or the array's most advanced state. */
  state: string;
  /** flurm's view: pending until any part runs. */
  jobState: 'pending' | 'running';
  nodeList: string | null;
  /** Facts for views and the final message (partition, cpus, memory, limits); small JSON. */
  info?: Record<string, unknown>;
  /** When the job started running (ISO, SLURM's clock), if it has. */
  startTs?: string | null;
}

export class SlurmJobStore {
  constructor(private readonly db: Db, private readonly jobs: JobStore) {}

  /**
   * Record a `slurm` event: the job row (pending) and the poller's row, in the caller's
   * transaction. A second registration of the same SLURM job by the same user (`flurm submit`
   * then `flurm watch --slurm`) is a duplicate: one job, one message.
   */
  register(ev: SlurmEvent, user: string, seenMs: number, opts: { silent?: boolean; uid?: number } = {}): RegisterResult {
    const cluster = ev.slurm.cluster ?? '';
    const existing = this.db
      .prepare('SELECT id FROM slurm_jobs WHERE user = ? AND cluster = ? AND job_id = ?')
      .get(user, cluster, ev.slurm.job_id) as { id: string } | undefined;
    if (existing) return 'duplicate';
    const owner = this.db.prepare('SELECT user FROM jobs WHERE id = ?').get(ev.id) as { user: string } | undefined;
    if (owner && owner.user !== user) return 'foreign';
    if (owner) return 'duplicate';
    const extra = { slurm: { job_id: ev.slurm.job_id, cluster: ev.slurm.cluster ?? null, array: ev.slurm.array ?? null, tasks: ev.slurm.tasks ?? null } };
    this.db
      .prepare(
        `INSERT INTO jobs (id, user, host, state, title, cmd, cwd, start_ts, log, detached, attached, src, to_json, extra_json, seen_start_ms)
         VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, 1, ?, 'slurm', ?, ?, ?)`,
      )
      .run(
        ev.id, user, ev.host, ev.title ?? ev.slurm.name ?? null, ev.cmd ?? null, ev.cwd ?? null, ev.ts,
        ev.error ?? ev.output ?? null, ev.attached ? 1 : 0, ev.to?.length ? JSON.stringify(ev.to) : null,
        JSON.stringify(extra), seenMs,
      );
    this.db
      .prepare(
        `INSERT INTO slurm_jobs (id, user, owner_uid, job_id, cluster, array_spec, tasks, name, partition, work_dir, output, error, registered_ms, silent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        ev.id, user, opts.uid ?? null, ev.slurm.job_id, cluster, ev.slurm.array ?? null, ev.slurm.tasks ?? null, ev.slurm.name ?? null,
        ev.slurm.partition ?? null, ev.cwd ?? null, ev.output ?? null, ev.error ?? null, seenMs, opts.silent ? 1 : 0,
      );
    return 'new';
  }

  get(id: string): SlurmJobRow | undefined {
    return this.db.prepare('SELECT * FROM slurm_jobs WHERE id = ?').get(id) as SlurmJobRow | undefined;
  }

  /** Every job not yet ended, oldest first. */
  open(limit = 100_000): SlurmJobRow[] {
    return this.db.prepare('SELECT * FROM slurm_jobs WHERE done = 0 ORDER BY registered_ms LIMIT ?').all(limit) as SlurmJobRow[];
  }

  /** Jobs that left the queue and whose final record is due now. */
  dueFinals(nowMs: number): SlurmJobRow[] {
    return this.db.prepare('SELECT * FROM slurm_jobs WHERE done = 0 AND left_queue_ms IS NOT NULL AND COALESCE(next_final_ms, 0) <= ? ORDER BY registered_ms').all(nowMs) as SlurmJobRow[];
  }

  /** When the next final record is due (ms), or null when no job waits for one. */
  nextFinalMs(): number | null {
    return (this.db.prepare('SELECT MIN(COALESCE(next_final_ms, 0)) AS t FROM slurm_jobs WHERE done = 0 AND left_queue_ms IS NOT NULL').get() as { t: number | null }).t;
  }

  countOpen(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM slurm_jobs WHERE done = 0').get() as { n: number }).n;
  }

  /** squeue still lists the job (not final): keep its state, nodes and facts; the job row follows. */
  updateFromQueue(id: string, u: QueueUpdate): void {
    // info is merged (json_patch), so what the poller keeps there (task_msgs) survives.
    this.db
      .prepare(
        `UPDATE slurm_jobs SET slurm_state = @state, node_list = COALESCE(@nodes, node_list),
           info_json = CASE WHEN @info IS NULL THEN info_json ELSE json_patch(COALESCE(info_json, '{}'), @info) END,
           left_queue_ms = NULL
         WHERE id = @id AND done = 0`,
      )
      .run({ state: u.state, nodes: u.nodeList, info: u.info ? JSON.stringify(u.info) : null, id });
    this.db
      .prepare(`UPDATE jobs SET state = ?, host = COALESCE(?, host) WHERE id = ? AND end_ts IS NULL AND state IN ('pending', 'running')`)
      .run(u.jobState, u.jobState === 'running' ? firstNode(u.nodeList) : null, id);
  }

  /** The job left the queue or reached a final state: ask for its final record from `nowMs` on. */
  markLeftQueue(id: string, nowMs: number, state?: string | null): void {
    this.db
      .prepare('UPDATE slurm_jobs SET left_queue_ms = COALESCE(left_queue_ms, ?), slurm_state = COALESCE(?, slurm_state), next_final_ms = COALESCE(next_final_ms, ?) WHERE id = ? AND done = 0')
      .run(nowMs, state ?? null, nowMs, id);
  }

  /** The job row (for messages about it). */
  jobView(id: string): (JobView & { to: string[] }) | undefined {
    return this.jobs.get(id);
  }

  /** Replace the poller's facts about the job (e.g. which array tasks got a message). */
  setInfo(id: string, info: Record<string, unknown>): void {
    this.db.prepare('UPDATE slurm_jobs SET info_json = ? WHERE id = ?').run(JSON.stringify(info), id);
  }

  /** The final record was not there (yet): try again at `nextMs`. */
  retryFinal(id: string, nextMs: number): void {
    this.db.prepare('UPDATE slurm_jobs SET final_attempts = final_attempts + 1, next_final_ms = ? WHERE id = ? AND done = 0').run(nextMs, id);
  }

  /**
   * End the job from its final record: the `end` is applied to the job row and the slurm row is
   * closed, in the caller's transaction. Returns the ended job once (first time), else undefined.
   */
  finish(id: string, end: EndEvent, final: { state: string; nodeList: string | null; extra: Record<string, unknown> }, seenMs: number): (JobView & { to: string[] }) | undefined {
    const row = this.get(id);
    if (!row || row.done) return undefined;
    this.db.prepare('UPDATE slurm_jobs SET done = 1, slurm_state = ?, node_list = COALESCE(?, node_list) WHERE id = ?').run(final.state, final.nodeList, id);
    const prev = this.db.prepare('SELECT extra_json FROM jobs WHERE id = ?').get(id) as { extra_json: string | null } | undefined;
    const merged = { ...(prev?.extra_json ? (JSON.parse(prev.extra_json) as Record<string, unknown>) : {}), ...final.extra };
    this.db.prepare('UPDATE jobs SET extra_json = ? WHERE id = ?').run(JSON.stringify(merged), id);
    return this.jobs.applyEnd(end, row.user, seenMs);
  }
}
