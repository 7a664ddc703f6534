import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { collectLoadavg, parseLoadavg } from './loadavg.js';

const NODE = path.resolve(import.meta.dirname, '../../test/fixtures/proc-node');

describe('parseLoadavg', () => {
  it('reads the three averages and running/total from a real /proc/loadavg', () => {
    const text = fs.readFileSync(path.join(NODE, 't0/loadavg'), 'utf8');
    const f = text.trim().split(' ');
    const r = parseLoadavg(text);
    expect(r.load).toEqual([Number(f[0]), Number(f[1]), Number(f[2])]);
    expect(r.runnable).toBe(Number(f[3]!.split('/')[0]));
    expect(r.entities).toBeGreaterThan(r.runnable);
  });

  it('parses a literal line', () => {
    expect(parseLoadavg('0.39 0.71 0.70 3/89 25500\n')).toEqual({ load: [0.39, 0.71, 0.7], runnable: 3, entities: 89 });
  });

  it('throws on text that is not a loadavg line', () => {
    expect(() => parseLoadavg('')).toThrow(/loadavg/);
    expect(() => parseLoadavg('a b c 1/2 3')).toThrow(/loadavg/);
  });

  it('reads the fixture proc root and this machine', () => {
    expect(collectLoadavg({ procRoot: path.join(NODE, 't1') }).value.load).toHaveLength(3);
    expect(collectLoadavg().value.load.every((x) => x >= 0)).toBe(true);
  });
});
