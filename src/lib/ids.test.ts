import { describe, expect, it } from 'vitest';
import { isUlid, newId, ulidTimeMs } from './ids.js';

describe('ULIDs', () => {
  it('encode the time in the first 10 characters (spec example 1469918176385 → 01ARYZ6S41)', () => {
    expect(newId(1469918176385).slice(0, 10)).toBe('01ARYZ6S41');
    expect(ulidTimeMs(newId(1469918176385))).toBe(1469918176385);
  });
  it('are valid, unique and sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newId(1_800_000_000_000));
    expect(ids.every(isUlid)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const later = newId(1_800_000_000_001);
    expect(later > ids[ids.length - 1]!).toBe(true);
  });
  it('draw a fresh random part for each new millisecond', () => {
    const a = newId(2_000_000_000_000).slice(10);
    const b = newId(2_000_000_000_123).slice(10);
    expect(a).not.toBe(b);
  });
});
