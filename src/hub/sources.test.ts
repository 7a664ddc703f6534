import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandHomes } from './sources.js';

describe('expandHomes', () => {
  it('expands one glob segment to directories, skipping files and dot entries', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-homes-'));
    for (const d of ['alice', 'bob', '.hidden']) fs.mkdirSync(path.join(root, 'home', d), { recursive: true });
    fs.writeFileSync(path.join(root, 'home', 'README'), 'x');
    expect(expandHomes([`${root}/home/*`])).toEqual([path.join(root, 'home/alice'), path.join(root, 'home/bob')]);
    expect(expandHomes([`${root}/home/a*`, `${root}/home/alice`])).toEqual([path.join(root, 'home/alice')]);
    expect(expandHomes([`${root}/nope/*`])).toEqual([]);
    fs.rmSync(root, { recursive: true });
  });
});
