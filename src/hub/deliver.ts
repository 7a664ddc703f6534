// The outbox sender: takes due rows, sends them (serially per destination, in parallel across
// destinations), and records the outcome in the same row. Retries with exponential backoff and
// full jitter, honours 429 Retry-After for the whole destination, gives up on 401/403/404/410
// for that destination (visible in the log, /api/v1/destinations and `flurm doctor`), and gives
// up on a single message after `give_up_after_hours`.
import type { Message } from '../messages/message.js';
import { DeliveryError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { OutboxRow, OutboxStore } from '../store/outbox.js';
import type { Receipts } from './receipts.js';
import { parseDestination } from '../notifiers/registry.js';
import type { Destination } from '../notifiers/types.js';

export interface DeliverOptions {
  timeoutSeconds: number;
  giveUpAfterHours: number;
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** How many destinations are served at once. */
  concurrency?: number;
  now?: () => number;
  random?: () => number;
  fetch?: typeof fetch;
}

/** Delay before attempt n+1 (n = attempts made so far): full jitter over [50%, 100%] of base·2^n. */
export function backoffMs(attempts: number, baseSeconds: number, maxSeconds: number, random: () => number = Math.random): number {
  const cap = Math.min(maxSeconds, baseSeconds * 2 ** Math.min(attempts, 30));
  return Math.round(cap * 1000 * (0.5 + 0.5 * random()));
}

const PERMANENT_DEST_STATUS = new Set([401, 403, 404, 410]);

export class Deliverer {
  private readonly holdUntil = new Map<string, number>();
  private readonly busy = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Nothing is sent before start(): a standby hub queues but does not send. */
  private stopped = true;
  private kick = false;
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

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }

  /** Something was enqueued or became due: run a pass now. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kick = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), 0);
  }

  /** One pass over due rows; resolves when every started send has finished. */
  async pass(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.timer = null;
    try {
      do {
        this.kick = false;
        const now = this.now();
        const rows = this.outbox.due(now, 500);
        const byDest = new Map<string, OutboxRow[]>();
        for (const r of rows) {
          if ((this.holdUntil.get(r.dest) ?? 0) > now) continue;
          const list = byDest.get(r.dest) ?? [];
          list.push(r);
          byDest.set(r.dest, list);
        }
        const queues = [...byDest.entries()];
        const workers = Math.max(1, Math.min(this.opts.concurrency ?? 8, queues.length));
        await Promise.all(
          Array.from({ length: workers }, async () => {
            for (let q = queues.shift(); q; q = queues.shift()) await this.serveDest(q[0], q[1]);
          }),
        );
      } while (this.kick && !this.stopped);
    } finally {
      this.running = false;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    let at: number | undefined;
    for (const { dest, next_ms } of this.outbox.nextDuePerDest()) {
      const t = Math.max(next_ms, this.holdUntil.get(dest) ?? 0);
      if (at === undefined || t < at) at = t;
    }
    if (at === undefined) return;
    const delay = Math.max(10, Math.min(at - this.now(), 60_000));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), delay);
    this.timer.unref?.();
  }

  private async serveDest(destUrl: string, rows: OutboxRow[]): Promise<void> {
    const state = this.outbox.destState(destUrl);
    if (state?.disabled_reason) {
      for (const r of rows) this.outbox.markFailed(r.id, `destination disabled: ${state.disabled_reason}`);
      return;
    }
    let dest: Destination;
    try {
      dest = parseDestination(destUrl);
    } catch (err) {
      for (const r of rows) this.outbox.markFailed(r.id, `bad destination: ${errorMessage(err)}`);
      return;
    }
    for (const row of rows) {
      if (this.stopped) return;
      const outcome = await this.sendOne(row, dest);
      if (outcome === 'hold-dest') return;
    }
  }

  private async sendOne(row: OutboxRow, dest: Destination): Promise<'ok' | 'failed' | 'hold-dest'> {
    const redacted = row.dest_redacted;
    if (this.receipts.has(row.key)) {
      this.outbox.markSent(row.id, this.now());
      this.log.info('already delivered (receipt found), not sending again', { dest: redacted, ref: row.ref_id });
      return 'ok';
    }
    let message: Message;
    try {
      message = JSON.parse(row.message_json) as Message;
    } catch (err) {
      this.outbox.markFailed(row.id, `corrupt message: ${errorMessage(err)}`);
      return 'failed';
    }
    try {
      await dest.send(message, { timeoutMs: this.opts.timeoutSeconds * 1000, fetch: this.opts.fetch, idempotencyKey: row.key });
      const now = this.now();
      // Mark first (synchronous SQLite write), then the receipt: the window in which a crash
      // could cause a second send is this single statement after the service said yes.
      this.outbox.markSent(row.id, now);
      this.receipts.record(row.key, now);
      this.outbox.destOk(row.dest, redacted, now);
      this.log.info('delivered', { dest: redacted, ref: row.ref_id, attempts: row.attempts + 1, latency_ms: now - row.event_ms });
      return 'ok';
    } catch (err) {
      const now = this.now();
      const de = err instanceof DeliveryError ? err : new DeliveryError(errorMessage(err), { retryable: true, cause: err });
      if (!de.retryable) {
        if (de.status !== undefined && PERMANENT_DEST_STATUS.has(de.status)) {
          const reason = `${de.message} (HTTP ${de.status}); giving up on this destination until the hub restarts`;
          this.outbox.disableDest(row.dest, redacted, reason, now);
          this.outbox.markFailed(row.id, reason);
          const n = this.outbox.failAllFor(row.dest, reason);
          this.log.warn('destination rejected us; giving up on it', { dest: redacted, status: de.status, error: de.message, also_failed: n });
          return 'hold-dest';
        }
        this.outbox.markFailed(row.id, de.message);
        this.log.warn('message rejected; not retrying it', { dest: redacted, ref: row.ref_id, status: de.status, error: de.message });
        return 'failed';
      }
      if (now - row.created_ms > this.opts.giveUpAfterHours * 3600_000) {
        this.outbox.markFailed(row.id, `gave up after ${this.opts.giveUpAfterHours} h: ${de.message}`);
        this.log.warn('gave up on a message after retrying', { dest: redacted, ref: row.ref_id, attempts: row.attempts + 1, error: de.message });
        return 'failed';
      }
      if (de.retryAfterSeconds !== undefined) {
        const until = now + Math.ceil(de.retryAfterSeconds * 1000);
        this.holdUntil.set(row.dest, until);
        this.outbox.markRetry(row.id, until, de.message);
        this.log.info('rate limited; waiting as asked', { dest: redacted, retry_after_s: de.retryAfterSeconds });
        return 'hold-dest';
      }
      const next = now + backoffMs(row.attempts, this.opts.backoffBaseSeconds, this.opts.backoffMaxSeconds, this.opts.random);
      this.outbox.markRetry(row.id, next, de.message);
      // Hold the destination too: the next message would most likely fail the same way.
      this.holdUntil.set(row.dest, next);
      this.log.info('send failed; will retry', { dest: redacted, ref: row.ref_id, attempt: row.attempts + 1, retry_in_ms: next - now, error: de.message });
      return 'hold-dest';
    }
  }
}
