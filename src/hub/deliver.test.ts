import { describe, expect, it } from 'vitest';
import { backoffMs } from './deliver.js';

describe('backoff', () => {
  it('doubles per attempt with jitter between 50 % and 100 %, capped', () => {
    expect(backoffMs(0, 1, 300, () => 0)).toBe(500);
    expect(backoffMs(0, 1, 300, () => 1)).toBe(1000);
    expect(backoffMs(3, 1, 300, () => 1)).toBe(8000);
    expect(backoffMs(20, 1, 300, () => 1)).toBe(300_000);
    expect(backoffMs(20, 1, 300, () => 0)).toBe(150_000);
  });
  it('spreads retries of many messages (jitter is not constant)', () => {
    const seen = new Set(Array.from({ length: 50 }, () => backoffMs(4, 1, 300)));
    expect(seen.size).toBeGreaterThan(10);
  });
});

// ---- the deliverer in-process: real SQLite file, receipts, local services speaking HTTP ----
import { afterEach } from 'vitest';
import { startFakeServices, type FakeServices, type ReceivedRequest } from '../../test/support/fake-services.js';
import { outboxWorld, type OutboxWorld, type WorldOptions } from '../../test/support/outbox-world.js';

let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(paths: string[], opts: WorldOptions = {}): Promise<{ w: OutboxWorld; fake: FakeServices; urls: string[] }> {
  const fake = await startFakeServices();
  const urls = paths.map((p) => fake.jsonUrl(p));
  const w = outboxWorld({ routes: [{ to: urls }], ...opts });
  cleanup.push(() => w.close(), () => w.deliverer.stop(), () => fake.close());
  return { w, fake, urls };
}

const titles = (reqs: ReceivedRequest[], path: string) => reqs.filter((r) => r.path === path).map((r) => (r.body as { title: string }).title.replace(/^\S+ (s\d+).*$/, '$1'));
const pending = (w: OutboxWorld) => w.counts().pending;
async function until(what: string, fn: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Deliverer: each destination is its own ordered queue', () => {
  it('keeps the order of events through 500s: a retry holds the queue', async () => {
    const { w, fake } = await setup(['/a'], { realClock: true });
    fake.failNext('/a', [{ status: 500 }, { status: 500 }, { status: 500 }]);
    for (let n = 1; n <= 8; n++) w.enqueuer.jobEnded(w.job(n), w.user, Date.now());
    w.deliverer.start();
    await until('the outbox drained', () => pending(w) === 0);
    expect(titles(fake.received, '/a')).toEqual(['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8']);
    // Every failed try was the head (s1): nothing behind it was attempted meanwhile.
    expect(fake.requests.filter((r) => !r.accepted).map((r) => titles([{ ...r, path: '/a' }], '/a')[0])).toEqual(['s1', 's1', 's1']);
  });

  it('keeps the order after a 429 and waits as asked', async () => {
    const { w, fake } = await setup(['/r'], { realClock: true });
    fake.failNext('/r', [{ status: 429, retryAfter: 1 }]);
    for (let n = 1; n <= 4; n++) w.enqueuer.jobEnded(w.job(n), w.user, Date.now());
    const t0 = Date.now();
    w.deliverer.start();
    await until('the outbox drained', () => pending(w) === 0);
    expect(titles(fake.received, '/r')).toEqual(['s1', 's2', 's3', 's4']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  it('a hanging destination does not delay a healthy one', async () => {
    const { w, fake } = await setup(['/hang', '/ok'], { realClock: true, delivery: { timeoutSeconds: 5 } });
    fake.failNext('/hang', [{ hang: true }]);
    w.deliverer.start();
    w.enqueuer.jobEnded(w.job(1), w.user, Date.now());
    w.deliverer.wake();
    await until('the first request to hang', () => fake.requests.some((r) => r.path === '/hang'));
    const t0 = Date.now();
    for (let n = 2; n <= 4; n++) {
      w.enqueuer.jobEnded(w.job(n), w.user, Date.now());
      w.deliverer.wake();
      await fake.waitFor((r) => r.path === '/ok' && (r.body as { title: string }).title.includes(`s${n} `), 2000);
    }
    // All of /ok arrived while /hang's first request is still unanswered (it times out at 5 s).
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(fake.requests.filter((r) => r.path === '/hang')).toHaveLength(1);
    expect(fake.requests.find((r) => r.path === '/hang')!.status).toBeUndefined();
    expect(titles(fake.received, '/ok')).toEqual(['s1', 's2', 's3', 's4']);
  });

  it('sends the same idempotency key on every retry, in the header and the body, with no secret in it', async () => {
    const fake = await startFakeServices();
    const url = fake.jsonUrl('/k').replace('json://', 'json://bot:hunter2@');
    const w = outboxWorld({ routes: [{ to: [url] }], realClock: true });
    cleanup.push(() => w.close(), () => w.deliverer.stop(), () => fake.close());
    fake.failNext('/k', [{ status: 500 }]);
    w.enqueuer.jobEnded(w.job(1), w.user, Date.now());
    w.deliverer.start();
    await until('the outbox drained', () => pending(w) === 0);
    const keys = fake.requests.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^flurm-[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
    const body = fake.received[0]!.body as { key: string; ref: string };
    expect(body.key).toBe(keys[0]);
    expect(body.ref).toBe(w.job(1).id);
    expect(JSON.stringify(fake.requests.map((r) => r.headers))).not.toContain('hunter2@');
  });

  it('gives up on a 404 destination, keeps serving others, and serves it again once re-enabled', async () => {
    const { w, fake, urls } = await setup(['/gone', '/ok'], { realClock: true });
    fake.failNext('/gone', [{ status: 404 }]);
    for (let n = 1; n <= 3; n++) w.enqueuer.jobEnded(w.job(n), w.user, Date.now());
    w.deliverer.start();
    await until('the outbox drained', () => pending(w) === 0);
    expect(titles(fake.received, '/ok')).toEqual(['s1', 's2', 's3']);
    expect(titles(fake.received, '/gone')).toEqual([]);
    expect(w.outbox.disabledDests().map((d) => d.dest)).toEqual([urls[0]]);
    expect(w.counts().failed).toBe(3);
    // A new job while disabled fails at once for that destination.
    w.enqueuer.jobEnded(w.job(4), w.user, Date.now());
    w.deliverer.wake();
    await until('the outbox drained', () => pending(w) === 0);
    expect(titles(fake.received, '/gone')).toEqual([]);
    // The admin fixed it (hub restart re-enables): the next job arrives.
    w.outbox.enableDest(urls[0]!);
    w.enqueuer.jobEnded(w.job(5), w.user, Date.now());
    w.deliverer.wake();
    await fake.waitFor((r) => r.path === '/gone', 5000);
    expect(titles(fake.received, '/gone')).toEqual(['s5']);
  });
});

describe('Deliverer: the per-user cap coalesces, never drops', () => {
  it('past the cap, one digest per destination when the window closes, naming every job', async () => {
    const { w, fake } = await setup(['/a', '/b'], { cap: 3 });
    for (let n = 1; n <= 10; n++) w.enqueuer.jobEnded(w.job(n, { state: n % 4 === 0 ? 'failed' : 'succeeded' }), w.user, w.clock.ms);
    await w.deliverer.pass();
    for (const p of ['/a', '/b']) expect(titles(fake.received, p)).toEqual(['s1', 's2', 's3']);
    expect(pending(w)).toBe(14);
    w.clock.ms += 60_000;
    await w.deliverer.pass();
    expect(pending(w)).toBe(0);
    for (const p of ['/a', '/b']) {
      const got = fake.received.filter((r) => r.path === p);
      expect(got).toHaveLength(4);
      const digest = got[3]!.body as { title: string; ref: string | null; message: { table: { rows: string[][] } } };
      expect(digest.title).toBe('7 more jobs ended for alice: 5 ✓ 2 ✗');
      expect(digest.ref).toBeNull();
      expect(digest.message.table.rows.map((r) => r[2])).toEqual([4, 5, 6, 7, 8, 9, 10].map((n) => w.job(n).id));
    }
    expect(w.counts().sent).toBe(20);
  });

  it('a standby that queued the same jobs sends nothing once the active hub delivered them (receipts)', async () => {
    const { w, fake } = await setup(['/a'], { cap: 1 });
    const standby = outboxWorld({ routes: [{ to: [fake.jsonUrl('/a')] }], cap: 1, receiptsDir: w.receipts.dir! });
    cleanup.push(() => standby.close());
    standby.clock.ms = w.clock.ms;
    for (let n = 1; n <= 3; n++) {
      w.enqueuer.jobEnded(w.job(n), w.user, w.clock.ms);
      standby.enqueuer.jobEnded(standby.job(n), standby.user, standby.clock.ms);
    }
    await w.deliverer.pass();
    w.clock.ms += 60_000;
    await w.deliverer.pass();
    expect(fake.received.map((r) => (r.body as { title: string }).title)).toEqual([expect.stringContaining('s1'), '2 more jobs ended for alice: 2 ✓']);
    // The active hub dies; the standby takes over with the same rows pending.
    standby.clock.ms += 60_000;
    await standby.deliverer.pass();
    expect(standby.counts()).toMatchObject({ pending: 0, sent: 3 });
    expect(fake.requests).toHaveLength(2);
  });
});
