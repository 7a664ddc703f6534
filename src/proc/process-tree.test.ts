import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PeakRssSampler, descendantsFromParents, listProcessTree, readChildren, sampleTreeMemory, scanParents } from './process-tree.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../test/fixtures/proc');
const pids = Object.fromEntries(
  fs
    .readFileSync(path.join(FIXTURE, 'pids.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('=') as [string, string]),
);
const parent = Number(pids.parent);
const children = pids.children!.split(' ').map(Number).sort();

describe('descendantsFromParents', () => {
  it('walks the whole tree breadth-first and ignores loops', () => {
    const pairs: Array<[number, number]> = [
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 4],
      [6, 1],
      [7, 7],
    ];
    expect(descendantsFromParents(2, pairs)).toEqual([3, 4, 5]);
    expect(descendantsFromParents(5, pairs)).toEqual([]);
    expect(descendantsFromParents(1, [...pairs, [1, 5]])).toEqual([2, 6, 3, 4, 5]);
  });
});

describe('process tree on the /proc fixture', () => {
  it('finds the same children by scanning ppids and by the kernel\'s children lists', () => {
    expect(scanParents({ procRoot: FIXTURE }).filter(([, ppid]) => ppid === parent).map(([p]) => p).sort()).toEqual(children);
    expect(readChildren(parent, { procRoot: FIXTURE })!.sort()).toEqual(children);
    const byScan = listProcessTree(parent, { procRoot: FIXTURE, method: 'scan' });
    const byChildren = listProcessTree(parent, { procRoot: FIXTURE, method: 'children' });
    expect(byScan[0]).toBe(parent);
    expect([...byScan].sort()).toEqual([parent, ...children].sort());
    expect([...byChildren].sort()).toEqual([...byScan].sort());
  });

  it('sums VmRSS over the tree and keeps the largest VmHWM', () => {
    const mem = sampleTreeMemory(parent, { procRoot: FIXTURE });
    expect(mem.pids).toHaveLength(3);
    expect(mem.rssBytes).toBeGreaterThan(3 * 1024 * 1024);
    expect(mem.maxHwmBytes).toBeGreaterThan(0);
  });

  it('is empty for a process that is not there', () => {
    expect(listProcessTree(999_999_999, { procRoot: FIXTURE })).toEqual([]);
    expect(listProcessTree(999_999_999, { procRoot: FIXTURE, method: 'scan' })).toEqual([]);
  });
});

describe('process tree of real processes', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });

  it('sees a grandchild, with both methods', async () => {
    child = spawn('sh', ['-c', 'sleep 5 & sleep 5; wait'], { detached: true, stdio: 'ignore' });
    const pid = child.pid!;
    let tree: number[] = [];
    for (let i = 0; i < 50 && tree.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 20));
      tree = listProcessTree(pid, { method: 'scan' });
    }
    expect(tree[0]).toBe(pid);
    expect(tree).toHaveLength(3);
    expect([...listProcessTree(pid, { method: 'children' })].sort()).toEqual([...tree].sort());
    expect([...listProcessTree(process.pid)]).toContain(pid);
  });

  it('samples the peak of a tree whose grandchild allocates 200 MB', async () => {
    // sh → node; the node touches every page of a 200 MiB buffer, holds it briefly, then exits.
    const script = 'const b = Buffer.alloc(200 * 1024 * 1024, 1); setTimeout(() => b.length, 400)';
    child = spawn('sh', ['-c', `"${process.execPath}" -e '${script}'; true`], { detached: true, stdio: 'ignore' });
    const sampler = new PeakRssSampler(child.pid!, { firstDelayMs: 0 }).start();
    await new Promise((r) => child!.on('exit', r));
    const peak = sampler.stop();
    expect(peak).toBeGreaterThanOrEqual(200 * 1024 * 1024);
  });
});
