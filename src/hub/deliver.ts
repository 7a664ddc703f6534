// The outbox sender. Each destination is its own queue, served by its own worker in the order the
// hub saw the events (outbox id): a slow, failing, hanging or rate-limited destination never
// delays another, and a retry holds only its own queue (the head row carries the backoff), so a
// destination always receives in order. Retries use exponential backoff with jitter, honour 429
// Retry-After, give up on 401/403/404/410 for that destination (visible in the log,
// /api/v1/destinations and `flurm doctor`), and give up on a single message after
// `give_up_after_hours`. Rows past the per-user cap are sent as one digest per destination when
// their window closes. Every request carries a stable idempotency key derived from the outbox key.
import crypto from 'node:crypto';
import type { Message } from '../model/message.js';
import { DeliveryError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { Ticker } from '../lib/ticker.js';
import type { OutboxRow, OutboxStore } from '../store/outbox.js';
import type { Receipts } from './receipts.js';
import { parseDestination } from '../notifiers/registry.js';
import type { Destination, DiscordDmTransport, SlackDmTransport } from '../notifiers/types.js';
import { buildDigestMessage, DIGEST_MAX_ITEMS } from '../messages/digest-message.js';

export interface DeliverOptions {
  timeoutSeconds: number;
  giveUpAfterHours: number;
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** The per-user cap, named in digests. */
  maxPerUserPerMinute: number;
  now?: () => number;
  random?: () => number;
  fetch?: typeof fetch;
  /** The hub's Discord bot, for discord-dm:// destinations. */
  discordBot?: DiscordDmTransport;
  /** The hub's Slack app, for slack-dm:// destinations. */
  slackBot?: SlackDmTransport;
}

/** Delay before attempt n+1 (n = attempts made so far): full jitter over [50%, 100%] of base·2^n. */
export function backoffMs(attempts: number, baseSeconds: number, maxSeconds: number, random: () => number = Math.random): number {
  const cap = Math.min(maxSeconds, baseSeconds * 2 ** Math.min(attempts, 30));
  return Math.round(cap * 1000 * (0.5 + 0.5 * random()));
}

/**
 * The key a receiver sees (Idempotency-Key header, JSON body, e-mail Message-ID, ntfy sequence
 * id): stable for one message to one destination across retries, restarts and hubs, and free of
 * the destination URL's secrets that the outbox key contains.
 */
export function wireKey(outboxKey: string): string {
  return `flurm-${crypto.createHash('sha256').update(outboxKey).digest('hex').slice(0, 32)}`;
}

const PERMANENT_DEST_STATUS = new Set([401, 403, 404, 410]);
/** A worker yields to the event loop after this many rows in a row without waiting on I/O. */
const YIELD_EVERY = 50;
const MAX_TIMER_MS = 60_000;

export class Deliverer {
  /**
   * One worker per destination: a ticker with no interval. It runs when woken (something was
   * queued), or when its head's retry time or digest window comes (the delay the run returns);
   * a wake while it sends makes it look at the queue once more afterwards.
   */
  private readonly queues = new Map<string, Ticker>();
  /** Nothing is sent before start(): a standby hub queues but does not send. */
  private stopped = true;
  private readonly now: () => number;

  constructor(
    private readonly outbox: OutboxStore,
    private readonly receipts: Receipts,
    private readonly log: Logger,
    private readonly opts: DeliverOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stop sending; resolves when every request in flight has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((q) => q.stop()));
  }

  /** Something was enqueued or became due: every destination with pending rows looks at its head. */
  wake(): void {
    if (this.stopped) return;
    for (const dest of this.outbox.pendingDests()) this.serve(dest);
  }

  /** Send what is due on every queue and resolve when none is sending (`hub --once`, tests). */
  async pass(): Promise<void> {
    const wasStopped = this.stopped;
    this.stopped = false;
    await Promise.all(
      this.outbox.pendingDests().map((dest) => {
        this.serve(dest); // a started deliverer goes on serving the queue afterwards (its retries)
        return this.queue(dest).runNow();
      }),
    );
    if (wasStopped) await this.stop();
  }

  private queue(dest: string): Ticker {
    let q = this.queues.get(dest);
    if (!q) {
      q = new Ticker({
        run: () => this.work(dest),
        onError: (err) => this.log.error('delivery worker failed; will retry', { error: errorMessage(err) }),
        unref: true,
      });
      this.queues.set(dest, q);
    }
    return q;
  }

  private serve(dest: string): void {
    const q = this.queue(dest);
    if (q.started) q.wake();
    else q.start(0);
  }

  /** The wait until `atMs` (the head's retry time or digest window), as the worker's next delay. */
  private until(atMs: number): number {
    return Math.max(10, Math.min(atMs - this.now(), MAX_TIMER_MS));
  }

  /**
   * One destination's worker: send its head, in order, until the queue is empty or must wait.
   * Returns when to look again (ms), or nothing: not until woken.
   */
  private async work(destUrl: string): Promise<number | undefined> {
    let dest: Destination | null = null;
    for (let n = 1; !this.stopped; n++) {
      const state = this.outbox.destState(destUrl);
      if (state?.disabled_reason) {
        this.outbox.failAllFor(destUrl, `destination disabled: ${state.disabled_reason}`);
        return undefined;
      }
      const now = this.now();
      const row = this.outbox.head(destUrl, now);
      if (!row) {
        const digestAt = this.outbox.nextDigestMs(destUrl);
        return digestAt !== null ? this.until(digestAt) : undefined;
      }
      if (row.next_ms > now) return this.until(row.next_ms);
      if (!dest) {
        try {
          dest = parseDestination(destUrl);
        } catch (err) {
          const n = this.outbox.failAllFor(destUrl, `bad destination: ${errorMessage(err)}`);
          this.log.warn('a queued destination does not parse; its messages failed', { dest: row.dest_redacted, failed: n, error: errorMessage(err) });
          return undefined;
        }
      }
      if (row.digest_ms !== null) await this.sendDigest(row, dest);
      else await this.sendOne(row, dest);
      if (n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    }
    return undefined;
  }

  private async sendOne(row: OutboxRow, dest: Destination): Promise<void> {
    if (this.receipts.has(row.key)) {
      this.outbox.markSent(row.id, this.now());
      this.log.info('already delivered (receipt found), not sending again', { dest: row.dest_redacted, ref: row.ref_id });
      return;
    }
    let message: Message;
    try {
      message = JSON.parse(row.message_json) as Message;
    } catch (err) {
      this.outbox.markFailed(row.id, `corrupt message: ${errorMessage(err)}`);
      return;
    }
    return this.attempt(row, [row], dest, message, row.key);
  }

  /** Rows past the cap: one digest for this (destination, user, window), or the message itself when alone. */
  private async sendDigest(head: OutboxRow, dest: Destination): Promise<void> {
    const group = this.outbox.digestGroup(head.dest, head.user, head.digest_ms!).slice(0, DIGEST_MAX_ITEMS);
    if (group.length <= 1) return this.sendOne(head, dest);
    const key = `digest:${group[0]!.key}`;
    if (this.receipts.has(key)) {
      for (const r of group) this.outbox.markSent(r.id, this.now());
      this.log.info('digest already delivered (receipt found), not sending again', { dest: head.dest_redacted, user: head.user });
      return;
    }
    const items = group.map((r) => {
      let m: Pick<Message, 'title' | 'severity' | 'timestamp'>;
      try {
        m = JSON.parse(r.message_json) as Message;
      } catch {
        m = { title: `(unreadable message about ${r.ref_id})`, severity: 'warning' };
      }
      return { refId: r.ref_id, message: m };
    });
    const message = buildDigestMessage(head.user, items, { limitPerMinute: this.opts.maxPerUserPerMinute, windowEndMs: head.digest_ms! });
    return this.attempt(head, group, dest, message, key);
  }

  /**
   * Send `message` for `rows` (one row, or a digest's group; `rows[0]` is the queue's head and
   * carries the retry state). Records the outcome on every row.
   */
  private async attempt(head: OutboxRow, rows: readonly OutboxRow[], dest: Destination, message: Message, key: string): Promise<void> {
    const redacted = head.dest_redacted;
    // Recorded before the request: if the hub dies now, the next attempt knows it may be a repeat.
    const maybeSent = head.sending_ms !== null && head.sending_ms !== undefined;
    this.outbox.markSending(rows.map((r) => r.id), this.now());
    try {
      await dest.send(message, {
        timeoutMs: this.opts.timeoutSeconds * 1000,
        fetch: this.opts.fetch,
        idempotencyKey: wireKey(key),
        refId: rows.length === 1 ? head.ref_id : undefined,
        discordBot: this.opts.discordBot,
        slackBot: this.opts.slackBot,
        maybeSent,
      });
      const now = this.now();
      // Mark first (synchronous SQLite write), then the receipts. A crash between the service's
      // answer and this write is the one window in which a message can be sent twice; the
      // idempotency key lets a receiver that honours it drop the second copy.
      for (const r of rows) this.outbox.markSent(r.id, now);
      if (rows.length > 1) this.receipts.record(key, now);
      for (const r of rows) this.receipts.record(r.key, now);
      this.outbox.destOk(head.dest, redacted, now);
      this.log.info(rows.length > 1 ? 'delivered a digest' : 'delivered', { dest: redacted, ref: head.ref_id, ...(rows.length > 1 ? { messages: rows.length } : {}), attempts: head.attempts + 1, latency_ms: now - head.event_ms });
      return;
    } catch (err) {
      const now = this.now();
      const de = err instanceof DeliveryError ? err : new DeliveryError(errorMessage(err), { retryable: true, cause: err });
      if (!de.retryable) {
        if (de.status !== undefined && PERMANENT_DEST_STATUS.has(de.status)) {
          const reason = `${de.message} (HTTP ${de.status}); giving up on this destination until the hub restarts`;
          this.outbox.disableDest(head.dest, redacted, reason, now);
          const n = this.outbox.failAllFor(head.dest, reason);
          this.log.warn('destination rejected us; giving up on it', { dest: redacted, status: de.status, error: de.message, failed: n });
          return;
        }
        for (const r of rows) this.outbox.markFailed(r.id, de.message);
        this.log.warn('message rejected; not retrying it', { dest: redacted, ref: head.ref_id, status: de.status, error: de.message });
        return;
      }
      if (now - head.created_ms > this.opts.giveUpAfterHours * 3600_000) {
        for (const r of rows) this.outbox.markFailed(r.id, `gave up after ${this.opts.giveUpAfterHours} h: ${de.message}`);
        this.log.warn('gave up on a message after retrying', { dest: redacted, ref: head.ref_id, attempts: head.attempts + 1, error: de.message });
        return;
      }
      // The head keeps its place: the whole queue waits, so the destination receives in order.
      if (de.retryAfterSeconds !== undefined) {
        const until = now + Math.ceil(de.retryAfterSeconds * 1000);
        this.outbox.markRetry(head.id, until, de.message);
        this.log.info('rate limited; waiting as asked', { dest: redacted, retry_after_s: de.retryAfterSeconds });
        return;
      }
      const next = now + backoffMs(head.attempts, this.opts.backoffBaseSeconds, this.opts.backoffMaxSeconds, this.opts.random);
      this.outbox.markRetry(head.id, next, de.message);
      this.log.info('send failed; will retry', { dest: redacted, ref: head.ref_id, attempt: head.attempts + 1, retry_in_ms: next - now, error: de.message });
      return;
    }
  }
}
