import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { splitTopLevel } from './split.js';

const slurmFixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, '../../test/fixtures/slurm', name), 'utf8');
/** Column `col` of the `|`-separated rows of a fixture (header lines skipped). */
const column = (name: string, col: number) =>
  slurmFixture(name)
    .split('\n')
    .filter((l) => l.includes('|') && !/^[A-Z]/.test(l))
    .map((l) => l.split('|')[col]!);

describe('splitTopLevel', () => {
  it('splits host lists outside brackets, as squeue prints them', () => {
    expect(column('views-handwritten-gpu-squeue.txt', 16)).toContain('cpu[01,03]');
    expect(splitTopLevel('cpu[01,03]')).toEqual(['cpu[01,03]']);
    expect(splitTopLevel('node[01-03,07],gpu5,rack1-n[1-4]-ib')).toEqual(['node[01-03,07]', 'gpu5', 'rack1-n[1-4]-ib']);
  });

  it("splits GRES lists outside parentheses, as sinfo's %G and GresUsed print them", () => {
    const gres = column('views-handwritten-gpu-sinfo.txt', 9);
    const used = column('views-handwritten-gpu-sinfo.txt', 10);
    expect(gres).toContain('gpu:a100:4(S:0-1)');
    expect(used).toContain('gpu:a100:4(IDX:0-3)');
    for (const v of [...gres, ...used]) expect(splitTopLevel(v)).toEqual([v]);
    expect(splitTopLevel('gpu:a100:2(IDX:0,2),mps:100')).toEqual(['gpu:a100:2(IDX:0,2)', 'mps:100']);
  });

  it('keeps empty pieces and whitespace, survives unbalanced brackets, takes another separator', () => {
    expect(splitTopLevel('')).toEqual(['']);
    expect(splitTopLevel('a, b,,')).toEqual(['a', ' b', '', '']);
    expect(splitTopLevel('a],b[1,2')).toEqual(['a]', 'b[1,2']);
    expect(splitTopLevel('x[1|2]|y', '|')).toEqual(['x[1|2]', 'y']);
  });
});
