// The outbox table: a notification is a row first and a request second. The UNIQUE key
// (<event id>:<type>:<destination>) makes "exactly one message per job end per destination" a
// property of the database, not of the sender's memory. Each destination is a queue in id order
// (the order the hub saw the events): the sender only ever takes a destination's head, so a retry
// holds that destination and nothing else.
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

export interface OutboxRow {
  id: number;
  key: string;
  user: string;
  ref_id: string;
  dest: string;
  dest_redacted: string;
  message_json: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  created_ms: number;
  next_ms: number;
  sent_ms: number | null;
  last_error: string | null;
  event_ms: number;
  /** Past the per-user cap: sent as part of one digest once this window closes (ms); else null. */
  digest_ms: number | null;
  /** When a request for it went out with no outcome recorded yet (null: none in flight). */
  sending_ms: number | null;
}

export type NewOutboxRow = Pick<OutboxRow, 'key' | 'user' | 'ref_id' | 'dest' | 'dest_redacted' | 'message_json' | 'event_ms'> & {
  now: number;
  /** Set for rows past the per-user cap (see OutboxRow.digest_ms). */
  digest_ms?: number | null;
  /** Insert as already sent (a receipt says another hub, or this one before a rebuild, sent it). */
  sent?: boolean;
};

export interface DestState {
  dest: string;
  dest_redacted: string;
  disabled_reason: string | null;
  disabled_ms: number | null;
  last_ok_ms: number | null;
  last_error: string | null;
}

export class OutboxStore {
  private readonly insert: Statement;
  private readonly headStmt: Statement;
  private readonly groupStmt: Statement;
  private readonly sentStmt: Statement;
  private readonly retryStmt: Statement;
  private readonly failStmt: Statement;
  private readonly sendingStmt: Statement;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO outbox (key, user, ref_id, dest, dest_redacted, message_json, status, created_ms, next_ms, event_ms, digest_ms, sent_ms)
      VALUES (@key, @user, @ref_id, @dest, @dest_redacted, @message_json, @status, @now, @now, @event_ms, @digest_ms, @sent_ms)`);
    // A row waiting for its digest window does not hold the queue; everything else does, in order.
    this.headStmt = db.prepare(`SELECT * FROM outbox WHERE dest = ? AND status = 'pending' AND (digest_ms IS NULL OR digest_ms <= ?) ORDER BY id LIMIT 1`);
    this.groupStmt = db.prepare(`SELECT * FROM outbox WHERE dest = ? AND user = ? AND digest_ms = ? AND status = 'pending' ORDER BY id`);
    this.sentStmt = db.prepare(`UPDATE outbox SET status = 'sent', sent_ms = ?, attempts = attempts + 1, last_error = NULL, sending_ms = NULL WHERE id = ? AND status = 'pending'`);
    this.retryStmt = db.prepare(`UPDATE outbox SET attempts = attempts + 1, next_ms = ?, last_error = ?, sending_ms = NULL WHERE id = ? AND status = 'pending'`);
    this.sendingStmt = db.prepare(`UPDATE outbox SET sending_ms = ? WHERE id = ? AND status = 'pending'`);
    this.failStmt = db.prepare(`UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, sending_ms = NULL WHERE id = ? AND status = 'pending'`);
  }

  /** Returns true when the row is new (false: this notification was already queued). */
  enqueue(row: NewOutboxRow): boolean {
    const { sent, ...rest } = row;
    return this.insert.run({ ...rest, digest_ms: row.digest_ms ?? null, status: sent ? 'sent' : 'pending', sent_ms: sent ? row.now : null }).changes > 0;
  }

  /** The destinations with pending rows. */
  pendingDests(): string[] {
    return (this.db.prepare(`SELECT DISTINCT dest FROM outbox WHERE status = 'pending'`).all() as { dest: string }[]).map((r) => r.dest);
  }

  /** The next row of a destination's queue (its oldest pending row that is not waiting for a digest window). */
  head(dest: string, nowMs: number): OutboxRow | undefined {
    return this.headStmt.get(dest, nowMs) as OutboxRow | undefined;
  }

  /** When a destination's earliest digest window closes, if it has rows waiting for one. */
  nextDigestMs(dest: string): number | null {
    const r = this.db.prepare(`SELECT MIN(digest_ms) AS t FROM outbox WHERE dest = ? AND status = 'pending' AND digest_ms IS NOT NULL`).get(dest) as { t: number | null };
    return r.t;
  }

  /** Every pending row of one digest: (destination, user, window). */
  digestGroup(dest: string, user: string, digestMs: number): OutboxRow[] {
    return this.groupStmt.all(dest, user, digestMs) as OutboxRow[];
  }

  markSent(id: number, nowMs: number): void {
    this.sentStmt.run(nowMs, id);
  }

  /** A request for these rows goes out now (cleared by markSent / markRetry / markFailed). */
  markSending(ids: readonly number[], nowMs: number): void {
    for (const id of ids) this.sendingStmt.run(nowMs, id);
  }

  markRetry(id: number, nextMs: number, error: string): void {
    this.retryStmt.run(nextMs, error.slice(0, 2000), id);
  }

  markFailed(id: number, error: string): void {
    this.failStmt.run(error.slice(0, 2000), id);
  }

  /** Fail every pending row of a destination we gave up on. Returns how many. */
  failAllFor(dest: string, error: string): number {
    return this.db.prepare(`UPDATE outbox SET status = 'failed', last_error = ? WHERE dest = ? AND status = 'pending'`).run(error.slice(0, 2000), dest).changes;
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = { pending: 0, sent: 0, failed: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all() as { status: string; n: number }[]) out[r.status] = r.n;
    return out;
  }

  destState(dest: string): DestState | undefined {
    return this.db.prepare('SELECT * FROM dest_state WHERE dest = ?').get(dest) as DestState | undefined;
  }

  disableDest(dest: string, redacted: string, reason: string, nowMs: number): void {
    this.db
      .prepare(`INSERT INTO dest_state (dest, dest_redacted, disabled_reason, disabled_ms, last_error) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(dest) DO UPDATE SET disabled_reason = excluded.disabled_reason, disabled_ms = excluded.disabled_ms, last_error = excluded.last_error`)
      .run(dest, redacted, reason, nowMs, reason);
  }

  destOk(dest: string, redacted: string, nowMs: number): void {
    this.db
      .prepare(`INSERT INTO dest_state (dest, dest_redacted, last_ok_ms) VALUES (?, ?, ?)
        ON CONFLICT(dest) DO UPDATE SET last_ok_ms = excluded.last_ok_ms`)
      .run(dest, redacted, nowMs);
  }

  /** Re-enable a destination (config changed, or `doctor --send-test` succeeded). */
  enableDest(dest: string): void {
    this.db.prepare('UPDATE dest_state SET disabled_reason = NULL, disabled_ms = NULL WHERE dest = ?').run(dest);
  }

  disabledDests(): DestState[] {
    return this.db.prepare('SELECT * FROM dest_state WHERE disabled_reason IS NOT NULL').all() as DestState[];
  }
}

export class ProblemStore {
  constructor(private readonly db: Db) {}

  /** Record (or count again) a problem a user or admin should see. */
  report(key: string, reason: string, opts: { user?: string; file?: string; nowMs: number }): boolean {
    const r = this.db
      .prepare(`INSERT INTO problems (key, user, file, reason, first_ms, last_ms) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(key) DO UPDATE SET last_ms = excluded.last_ms, count = count + 1, reason = excluded.reason
        RETURNING count`)
      .get(key, opts.user ?? null, opts.file ?? null, reason.slice(0, 1000), opts.nowMs, opts.nowMs) as { count: number };
    return r.count === 1;
  }

  clear(key: string): void {
    this.db.prepare('DELETE FROM problems WHERE key = ?').run(key);
  }

  list(limit = 50): { key: string; user: string | null; file: string | null; reason: string; count: number; last_ms: number }[] {
    return this.db.prepare('SELECT * FROM problems ORDER BY last_ms DESC LIMIT ?').all(limit) as never;
  }
}
