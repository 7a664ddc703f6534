// Account linking by proof of file ownership (docs/linking.md). `/link` in Discord (or `/flurm
// link` in Slack) asks issueCode() for a signed one-time code (spool/link-code.ts, which names the
// chat and the account); the user runs `flurm link CODE` on
// any node, which writes a `link` event into their own spool; the ingest hands it to claim() with
// the FILE OWNER as the user. A claim is accepted when the code's signature verifies and — live —
// the hub's own clock says it is at most 10 minutes old, the code was not used before and the user
// has not had too many refusals. Replayed events (a rebuilt index) are accepted whatever their
// age, so links come back from the spools. The hub config's [users.NAME] discord / slack links win
// over spool links and are re-applied at every start. A unix user has at most one account per
// chat; each chat's links are independent. The chat front ends call the rest: accountOf,
// userOfAccount, unlinkAccount, status, list, and listen through onLinked / onRefused.
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
import { LINK_CHATS, LINK_CODE_TTL_MINUTES, formatLinkCode, isCodeAccount, parseLinkCode, signLinkCode, verifyLinkCode, type LinkChat } from '../spool/link-code.js';
import { UserError, errorMessage } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { plural } from '../lib/format.js';
import type { Logger } from '../lib/logger.js';
import type { Message } from '../model/message.js';

export { LINK_CODE_TTL_MINUTES, type LinkChat };
/** At most this many codes per chat account per ISSUE_WINDOW_MS. */
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
  chat: LinkChat;
  /** The chat's user id (Discord: decimal; Slack: U…). */
  account: string;
  /** 'spool': made with `flurm link`; 'config': the hub config's [users.NAME] discord / slack. */
  source: LinkSource;
  linked_ms: number;
  /** Where `flurm link` ran (spool links). */
  host: string | null;
}

export type Refusal = 'rate-limited' | 'bad-code' | 'forged' | 'expired' | 'not-yet' | 'used' | 'late' | 'no-key';

export type ClaimOutcome =
  | { ok: true; kind: 'linked'; chat: LinkChat; account: string; movedFrom: string | null; overridden: string | null }
  | { ok: true; kind: 'unlinked' | 'not-linked' | 'duplicate' | 'superseded' }
  | { ok: false; refusal: Refusal; reason: string };

export interface LinkedInfo {
  /** A replayed event (rebuilt index): record, tell no one. */
  silent: boolean;
  /** The unix user this chat account was linked to before, if another. */
  movedFrom: string | null;
  /** The `link` event's id: the same on every hub that reads it (a stable key for the "linked" DM). */
  eventId: string;
}

export interface LinkServiceOptions {
  /** linkKeyFile(): `<cluster>/link.key` or `<index>.link-key`; null: a key in memory for this process only (an in-memory index). */
  keyFile: string | null;
  problems: ProblemStore;
  /** The hub config's `users` table: `[users.alice] discord = "…"`, `slack = "U…"`. */
  configUsers?: Record<string, ConfigUser>;
  log?: Logger;
  now?: () => number;
  onLinked?: (user: string, chat: LinkChat, account: string, info: LinkedInfo) => void;
  onRefused?: (user: string, reason: string) => void;
}

/** A user's chat accounts as the hub config's [users.NAME] names them. */
export type ConfigUser = Partial<Record<LinkChat, string>>;

/** The chat's name in a sentence. */
export const CHAT_NAMES: Record<LinkChat, string> = { discord: 'Discord', slack: 'Slack' };
/** Where a person gets a new code, in each chat. */
export const NEW_CODE: Record<LinkChat, string> = { discord: '/link in Discord', slack: '/flurm link in Slack' };
const ANY_NEW_CODE = `${NEW_CODE.discord} or ${NEW_CODE.slack}`;

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
  return { user: r.user, chat: r.chat, account: r.account!, source: r.source, linked_ms: r.linked_ms, host: r.host };
}

/** Times of recent events in a sliding window, per key (in memory: a restart forgets them). Also hub/http/auth.ts's failed sign-ins per address. */
export class Window {
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
  onLinked: ((user: string, chat: LinkChat, account: string, info: LinkedInfo) => void) | null;
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
   * The config links become exactly `users`' discord and slack ids (replacing the previous config
   * rows). An account named for two users links the first by name; the other is logged and skipped.
   */
  applyConfig(users: Record<string, ConfigUser>): void {
    const links: { user: string; chat: LinkChat; account: string }[] = [];
    for (const chat of LINK_CHATS) {
      const taken = new Map<string, string>();
      for (const user of Object.keys(users).sort()) {
        const account = users[user]![chat];
        if (account === undefined) continue;
        const first = taken.get(account);
        if (first !== undefined) {
          this.o.log?.warn(`[users.${user}] ${chat} is the same ${CHAT_NAMES[chat]} account as [users.${first}]'s; an account links one unix user, so ${user}'s is ignored`, { user, chat, account });
          continue;
        }
        taken.set(account, user);
        links.push({ user, chat, account });
      }
    }
    const r = this.store.replaceConfig(links, this.now());
    if (r.added || r.removed) this.o.log?.info('chat links from the hub config', { links: links.length, added: r.added, removed: r.removed });
  }

  /**
   * A code for `/link` (Discord) or `/flurm link` (Slack): throws a LinkError the chat can show
   * when this account asked for too many (CODES_PER_WINDOW per 10 minutes) or its id does not fit
   * a code, and an Error when the key file is unusable.
   */
  issueCode(chat: LinkChat, account: string, nowMs: number = this.now()): IssuedCode {
    if (!isCodeAccount(chat, account)) {
      throw new LinkError(`${CHAT_NAMES[chat]} user id "${account.slice(0, 40)}" does not fit a link code${chat === 'slack' ? ' (at most 12 characters)' : ''}: ask the hub's admin to link you with [users.NAME] ${chat} = "${account.slice(0, 40)}"`);
    }
    const rateKey = `${chat}:${account}`;
    const limited = this.issued.check(rateKey, nowMs);
    if (limited) throw new LinkError(`too many link codes; try again in ${plural(minutes(limited.waitMs), 'minute')}`);
    const issuedMinutes = Math.floor(nowMs / MINUTE_MS);
    const code = formatLinkCode(signLinkCode(this.key(), chat, account, issuedMinutes));
    this.issued.add(rateKey, nowMs);
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
      return this.refuse(user, ev, seenMs, opts, 'no-key', `the hub cannot check link codes now (the hub's admin is told why): run \`flurm link\` again later, or ${ANY_NEW_CODE} again`, false);
    }
  }

  private linkFromSpool(user: string, ev: LinkEvent, seenMs: number, opts: { silent: boolean; file?: string }): ClaimOutcome {
    if (!opts.silent) {
      const limited = this.refusals.check(user, seenMs);
      if (limited) {
        const reason = `too many refused link codes (${REFUSALS_PER_WINDOW} in the last hour): codes are not read for ${plural(minutes(limited.waitMs), 'minute')}; then run ${ANY_NEW_CODE} again`;
        if (limited.reported) return { ok: false, refusal: 'rate-limited', reason };
        limited.markReported();
        return this.refuse(user, ev, seenMs, opts, 'rate-limited', reason, false);
      }
    }
    const parsed = parseLinkCode(ev.code ?? '');
    if (!parsed.ok) return this.refuse(user, ev, seenMs, opts, 'bad-code', `that is not a link code (${parsed.reason}): copy it again from ${ANY_NEW_CODE}`);
    const code = parsed.code;
    const chat = code.chat;
    const again = NEW_CODE[chat];
    if (!verifyLinkCode(this.key(), code)) {
      return this.refuse(user, ev, seenMs, opts, 'forged', `link code does not check out (mistyped, or made by another hub): copy it again, or run ${ANY_NEW_CODE} again`);
    }
    const use = this.store.codeUse(code.canonical);
    if (use) {
      // The same event read again, or the same user running the same code again while linked by it.
      if (use.event_id === ev.id || (use.user === user && this.store.row(user, 'spool', chat)?.account === code.account)) return { ok: true, kind: 'duplicate' };
      return this.refuse(user, ev, seenMs, opts, 'used', `link code already used (each code links once): run ${again} again for a new one`);
    }
    const issuedMs = code.issuedMinutes * MINUTE_MS;
    const expiresMs = issuedMs + (1 + LINK_CODE_TTL_MINUTES) * MINUTE_MS;
    if (!opts.silent) {
      if (seenMs >= expiresMs) {
        return this.refuse(user, ev, seenMs, opts, 'expired', `link code expired (issued ${Math.floor((seenMs - issuedMs) / MINUTE_MS)} min ago; codes last ${LINK_CODE_TTL_MINUTES} min): run ${again} again`);
      }
      if (seenMs < issuedMs - CLOCK_STEP_MS) {
        return this.refuse(user, ev, seenMs, opts, 'not-yet', `link code is dated ${minutes(issuedMs - seenMs)} min ahead of the hub's clock: run ${again} again`);
      }
    } else {
      // A replay: no hub clock from then, but a genuine `flurm link` was written within the
      // code's life (writer clocks are off by seconds, not minutes).
      const tsMs = Date.parse(ev.ts);
      if (!(tsMs >= issuedMs - WRITER_SKEW_MS && tsMs < expiresMs + WRITER_SKEW_MS)) {
        return this.refuse(user, ev, seenMs, opts, 'late', `link code was written ${Math.round((tsMs - issuedMs) / MINUTE_MS)} min after it was issued (codes last ${LINK_CODE_TTL_MINUTES} min): not linked; run ${again} again`);
      }
    }
    const mine = this.store.row(user, 'spool', chat);
    const holder = this.store.rowByAccount(chat, code.account, 'spool');
    const other = holder && holder.user !== user ? holder : undefined;
    // A replay applies events in file order, not in time: a newer state wins over an older event.
    if (opts.silent && ((mine?.event_id && mine.event_id > ev.id) || (other?.event_id && other.event_id > ev.id))) {
      this.store.markCodeUsed(code.canonical, user, ev.id, seenMs);
      return { ok: true, kind: 'superseded' };
    }
    const linkedMs = opts.silent && Number.isFinite(Date.parse(ev.ts)) ? Date.parse(ev.ts) : seenMs;
    this.inTransaction(() => {
      // One chat account, one unix user: the link moves; the old user's row marks the unlink.
      if (other) this.store.markUnlinked(other.user, chat, laterId(other.event_id, ev.id), seenMs);
      this.store.putSpool({ user, chat, account: code.account, eventId: laterId(mine?.event_id, ev.id), host: ev.host, linkedMs });
      this.store.markCodeUsed(code.canonical, user, ev.id, seenMs);
    });
    const key = `link:${user}`;
    const name = CHAT_NAMES[chat];
    let overridden: string | null = null;
    if (this.accountOf(user, chat) !== code.account) {
      const config = this.store.row(user, 'config', chat);
      const holderByConfig = this.store.rowByAccount(chat, code.account, 'config');
      overridden = config?.account
        ? `${user} is linked to ${name} user ${config.account} by the hub config ([users.${user}] ${chat})`
        : `${name} user ${code.account} is linked to ${holderByConfig?.user ?? 'another user'} by the hub config ([users.${holderByConfig?.user ?? '…'}] ${chat})`;
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
        this.after(() => this.accountOf(user, chat) === code.account && this.onLinked?.(user, chat, code.account, { silent: false, movedFrom, eventId: ev.id }));
      }
    }
    this.o.log?.info(`linked a ${name} account`, { user, chat, account: code.account, host: ev.host, silent: opts.silent, moved_from: other?.user, overridden: overridden !== null });
    return { ok: true, kind: 'linked', chat, account: code.account, movedFrom: other?.user ?? null, overridden };
  }

  /** `flurm unlink [--chat C]`: every chat's spool link ends (or that chat's). */
  private unlinkFromSpool(user: string, ev: LinkEvent, seenMs: number, opts: { silent: boolean; file?: string }): ClaimOutcome {
    const chats = ev.chat ? [ev.chat] : LINK_CHATS;
    let ended = 0;
    let superseded = 0;
    const kept: string[] = [];
    for (const chat of chats) {
      const mine = this.store.row(user, 'spool', chat);
      // An unlink older than the row's event is one read again (or replayed late): it ends nothing.
      if (mine?.event_id && mine.event_id > ev.id) {
        superseded++;
        continue;
      }
      this.store.markUnlinked(user, chat, ev.id, seenMs);
      const config = this.store.row(user, 'config', chat);
      if (config?.account) kept.push(`${CHAT_NAMES[chat]} user ${config.account} by the hub config ([users.${user}] ${chat})`);
      if (mine?.account) {
        ended++;
        this.o.log?.info(`unlinked a ${CHAT_NAMES[chat]} account (flurm unlink)`, { user, chat, account: mine.account, host: ev.host, silent: opts.silent });
      }
    }
    const key = `link:${user}`;
    if (kept.length) {
      this.o.problems.report(key, `flurm unlink on ${ev.host}: ${user} stays linked to ${kept.join(' and to ')}; ask the hub's admin to remove it`, { user, file: opts.file, nowMs: seenMs });
    } else this.o.problems.clear(key);
    if (superseded === chats.length) return { ok: true, kind: 'superseded' };
    return { ok: true, kind: ended ? 'unlinked' : 'not-linked' };
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

  /** The account `user` is linked to in `chat`, or null. */
  accountOf(user: string, chat: LinkChat): string | null {
    return this.store.effective(user, chat)?.account ?? null;
  }

  /** The unix user a chat account is linked to, or null. */
  userOfAccount(chat: LinkChat, account: string): string | null {
    return this.store.effectiveByAccount(chat, account)?.user ?? null;
  }

  /** The Discord account `user` is linked to, or null. */
  discordOf(user: string): string | null {
    return this.accountOf(user, 'discord');
  }

  /** The unix user a Discord account is linked to, or null. */
  userOf(discordId: string): string | null {
    return this.userOfAccount('discord', discordId);
  }

  /**
   * /unlink (Discord) or /flurm unlink (Slack): end the `flurm link` link of this account;
   * returns the unix user it was linked to, or null when it was not. A link from the hub config
   * cannot be ended here: a LinkError says so. (The spool keeps the `link` event: after an index
   * rebuild the link comes back unless the user ran `flurm unlink` — docs/linking.md.)
   */
  unlinkAccount(chat: LinkChat, account: string): string | null {
    const eff = this.store.effectiveByAccount(chat, account);
    if (eff?.source === 'config') {
      throw new LinkError(`${CHAT_NAMES[chat]} user ${account} is linked to ${eff.user} by the hub config ([users.${eff.user}] ${chat}); only the hub's admin can remove that link`);
    }
    const row = this.store.rowByAccount(chat, account, 'spool');
    if (!row) return null;
    const nowMs = this.now();
    this.store.markUnlinked(row.user, chat, laterId(row.event_id, newId(nowMs)), nowMs);
    this.o.log?.info(`unlinked a ${CHAT_NAMES[chat]} account (in the chat)`, { user: row.user, chat, account });
    return row.user;
  }

  unlinkDiscord(discordId: string): string | null {
    return this.unlinkAccount('discord', discordId);
  }

  /**
   * What /link (Discord) or /flurm link (Slack) answers: the command with a fresh code, for every
   * chat the same words. Throws a LinkError to show (too many codes, an id that does not fit).
   */
  linkAnswer(chat: LinkChat, account: string, nowMs: number = this.now()): Message {
    const c = this.issueCode(chat, account, nowMs);
    const mins = Math.round((c.expiresMs - nowMs) / MINUTE_MS);
    const user = this.userOfAccount(chat, account);
    const already = user ? `\nYou are linked to ${user} now; this moves the link.` : '';
    return {
      title: 'Link your unix user',
      severity: 'info',
      summary: `Run this on any node within ${mins} minutes, as yourself:\n\`\`\`\n${c.command}\n\`\`\`\nThe hub accepts it from a file in your own spool: that is the proof.${already}`,
    };
  }

  /** What /unlink (Discord) or /flurm unlink (Slack) answers, having ended the link; a LinkError for a config link. */
  unlinkAnswer(chat: LinkChat, account: string): Message {
    const user = this.unlinkAccount(chat, account);
    return { title: 'Unlink', severity: 'info', summary: user ? `Unlinked from ${user}: job ends no longer come here as DMs.` : 'You were not linked.' };
  }

  /** The links in effect for `user`, one per chat at most (none: not linked). */
  status(user: string): LinkStatus[] {
    return this.store.effectiveOf(user).map(toStatus);
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
