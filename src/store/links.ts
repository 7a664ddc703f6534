// The links table: which unix user is which Discord account (docs/linking.md), and the link codes
// already used. Two sources: 'spool' rows, made from the user's own `link` events (a NULL
// discord_id marks an unlink, so an older event read later cannot bring the link back), and
// 'config' rows, the hub config's [users.NAME] discord. The link in effect for a user is their
// config row if they have one, else their spool row — unless the hub config gives that Discord
// account to someone else. The rules of when a row changes are hub/links.ts's; this is the SQL.
import type { Db } from './db.js';

export type LinkSource = 'spool' | 'config';

export interface LinkRow {
  user: string;
  source: LinkSource;
  /** NULL: a spool row marking an unlink. */
  discord_id: string | null;
  /** Spool rows: the id (ULID) of the event that last set the row. */
  event_id: string | null;
  host: string | null;
  linked_ms: number;
}

export interface CodeUse {
  user: string;
  event_id: string;
  used_ms: number;
}

/** Rows in effect: config rows, and spool rows the config does not override (by user or by Discord account). */
const EFFECTIVE = `SELECT l.user, l.source, l.discord_id, l.event_id, l.host, l.linked_ms FROM links l
  WHERE l.discord_id IS NOT NULL AND (l.source = 'config' OR NOT EXISTS (
    SELECT 1 FROM links c WHERE c.source = 'config' AND c.discord_id IS NOT NULL AND (c.user = l.user OR c.discord_id = l.discord_id)))`;

export class LinkStore {
  constructor(private readonly db: Db) {}

  /** The user's row of one source (a spool row may be an unlink marker). */
  row(user: string, source: LinkSource): LinkRow | undefined {
    return this.db.prepare('SELECT * FROM links WHERE user = ? AND source = ?').get(user, source) as LinkRow | undefined;
  }

  /** The row of one source holding this Discord account. */
  rowByDiscord(discordId: string, source: LinkSource): LinkRow | undefined {
    return this.db.prepare('SELECT * FROM links WHERE discord_id = ? AND source = ?').get(discordId, source) as LinkRow | undefined;
  }

  /** Set the user's spool link (in the caller's transaction; the Discord account must be free among spool rows). */
  putSpool(r: { user: string; discordId: string; eventId: string; host: string; linkedMs: number }): void {
    this.db
      .prepare(`INSERT INTO links (user, source, discord_id, event_id, host, linked_ms) VALUES (?, 'spool', ?, ?, ?, ?)
        ON CONFLICT(user, source) DO UPDATE SET discord_id = excluded.discord_id, event_id = excluded.event_id, host = excluded.host, linked_ms = excluded.linked_ms`)
      .run(r.user, r.discordId, r.eventId, r.host, r.linkedMs);
  }

  /** Mark the user's spool link as ended by `eventId` (kept as a row, discord_id NULL). */
  markUnlinked(user: string, eventId: string, nowMs: number): void {
    this.db
      .prepare(`INSERT INTO links (user, source, discord_id, event_id, host, linked_ms) VALUES (?, 'spool', NULL, ?, NULL, ?)
        ON CONFLICT(user, source) DO UPDATE SET discord_id = NULL, event_id = excluded.event_id, host = NULL, linked_ms = excluded.linked_ms`)
      .run(user, eventId, nowMs);
  }

  /**
   * Make the config rows exactly `links` (one Discord account each: the caller drops duplicates).
   * A pairing that was already there keeps its linked_ms. Returns how many rows were added and removed.
   */
  replaceConfig(links: { user: string; discordId: string }[], nowMs: number): { added: number; removed: number } {
    return this.db.transaction(() => {
      const old = new Map((this.db.prepare("SELECT * FROM links WHERE source = 'config'").all() as LinkRow[]).map((r) => [`${r.user}\n${r.discord_id}`, r]));
      this.db.prepare("DELETE FROM links WHERE source = 'config'").run();
      const ins = this.db.prepare("INSERT INTO links (user, source, discord_id, event_id, host, linked_ms) VALUES (?, 'config', ?, NULL, NULL, ?)");
      let added = 0;
      for (const l of links) {
        const was = old.get(`${l.user}\n${l.discordId}`);
        ins.run(l.user, l.discordId, was?.linked_ms ?? nowMs);
        if (was) old.delete(`${l.user}\n${l.discordId}`);
        else added++;
      }
      return { added, removed: old.size };
    })();
  }

  /** The link in effect for `user`. */
  effective(user: string): LinkRow | undefined {
    return this.db.prepare(`SELECT * FROM (${EFFECTIVE}) WHERE user = ? ORDER BY source = 'config' DESC LIMIT 1`).get(user) as LinkRow | undefined;
  }

  /** The link in effect for a Discord account. */
  effectiveByDiscord(discordId: string): LinkRow | undefined {
    return this.db.prepare(`SELECT * FROM (${EFFECTIVE}) WHERE discord_id = ? ORDER BY source = 'config' DESC LIMIT 1`).get(discordId) as LinkRow | undefined;
  }

  /** Every link in effect, by user. */
  listEffective(): LinkRow[] {
    return this.db.prepare(`SELECT * FROM (${EFFECTIVE}) ORDER BY user, source = 'config' DESC`).all() as LinkRow[];
  }

  /** Who used this code (normalised), if anyone. */
  codeUse(code: string): CodeUse | undefined {
    return this.db.prepare('SELECT user, event_id, used_ms FROM link_codes WHERE code = ?').get(code) as CodeUse | undefined;
  }

  markCodeUsed(code: string, user: string, eventId: string, nowMs: number): void {
    this.db.prepare('INSERT OR IGNORE INTO link_codes (code, user, event_id, used_ms) VALUES (?, ?, ?, ?)').run(code, user, eventId, nowMs);
  }
}
