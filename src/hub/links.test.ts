// Account linking in-process, with real parts: a real SQLite index file and its key file in a temp
// dir, the real ProblemStore (what `flurm doctor` and /api/v1/problems show), real spool files
// written by the real writer and read by the real Ingestor, and an injected clock. Each case
// asserts what a user would notice: who is linked to whom, what the bot is told, which problem is
// listed and what it says.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { OutboxStore, ProblemStore } from '../store/outbox.js';
import { createLogger } from '../lib/logger.js';
import { newId } from '../lib/ids.js';
import { appendEvent } from '../spool/writer.js';
import { signLinkCode, formatLinkCode, type LinkChat } from '../spool/link-code.js';
import type { LinkEvent } from '../spool/events.js';
import { Enqueuer } from './enqueue.js';
import { Ingestor } from './ingest.js';
import { LinkError, LinkService, linkKeyFile, loadOrCreateLinkKey, type LinkedInfo } from './links.js';

const MIN = 60_000;
const ALICE_DISCORD = '111111111111111111';
const BOB_DISCORD = '222222222222222222';
const me = os.userInfo().username;

let root: string;
let dbFile: string;
let clock: { ms: number };
const open: Db[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-links-'));
  dbFile = path.join(root, 'hubstate', 'index.db');
  // Mid-minute, so "10 minutes" and "11 minutes" are not read off a minute boundary.
  clock = { ms: Math.floor(Date.parse('2025-03-01T12:00:00Z') / MIN) * MIN + 23_456 };
});
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

interface World {
  db: Db;
  links: LinkService;
  problems: ProblemStore;
  linked: { user: string; chat: LinkChat; account: string; info: LinkedInfo }[];
  refused: { user: string; reason: string }[];
  /** The problem a user sees about linking, if any. */
  problem(user: string): { reason: string; count: number } | undefined;
}

function service(opts: { configUsers?: Record<string, { discord?: string; slack?: string }> } = {}): World {
  const db = openDb(dbFile);
  open.push(db);
  const problems = new ProblemStore(db);
  const w: World = {
    db,
    problems,
    linked: [],
    refused: [],
    links: new LinkService(db, {
      keyFile: linkKeyFile(dbFile),
      problems,
      configUsers: opts.configUsers,
      now: () => clock.ms,
      onLinked: (user, chat, account, info) => w.linked.push({ user, chat, account, info }),
      onRefused: (user, reason) => w.refused.push({ user, reason }),
    }),
    problem: (user) => problems.list().find((p) => p.user === user && p.key === `link:${user}`),
  };
  return w;
}

function linkEvent(code: string, opts: { user?: string; host?: string; ms?: number } = {}): LinkEvent {
  const ms = opts.ms ?? clock.ms;
  return { v: 1, type: 'link', id: newId(ms), ts: new Date(ms).toISOString(), user: opts.user ?? me, host: opts.host ?? 'node3', src: 'node', code };
}

function unlinkEvent(opts: { user?: string; host?: string; ms?: number } = {}): LinkEvent {
  const ms = opts.ms ?? clock.ms;
  return { v: 1, type: 'link', id: newId(ms), ts: new Date(ms).toISOString(), user: opts.user ?? me, host: opts.host ?? 'node3', src: 'node', unlink: true };
}

describe('issuing codes (/link)', () => {
  it('gives a code, when it expires and the command to run; a sixth within 10 minutes is refused with when to retry', () => {
    const { links } = service();
    const first = links.issueCode('discord', ALICE_DISCORD, clock.ms);
    expect(first.code).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}-[0-9A-Z]{4}$/);
    expect(first.command).toBe(`flurm link ${first.code}`);
    expect(first.expiresMs - clock.ms).toBeGreaterThanOrEqual(10 * MIN);
    expect(first.expiresMs - clock.ms).toBeLessThanOrEqual(11 * MIN);
    for (let i = 0; i < 4; i++) links.issueCode('discord', ALICE_DISCORD, clock.ms + i * MIN);
    expect(() => links.issueCode('discord', ALICE_DISCORD, clock.ms + 4 * MIN)).toThrow(new LinkError('too many link codes; try again in 6 minutes'));
    // Another Discord account is not held up; and after the window alice gets codes again.
    expect(links.issueCode('discord', BOB_DISCORD, clock.ms + 4 * MIN).code).toBeTruthy();
    expect(links.issueCode('discord', ALICE_DISCORD, clock.ms + 10 * MIN).code).toBeTruthy();
    expect(() => links.issueCode('discord', 'not-an-id', clock.ms)).toThrow(LinkError);
  });

  it('keeps its key beside the index, mode 0600, and refuses one others can read', () => {
    const a = service();
    const code = a.links.issueCode('discord', ALICE_DISCORD, clock.ms).code;
    const keyFile = `${dbFile}.link-key`;
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(keyFile).size).toBe(32);
    // Another hub process over the same index directory reads the same key: the code verifies there.
    const b = service();
    expect(b.links.claim(me, linkEvent(code), clock.ms, { silent: false })).toMatchObject({ ok: true, kind: 'linked' });
    fs.chmodSync(keyFile, 0o644);
    expect(() => loadOrCreateLinkKey(keyFile)).toThrow(/readable by others \(mode 644\).*refused/);
  });
});

describe('claiming a code (flurm link CODE, as the hub reads it)', () => {
  it('links within 10 minutes of issue by the hub\'s clock, and tells the bot', () => {
    const w = service();
    const { code } = w.links.issueCode('discord', ALICE_DISCORD, clock.ms);
    clock.ms += 10 * MIN;
    const r = w.links.claim('alice', linkEvent(code, { user: 'alice' }), clock.ms, { silent: false });
    expect(r).toMatchObject({ ok: true, kind: 'linked', chat: 'discord', account: ALICE_DISCORD, movedFrom: null });
    expect(w.links.discordOf('alice')).toBe(ALICE_DISCORD);
    expect(w.links.userOf(ALICE_DISCORD)).toBe('alice');
    expect(w.links.status('alice')).toEqual([{ user: 'alice', chat: 'discord', account: ALICE_DISCORD, source: 'spool', linked_ms: clock.ms, host: 'node3' }]);
    expect(w.linked).toEqual([{ user: 'alice', chat: 'discord', account: ALICE_DISCORD, info: { silent: false, movedFrom: null, eventId: expect.any(String) } }]);
    expect(w.refused).toEqual([]);
  });

  it('refuses a code 11 minutes old, saying how old and what to do', () => {
    const w = service();
    const { code } = w.links.issueCode('discord', ALICE_DISCORD, clock.ms);
    clock.ms += 11 * MIN;
    const r = w.links.claim('alice', linkEvent(code, { user: 'alice' }), clock.ms, { silent: false });
    const reason = 'link code expired (issued 11 min ago; codes last 10 min): run /link in Discord again';
    expect(r).toEqual({ ok: false, refusal: 'expired', reason });
    expect(w.links.discordOf('alice')).toBeNull();
    expect(w.problem('alice')).toMatchObject({ reason: `flurm link on node3: ${reason}`, count: 1 });
    expect(w.refused).toEqual([{ user: 'alice', reason }]);
    // A fresh code then links, and the problem is gone.
    const again = w.links.issueCode('discord', ALICE_DISCORD, clock.ms).code;
    expect(w.links.claim('alice', linkEvent(again, { user: 'alice' }), clock.ms + MIN, { silent: false }).ok).toBe(true);
    expect(w.problem('alice')).toBeUndefined();
  });

  it('links once per code: the same event read again changes nothing, another use is refused', () => {
    const w = service();
    const { code } = w.links.issueCode('discord', ALICE_DISCORD, clock.ms);
    const ev = linkEvent(code, { user: 'alice' });
    expect(w.links.claim('alice', ev, clock.ms, { silent: false }).ok).toBe(true);
    expect(w.links.claim('alice', ev, clock.ms + 1000, { silent: false })).toEqual({ ok: true, kind: 'duplicate' });
    // alice runs the same command again: she is linked by it, nothing to refuse.
    expect(w.links.claim('alice', linkEvent(code, { user: 'alice' }), clock.ms + 1500, { silent: false })).toEqual({ ok: true, kind: 'duplicate' });
    expect(w.refused).toEqual([]);
    const stolen = w.links.claim('bob', linkEvent(code, { user: 'bob' }), clock.ms + 2000, { silent: false });
    expect(stolen).toEqual({ ok: false, refusal: 'used', reason: 'link code already used (each code links once): run /link in Discord again for a new one' });
    expect(w.links.userOf(ALICE_DISCORD)).toBe('alice');
    expect(w.linked).toHaveLength(1);
    expect(w.problem('bob')?.reason).toContain('already used');
  });

  it('refuses a tampered code, and after 5 refusals in an hour reads no more codes from that user (said once)', () => {
    const w = service();
    const good = w.links.issueCode('discord', ALICE_DISCORD, clock.ms).code;
    const last = good.slice(-2, -1) === 'A' ? 'B' : 'A';
    const tampered = good.slice(0, -2) + last + good.slice(-1);
    for (let i = 0; i < 5; i++) {
      expect(w.links.claim('mallory', linkEvent(tampered, { user: 'mallory' }), clock.ms + i * 1000, { silent: false })).toMatchObject({ ok: false, refusal: 'forged' });
    }
    expect(w.problem('mallory')?.reason).toBe('flurm link on node3: link code does not check out (mistyped, or made by another hub): copy it again, or run /link in Discord or /flurm link in Slack again');
    // The sixth is not checked, even though it is a good code; the user is told once.
    const sixth = w.links.claim('mallory', linkEvent(good, { user: 'mallory' }), clock.ms + 5000, { silent: false });
    expect(sixth).toMatchObject({ ok: false, refusal: 'rate-limited', reason: expect.stringMatching(/^too many refused link codes \(5 in the last hour\): codes are not read for 60 minutes/) });
    expect(w.links.claim('mallory', linkEvent(good, { user: 'mallory' }), clock.ms + 6000, { silent: false })).toMatchObject({ refusal: 'rate-limited' });
    expect(w.refused.map((r) => r.reason.slice(0, 24))).toEqual([...Array(5).fill('link code does not check'), 'too many refused link co']);
    expect(w.problem('mallory')).toMatchObject({ reason: expect.stringContaining('too many refused link codes'), count: 6 });
    expect(w.links.discordOf('mallory')).toBeNull();
    // Others are not held up; mallory is read again an hour after the first refusal.
    expect(w.links.claim('alice', linkEvent(good, { user: 'alice' }), clock.ms + 7000, { silent: false }).ok).toBe(true);
    const later = clock.ms + 60 * MIN + 1000;
    const fresh = w.links.issueCode('discord', BOB_DISCORD, later).code;
    expect(w.links.claim('mallory', linkEvent(fresh, { user: 'mallory', ms: later }), later, { silent: false })).toMatchObject({ ok: true, kind: 'linked' });
  });

  it('a replayed (silent) claim links whatever the code\'s age, and tells no one', () => {
    const w = service();
    const { code } = w.links.issueCode('discord', ALICE_DISCORD, clock.ms);
    const written = clock.ms + 2 * MIN;
    const r = w.links.claim('alice', linkEvent(code, { user: 'alice', ms: written }), clock.ms + 30 * 86_400_000, { silent: true });
    expect(r).toMatchObject({ ok: true, kind: 'linked' });
    expect(w.links.status('alice')[0]).toMatchObject({ account: ALICE_DISCORD, linked_ms: written });
    expect(w.linked).toEqual([]);
    // A code that was written long after its life (refused when it was read live) stays refused.
    const old = w.links.issueCode('discord', BOB_DISCORD, clock.ms).code;
    const late = w.links.claim('bob', linkEvent(old, { user: 'bob', ms: clock.ms + 40 * MIN }), clock.ms + 86_400_000, { silent: true });
    expect(late).toMatchObject({ ok: false, refusal: 'late' });
    expect(w.refused).toEqual([]);
  });

  it('one Discord account, one unix user: a new link moves it', () => {
    const w = service();
    w.links.claim('alice', linkEvent(w.links.issueCode('discord', ALICE_DISCORD, clock.ms).code, { user: 'alice' }), clock.ms, { silent: false });
    clock.ms += MIN;
    const r = w.links.claim('bob', linkEvent(w.links.issueCode('discord', ALICE_DISCORD, clock.ms).code, { user: 'bob' }), clock.ms, { silent: false });
    expect(r).toMatchObject({ ok: true, kind: 'linked', movedFrom: 'alice' });
    expect(w.links.userOf(ALICE_DISCORD)).toBe('bob');
    expect(w.links.discordOf('alice')).toBeNull();
    expect(w.linked.at(-1)).toEqual({ user: 'bob', chat: 'discord', account: ALICE_DISCORD, info: { silent: false, movedFrom: 'alice', eventId: expect.any(String) } });
    expect(w.links.list().map((l) => l.user)).toEqual(['bob']);
  });

  it('ends a link from the unix side (flurm unlink) and from Discord (/unlink)', () => {
    const w = service();
    w.links.claim('alice', linkEvent(w.links.issueCode('discord', ALICE_DISCORD, clock.ms).code, { user: 'alice' }), clock.ms, { silent: false });
    clock.ms += MIN;
    expect(w.links.claim('alice', unlinkEvent({ user: 'alice' }), clock.ms, { silent: false })).toEqual({ ok: true, kind: 'unlinked' });
    expect(w.links.discordOf('alice')).toBeNull();
    expect(w.links.claim('alice', unlinkEvent({ user: 'alice' }), clock.ms, { silent: false })).toEqual({ ok: true, kind: 'not-linked' });

    clock.ms += MIN;
    w.links.claim('bob', linkEvent(w.links.issueCode('discord', BOB_DISCORD, clock.ms).code, { user: 'bob' }), clock.ms, { silent: false });
    expect(w.links.unlinkDiscord(BOB_DISCORD)).toBe('bob');
    expect(w.links.discordOf('bob')).toBeNull();
    expect(w.links.unlinkDiscord(BOB_DISCORD)).toBeNull();
  });

  it('links a Slack account with a code from /flurm link, beside the Discord one; flurm unlink --chat slack ends that one only', () => {
    const w = service({ configUsers: { bob: { slack: 'U0BOB0000' } } });
    w.links.claim('alice', linkEvent(w.links.issueCode('discord', ALICE_DISCORD, clock.ms).code, { user: 'alice' }), clock.ms, { silent: false });
    const issued = w.links.issueCode('slack', 'U0123ABCDEF', clock.ms);
    expect(issued.command).toBe(`flurm link ${issued.code}`);
    expect(w.links.claim('alice', linkEvent(issued.code, { user: 'alice' }), clock.ms, { silent: false })).toMatchObject({ ok: true, kind: 'linked', chat: 'slack', account: 'U0123ABCDEF' });
    expect(w.linked.map((l) => `${l.chat}:${l.account}`)).toEqual([`discord:${ALICE_DISCORD}`, 'slack:U0123ABCDEF']);
    expect(w.links.status('alice').map((l) => `${l.chat}=${l.account}`)).toEqual([`discord=${ALICE_DISCORD}`, 'slack=U0123ABCDEF']);
    expect(w.links.userOfAccount('slack', 'U0123ABCDEF')).toBe('alice');
    // A Slack account the config gives bob cannot be ended from Slack; a too-long id gets no code.
    expect(() => w.links.unlinkAccount('slack', 'U0BOB0000')).toThrow(/linked to bob by the hub config \(\[users\.bob\] slack\)/);
    expect(() => w.links.issueCode('slack', 'U0123456789ABC', clock.ms)).toThrow(/does not fit a link code .*\[users\.NAME\] slack = "U0123456789ABC"/);
    clock.ms += MIN;
    expect(w.links.claim('alice', { ...unlinkEvent({ user: 'alice' }), chat: 'slack' }, clock.ms, { silent: false })).toEqual({ ok: true, kind: 'unlinked' });
    expect(w.links.status('alice').map((l) => l.chat)).toEqual(['discord']);
    // flurm unlink without --chat ends every chat's link.
    w.links.claim('alice', linkEvent(w.links.issueCode('slack', 'U0123ABCDEF', clock.ms).code, { user: 'alice' }), clock.ms, { silent: false });
    clock.ms += MIN;
    w.links.claim('alice', unlinkEvent({ user: 'alice' }), clock.ms, { silent: false });
    expect(w.links.status('alice')).toEqual([]);
  });

  it('a link from the hub config wins over flurm link and cannot be ended from Discord', () => {
    const w = service({ configUsers: { carol: { discord: ALICE_DISCORD }, dave: {} } });
    expect(w.links.status('carol')[0]).toMatchObject({ user: 'carol', account: ALICE_DISCORD, source: 'config', host: null });
    expect(() => w.links.unlinkDiscord(ALICE_DISCORD)).toThrow(new LinkError(`Discord user ${ALICE_DISCORD} is linked to carol by the hub config ([users.carol] discord); only the hub's admin can remove that link`));
    // alice proves she holds that Discord account: recorded, but the config's link is in effect, and she is told.
    const r = w.links.claim('alice', linkEvent(w.links.issueCode('discord', ALICE_DISCORD, clock.ms).code, { user: 'alice' }), clock.ms, { silent: false });
    expect(r).toMatchObject({ ok: true, kind: 'linked', overridden: expect.stringContaining('linked to carol by the hub config') });
    expect(w.links.userOf(ALICE_DISCORD)).toBe('carol');
    expect(w.links.discordOf('alice')).toBeNull();
    expect(w.linked).toEqual([]);
    expect(w.refused[0]?.reason).toMatch(/linked to carol by the hub config .*wins over `flurm link`; ask the hub's admin/);
    // carol's flurm unlink leaves the config link alone and says so.
    w.links.claim('carol', unlinkEvent({ user: 'carol' }), clock.ms, { silent: false });
    expect(w.links.discordOf('carol')).toBe(ALICE_DISCORD);
    expect(w.problem('carol')?.reason).toContain('stays linked to Discord user 111111111111111111 by the hub config');
    // The config changes at a restart (carol's link removed): alice's own link takes effect.
    w.db.close();
    const next = service({ configUsers: {} });
    expect(next.links.userOf(ALICE_DISCORD)).toBe('alice');
  });
});

// ---- through the ingest: real spool files, the file owner as the user --------------------------

interface IngestHub extends World {
  ingestor: Ingestor;
}

function ingestHub(spools: string[]): IngestHub {
  const w = service();
  const log = createLogger({ level: 'error', write: () => undefined });
  const enqueuer = new Enqueuer(new OutboxStore(w.db), { routes: [], patterns: [], fallback: [], maxPerUserPerMinute: 1000, log, now: () => clock.ms });
  const ingestor = new Ingestor(w.db, new JobStore(w.db), w.problems, enqueuer, log, {
    pollIntervalMs: 1000,
    rediscoverIntervalMs: 3_600_000,
    maxBytesPerRead: 64 * 1024,
    maxIdleChecksPerSecond: 2000,
    backfillSeconds: 3600,
    sources: () => spools.map((dir) => ({ dir })),
    now: () => clock.ms,
    links: w.links,
  }, () => undefined);
  return { ...w, ingestor };
}

function spoolOf(name: string): string {
  const spool = path.join(root, 'home', name, '.flurm');
  fs.mkdirSync(path.join(spool, 'events'), { recursive: true });
  return spool;
}

/** Delete the index as an admin does for a rebuild (the key file beside it stays). */
function deleteIndex(w: World): void {
  w.db.close();
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) fs.rmSync(f, { force: true });
}

describe('link events through the ingest', () => {
  it('links the OWNER of the events file, whatever user the event names', async () => {
    const spool = spoolOf('owner');
    const hub = ingestHub([spool]);
    await hub.ingestor.drain();
    clock.ms += 1000;
    const { code } = hub.links.issueCode('discord', ALICE_DISCORD, clock.ms);
    appendEvent(spool, linkEvent(code, { user: 'mallory' }));
    hub.ingestor.ring();
    await hub.ingestor.drain();
    expect(hub.links.discordOf(me)).toBe(ALICE_DISCORD);
    expect(hub.links.discordOf('mallory')).toBeNull();
    // The bot is told after the ingest's transaction has committed.
    await Promise.resolve();
    expect(hub.linked).toEqual([{ user: me, chat: 'discord', account: ALICE_DISCORD, info: { silent: false, movedFrom: null, eventId: expect.any(String) } }]);
  });

  it('a malformed code is an invalid line, reported with the field, and links no one', async () => {
    const spool = spoolOf('owner');
    const hub = ingestHub([spool]);
    await hub.ingestor.drain();
    const file = path.join(spool, 'events', 'node3.jsonl');
    fs.appendFileSync(file, JSON.stringify(linkEvent('NOT-A-CODE')) + '\n');
    await hub.ingestor.drain();
    expect(hub.ingestor.stats.invalid).toBe(1);
    const p = hub.problems.list().find((x) => x.key === `invalid:${file}`);
    expect(p?.reason).toMatch(/^invalid event line: link event: field `code` must be a flurm link code/);
    expect(hub.links.list()).toEqual([]);
  });

  it('rebuild: delete the index, re-ingest the same spools — the links come back, the newest event winning, the bot told nothing', async () => {
    const alice = spoolOf('alice');
    let hub = ingestHub([alice]);
    await hub.ingestor.drain();
    // Linked on node3, then unlinked on node4, then linked again to another account on node2; plus an
    // expired code that was refused (node1). Each host has its own file, so a rebuild reads them in
    // file order (node1, node2, …), not in time: alice's first link and her unlink come after the newer link.
    const step = (ms: number) => (clock.ms += ms);
    step(1000);
    appendEvent(alice, linkEvent(hub.links.issueCode('discord', ALICE_DISCORD, clock.ms).code, { host: 'node3' }));
    await hub.ingestor.drain();
    step(MIN);
    appendEvent(alice, unlinkEvent({ host: 'node4' }));
    await hub.ingestor.drain();
    step(MIN);
    const stale = hub.links.issueCode('discord', ALICE_DISCORD, clock.ms).code;
    appendEvent(alice, linkEvent(hub.links.issueCode('discord', BOB_DISCORD, clock.ms).code, { host: 'node2' }));
    await hub.ingestor.drain();
    step(20 * MIN);
    appendEvent(alice, linkEvent(stale, { host: 'node1' }));
    await hub.ingestor.drain();
    expect(hub.problem(me)?.reason).toMatch(/^flurm link on node1: link code expired \(issued 20 min ago/);
    expect(hub.links.status(me)[0]).toMatchObject({ account: BOB_DISCORD, host: 'node2' });
    const before = hub.links.status(me);
    expect(hub.linked.map((l) => l.account)).toEqual([ALICE_DISCORD, BOB_DISCORD]);

    const keyBefore = fs.readFileSync(`${dbFile}.link-key`);
    deleteIndex(hub);
    step(3 * 86_400_000);
    hub = ingestHub([alice]);
    await hub.ingestor.drain();
    expect(fs.readFileSync(`${dbFile}.link-key`)).toEqual(keyBefore);
    expect(hub.links.status(me)).toEqual(before);
    expect(hub.links.userOf(ALICE_DISCORD)).toBeNull();
    await Promise.resolve();
    expect(hub.linked).toEqual([]);
    expect(hub.refused).toEqual([]);
  });
});
