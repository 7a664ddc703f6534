// Scheduled chat messages ([[chat.schedule]] in the hub config, docs/chat.md), run on the ACTIVE
// hub only (started and stopped with the chat front ends). Each tick looks at the occurrences of
// every entry between a remembered "checked up to" (the index's meta table) and now, skips those
// older than the entry's catch_up_minutes, and queues each through the outbox under the key
// `schedule:<entry id>:<occurrence ISO>` (+ the destination). That key is UNIQUE in the outbox,
// and the deliverer writes a receipt for it in the cluster dir once sent: a restarted hub finds
// the row, a standby that takes over finds the receipt, and neither sends the occurrence again.
// The entry id hashes the entry's cron, tz, destinations and text/command: an edited entry is a
// new id (no collision with the old one's keys), and "checked up to" is shared by all entries, so
// an edit does not re-send what the old entry already covered.
import crypto from 'node:crypto';
import { Cron } from 'croner';
import type { CommandDef } from '../commands/table.js';
import type { DataSource } from '../commands/source.js';
import { invoke } from '../commands/invoke.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { Ticker, type TickerClock } from '../lib/ticker.js';
import type { Message } from '../model/message.js';
import { getMeta, setMeta, type Db } from '../store/db.js';
import type { Enqueuer } from './enqueue.js';

export interface ScheduleEntry {
  cron: string;
  tz?: string;
  to: readonly string[];
  text?: string;
  command?: string;
  catch_up_minutes: number;
}

export interface SchedulerDeps {
  db: Db;
  enqueuer: Pick<Enqueuer, 'direct'>;
  entries: readonly ScheduleEntry[];
  /** The table's commands and the lab's, for `command = "…"`. */
  commands: readonly CommandDef[];
  /** The hub's in-process DataSource (null: commands cannot be answered yet). */
  source: () => DataSource | null;
  /** A destination as written → the one queued (`discord:channel` → discord-channel://ID). */
  resolveDest: (url: string) => string;
  log: Logger;
  now: () => number;
  /** The ticker's timers; real ones by default. */
  clock?: TickerClock;
  /** Something was queued: wake the outbox. */
  onQueued?: () => void;
}

/** Where "checked up to" (ms) is kept in the index. */
export const CHECKED_META = 'chat.schedule.checked_ms';
/** The ticker looks again at least this often (a clock jump, a long sleep). */
const MAX_SLEEP_MS = 60_000;
/** At most this many occurrences of one entry per tick (a seconds cron after a long gap). */
const MAX_PER_TICK = 1000;

/** A stable id of an entry: its cron, tz, destinations and text or command. */
export function scheduleEntryId(e: ScheduleEntry): string {
  const basis = JSON.stringify([e.cron, e.tz ?? null, [...e.to], e.text ?? null, e.command ?? null]);
  return crypto.createHash('sha256').update(basis).digest('hex').slice(0, 12);
}

/** Throws a ConfigError naming `chat.schedule[i].command` when it is not a known command. */
export function checkScheduleCommands(entries: readonly ScheduleEntry[], commands: readonly CommandDef[]): void {
  entries.forEach((e, i) => {
    if (e.command !== undefined && !commands.some((c) => c.name === e.command)) {
      throw new ConfigError(`chat.schedule[${i}].command`, `"${e.command}" is not a command (known: ${commands.map((c) => c.name).join(', ')})`);
    }
  });
}

interface Compiled {
  entry: ScheduleEntry;
  id: string;
  cron: Cron;
  dests: string[];
}

export class Scheduler {
  private readonly compiled: Compiled[];
  private readonly ticker: Ticker;

  constructor(private readonly d: SchedulerDeps) {
    this.compiled = d.entries.map((entry) => ({
      entry,
      id: scheduleEntryId(entry),
      cron: new Cron(entry.cron, { timezone: entry.tz, paused: true }),
      dests: entry.to.map((u) => d.resolveDest(u)),
    }));
    this.ticker = new Ticker({
      run: () => this.tick(),
      onError: (err) => d.log.warn('the chat schedule check failed; will retry', { error: errorMessage(err) }),
      clock: d.clock,
      unref: true,
    });
  }

  get started(): boolean {
    return this.ticker.started;
  }

  start(): void {
    if (this.compiled.length) this.ticker.start(0);
  }

  stop(): Promise<void> {
    return this.ticker.stop();
  }

  /**
   * Queue every due occurrence since "checked up to"; returns the ms until the next one (capped),
   * the ticker's next delay.
   */
  async tick(): Promise<number> {
    const now = this.d.now();
    const saved = Number(getMeta(this.d.db, CHECKED_META));
    const maxCatchUpMs = Math.max(0, ...this.compiled.map((c) => c.entry.catch_up_minutes * 60_000));
    const checked = Number.isFinite(saved) && saved > 0 ? saved : now - maxCatchUpMs;
    let queued = 0;
    for (const c of this.compiled) {
      const catchUpMs = c.entry.catch_up_minutes * 60_000;
      // Occurrences in (checked, now]; those before now − catch_up are skipped (said once in the log).
      const from = Math.max(checked, now - catchUpMs);
      if (from > checked) {
        const missed = c.cron.nextRun(new Date(checked));
        if (missed && missed.getTime() < from) this.d.log.info('scheduled message(s) missed while no hub ran, older than catch_up_minutes: not sent', { entry: c.id, first: missed.toISOString(), catch_up_minutes: c.entry.catch_up_minutes });
      }
      let at = c.cron.nextRun(new Date(from));
      let n = 0;
      for (; at && at.getTime() <= now && n < MAX_PER_TICK; n++) {
        queued += await this.occurrence(c, at);
        at = c.cron.nextRun(at);
      }
      if (n === MAX_PER_TICK && at && at.getTime() <= now) this.d.log.warn('too many scheduled occurrences due at once; the rest of this catch-up is not sent', { entry: c.id, limit: MAX_PER_TICK, catch_up_minutes: c.entry.catch_up_minutes });
    }
    setMeta(this.d.db, CHECKED_META, String(Math.max(now, Number.isFinite(saved) ? saved : 0)));
    if (queued) this.d.onQueued?.();
    return this.nextDelay(now);
  }

  private nextDelay(now: number): number {
    let next = now + MAX_SLEEP_MS;
    for (const c of this.compiled) {
      const t = c.cron.nextRun(new Date(now))?.getTime();
      if (t !== undefined && t < next) next = t;
    }
    return Math.max(0, next - now);
  }

  /** Queue one occurrence to each destination; returns the rows added. */
  private async occurrence(c: Compiled, at: Date): Promise<number> {
    const iso = at.toISOString();
    const keyBase = `schedule:${c.id}:${iso}`;
    const messages = await this.messages(c.entry, iso);
    let n = 0;
    messages.forEach((m, i) => {
      for (const dest of c.dests) n += this.d.enqueuer.direct('@lab', i === 0 ? keyBase : `${keyBase}#${i}`, `schedule:${c.id}`, dest, m, at.getTime());
    });
    return n;
  }

  private async messages(e: ScheduleEntry, iso: string): Promise<Message[]> {
    if (e.text !== undefined) {
      const oneLine = !e.text.includes('\n') && e.text.length <= 256;
      return [oneLine ? { title: e.text, severity: 'info', timestamp: iso } : { title: 'Reminder', severity: 'info', summary: e.text, timestamp: iso }];
    }
    const def = this.d.commands.find((x) => x.name === e.command);
    const source = this.d.source();
    try {
      if (!def) throw new Error(`no command "${e.command}"`);
      if (!source) throw new Error('the hub has no data source yet');
      const answer = await invoke(def, {}, source, { user: null, warn: () => undefined });
      return answer.messages.length ? answer.messages : [{ title: `/${e.command}`, severity: 'info', summary: '(no answer)' }];
    } catch (err) {
      this.d.log.warn('a scheduled command failed; its message says so', { command: e.command, error: errorMessage(err) });
      return [{ title: `/${e.command}`, severity: 'warning', summary: `The scheduled /${e.command} could not be answered: ${errorMessage(err)}`, timestamp: iso }];
    }
  }
}
