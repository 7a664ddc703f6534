// The Discord bot's hub-side state: per-user mutes ("Mute 1 h") and /when-free requests. Like
// every table, it lives in the index and its SQL only here (docs/architecture.md).
import type { Db } from './db.js';

export class MuteStore {
  constructor(private readonly db: Db) {}

  /** Mute `user` until `untilMs` (a later mute wins over an earlier one). */
  mute(user: string, untilMs: number, by: string | null): void {
    this.db
      .prepare('INSERT INTO mutes(user, until_ms, by) VALUES (?, ?, ?) ON CONFLICT(user) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms), by = excluded.by')
      .run(user, untilMs, by);
  }

  /** When `user`'s mute ends, or null when not muted at `nowMs`. */
  mutedUntil(user: string, nowMs: number): number | null {
    const r = this.db.prepare('SELECT until_ms FROM mutes WHERE user = ?').get(user) as { until_ms: number } | undefined;
    return r && r.until_ms > nowMs ? r.until_ms : null;
  }

  unmute(user: string): boolean {
    return this.db.prepare('DELETE FROM mutes WHERE user = ?').run(user).changes > 0;
  }
}

export interface WhenFreeRow {
  id: number;
  discord_id: string;
  user: string | null;
  args: Record<string, unknown>;
  created_ms: number;
  expires_ms: number;
}

interface RawRow {
  id: number;
  discord_id: string;
  user: string | null;
  args_json: string;
  created_ms: number;
  expires_ms: number;
}

function toRow(r: RawRow): WhenFreeRow {
  let args: Record<string, unknown> = {};
  try {
    args = JSON.parse(r.args_json) as Record<string, unknown>;
  } catch {
    // A row is only written by add(); an unreadable one asks for anything.
  }
  return { id: r.id, discord_id: r.discord_id, user: r.user, args, created_ms: r.created_ms, expires_ms: r.expires_ms };
}

export class WhenFreeStore {
  constructor(private readonly db: Db) {}

  add(discordId: string, user: string | null, args: Record<string, unknown>, nowMs: number, ttlMs: number): WhenFreeRow {
    const r = this.db
      .prepare('INSERT INTO when_free(discord_id, user, args_json, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?) RETURNING *')
      .get(discordId, user, JSON.stringify(args), nowMs, nowMs + ttlMs) as RawRow;
    return toRow(r);
  }

  /** Open requests (not fired, cancelled or expired), oldest first; of one person when given. */
  open(discordId?: string): WhenFreeRow[] {
    const rows = discordId
      ? this.db.prepare('SELECT * FROM when_free WHERE done IS NULL AND discord_id = ? ORDER BY id').all(discordId)
      : this.db.prepare('SELECT * FROM when_free WHERE done IS NULL ORDER BY id').all();
    return (rows as RawRow[]).map(toRow);
  }

  /** Close a request; false when it was already closed (so it fires once). */
  close(id: number, how: 'fired' | 'cancelled' | 'expired', nowMs: number): boolean {
    return this.db.prepare('UPDATE when_free SET done = ?, done_ms = ? WHERE id = ? AND done IS NULL').run(how, nowMs, id).changes > 0;
  }

  /** Cancel one of this person's requests (or all of them: id null). Returns how many. */
  cancel(discordId: string, id: number | null, nowMs: number): number {
    return id === null
      ? this.db.prepare("UPDATE when_free SET done = 'cancelled', done_ms = ? WHERE discord_id = ? AND done IS NULL").run(nowMs, discordId).changes
      : this.db.prepare("UPDATE when_free SET done = 'cancelled', done_ms = ? WHERE discord_id = ? AND id = ? AND done IS NULL").run(nowMs, discordId, id).changes;
  }
}
