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
