// From an ended job or a note to outbox rows: route, build the neutral message once, insert one
// row per destination. Runs inside the ingest transaction, so "event seen" and "message queued"
// commit together: a crash never loses the message nor queues it twice.
import type { Route, UserConfig } from '../config/schema.js';
import type { JobView } from '../commands/job-view.js';
import { buildJobMessage, buildNoteMessage, buildVanishedMessage } from '../commands/job-message.js';
import { diagnose, type Diagnosis, type Pattern } from '../diagnose/diagnose.js';
import { parseDestination } from '../notifiers/registry.js';
import type { Logger } from '../lib/logger.js';
import type { OutboxStore } from '../store/outbox.js';
import { routeEvent, type EventOutcome } from './routing.js';
import type { Message } from '../messages/message.js';

/** Builds a job-end message from the job and the diagnoses of its tail (SLURM jobs bring their own). */
export type JobMessageBuilder = (job: JobView & { to: string[] }, diagnoses: Diagnosis[]) => Message;

export interface EnqueueContext {
  routes: readonly Route[];
  patterns: Pattern[];
  /** Used when no route and no user destination applies (flurm up: console/desktop). */
  fallback: readonly string[];
  maxPerUserPerMinute: number;
  log: Logger;
  now: () => number;
}

export class Enqueuer {
  private readonly window = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(private readonly outbox: OutboxStore, private readonly ctx: EnqueueContext) {}

  private canonical = (u: string): string => {
    try {
      return parseDestination(u).toUrl();
    } catch {
      return u;
    }
  };

  /** True when the user is still under the per-minute cap; sends one "suppressed" note when not. */
  private admit(user: string, userCfg: UserConfig, seenMs: number): boolean {
    const now = this.ctx.now();
    let w = this.window.get(user);
    if (!w || now - w.start >= 60_000) {
      w = { start: now, count: 0, suppressed: 0 };
      this.window.set(user, w);
    }
    w.count++;
    if (w.count <= this.ctx.maxPerUserPerMinute) return true;
    w.suppressed++;
    if (w.suppressed === 1) {
      this.ctx.log.warn('notification rate limit reached; further messages this minute are suppressed', { user, limit: this.ctx.maxPerUserPerMinute });
      const msg: Message = {
        title: `flurm: too many job messages for ${user}`,
        severity: 'warning',
        summary: `More than ${this.ctx.maxPerUserPerMinute} notifications in one minute: the rest of this minute's job messages are not sent. Every job is still recorded — see 'flurm jobs'.`,
        footer: 'flurm · rate limit',
        timestamp: new Date(now).toISOString(),
      };
      const dests = routeEvent({ user, outcome: 'failure', wallSeconds: null, explicitTo: [] }, this.ctx.routes, userCfg, this.canonical);
      this.insert(`ratelimit:${user}:${w.start}`, user, `ratelimit-${w.start}`, dests.length ? dests : this.ctx.fallback, msg, seenMs);
    }
    return false;
  }

  private insert(keyBase: string, user: string, refId: string, dests: readonly string[], message: Message, seenMs: number): number {
    const json = JSON.stringify(message);
    let n = 0;
    for (const d of dests) {
      let redacted = d;
      let canonical = d;
      try {
        const dest = parseDestination(d);
        redacted = dest.toUrl({ redact: true });
        canonical = dest.toUrl();
      } catch (err) {
        this.ctx.log.once(`bad-dest:${d}`, 'warn', 'skipping a destination that does not parse', { user, error: (err as Error).message });
        continue;
      }
      if (this.outbox.enqueue({ key: `${keyBase}:${canonical}`, user, ref_id: refId, dest: canonical, dest_redacted: redacted, message_json: json, now: this.ctx.now(), event_ms: seenMs })) n++;
    }
    return n;
  }

  /** Queue the messages for a job that just ended. Returns how many rows were added. */
  /** The diagnoses of a log tail, with the hub's patterns. */
  diagnose(tail: readonly string[], exit: number | null, signal: string | null): Diagnosis[] {
    return diagnose({ tail: [...tail], exit, signal }, this.ctx.patterns);
  }

  jobEnded(job: JobView & { to: string[] }, userCfg: UserConfig, seenMs: number, opts: { silent?: boolean; message?: JobMessageBuilder } = {}): number {
    if (opts.silent) return 0;
    const outcome: EventOutcome = job.state === 'succeeded' ? 'success' : 'failure';
    let dests = routeEvent({ user: job.user, outcome, wallSeconds: job.wallSeconds ?? null, explicitTo: job.to }, this.ctx.routes, userCfg, this.canonical);
    if (dests.length === 0 && !userCfg.mute && !userCfg.only_failures && this.ctx.routes.length === 0 && userCfg.to.length === 0) dests = [...this.ctx.fallback];
    if (dests.length === 0) return 0;
    if (!this.admit(job.user, userCfg, seenMs)) return 0;
    const diagnoses = diagnose({ tail: job.tail ?? [], exit: job.exit ?? null, signal: job.signal ?? null }, this.ctx.patterns);
    const message = opts.message ? opts.message(job, diagnoses) : buildJobMessage(job, diagnoses, { hideCommand: !job.cmd });
    return this.insert(`${job.id}:end`, job.user, job.id, dests, message, seenMs);
  }

  /** A running job whose process disappeared without an `end`: routed like a failure. */
  jobVanished(job: JobView & { to: string[] }, reason: string, userCfg: UserConfig, seenMs: number): number {
    return this.toOwner(job, `${job.id}:vanished`, buildVanishedMessage(job, reason, { hideCommand: !job.cmd }), userCfg, seenMs);
  }

  /** Any other message about a job for its owner (e.g. its node went silent), routed like a failure. */
  jobWarning(job: JobView & { to: string[] }, keyBase: string, message: Message, userCfg: UserConfig, seenMs: number): number {
    return this.toOwner(job, keyBase, message, userCfg, seenMs);
  }

  private toOwner(job: JobView & { to: string[] }, keyBase: string, message: Message, userCfg: UserConfig, seenMs: number): number {
    let dests = routeEvent({ user: job.user, outcome: 'failure', wallSeconds: null, explicitTo: job.to }, this.ctx.routes, userCfg, this.canonical);
    if (dests.length === 0 && !userCfg.mute && this.ctx.routes.length === 0 && userCfg.to.length === 0) dests = [...this.ctx.fallback];
    if (dests.length === 0) return 0;
    if (!this.admit(job.user, userCfg, seenMs)) return 0;
    return this.insert(keyBase, job.user, job.id, dests, message, seenMs);
  }

  /** A lab alert (node down, load, memory, idle GPU) to the lab's alert destinations. */
  labAlert(keyBase: string, host: string, message: Message, dests: readonly string[], seenMs: number): number {
    return this.insert(keyBase, '@lab', `node:${host}`, dests, message, seenMs);
  }

  noteAdded(note: { id: string; user: string; host: string; ts: string; title?: string; message: string; to?: string[] }, userCfg: UserConfig, seenMs: number, opts: { silent?: boolean } = {}): number {
    if (opts.silent) return 0;
    let dests = routeEvent({ user: note.user, outcome: 'note', wallSeconds: null, explicitTo: note.to ?? [] }, this.ctx.routes, userCfg, this.canonical);
    if (dests.length === 0 && !userCfg.mute && this.ctx.routes.length === 0 && userCfg.to.length === 0) dests = [...this.ctx.fallback];
    if (dests.length === 0) return 0;
    if (!this.admit(note.user, userCfg, seenMs)) return 0;
    return this.insert(`${note.id}:note`, note.user, note.id, dests, buildNoteMessage(note), seenMs);
  }
}
