import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { CpuCollector, cpuBusyPct, parseProcStatCpu } from './cpu.js';
import { collectCpus } from './cpus.js';
import { collectUptime } from './uptime.js';

const NODE = path.resolve(import.meta.dirname, '../../test/fixtures/proc-node');
const stat = (t: string) => fs.readFileSync(path.join(NODE, t, 'stat'), 'utf8');

describe('parseProcStatCpu / cpuBusyPct', () => {
  it('sums the first eight fields and counts idle + iowait as idle', () => {
    expect(parseProcStatCpu('cpu  10 1 5 80 4 0 0 0 3 0\ncpu0 1 2 3 4\n')).toEqual({ idleTicks: 84, totalTicks: 100 });
  });

  it('gives busy % between two real samples: the fixture had a busy loop on one of two cores', () => {
    const a = parseProcStatCpu(stat('t0'));
    const b = parseProcStatCpu(stat('t1'));
    const pct = cpuBusyPct(a, b)!;
    const expected = (1 - (b.idleTicks - a.idleTicks) / (b.totalTicks - a.totalTicks)) * 100;
    expect(pct).toBeCloseTo(expected, 10);
    expect(pct).toBeGreaterThan(40); // one of two cores spun the whole second
    expect(pct).toBeLessThanOrEqual(100);
  });

  it('is null when no time passed, and clamps to 0..100', () => {
    const a = { idleTicks: 10, totalTicks: 100 };
    expect(cpuBusyPct(a, a)).toBeNull();
    expect(cpuBusyPct(a, { idleTicks: 30, totalTicks: 110 })).toBe(0);
  });

  it('the collector reports null first, then the rate since the previous sample', () => {
    const opts = { procRoot: path.join(NODE, 't0') };
    const c = new CpuCollector(opts);
    expect(c.collect().value).toBeNull();
    opts.procRoot = path.join(NODE, 't1');
    expect(c.collect().value).toBeGreaterThan(40);
  });

  it('throws on a stat file without a cpu line', () => {
    expect(() => parseProcStatCpu('intr 1 2 3\n')).toThrow(/cpu/);
  });
});

describe('cpus and uptime', () => {
  it('cpus come from availableParallelism, injectable', () => {
    expect(collectCpus({ availableParallelism: () => 64 }).value).toBe(64);
    expect(collectCpus().value).toBeGreaterThanOrEqual(1);
    expect(() => collectCpus({ availableParallelism: () => 0 })).toThrow();
  });

  it('uptime comes from <procRoot>/uptime', () => {
    const text = fs.readFileSync(path.join(NODE, 't0/uptime'), 'utf8');
    expect(collectUptime({ procRoot: path.join(NODE, 't0') }).value).toBe(Number(text.split(' ')[0]));
    expect(collectUptime().value).toBeGreaterThan(0);
  });
});
