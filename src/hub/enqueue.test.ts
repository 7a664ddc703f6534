// The enqueuer in-process: real SQLite file, real receipts dir, injected clock.
import { afterEach, describe, expect, it } from 'vitest';
import { validateUserConfig } from '../config/schema.js';
import { outboxWorld, type OutboxWorld } from '../../test/support/outbox-world.js';
import { wireKey } from './deliver.js';

let worlds: OutboxWorld[] = [];
const world = (...a: Parameters<typeof outboxWorld>) => {
  const w = outboxWorld(...a);
  worlds.push(w);
  return w;
};
afterEach(() => {
  for (const w of worlds) w.close();
  worlds = [];
});

const rows = (w: OutboxWorld) =>
  w.db.prepare('SELECT key, ref_id, dest, status, digest_ms FROM outbox ORDER BY id').all() as { key: string; ref_id: string; dest: string; status: string; digest_ms: number | null }[];

describe('Enqueuer', () => {
  it('routes through the fallback with only_failures: the failure is queued, the success is not', () => {
    const w = world({ fallback: ['console://'] });
    const cfg = validateUserConfig({ only_failures: true });
    expect(w.enqueuer.jobEnded(w.job(1, { state: 'failed' }), cfg, w.clock.ms)).toBe(1);
    expect(w.enqueuer.jobEnded(w.job(2), cfg, w.clock.ms)).toBe(0);
    expect(rows(w).map((r) => [r.ref_id, r.dest])).toEqual([[w.job(1).id, 'console://']]);
  });

  it('past the per-user cap, rows wait for the window and are not dropped; other users are not capped', () => {
    const w = world({ routes: [{ to: ['json://127.0.0.1:9/lab'] }], cap: 3 });
    for (let n = 1; n <= 8; n++) w.enqueuer.jobEnded(w.job(n), w.user, w.clock.ms);
    w.enqueuer.jobEnded(w.job(100, { user: 'bob' }), w.user, w.clock.ms);
    const r = rows(w);
    expect(r).toHaveLength(9);
    expect(r.filter((x) => x.digest_ms === null).map((x) => x.ref_id)).toEqual([w.job(1).id, w.job(2).id, w.job(3).id, w.job(100).id]);
    expect(new Set(r.filter((x) => x.digest_ms !== null).map((x) => x.digest_ms))).toEqual(new Set([w.clock.ms + 60_000]));
    expect(r.every((x) => x.status === 'pending')).toBe(true);
    // A new minute starts a new window: under the cap again.
    w.clock.ms += 61_000;
    w.enqueuer.jobEnded(w.job(9), w.user, w.clock.ms);
    expect(rows(w).at(-1)!.digest_ms).toBeNull();
    expect(w.logs.filter((l) => l.includes('notification cap reached'))).toHaveLength(1);
  });

  it('a replay whose receipts exist is recorded as sent and does not count toward the cap', () => {
    const w = world({ routes: [{ to: ['json://127.0.0.1:9/lab'] }], cap: 3 });
    // 10 jobs sent before the index was rebuilt: their receipts are in the cluster dir.
    for (let n = 1; n <= 10; n++) w.receipts.record(`${w.job(n).id}:end:json://127.0.0.1:9/lab`, w.clock.ms);
    for (let n = 1; n <= 10; n++) expect(w.enqueuer.jobEnded(w.job(n), w.user, w.clock.ms)).toBe(0);
    for (let n = 11; n <= 13; n++) expect(w.enqueuer.jobEnded(w.job(n), w.user, w.clock.ms)).toBe(1);
    const r = rows(w);
    expect(r.filter((x) => x.status === 'sent')).toHaveLength(10);
    expect(r.filter((x) => x.status === 'pending').map((x) => [x.ref_id, x.digest_ms])).toEqual([11, 12, 13].map((n) => [w.job(n).id, null]));
  });

  it('lab alerts are never capped', () => {
    const w = world({ cap: 1 });
    for (let n = 0; n < 5; n++) w.enqueuer.labAlert(`alert:${n}`, 'gpu1', { title: `down ${n}`, severity: 'warning' }, ['json://127.0.0.1:9/lab'], w.clock.ms);
    expect(rows(w).every((r) => r.digest_ms === null)).toBe(true);
    expect(rows(w)).toHaveLength(5);
  });
});

describe('wireKey', () => {
  it('is stable, short and carries no part of the destination URL', () => {
    const key = '01JOB:end:json://user:hunter2@hooks.example/path?token=s3cret';
    expect(wireKey(key)).toBe(wireKey(key));
    expect(wireKey(key)).toMatch(/^flurm-[0-9a-f]{32}$/);
    expect(wireKey(key)).not.toBe(wireKey(key.replace('01JOB', '01JOC')));
  });
});
