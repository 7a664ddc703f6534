import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { collectMeminfo, parseMeminfo } from './meminfo.js';

const NODE = path.resolve(import.meta.dirname, '../../test/fixtures/proc-node');

describe('parseMeminfo', () => {
  it('reads MemTotal, MemAvailable, SwapTotal and SwapFree (kB → bytes) from a real /proc/meminfo', () => {
    const text = fs.readFileSync(path.join(NODE, 't0/meminfo'), 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(text)![1]) * 1024;
    expect(parseMeminfo(text)).toEqual({
      total_bytes: kb('MemTotal'),
      available_bytes: kb('MemAvailable'),
      swap_total_bytes: kb('SwapTotal'),
      swap_free_bytes: kb('SwapFree'),
    });
    expect(kb('MemTotal')).toBeGreaterThan(kb('MemAvailable'));
  });

  it('falls back to MemFree on kernels before 3.14 and needs MemTotal', () => {
    expect(parseMeminfo('MemTotal:  1000 kB\nMemFree:  400 kB\n').available_bytes).toBe(400 * 1024);
    expect(() => parseMeminfo('MemFree: 1 kB\n')).toThrow(/MemTotal/);
  });

  it('reads this machine', () => {
    const m = collectMeminfo().value;
    expect(m.total_bytes).toBeGreaterThan(0);
    expect(m.available_bytes).toBeLessThanOrEqual(m.total_bytes);
  });
});
