// The ingest loop in-process: a real SQLite index file in a temp dir, the real JobStore, Enqueuer
// and OutboxStore, real spool files written by the real writer (or byte by byte where a writer
// would be caught mid-line), and an injected clock driving tick() by hand. Every case asserts what
// a user would see: rows in jobs (what `flurm jobs` shows) and in the outbox (what gets sent).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { OutboxStore, ProblemStore } from '../store/outbox.js';
import { createLogger } from '../lib/logger.js';
import { newId } from '../lib/ids.js';
import { appendEvent, eventsFile, serializeEvent } from '../spool/writer.js';
import type { EndEvent, StartEvent } from '../spool/events.js';
import { Enqueuer } from './enqueue.js';
import { Ingestor, type IngestOptions } from './ingest.js';
import { expandHomes } from './sources.js';

const POLL_MS = 1000;
const DEST = 'json://127.0.0.1:9/me';

interface World {
  root: string;
  dbFile: string;
  clock: { ms: number };
  /** A home under <root>/home; `spool: false` makes none (a user who never ran flurm). */
  home(name: string, opts?: { spool?: boolean; events?: boolean }): { home: string; spool: string; legacy: string };
}

let w: World;
const open: Db[] = [];

beforeEach(() => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-ingest-'));
  fs.mkdirSync(path.join(root, 'home'));
  w = {
    root,
    dbFile: path.join(root, 'hubstate', 'index.db'),
    clock: { ms: Date.now() },
    home(name, opts = {}) {
      const home = path.join(root, 'home', name);
      const spool = path.join(home, '.flurm');
      fs.mkdirSync(home, { recursive: true });
      if (opts.spool !== false) fs.mkdirSync(opts.events === false ? spool : path.join(spool, 'events'), { recursive: true });
      return { home, spool, legacy: path.join(home, '.pingchilling') };
    },
  };
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  fs.rmSync(w.root, { recursive: true, force: true });
});

interface Hub {
  db: Db;
  ingestor: Ingestor;
  logs: string[];
  /** Advance the clock by one poll interval and run one tick. */
  poll(n?: number): Promise<void>;
  /** Tick until nothing is left to read (the clock still). */
  settle(): Promise<void>;
  jobs(): { id: string; state: string; title: string | null; exit: number | null; start_ts: string | null; end_ts: string | null; wall_seconds: number | null }[];
  /** Outbox rows: one per message to send. */
  messages(): { ref_id: string; title: string; text: string }[];
}

/**
 * A hub's ingest over the index file (a new process: a new connection). `enqueueNow` is the
 * Enqueuer's clock — a test makes it throw to stop the process in the middle of a chunk.
 */
function startHub(opts: Partial<IngestOptions> & { enqueueNow?: () => number } = {}): Hub {
  const db = openDb(w.dbFile);
  open.push(db);
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  const outbox = new OutboxStore(db);
  const now = () => w.clock.ms;
  const enqueuer = new Enqueuer(outbox, { routes: [], patterns: [], fallback: [DEST], maxPerUserPerMinute: 1_000_000, log, now: opts.enqueueNow ?? now });
  const ingestor = new Ingestor(db, new JobStore(db), new ProblemStore(db), enqueuer, log, {
    pollIntervalMs: POLL_MS,
    rediscoverIntervalMs: 3_600_000, // far longer than any test: what a test sees, it did not get from a rediscovery
    maxBytesPerRead: 64 * 1024,
    maxIdleChecksPerSecond: 2000,
    backfillSeconds: 3600,
    sources: () => expandHomes([path.join(w.root, 'home', '*')]).map((h) => ({ dir: path.join(h, '.flurm'), legacyFile: path.join(h, '.pingchilling') })),
    now,
    ...opts,
  }, () => undefined);
  return {
    db,
    ingestor,
    logs,
    async poll(n = 1) {
      for (let i = 0; i < n; i++) {
        w.clock.ms += POLL_MS;
        await ingestor.tick();
      }
    },
    async settle() {
      for (let i = 0; i < 1000; i++) if (!(await ingestor.tick())) return;
      throw new Error('ingest did not settle');
    },
    jobs: () => db.prepare('SELECT id, state, title, exit, start_ts, end_ts, wall_seconds FROM jobs ORDER BY COALESCE(start_ts, end_ts), id').all() as never,
    messages: () =>
      (db.prepare('SELECT ref_id, message_json FROM outbox ORDER BY id').all() as { ref_id: string; message_json: string }[]).map((r) => {
        const m = JSON.parse(r.message_json) as { title: string; fields?: { name: string; value: string }[]; summary?: string };
        return { ref_id: r.ref_id, title: m.title, text: JSON.stringify(m) };
      }),
  };
}

const me = os.userInfo().username;

function job(title: string, opts: { ms?: number; exit?: number; host?: string } = {}): { start: StartEvent; end: EndEvent } {
  const ms = opts.ms ?? w.clock.ms;
  const id = newId(ms);
  const host = opts.host ?? 'gpu1';
  return {
    start: { v: 1, type: 'start', id, ts: new Date(ms).toISOString(), user: me, host, src: 'node', pid: 4000, pid_start: '123', cwd: '/tmp', title, cmd: `python ${title}.py` },
    end: { v: 1, type: 'end', id, ts: new Date(ms + 5000).toISOString(), user: me, host, src: 'node', exit: opts.exit ?? 0, wall_seconds: 5 },
  };
}

const lines = (...evs: (StartEvent | EndEvent)[]) => evs.map((e) => serializeEvent(e)).join('');

/** A wall-clock time as the legacy writer prints it (`date +%F\ %T`, local time). */
function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

describe('exactly once across a crash', () => {
  it('a hub stopped in the middle of a chunk: the next one over the same index neither loses nor repeats an event', async () => {
    const { spool } = w.home('ada');
    const file = eventsFile(spool, 'gpu1');
    const N = 600;
    let text = '';
    for (let i = 0; i < N; i++) {
      const j = job(`job-${i}`, { ms: w.clock.ms + i, exit: i % 7 === 0 ? 1 : 0 });
      text += lines(j.start, j.end);
    }
    fs.writeFileSync(file, text); // ~290 KB: five 64 KiB chunks
    // The first hub dies while applying its third chunk: its queueing clock stops answering.
    let calls = 0;
    const first = startHub({ enqueueNow: () => (++calls > 700 ? thrower() : w.clock.ms) });
    for (let i = 0; i < 20 && !first.logs.some((l) => l.includes('ingest tick failed')); i++) await first.ingestor.tick();
    expect(first.logs.join('\n')).toContain('simulated crash');

    const ended = first.jobs().filter((j) => j.end_ts).length;
    const committed = first.jobs().filter((j) => j.start_ts).length + ended;
    expect(ended).toBeGreaterThan(0);
    expect(ended).toBeLessThan(N);
    // Ends and their messages committed together; what the dying chunk had applied is gone.
    expect(first.messages()).toHaveLength(ended);
    expect(first.ingestor.stats.events).toBeGreaterThan(committed);

    // The writer goes on while no hub runs.
    let more = '';
    for (let i = N; i < N + 100; i++) {
      const j = job(`job-${i}`, { ms: w.clock.ms + i });
      more += lines(j.start, j.end);
    }
    fs.appendFileSync(file, more);

    const second = startHub();
    await second.settle();
    const jobs = second.jobs();
    expect(jobs).toHaveLength(N + 100);
    expect(jobs.every((j) => j.end_ts !== null && j.title?.startsWith('job-'))).toBe(true);
    const msgs = second.messages();
    expect(msgs).toHaveLength(N + 100);
    expect(new Set(msgs.map((m) => m.ref_id)).size).toBe(N + 100);
    // The new hub read only what the old one had not committed: each event applied once in all.
    expect(second.ingestor.stats.events).toBe(2 * (N + 100) - committed);
  });
});

function thrower(): never {
  throw new Error('simulated crash');
}

describe('reading a spool file', () => {
  it('a partial last line waits for its newline, across a restart too', async () => {
    const { spool } = w.home('bea');
    const j = job('half-written');
    const file = appendEvent(spool, j.start);
    const endLine = serializeEvent(j.end);
    fs.appendFileSync(file, endLine.slice(0, 40)); // the writer is caught in the middle of its line
    const hub = startHub();
    await hub.poll();
    expect(hub.jobs()).toMatchObject([{ id: j.start.id, state: 'running', title: 'half-written' }]);
    expect(hub.messages()).toHaveLength(0);
    await hub.poll(3);
    expect(hub.jobs()[0]!.state).toBe('running');

    const again = startHub();
    await again.poll();
    expect(again.jobs()[0]!.state).toBe('running');
    fs.appendFileSync(file, endLine.slice(40));
    await again.poll();
    expect(again.jobs()).toMatchObject([{ id: j.start.id, state: 'succeeded', exit: 0 }]);
    expect(again.messages().map((m) => m.title)).toEqual([expect.stringContaining('half-written')]);
    expect(again.logs.join('\n')).not.toMatch(/invalid event line/);
  });

  it('a replaced file (new inode) is read again from its start; what it repeats is not sent twice', async () => {
    const { spool } = w.home('cem');
    const a = job('first');
    const file = eventsFile(spool, 'gpu1');
    fs.writeFileSync(file, lines(a.start, a.end));
    const hub = startHub();
    await hub.poll();
    expect(hub.messages().map((m) => m.title)).toEqual([expect.stringContaining('first')]);

    // Rewritten through a temp name: the new job comes first, before the old saved offset.
    const b = job('second', { exit: 2 });
    fs.writeFileSync(`${file}.tmp`, lines(b.start, b.end, a.start, a.end));
    const before = fs.statSync(file).ino;
    fs.renameSync(`${file}.tmp`, file);
    expect(fs.statSync(file).ino).not.toBe(before);
    await hub.poll(16); // an idle file is checked at least every 15 s
    expect(hub.jobs().map((j) => [j.title, j.state])).toEqual([
      ['first', 'succeeded'],
      ['second', 'failed'],
    ]);
    expect(hub.messages().map((m) => m.title)).toEqual([expect.stringContaining('first'), expect.stringContaining('second')]);
    expect(hub.logs.join('\n')).toMatch(/was replaced \(inode \d+ → \d+\); re-reading from offset 0/);
  });
});

describe('the legacy ~/.pingchilling', () => {
  it('pairs each Finished with its Started (pingch spacing, PID reuse, a Finished alone) and names bad lines', async () => {
    const { legacy } = w.home('dan');
    const t = Math.floor(w.clock.ms / 1000) * 1000 - 300_000;
    fs.writeFileSync(legacy, `4242@gpu2: Started  [train [v2]] ${localTime(t)}\n`);
    const hub = startHub();
    await hub.poll();
    expect(hub.jobs()).toMatchObject([{ state: 'running', title: 'train [v2]', start_ts: new Date(t).toISOString() }]);
    expect(hub.messages()).toHaveLength(0);

    fs.appendFileSync(
      legacy,
      `4242@gpu2: Finished [3] ${localTime(t + 120_000)}\n` +
        // The same pid again later: a new job, not the old one's second end.
        `4242@gpu2: Started  [eval] ${localTime(t + 130_000)}\n4242@gpu2: Finished [0] ${localTime(t + 150_000)}\n` +
        `99@gpu2: Finished [1] ${localTime(t + 160_000)}\n` +
        `4242@gpu2 Finished [0] yesterday\n`,
    );
    await hub.poll();
    expect(hub.jobs().map((j) => [j.title, j.state, j.exit, j.wall_seconds])).toEqual([
      ['train [v2]', 'failed', 3, 120],
      ['eval', 'succeeded', 0, 20],
      [null, 'failed', 1, 0],
    ]);
    const msgs = hub.messages();
    expect(msgs).toHaveLength(3);
    expect(msgs[0]!.title).toContain('train [v2]');
    expect(msgs[0]!.text).toMatch(/exit 3/);
    expect(msgs[1]!.title).toContain('eval');
    const problems = new ProblemStore(hub.db).list();
    expect(problems.map((p) => p.reason)).toEqual([expect.stringMatching(/^invalid legacy line: not a legacy line .*"4242@gpu2 Finished \[0\] yesterday"/)]);
  });
});

describe('a brand-new index', () => {
  it('records old events silently and notifies recent ones; a restarted hub notifies everything new', async () => {
    const { spool } = w.home('eve');
    const old = job('last-week', { ms: w.clock.ms - 7 * 86_400_000 });
    const recent = job('just-now', { ms: w.clock.ms - 60_000 });
    fs.writeFileSync(eventsFile(spool, 'gpu1'), lines(old.start, old.end, recent.start, recent.end));
    const hub = startHub();
    await hub.poll();
    expect(hub.jobs().map((j) => [j.title, j.state])).toEqual([
      ['last-week', 'succeeded'],
      ['just-now', 'succeeded'],
    ]);
    expect(hub.messages().map((m) => m.title)).toEqual([expect.stringContaining('just-now')]);

    // Not a new index any more: an old-looking event (a node whose clock is days behind) is sent.
    const late = job('clock-skewed', { ms: w.clock.ms - 3 * 86_400_000 });
    const again = startHub();
    await again.poll();
    fs.appendFileSync(eventsFile(spool, 'gpu1'), lines(late.start, late.end));
    await again.poll(2);
    expect(again.messages().map((m) => m.title)).toEqual([expect.stringContaining('just-now'), expect.stringContaining('clock-skewed')]);
  });
});

describe('what is not there yet is seen within two polls, not at the next rediscovery', () => {
  it('a ~/.pingchilling created after the hub started', async () => {
    const { legacy } = w.home('fay');
    const hub = startHub();
    await hub.poll();
    const t = Math.floor(w.clock.ms / 1000) * 1000;
    fs.writeFileSync(legacy, `7@ws1: Started  [first pingch] ${localTime(t - 3000)}\n7@ws1: Finished [0] ${localTime(t)}\n`);
    await hub.poll(2);
    expect(hub.messages().map((m) => m.title)).toEqual([expect.stringContaining('first pingch')]);
  });

  it("a user's first events dir, and a user's first spool dir, with no doorbell", async () => {
    const gus = w.home('gus', { events: false });
    const hal = w.home('hal', { spool: false });
    const hub = startHub();
    await hub.poll(3);
    const a = job('gus-first');
    appendEvent(gus.spool, a.start); // the writer makes events/ and the file
    appendEvent(gus.spool, a.end);
    const b = job('hal-first');
    appendEvent(hal.spool, b.start); // ... and the spool dir itself
    appendEvent(hal.spool, b.end);
    await hub.poll(2);
    expect(hub.messages().map((m) => m.title).sort()).toEqual([expect.stringContaining('gus-first'), expect.stringContaining('hal-first')]);
  });

  it('a user with only ~/.pingchilling (never ran flurm) is read, and the spool dir they make later too', async () => {
    const { legacy, spool } = w.home('ivy', { spool: false });
    const t = Math.floor(w.clock.ms / 1000) * 1000;
    fs.writeFileSync(legacy, `11@ws1: Started  [legacy only] ${localTime(t - 2000)}\n11@ws1: Finished [4] ${localTime(t - 1000)}\n`);
    const hub = startHub();
    await hub.poll();
    expect(hub.jobs()).toMatchObject([{ title: 'legacy only', state: 'failed', exit: 4 }]);
    expect(hub.messages()).toHaveLength(1);

    const j = job('now with flurm');
    appendEvent(spool, j.start);
    appendEvent(spool, j.end);
    await hub.poll(2);
    expect(hub.messages().map((m) => m.title)).toEqual([expect.stringContaining('legacy only'), expect.stringContaining('now with flurm')]);
  });

  it.skipIf(process.getuid?.() !== 0)("a ~/.pingchilling owned by someone else than the home's owner is refused with the reason (needs root: chown)", async () => {
    const { legacy } = w.home('joe', { spool: false });
    fs.writeFileSync(legacy, `5@ws1: Finished [0] ${localTime(w.clock.ms)}\n`);
    fs.chownSync(legacy, 4242, 4242);
    const hub = startHub();
    await hub.poll(2);
    expect(hub.jobs()).toHaveLength(0);
    expect(new ProblemStore(hub.db).list().map((p) => p.reason)).toEqual([expect.stringMatching(/\.pingchilling is owned by uid 4242, not the spool owner \d+ — refused/)]);
  });
});
