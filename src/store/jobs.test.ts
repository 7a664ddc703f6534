import { describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import { JobStore } from './jobs.js';
import { OutboxStore } from './outbox.js';
import { newId } from '../lib/ids.js';

const base = { v: 1, user: 'alice', host: 'gpu1' };

describe('jobs store', () => {
  it('ends a job once: a duplicate end changes nothing and reports no new end', () => {
    const jobs = new JobStore(openDb(':memory:'));
    const id = newId();
    jobs.applyStart({ ...base, type: 'start', id, ts: '2026-01-01T00:00:00.000Z', pid: 10, pid_start: '123', title: 't' }, 'alice', 1);
    expect(jobs.get(id)?.state).toBe('running');
    const end = { ...base, type: 'end' as const, id, ts: '2026-01-01T00:01:00.000Z', exit: 3, wall_seconds: 60 };
    expect(jobs.applyEnd(end, 'alice', 2)?.state).toBe('failed');
    expect(jobs.applyEnd({ ...end, exit: 0 }, 'alice', 3)).toBeUndefined();
    expect(jobs.get(id)?.exit).toBe(3);
  });

  it('an end without a start still records the job', () => {
    const jobs = new JobStore(openDb(':memory:'));
    const id = newId();
    expect(jobs.applyEnd({ ...base, type: 'end', id, ts: '2026-01-01T00:01:00.000Z', exit: 0, wall_seconds: 1, title: 'late' }, 'alice', 1)?.state).toBe('succeeded');
  });

  it('refuses an id that belongs to another user\'s job', () => {
    const jobs = new JobStore(openDb(':memory:'));
    const id = newId();
    jobs.applyStart({ ...base, type: 'start', id, ts: '2026-01-01T00:00:00.000Z', pid: 10, pid_start: '1' }, 'alice', 1);
    expect(jobs.applyStart({ ...base, type: 'start', id, ts: '2026-01-01T00:00:00.000Z', pid: 11, pid_start: '1' }, 'mallory', 2)).toBe(false);
    expect(jobs.applyEnd({ ...base, type: 'end', id, ts: '2026-01-01T00:00:01.000Z', exit: 0, wall_seconds: 1 }, 'mallory', 3)).toBeUndefined();
    expect(jobs.get(id)?.state).toBe('running');
  });

  it('the outbox takes one row per key', () => {
    const outbox = new OutboxStore(openDb(':memory:'));
    const row = { key: 'j:end:console://', user: 'a', ref_id: 'j', dest: 'console://', dest_redacted: 'console://', message_json: '{}', now: 1, event_ms: 1 };
    expect(outbox.enqueue(row)).toBe(true);
    expect(outbox.enqueue(row)).toBe(false);
    expect(outbox.counts().pending).toBe(1);
  });
});
