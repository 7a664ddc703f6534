// From an ended job or a note to outbox rows: route (one pure function, routing.ts), build the
// neutral message once, insert one row per destination. Runs inside the ingest transaction, so
// "event seen" and "message queued" commit together: a crash never loses the message nor queues
// it twice.
//
// The per-user cap never drops a message: past `maxPerUserPerMinute` events in a minute, rows are
// queued with the window's end as `digest_ms`, and the deliverer sends them as one digest per
// destination when the window closes. A destination whose receipt already exists (a rebuilt
// index replaying old jobs, a standby after failover) is recorded as sent and does not count.
import type { Route, UserConfig } from '../config/schema.js';
import type { JobView } from '../model/job-view.js';
import { buildJobMessage, buildNoteMessage, buildVanishedMessage } from '../messages/job-message.js';
import { diagnose, type Diagnosis, type Pattern } from '../diagnose/diagnose.js';
import { parseDestination } from '../notifiers/registry.js';
import type { Logger } from '../lib/logger.js';
import type { OutboxStore } from '../store/outbox.js';
import { routeEvent, type EventKind, type RoutingPolicy } from './routing.js';
import type { Message } from '../model/message.js';

/** Builds a job-end message from the job and the diagnoses of its tail (SLURM jobs bring their own). */
export type JobMessageBuilder = (job: JobView & { to: string[] }, diagnoses: Diagnosis[]) => Message;

export interface EnqueueContext {
  routes: readonly Route[];
  patterns: Pattern[];
  /** Used when the hub has no destination for anyone (flurm up: console/desktop); see routing.ts. */
  fallback: readonly string[];
  maxPerUserPerMinute: number;
  log: Logger;
  now: () => number;
  /** Delivery receipts (cluster dir): what was sent already, by outbox key. */
  receipts?: { has(key: string): boolean };
  /** See RoutingPolicy: the user's personal chat destinations, and a "Mute 1 h" in force. */
  personal?: (user: string) => ReadonlyMap<string, string | null>;
  mutedNow?: (user: string) => boolean;
}

const WINDOW_MS = 60_000;

export class Enqueuer {
  private readonly window = new Map<string, { start: number; count: number }>();
  private readonly policy: RoutingPolicy;

  constructor(private readonly outbox: OutboxStore, private readonly ctx: EnqueueContext) {
    this.policy = { routes: ctx.routes, fallback: ctx.fallback, canonical: canonicalDest, personal: ctx.personal, mutedNow: ctx.mutedNow };
  }

  /** The per-user cap: null while under it, else the end of this window (when its digest goes out). */
  private admit(user: string): number | null {
    const now = this.ctx.now();
    let w = this.window.get(user);
    if (!w || now - w.start >= WINDOW_MS || now < w.start) {
      w = { start: now, count: 0 };
      this.window.set(user, w);
      if (this.window.size > 10_000) for (const [u, x] of this.window) if (now - x.start >= WINDOW_MS) this.window.delete(u);
    }
    w.count++;
    if (w.count <= this.ctx.maxPerUserPerMinute) return null;
    if (w.count === this.ctx.maxPerUserPerMinute + 1) {
      this.ctx.log.warn('notification cap reached; this minute\'s further messages go out as one digest per destination', { user, limit: this.ctx.maxPerUserPerMinute });
    }
    return w.start + WINDOW_MS;
  }

  /**
   * Queue one event's message to `dests`. Destinations with a receipt are recorded as sent; the
   * rest count once toward the user's cap (unless `uncapped`). Returns how many rows will be sent.
   */
  private queue(user: string, keyBase: string, refId: string, dests: readonly string[], message: Message, seenMs: number, uncapped = false): number {
    const targets: { key: string; dest: string; redacted: string; sent: boolean }[] = [];
    for (const d of dests) {
      try {
        const dest = parseDestination(d);
        const canonical = dest.toUrl();
        const key = `${keyBase}:${canonical}`;
        targets.push({ key, dest: canonical, redacted: dest.toUrl({ redact: true }), sent: this.ctx.receipts?.has(key) ?? false });
      } catch (err) {
        this.ctx.log.once(`bad-dest:${d}`, 'warn', 'skipping a destination that does not parse', { user, error: (err as Error).message });
      }
    }
    if (targets.length === 0) return 0;
    const done = targets.filter((t) => t.sent).length;
    if (done > 0) this.ctx.log.info('already delivered (receipt found), not sending again', { user, ref: refId, destinations: done });
    const fresh = done < targets.length;
    const digestMs = fresh && !uncapped ? this.admit(user) : null;
    const json = JSON.stringify(message);
    const now = this.ctx.now();
    let n = 0;
    for (const t of targets) {
      const added = this.outbox.enqueue({ key: t.key, user, ref_id: refId, dest: t.dest, dest_redacted: t.redacted, message_json: json, now, event_ms: seenMs, digest_ms: digestMs, sent: t.sent });
      if (added && !t.sent) n++;
    }
    return n;
  }

  private route(user: string, kind: EventKind, wallSeconds: number | null, explicitTo: readonly string[], userCfg: UserConfig): string[] {
    return routeEvent({ user, kind, wallSeconds, explicitTo }, this.policy, userCfg);
  }

  /** The diagnoses of a log tail, with the hub's patterns. */
  diagnose(tail: readonly string[], exit: number | null, signal: string | null): Diagnosis[] {
    return diagnose({ tail: [...tail], exit, signal }, this.ctx.patterns);
  }

  /** Queue the messages for a job that just ended. Returns how many rows were added. */
  jobEnded(job: JobView & { to: string[] }, userCfg: UserConfig, seenMs: number, opts: { silent?: boolean; message?: JobMessageBuilder } = {}): number {
    if (opts.silent) return 0;
    const kind: EventKind = job.state === 'succeeded' ? 'success' : 'failure';
    const dests = this.route(job.user, kind, job.wallSeconds ?? null, job.to, userCfg);
    if (dests.length === 0) return 0;
    const diagnoses = this.diagnose(job.tail ?? [], job.exit ?? null, job.signal ?? null);
    const message = opts.message ? opts.message(job, diagnoses) : buildJobMessage(job, diagnoses, { hideCommand: !job.cmd });
    return this.queue(job.user, `${job.id}:end`, job.id, dests, message, seenMs);
  }

  /** A running job whose process disappeared without an `end`: routed like a failure. */
  jobVanished(job: JobView & { to: string[] }, reason: string, userCfg: UserConfig, seenMs: number): number {
    return this.jobWarning(job, `${job.id}:vanished`, buildVanishedMessage(job, reason, { hideCommand: !job.cmd }), userCfg, seenMs);
  }

  /** Any other message about a job for its owner (its node went silent, an array task failed): routed like a failure. */
  jobWarning(job: JobView & { to: string[] }, keyBase: string, message: Message, userCfg: UserConfig, seenMs: number): number {
    const dests = this.route(job.user, 'vanished', null, job.to, userCfg);
    return dests.length ? this.queue(job.user, keyBase, job.id, dests, message, seenMs) : 0;
  }

  /** A lab alert (node down, load, memory, idle GPU) to the lab's alert destinations; not capped. */
  labAlert(keyBase: string, host: string, message: Message, dests: readonly string[], seenMs: number): number {
    return this.queue('@lab', keyBase, `node:${host}`, dests, message, seenMs, true);
  }

  /** A message from the bot to one person (a /when-free answer, "linked"): not routed, not capped. */
  direct(user: string, keyBase: string, refId: string, dest: string, message: Message, seenMs: number): number {
    return this.queue(user, keyBase, refId, [dest], message, seenMs, true);
  }

  noteAdded(note: { id: string; user: string; host: string; ts: string; title?: string; message: string; to?: string[] }, userCfg: UserConfig, seenMs: number, opts: { silent?: boolean } = {}): number {
    if (opts.silent) return 0;
    const dests = this.route(note.user, 'note', null, note.to ?? [], userCfg);
    return dests.length ? this.queue(note.user, `${note.id}:note`, note.id, dests, buildNoteMessage(note), seenMs) : 0;
  }
}

/** A destination URL's canonical form (parse + toUrl); the URL itself when it does not parse. */
function canonicalDest(u: string): string {
  try {
    return parseDestination(u).toUrl();
  } catch {
    return u;
  }
}
