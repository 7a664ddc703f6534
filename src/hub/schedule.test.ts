// The Scheduler over a real SQLite index, a real receipts dir and a real outbox sender posting to
// a local HTTP sink, with an injected clock: a week of daily and weekly occurrences, a restart and
// a failover mid-week (each occurrence still sent once), a hub down longer than catch_up, and
// time zones.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { openDb, type Db } from '../store/db.js';
import { OutboxStore } from '../store/outbox.js';
import { createLogger } from '../lib/logger.js';
import { Enqueuer } from './enqueue.js';
import { Deliverer } from './deliver.js';
import { Receipts } from './receipts.js';
import { Scheduler, checkScheduleCommands, scheduleEntryId, type ScheduleEntry } from './schedule.js';
import { COMMANDS } from '../commands/registry.js';
import { labCommands } from '../commands/lab.js';

const log = createLogger({ level: 'error', write: () => undefined });
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2026-01-05 00:00 UTC (winter: New York is UTC−5). */
const MONDAY = Date.parse('2026-01-05T00:00:00Z');

let sink: http.Server;
let sinkUrl: string;
/** Every request the sink took: the idempotency key and the message title. */
const received: { key: string; title: string }[] = [];
let tmp: string;
const dbs: Db[] = [];

beforeAll(async () => {
  sink = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { title?: string; message?: { title?: string } };
      received.push({ key: String(req.headers['idempotency-key'] ?? ''), title: parsed.title ?? parsed.message?.title ?? '' });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  sinkUrl = `json://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise<void>((r) => sink.close(() => r()));
});
afterEach(() => {
  for (const d of dbs.splice(0)) if (d.open) d.close();
  received.length = 0;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** One hub's part: its own index file, the shared receipts dir, its outbox sender. */
function hubPart(indexFile: string, receiptsDir: string, entries: ScheduleEntry[], clock: { t: number }) {
  const db = openDb(indexFile);
  dbs.push(db);
  const outbox = new OutboxStore(db);
  const receipts = new Receipts(receiptsDir);
  const now = () => clock.t;
  const enqueuer = new Enqueuer(outbox, { routes: [], patterns: [], fallback: [], maxPerUserPerMinute: 30, log, now, receipts });
  const deliverer = new Deliverer(outbox, receipts, log, { timeoutSeconds: 5, giveUpAfterHours: 24, backoffBaseSeconds: 1, backoffMaxSeconds: 5, maxPerUserPerMinute: 30, now });
  const commands = [...COMMANDS, ...labCommands([{ name: 'motto', reply: 'Papers first.' }])];
  const scheduler = new Scheduler({ db, enqueuer, entries, commands, source: () => null, resolveDest: (u) => u, log, now });
  /** One tick, then send what it queued (the active hub's deliverer). */
  const step = async () => {
    await scheduler.tick();
    await deliverer.pass();
  };
  const rows = () => db.prepare("SELECT key, status, event_ms FROM outbox WHERE key LIKE 'schedule:%' ORDER BY event_ms").all() as { key: string; status: string; event_ms: number }[];
  return { db, scheduler, step, rows, close: () => db.close() };
}

/** Step the clock from `from` to `to` every `everyMs`, ticking `part` at each step. */
async function run(part: { step: () => Promise<void> }, clock: { t: number }, from: number, to: number, everyMs = 10 * MIN) {
  for (clock.t = from; clock.t <= to; clock.t += everyMs) await part.step();
  clock.t -= everyMs;
}

function setup() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-sched-'));
  return { receipts: path.join(tmp, 'cluster', 'receipts'), index: (n: string) => path.join(tmp, `${n}.sqlite`) };
}

const daily = (): ScheduleEntry => ({ cron: '0 9 * * *', tz: 'UTC', to: [sinkUrl], text: 'Stand-up', catch_up_minutes: 60 });
const friday = (): ScheduleEntry => ({ cron: '0 9 * * FRI', tz: 'UTC', to: [sinkUrl], text: 'PAPER, MATT! PAPER!', catch_up_minutes: 60 });
const byEntry = <T extends { key: string }>(rows: T[], e: ScheduleEntry): T[] => rows.filter((r) => r.key.startsWith(`schedule:${scheduleEntryId(e)}:`));
const titles = (t: string) => received.filter((r) => r.title === t);

describe('Scheduler', () => {
  it('a week of "0 9 * * *" and "0 9 * * FRI": exactly 7 and 1 rows, each sent once', async () => {
    const s = setup();
    const clock = { t: MONDAY };
    const entries = [daily(), friday()];
    const hub = hubPart(s.index('a'), s.receipts, entries, clock);
    await run(hub, clock, MONDAY, MONDAY + 7 * DAY - MIN);
    const rows = hub.rows();
    expect(byEntry(rows, entries[0]!)).toHaveLength(7);
    expect(byEntry(rows, entries[1]!)).toHaveLength(1);
    expect(byEntry(rows, entries[1]!)[0]!.key).toContain(':2026-01-09T09:00:00.000Z:');
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    expect(titles('Stand-up')).toHaveLength(7);
    expect(titles('PAPER, MATT! PAPER!')).toHaveLength(1);
    expect(new Set(received.map((r) => r.key)).size).toBe(8);
  });

  it('across a restart mid-week (a new Scheduler on the same index): still once each', async () => {
    const s = setup();
    const clock = { t: MONDAY };
    const entries = [daily(), friday()];
    const first = hubPart(s.index('a'), s.receipts, entries, clock);
    await run(first, clock, MONDAY, MONDAY + 2 * DAY + 9 * HOUR + 30 * MIN); // Wednesday 09:30: three sent
    expect(titles('Stand-up')).toHaveLength(3);
    first.close();
    // Restarted 5 minutes later, on the same index: the Wednesday 09:00 occurrence is within catch_up but already queued.
    const again = hubPart(s.index('a'), s.receipts, entries, clock);
    await run(again, clock, clock.t + 5 * MIN, MONDAY + 7 * DAY - MIN);
    expect(byEntry(again.rows(), entries[0]!)).toHaveLength(7);
    expect(byEntry(again.rows(), entries[1]!)).toHaveLength(1);
    expect(titles('Stand-up')).toHaveLength(7);
    expect(titles('PAPER, MATT! PAPER!')).toHaveLength(1);
  });

  it('across a failover (a second index sharing the receipts dir takes over mid-week): still once each', async () => {
    const s = setup();
    const clock = { t: MONDAY };
    const entries = [daily(), friday()];
    const active = hubPart(s.index('a'), s.receipts, entries, clock);
    // The standby's index exists all along (it ingests), but its Scheduler never ran.
    const standby = hubPart(s.index('b'), s.receipts, entries, clock);
    await run(active, clock, MONDAY, MONDAY + 2 * DAY + 9 * HOUR + 20 * MIN); // Wednesday 09:20
    expect(titles('Stand-up')).toHaveLength(3);
    active.close();
    // The standby takes over 10 minutes later: its fresh "checked up to" reaches back catch_up
    // minutes, over Wednesday 09:00 — which the receipts say was sent.
    await run(standby, clock, clock.t + 10 * MIN, MONDAY + 7 * DAY - MIN);
    const rows = standby.rows();
    const wednesday = rows.find((r) => r.key.includes(':2026-01-07T09:00:00.000Z:'));
    expect(wednesday?.status).toBe('sent'); // recorded as sent from its receipt, not sent again
    expect(byEntry(rows, entries[0]!)).toHaveLength(5); // Wednesday (receipt) to Sunday
    expect(byEntry(rows, entries[1]!)).toHaveLength(1);
    expect(titles('Stand-up')).toHaveLength(7);
    expect(titles('PAPER, MATT! PAPER!')).toHaveLength(1);
    expect(new Set(received.map((r) => r.key)).size).toBe(received.length);
  });

  it('a hub down 3 h with catch_up 60: the occurrence older than 60 min is skipped, the one within is sent late', async () => {
    const s = setup();
    const clock = { t: MONDAY };
    const entry: ScheduleEntry = { cron: '0 8,10 * * *', tz: 'UTC', to: [sinkUrl], text: 'Twice a morning', catch_up_minutes: 60 };
    const hub = hubPart(s.index('a'), s.receipts, [entry], clock);
    await run(hub, clock, MONDAY, MONDAY + 7 * HOUR + 50 * MIN); // up until 07:50
    expect(hub.rows()).toHaveLength(0);
    hub.close();
    clock.t = MONDAY + 10 * HOUR + 50 * MIN; // back at 10:50: 08:00 is 170 min old, 10:00 is 50 min old
    const back = hubPart(s.index('a'), s.receipts, [entry], clock);
    await back.step();
    const rows = back.rows();
    expect(rows.map((r) => r.key.split(':').slice(2, 5).join(':'))).toEqual(['2026-01-05T10:00:00.000Z']);
    expect(titles('Twice a morning')).toHaveLength(1);
    // The rest of the day sends nothing more; the next morning both again.
    await run(back, clock, clock.t + 10 * MIN, MONDAY + DAY + 11 * HOUR);
    expect(back.rows().map((r) => new Date(r.event_ms).toISOString())).toEqual(['2026-01-05T10:00:00.000Z', '2026-01-06T08:00:00.000Z', '2026-01-06T10:00:00.000Z']);
  });

  it('respects tz: 09:00 in America/New_York is 14:00 UTC in winter; a command\'s answer as the message', async () => {
    const s = setup();
    const clock = { t: MONDAY };
    const ny: ScheduleEntry = { cron: '0 9 * * *', tz: 'America/New_York', to: [sinkUrl], text: 'Good morning, New York', catch_up_minutes: 60 };
    const motto: ScheduleEntry = { cron: '0 12 * * MON', tz: 'UTC', to: [sinkUrl], command: 'motto', catch_up_minutes: 60 };
    const hub = hubPart(s.index('a'), s.receipts, [ny, motto], clock);
    await run(hub, clock, MONDAY, MONDAY + DAY - MIN);
    const rows = hub.rows();
    expect(byEntry(rows, ny).map((r) => new Date(r.event_ms).toISOString())).toEqual(['2026-01-05T14:00:00.000Z']);
    expect(byEntry(rows, motto)).toHaveLength(1);
    expect(titles('/motto')).toHaveLength(1);
  });

  it('a scheduled command must be a table or a lab command, named by its field', () => {
    const commands = [...COMMANDS, ...labCommands([{ name: 'motto', reply: 'x' }])];
    expect(() => checkScheduleCommands([{ ...daily(), text: undefined, command: 'motto' }, { ...daily(), text: undefined, command: 'status' }], commands)).not.toThrow();
    expect(() => checkScheduleCommands([daily(), { ...daily(), text: undefined, command: 'stats' }], commands)).toThrow(/chat\.schedule\[1\]\.command: "stats" is not a command/);
  });

  it('the entry id is stable, and changes with what the entry says', () => {
    expect(scheduleEntryId(daily())).toBe(scheduleEntryId(daily()));
    expect(scheduleEntryId({ ...daily(), text: 'Stand-up!' })).not.toBe(scheduleEntryId(daily()));
    expect(scheduleEntryId({ ...daily(), tz: 'Europe/Berlin' })).not.toBe(scheduleEntryId(daily()));
    expect(scheduleEntryId({ ...daily(), catch_up_minutes: 5 })).toBe(scheduleEntryId(daily()));
  });

  it('on its ticker with an injected clock: wakes at each occurrence, queues it on time, stops', async () => {
    const s = setup();
    const clock = new FakeClock(MONDAY);
    const db = openDb(s.index('a'));
    dbs.push(db);
    const outbox = new OutboxStore(db);
    const now = () => clock.t;
    const enqueuer = new Enqueuer(outbox, { routes: [], patterns: [], fallback: [], maxPerUserPerMinute: 30, log, now, receipts: new Receipts(s.receipts) });
    let woken = 0;
    const scheduler = new Scheduler({ db, enqueuer, entries: [daily()], commands: COMMANDS, source: () => null, resolveDest: (u) => u, log, now, clock, onQueued: () => woken++ });
    scheduler.start();
    await clock.advance(2 * DAY);
    const rows = db.prepare("SELECT created_ms, event_ms FROM outbox WHERE key LIKE 'schedule:%'").all() as { created_ms: number; event_ms: number }[];
    expect(rows.map((r) => new Date(r.event_ms).toISOString())).toEqual(['2026-01-05T09:00:00.000Z', '2026-01-06T09:00:00.000Z']);
    // Queued at the occurrence itself: the ticker slept exactly until it.
    expect(rows.every((r) => r.created_ms === r.event_ms)).toBe(true);
    expect(woken).toBe(2);
    await scheduler.stop();
    await clock.advance(DAY);
    expect(db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE key LIKE 'schedule:%'").get()).toEqual({ n: 2 });
  });
});

