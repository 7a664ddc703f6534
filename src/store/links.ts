// The links table: which unix user is which chat account — Discord's and Slack's (docs/linking.md)
// — and the link codes already used. Two sources: 'spool' rows, made from the user's own `link`
// events (a NULL account marks an unlink, so an older event read later cannot bring the link
// back), and 'config' rows, the hub config's [users.NAME] discord / slack. The link in effect for a
// user in a chat is their config row if they have one, else their spool row — unless the hub
// config gives that account to someone else. The rules of when a row changes are hub/links.ts's;
// this is the SQL.
import type { Db } from './db.js';
import type { LinkChat } from '../spool/link-code.js';

export type LinkSource = 'spool' | 'config';

export interface LinkRow {
  user: string;
  source: LinkSource;
  chat: LinkChat;
  /** The chat's user id; NULL: a spool row marking an unlink. */
  account: string | null;
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

/** Rows in effect: config rows, and spool rows the config does not override (by user or by account, in the same chat). */
const EFFECTIVE = `SELECT l.user, l.source, l.chat, l.account, l.event_id, l.host, l.linked_ms FROM links l
  WHERE l.account IS NOT NULL AND (l.source = 'config' OR NOT EXISTS (
    SELECT 1 FROM links c WHERE c.source = 'config' AND c.chat = l.chat AND c.account IS NOT NULL AND (c.user = l.user OR c.account = l.account)))`;

export class LinkStore {
  constructor(private readonly db: Db) {}

  /** The user's row of one source in one chat (a spool row may be an unlink marker). */
  row(user: string, source: LinkSource, chat: LinkChat): LinkRow | undefined {
    return this.db.prepare('SELECT * FROM links WHERE user = ? AND source = ? AND chat = ?').get(user, source, chat) as LinkRow | undefined;
  }

  /** The user's rows of one source, every chat. */
  rows(user: string, source: LinkSource): LinkRow[] {
    return this.db.prepare('SELECT * FROM links WHERE user = ? AND source = ? ORDER BY chat').all(user, source) as LinkRow[];
  }

  /** The row of one source holding this account. */
  rowByAccount(chat: LinkChat, account: string, source: LinkSource): LinkRow | undefined {
    return this.db.prepare('SELECT * FROM links WHERE chat = ? AND account = ? AND source = ?').get(chat, account, source) as LinkRow | undefined;
  }

  /** Set the user's spool link in a chat (in the caller's transaction; the account must be free among spool rows). */
  putSpool(r: { user: string; chat: LinkChat; account: string; eventId: string; host: string; linkedMs: number }): void {
    this.db
      .prepare(`INSERT INTO links (user, source, chat, account, event_id, host, linked_ms) VALUES (?, 'spool', ?, ?, ?, ?, ?)
        ON CONFLICT(user, source, chat) DO UPDATE SET account = excluded.account, event_id = excluded.event_id, host = excluded.host, linked_ms = excluded.linked_ms`)
      .run(r.user, r.chat, r.account, r.eventId, r.host, r.linkedMs);
  }

  /** Mark the user's spool link in a chat as ended by `eventId` (kept as a row, account NULL). */
  markUnlinked(user: string, chat: LinkChat, eventId: string, nowMs: number): void {
    this.db
      .prepare(`INSERT INTO links (user, source, chat, account, event_id, host, linked_ms) VALUES (?, 'spool', ?, NULL, ?, NULL, ?)
        ON CONFLICT(user, source, chat) DO UPDATE SET account = NULL, event_id = excluded.event_id, host = NULL, linked_ms = excluded.linked_ms`)
      .run(user, chat, eventId, nowMs);
  }

  /**
   * Make the config rows exactly `links` (one account each per chat: the caller drops
   * duplicates). A pairing that was already there keeps its linked_ms. Returns how many rows were
   * added and removed.
   */
  replaceConfig(links: { user: string; chat: LinkChat; account: string }[], nowMs: number): { added: number; removed: number } {
    return this.db.transaction(() => {
      const keyOf = (r: { user: string; chat: string; account: string | null }) => `${r.user}\n${r.chat}\n${r.account}`;
      const old = new Map((this.db.prepare("SELECT * FROM links WHERE source = 'config'").all() as LinkRow[]).map((r) => [keyOf(r), r]));
      this.db.prepare("DELETE FROM links WHERE source = 'config'").run();
      const ins = this.db.prepare("INSERT INTO links (user, source, chat, account, event_id, host, linked_ms) VALUES (?, 'config', ?, ?, NULL, NULL, ?)");
      let added = 0;
      for (const l of links) {
        const was = old.get(keyOf(l));
        ins.run(l.user, l.chat, l.account, was?.linked_ms ?? nowMs);
        if (was) old.delete(keyOf(l));
        else added++;
      }
      return { added, removed: old.size };
    })();
  }

  /** The link in effect for `user` in a chat. */
  effective(user: string, chat: LinkChat): LinkRow | undefined {
    return this.db.prepare(`SELECT * FROM (${EFFECTIVE}) WHERE user = ? AND chat = ? ORDER BY source = 'config' DESC LIMIT 1`).get(user, chat) as LinkRow | undefined;
  }

  /** The links in effect for `user`, one per chat at most. */
  effectiveOf(user: string): LinkRow[] {
    return this.db.prepare(`SELECT * FROM (${EFFECTIVE}) WHERE user = ? ORDER BY chat, source = 'config' DESC`).all(user) as LinkRow[];
  }

  /** The link in effect for a chat account. */
  effectiveByAccount(chat: LinkChat, account: string): LinkRow | undefined {
    return this.db.prepare(`SELECT * FROM (${EFFECTIVE}) WHERE chat = ? AND account = ? ORDER BY source = 'config' DESC LIMIT 1`).get(chat, account) as LinkRow | undefined;
  }

  /** Every link in effect, by user and chat. */
  listEffective(): LinkRow[] {
    return this.db.prepare(`SELECT * FROM (${EFFECTIVE}) ORDER BY user, chat, source = 'config' DESC`).all() as LinkRow[];
  }

  /** Who used this code (normalised), if anyone. */
  codeUse(code: string): CodeUse | undefined {
    return this.db.prepare('SELECT user, event_id, used_ms FROM link_codes WHERE code = ?').get(code) as CodeUse | undefined;
  }

  markCodeUsed(code: string, user: string, eventId: string, nowMs: number): void {
    this.db.prepare('INSERT OR IGNORE INTO link_codes (code, user, event_id, used_ms) VALUES (?, ?, ?, ?)').run(code, user, eventId, nowMs);
  }
}
