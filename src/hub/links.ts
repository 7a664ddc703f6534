// Account linking by proof of file ownership (docs/linking.md). `/link` in Discord asks
// issueCode() for a signed one-time code (spool/link-code.ts); the user runs `flurm link CODE` on
// any node, which writes a `link` event into their own spool; the ingest hands it to claim() with
// the FILE OWNER as the user. A claim is accepted when the code's signature verifies and — live —
// the hub's own clock says it is at most 10 minutes old, the code was not used before and the user
// has not had too many refusals. Replayed events (a rebuilt index) are accepted whatever their
// age, so links come back from the spools. The hub config's [users.NAME] discord links win over
// spool links and are re-applied at every start. The Discord bot calls the rest: discordOf,
// userOf, unlinkDiscord, status, list, and listens through onLinked / onRefused.
//
// The key (32 random bytes) lives in the cluster dir (`<cluster>/link.key`, mode 0600, the hub's
// user only), so both hubs of a pair verify the same codes; without a cluster dir beside the index
// (`<index>.link-key`). Whoever reads it can make codes. Deleting the index for a rebuild keeps it.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';
import { LinkStore, type LinkRow, type LinkSource } from '../store/links.js';
import type { ProblemStore } from '../store/outbox.js';
import type { LinkEvent } from '../spool/events.js';
import { LINK_CODE_TTL_MINUTES, formatLinkCode, isCodeDiscordId, parseLinkCode, signLinkCode, verifyLinkCode } from '../spool/link-code.js';
import { UserError, errorMessage } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { plural } from '../lib/format.js';
import type { Logger } from '../lib/logger.js';

export { LINK_CODE_TTL_MINUTES };
/** At most this many codes per Discord account per ISSUE_WINDOW_MS. */
export const CODES_PER_WINDOW = 5;
export const ISSUE_WINDOW_MS = 10 * 60_000;
/** At most this many refused claims per unix user per REFUSAL_WINDOW_MS; later ones are not checked. */
export const REFUSALS_PER_WINDOW = 5;
export const REFUSAL_WINDOW_MS = 60 * 60_000;
export const LINK_KEY_BYTES = 32;
/** A code issued this far in the future by the hub's clock is still taken (the clock stepped back). */
const CLOCK_STEP_MS = 60_000;
/** A replayed event's `ts` (writer clock) may lie this far outside the code's life. */
const WRITER_SKEW_MS = 5 * 60_000;
const MINUTE_MS = 60_000;

/** A request the bot should refuse with this message (too many codes, a config link). */
export class LinkError extends UserError {
  override name = 'LinkError';
}

export interface IssuedCode {
  /** The code in groups for reading: "ABCDE-FGHJK-MNPQR-STVWX-YZ012-3456". */
  code: string;
  /** When it stops linking (hub clock, ms since the epoch). */
  expiresMs: number;
  /** What to run on a node: `flurm link CODE`. */
  command: string;
}

export interface LinkStatus {
  user: string;
  discord_id: string;
  /** 'spool': made with `flurm link`; 'config': the hub config's [users.NAME] discord. */
  source: LinkSource;
  linked_ms: number;
  /** Where `flurm link` ran (spool links). */
  host: string | null;
}

export type Refusal = 'rate-limited' | 'bad-code' | 'forged' | 'expired' | 'not-yet' | 'used' | 'late' | 'no-key';

export type ClaimOutcome =
  | { ok: true; kind: 'linked'; discordId: string; movedFrom: string | null; overridden: string | null }
  | { ok: true; kind: 'unlinked' | 'not-linked' | 'duplicate' | 'superseded' }
  | { ok: false; refusal: Refusal; reason: string };

export interface LinkedInfo {
  /** A replayed event (rebuilt index): record, tell no one. */
  silent: boolean;
  /** The unix user this Discord account was linked to before, if another. */
  movedFrom: string | null;
  /** The `link` event's id: the same on every hub that reads it (a stable key for the "linked" DM). */
  eventId: string;
}

export interface LinkServiceOptions {
  /** linkKeyFile(): `<cluster>/link.key` or `<index>.link-key`; null: a key in memory for this process only (an in-memory index). */
  keyFile: string | null;
  problems: ProblemStore;
  /** The hub config's `users` table: `[users.alice] discord = "…"`. */
  configUsers?: Record<string, { discord?: string }>;
  log?: Logger;
  now?: () => number;
  onLinked?: (user: string, discordId: string, info: LinkedInfo) => void;
  onRefused?: (user: string, reason: string) => void;
}

/** The key file of an index: beside it, on the same local disk. Null for an in-memory index. */
export function linkKeyFile(indexPath: string, clusterDir: string | null = null): string | null {
  // In the cluster dir (mode 0600, the hub's user only) both hubs of a pair verify the same codes,
  // so a standby that takes over has every link; without one, beside the index.
  if (clusterDir) return path.join(clusterDir, 'link.key');
  return indexPath === ':memory:' ? null : `${indexPath}.link-key`;
}

/**
 * The link key in `file`, made (32 random bytes, mode 0600) when there is none. Made atomically: a
 * complete temp file is hard-linked to the name, so two hubs starting at once agree on one key.
 * A key that is not a regular file of ours, of the right size, readable by us alone, is refused
 * with what to do: it is never replaced behind the admin's back (links would then not come back
 * after a rebuild), nor used when others could have read it.
 */
export function loadOrCreateLinkKey(file: string): Buffer {
  for (let attempt = 0; attempt < 3; attempt++) {
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (st) return readKey(file, st);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      fs.writeSync(fd, randomBytes(LINK_KEY_BYTES));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Another process made it first: use theirs.
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  throw new Error(`${file}: could not create the link key`);
}

function readKey(file: string, st: fs.Stats): Buffer {
  const uid = process.getuid?.();
  const fix = 'delete it to make a new one (links made with `flurm link` then no longer come back after an index rebuild)';
  if (st.isSymbolicLink() || !st.isFile()) throw new Error(`${file}: the link key is not a regular file — refused; ${fix}`);
  if (uid !== undefined && st.uid !== uid) throw new Error(`${file}: the link key is owned by uid ${st.uid}, not the hub's ${uid} — refused; ${fix}`);
  if ((st.mode & 0o077) !== 0) throw new Error(`${file}: the link key is readable by others (mode ${(st.mode & 0o777).toString(8)}): whoever read it can make link codes — refused; ${fix}, or chmod 600 it if no one else could have read it`);
  if (st.size !== LINK_KEY_BYTES) throw new Error(`${file}: the link key is ${st.size} bytes, not ${LINK_KEY_BYTES} — refused; ${fix}`);
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const key = Buffer.alloc(LINK_KEY_BYTES);
    if (fs.readSync(fd, key, 0, LINK_KEY_BYTES, 0) !== LINK_KEY_BYTES) throw new Error(`${file}: short read of the link key`);
    return key;
  } finally {
    fs.closeSync(fd);
  }
}

/** The later of two ULIDs (they sort by time). */
function laterId(a: string | null | undefined, b: string): string {
  return a && a > b ? a : b;
}

function toStatus(r: LinkRow): LinkStatus {
  return { user: r.user, discord_id: r.discord_id!, source: r.source, linked_ms: r.linked_ms, host: r.host };
}

/** Times of recent events in a sliding window, per key (in memory: a restart forgets them). */
class Window {
  private readonly hits = new Map<string, { times: number[]; reported: boolean }>();
  constructor(private readonly max: number, private readonly windowMs: number) {}

  private entry(key: string, nowMs: number): { times: number[]; reported: boolean } {
    if (this.hits.size > 10_000) for (const [k, e] of this.hits) if (e.times.every((t) => nowMs - t >= this.windowMs)) this.hits.delete(k);
    let e = this.hits.get(key);
    if (!e) this.hits.set(key, (e = { times: [], reported: false }));
    e.times = e.times.filter((t) => nowMs - t < this.windowMs && t <= nowMs);
    if (e.times.length < this.max) e.reported = false;
    return e;
  }

  /** Null when under the limit; else how long until it is, and whether that was said already. */
  check(key: string, nowMs: number): { waitMs: number; reported: boolean; markReported(): void } | null {
    const e = this.entry(key, nowMs);
    if (e.times.length < this.max) return null;
    return { waitMs: e.times[e.times.length - this.max]! + this.windowMs - nowMs, reported: e.reported, markReported: () => (e.reported = true) };
  }

  add(key: string, nowMs: number): void {
    this.entry(key, nowMs).times.push(nowMs);
  }
}

const minutes = (ms: number) => Math.max(1, Math.ceil(ms / MINUTE_MS));

export class LinkService {
  readonly store: LinkStore;
  /** The bot's "linked" DM (only when not silent). Called once the link is in the index. */
  onLinked: ((user: string, discordId: string, info: LinkedInfo) => void) | null;
  /** The bot's "not linked: REASON" DM (live claims only). */
  onRefused: ((user: string, reason: string) => void) | null;
  private keyCache: Buffer | null = null;
  private readonly issued = new Window(CODES_PER_WINDOW, ISSUE_WINDOW_MS);
  private readonly refusals = new Window(REFUSALS_PER_WINDOW, REFUSAL_WINDOW_MS);
  private readonly now: () => number;

  constructor(private readonly db: Db, private readonly o: LinkServiceOptions) {
    this.store = new LinkStore(db);
    this.now = o.now ?? Date.now;
    this.onLinked = o.onLinked ?? null;
    this.onRefused = o.onRefused ?? null;
    this.applyConfig(o.configUsers ?? {});
  }

  /** The link key, loaded (or made) on first use. Throws when the key file is unusable. */
  key(): Buffer {
    if (!this.keyCache) this.keyCache = this.o.keyFile === null ? randomBytes(LINK_KEY_BYTES) : loadOrCreateLinkKey(this.o.keyFile);
    return this.keyCache;
  }

  /**
   * The config links become exactly `users`' discord ids (replacing the previous config rows). A
   * Discord account named for two users links the first by name; the other is logged and skipped.
   */
  applyConfig(users: Record<string, { discord?: string }>): void {
    const taken = new Map<string, string>();
    const links: { user: string; discordId: string }[] = [];
    for (const user of Object.keys(users).sort()) {
      const d = users[user]!.discord;
      if (d === undefined) continue;
      const first = taken.get(d);
      if (first !== undefined) {
        this.o.log?.warn(`[users.${user}] discord is the same Discord account as [users.${first}]'s; an account links one unix user, so ${user}'s is ignored`, { user, discord_id: d });
        continue;
      }
      taken.set(d, user);
      links.push({ user, discordId: d });
    }
    const r = this.store.replaceConfig(links, this.now());
    if (r.added || r.removed) this.o.log?.info('Discord links from the hub config', { links: links.length, added: r.added, removed: r.removed });
  }

  /**
   * A code for `/link`: throws a LinkError the bot can show when this Discord account asked for
   * too many (CODES_PER_WINDOW per 10 minutes), and an Error when the key file is unusable.
   */
  issueCode(discordId: string, nowMs: number = this.now()): IssuedCode {
    if (!isCodeDiscordId(discordId)) throw new LinkError(`not a Discord user id: "${discordId.slice(0, 40)}"`);
    const limited = this.issued.check(discordId, nowMs);
    if (limited) throw new LinkError(`too many link codes; try again in ${plural(minutes(limited.waitMs), 'minute')}`);
    const issuedMinutes = Math.floor(nowMs / MINUTE_MS);
    const code = formatLinkCode(signLinkCode(this.key(), discordId, issuedMinutes));
    this.issued.add(discordId, nowMs);
    return { code, expiresMs: (issuedMinutes + 1 + LINK_CODE_TTL_MINUTES) * MINUTE_MS, command: `flurm link ${code}` };
  }

  /**
   * A `link` event from a spool file owned by `user`. `seenMs` is the hub's clock when it was read;
   * `silent`: a replayed event (older than the backfill on a new index): accepted whatever its
   * age, told to no one. `file` names the events file in a problem report. Never throws.
   */
  claim(user: string, ev: LinkEvent, seenMs: number, opts: { silent: boolean; file?: string }): ClaimOutcome {
    try {
      return ev.unlink === true ? this.unlinkFromSpool(user, ev, seenMs, opts) : this.linkFromSpool(user, ev, seenMs, opts);
    } catch (err) {
      // The key file (an admin's problem) or the index: the user is told it was not their code.
      this.o.log?.error('cannot check a link code', { user, error: errorMessage(err) });
      this.o.problems.report('link-key', `link codes cannot be checked: ${errorMessage(err)}`, { nowMs: seenMs });
      return this.refuse(user, ev, seenMs, opts, 'no-key', 'the hub cannot check link codes now (the hub\'s admin is told why): run `flurm link` again later, or /link again', false);
    }
  }

  private linkFromSpool(user: string, ev: LinkEvent, seenMs: number, opts: { silent: boolean; file?: string }): ClaimOutcome {
    if (!opts.silent) {
      const limited = this.refusals.check(user, seenMs);
      if (limited) {
        const reason = `too many refused link codes (${REFUSALS_PER_WINDOW} in the last hour): codes are not read for ${plural(minutes(limited.waitMs), 'minute')}; then run /link again`;
        if (limited.reported) return { ok: false, refusal: 'rate-limited', reason };
        limited.markReported();
        return this.refuse(user, ev, seenMs, opts, 'rate-limited', reason, false);
      }
    }
    const parsed = parseLinkCode(ev.code ?? '');
    if (!parsed.ok) return this.refuse(user, ev, seenMs, opts, 'bad-code', `that is not a link code (${parsed.reason}): copy it again from /link in Discord`);
    const code = parsed.code;
    if (!verifyLinkCode(this.key(), code)) {
      return this.refuse(user, ev, seenMs, opts, 'forged', 'link code does not check out (mistyped, or made by another hub): copy it again from /link in Discord, or run /link again');
    }
    const use = this.store.codeUse(code.canonical);
    if (use) {
      // The same event read again, or the same user running the same code again while linked by it.
      if (use.event_id === ev.id || (use.user === user && this.store.row(user, 'spool')?.discord_id === code.discordId)) return { ok: true, kind: 'duplicate' };
      return this.refuse(user, ev, seenMs, opts, 'used', 'link code already used (each code links once): run /link again for a new one');
    }
    const issuedMs = code.issuedMinutes * MINUTE_MS;
    const expiresMs = issuedMs + (1 + LINK_CODE_TTL_MINUTES) * MINUTE_MS;
    if (!opts.silent) {
      if (seenMs >= expiresMs) {
        return this.refuse(user, ev, seenMs, opts, 'expired', `link code expired (issued ${Math.floor((seenMs - issuedMs) / MINUTE_MS)} min ago; codes last ${LINK_CODE_TTL_MINUTES} min): run /link again`);
      }
      if (seenMs < issuedMs - CLOCK_STEP_MS) {
        return this.refuse(user, ev, seenMs, opts, 'not-yet', `link code is dated ${minutes(issuedMs - seenMs)} min ahead of the hub's clock: run /link again`);
      }
    } else {
      // A replay: no hub clock from then, but a genuine `flurm link` was written within the
      // code's life (writer clocks are off by seconds, not minutes).
      const tsMs = Date.parse(ev.ts);
      if (!(tsMs >= issuedMs - WRITER_SKEW_MS && tsMs < expiresMs + WRITER_SKEW_MS)) {
        return this.refuse(user, ev, seenMs, opts, 'late', `link code was written ${Math.round((tsMs - issuedMs) / MINUTE_MS)} min after it was issued (codes last ${LINK_CODE_TTL_MINUTES} min): not linked; run /link again`);
      }
    }
    const mine = this.store.row(user, 'spool');
    const holder = this.store.rowByDiscord(code.discordId, 'spool');
    const other = holder && holder.user !== user ? holder : undefined;
    // A replay applies events in file order, not in time: a newer state wins over an older event.
    if (opts.silent && ((mine?.event_id && mine.event_id > ev.id) || (other?.event_id && other.event_id > ev.id))) {
      this.store.markCodeUsed(code.canonical, user, ev.id, seenMs);
      return { ok: true, kind: 'superseded' };
    }
    const linkedMs = opts.silent && Number.isFinite(Date.parse(ev.ts)) ? Date.parse(ev.ts) : seenMs;
    this.inTransaction(() => {
      // One Discord account, one unix user: the link moves; the old user's row marks the unlink.
      if (other) this.store.markUnlinked(other.user, laterId(other.event_id, ev.id), seenMs);
      this.store.putSpool({ user, discordId: code.discordId, eventId: laterId(mine?.event_id, ev.id), host: ev.host, linkedMs });
      this.store.markCodeUsed(code.canonical, user, ev.id, seenMs);
    });
    const key = `link:${user}`;
    let overridden: string | null = null;
    if (this.discordOf(user) !== code.discordId) {
      const config = this.store.row(user, 'config');
      const holderByConfig = this.store.rowByDiscord(code.discordId, 'config');
      overridden = config?.discord_id
        ? `${user} is linked to Discord user ${config.discord_id} by the hub config ([users.${user}])`
        : `Discord user ${code.discordId} is linked to ${holderByConfig?.user ?? 'another user'} by the hub config ([users.${holderByConfig?.user ?? '…'}])`;
    }
    if (overridden) {
      // Recorded (it takes effect if the admin removes the config link), but not in effect.
      const reason = `${overridden}, which wins over \`flurm link\`; ask the hub's admin to change it`;
      this.o.problems.report(key, `flurm link on ${ev.host}: ${reason}`, { user, file: opts.file, nowMs: seenMs });
      if (!opts.silent) this.after(() => this.onRefused?.(user, reason));
    } else {
      this.o.problems.clear(key);
      if (!opts.silent) {
        const movedFrom = other?.user ?? null;
        // Told once the row is committed (a claim inside the ingest's transaction that rolls back is not told).
        this.after(() => this.discordOf(user) === code.discordId && this.onLinked?.(user, code.discordId, { silent: false, movedFrom, eventId: ev.id }));
      }
    }
    this.o.log?.info('linked a Discord account', { user, discord_id: code.discordId, host: ev.host, silent: opts.silent, moved_from: other?.user, overridden: overridden !== null });
    return { ok: true, kind: 'linked', discordId: code.discordId, movedFrom: other?.user ?? null, overridden };
  }

  private unlinkFromSpool(user: string, ev: LinkEvent, seenMs: number, opts: { silent: boolean; file?: string }): ClaimOutcome {
    const mine = this.store.row(user, 'spool');
    // An unlink older than the row's event is one read again (or replayed late): it ends nothing.
    if (mine?.event_id && mine.event_id > ev.id) return { ok: true, kind: 'superseded' };
    this.store.markUnlinked(user, ev.id, seenMs);
    const key = `link:${user}`;
    const config = this.store.row(user, 'config');
    if (config?.discord_id) {
      this.o.problems.report(key, `flurm unlink on ${ev.host}: ${user} stays linked to Discord user ${config.discord_id} by the hub config ([users.${user}]); ask the hub's admin to remove it`, { user, file: opts.file, nowMs: seenMs });
    } else this.o.problems.clear(key);
    if (!mine?.discord_id) return { ok: true, kind: 'not-linked' };
    this.o.log?.info('unlinked a Discord account (flurm unlink)', { user, discord_id: mine.discord_id, host: ev.host, silent: opts.silent });
    return { ok: true, kind: 'unlinked' };
  }

  private refuse(user: string, ev: LinkEvent, seenMs: number, opts: { silent: boolean; file?: string }, refusal: Refusal, reason: string, count = true): ClaimOutcome {
    this.o.problems.report(`link:${user}`, `flurm link on ${ev.host}: ${reason}`, { user, file: opts.file, nowMs: seenMs });
    this.o.log?.info('link code refused', { user, host: ev.host, refusal, silent: opts.silent });
    if (!opts.silent) {
      if (count) this.refusals.add(user, seenMs);
      this.after(() => this.onRefused?.(user, reason));
    }
    return { ok: false, refusal, reason };
  }

  /** The Discord account `user` is linked to, or null. */
  discordOf(user: string): string | null {
    return this.store.effective(user)?.discord_id ?? null;
  }

  /** The unix user a Discord account is linked to, or null. */
  userOf(discordId: string): string | null {
    return this.store.effectiveByDiscord(discordId)?.user ?? null;
  }

  /**
   * The bot's /unlink: end the `flurm link` link of this Discord account; returns the unix user it
   * was linked to, or null when it was not. A link from the hub config cannot be ended here: a
   * LinkError says so. (The spool keeps the `link` event: after an index rebuild the link comes
   * back unless the user ran `flurm unlink` — docs/linking.md.)
   */
  unlinkDiscord(discordId: string): string | null {
    const eff = this.store.effectiveByDiscord(discordId);
    if (eff?.source === 'config') {
      throw new LinkError(`Discord user ${discordId} is linked to ${eff.user} by the hub config ([users.${eff.user}] discord); only the hub's admin can remove that link`);
    }
    const row = this.store.rowByDiscord(discordId, 'spool');
    if (!row) return null;
    const nowMs = this.now();
    this.store.markUnlinked(row.user, laterId(row.event_id, newId(nowMs)), nowMs);
    this.o.log?.info('unlinked a Discord account (/unlink)', { user: row.user, discord_id: discordId });
    return row.user;
  }

  /** The link in effect for `user`, or null. */
  status(user: string): LinkStatus | null {
    const r = this.store.effective(user);
    return r ? toStatus(r) : null;
  }

  /** Every link in effect, by user. */
  list(): LinkStatus[] {
    return this.store.listEffective().map(toStatus);
  }

  private inTransaction(fn: () => void): void {
    this.db.transaction(fn)();
  }

  /** Run a listener after the caller's transaction (if any) has ended; a throwing listener is logged. */
  private after(fn: () => unknown): void {
    const run = () => {
      try {
        fn();
      } catch (err) {
        this.o.log?.error('link listener failed', { error: errorMessage(err) });
      }
    };
    if (this.db.inTransaction) queueMicrotask(run);
    else run();
  }
}
