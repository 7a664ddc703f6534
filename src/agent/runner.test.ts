import { describe, expect, it } from 'vitest';
import { CollectorRunner, COLLECTOR_ERROR_MAX_CHARS } from './runner.js';

describe('CollectorRunner', () => {
  it('returns values, times each collector and passes notes on with ok: true', async () => {
    const run = new CollectorRunner();
    expect(await run.run('a', 0, () => ({ value: 42 }))).toBe(42);
    expect(await run.run('b', null, async () => ({ value: 'x', note: 'hidepid' }))).toBe('x');
    expect(run.statuses.a).toEqual({ ok: true, seconds: expect.any(Number) });
    expect(run.statuses.b).toEqual({ ok: true, seconds: expect.any(Number), error: 'hidepid' });
    expect(run.failures()).toEqual([]);
  });

  it('isolates a throwing collector: fallback value, ok: false with the message, the rest still runs', async () => {
    const run = new CollectorRunner();
    const v = await run.run('meminfo', { total: 0 }, () => {
      throw new Error('ENOENT: no such file, open /proc/meminfo');
    });
    expect(v).toEqual({ total: 0 });
    expect(await run.run('async', 7, async () => Promise.reject(new Error('x'.repeat(5000))))).toBe(7);
    expect(await run.run('after', 1, () => ({ value: 2 }))).toBe(2);
    expect(run.statuses.meminfo).toMatchObject({ ok: false, error: 'ENOENT: no such file, open /proc/meminfo' });
    expect(run.statuses.async!.error).toHaveLength(COLLECTOR_ERROR_MAX_CHARS);
    expect(run.statuses.after!.ok).toBe(true);
    expect(run.failures()).toHaveLength(2);
  });

  it('measures wall seconds', async () => {
    const run = new CollectorRunner();
    await run.run('slow', 0, async () => {
      await new Promise((r) => setTimeout(r, 60));
      return { value: 1 };
    });
    expect(run.statuses.slow!.seconds).toBeGreaterThanOrEqual(0.05);
    expect(run.statuses.slow!.seconds).toBeLessThan(2);
  });
});
