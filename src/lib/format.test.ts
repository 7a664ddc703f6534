// formatDuration / formatBytes output, and cuts that respect limits and never split an emoji.
import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, plural, truncate, truncateStart, truncateUtf8, utf8Bytes } from './format.js';

describe('plural', () => {
  it('counts a noun: singular for exactly 1, the given or regular plural otherwise', () => {
    expect(plural(1, 'job')).toBe('1 job');
    expect(plural(0, 'job')).toBe('0 jobs');
    expect(plural(2, 'free GPU')).toBe('2 free GPUs');
    expect(plural(3, 'process', 'processes')).toBe('3 processes');
    expect(plural(1, 'process', 'processes')).toBe('1 process');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.4, '<1s'],
    [45, '45s'],
    [59.6, '1m 00s'],
    [303, '5m 03s'],
    [3720, '1h 02m'],
    [86_399, '23h 59m'],
    [3 * 86_400 + 4 * 3600 + 59, '3d 4h'],
    [-1, '?'],
    [Number.NaN, '?'],
  ])('%s s → %s', (s, want) => {
    expect(formatDuration(s)).toBe(want);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [1.5 * 1024 ** 3, '1.5 GiB'],
    [15.24 * 1024 ** 3, '15.2 GiB'],
    [152 * 1024 ** 3, '152 GiB'],
    [1024 * 1024 - 1, '1 MiB'],
    [-5, '?'],
  ])('%s → %s', (b, want) => {
    expect(formatBytes(b)).toBe(want);
  });
});

describe('truncate', () => {
  it('leaves short strings alone and marks cut ones', () => {
    expect(truncate('hello', 5)).toBe('hello');
    expect(truncate('hello world', 6)).toBe('hello…');
    expect(truncate('hello world', 6, '...')).toBe('hel...');
    expect(truncate('hello', 0)).toBe('');
  });

  it('never splits an emoji (surrogate pair)', () => {
    const s = 'ab😀cd';
    const cut = truncate(s, 4); // "ab" + half of 😀 would be 3 units
    expect(cut).toBe('ab…');
    expect(cut.length).toBeLessThanOrEqual(4);
    const start = truncateStart('ab😀cd', 4); // keeps the end, must not start inside the pair
    expect(start).toBe('…cd');
  });

  it('truncateStart keeps the end', () => {
    expect(truncateStart('0123456789', 5)).toBe('…6789');
    expect(truncateStart('short', 10)).toBe('short');
  });

  it('truncateUtf8 counts bytes, not characters', () => {
    const s = 'é'.repeat(100); // 200 bytes
    const cut = truncateUtf8(s, 51);
    expect(utf8Bytes(cut)).toBeLessThanOrEqual(51);
    expect(cut.endsWith('…')).toBe(true);
    expect(truncateUtf8('abc', 3)).toBe('abc');
  });
});
