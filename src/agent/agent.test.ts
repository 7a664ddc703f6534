import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../lib/logger.js';
import { parseSnapshot, readSnapshotFile } from '../model/snapshot-schema.js';
import { sampleOnce, startAgent, writeOnce } from './agent.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-agent-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const logger = () => {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seqOf = (file: string) => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).seq : 0);

describe('startAgent', () => {
  it('writes the first snapshot within a second, then one per interval, and stops cleanly', async () => {
    const clusterDir = fs.mkdtempSync(path.join(tmp, 'c-'));
    const { log, lines } = logger();
    const t0 = Date.now();
    const agent = startAgent({ clusterDir, intervalSeconds: 0.3, log, version: 't', host: 'nodeA' });
    try {
      const first = await agent.firstWrite;
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(first?.seq).toBe(1);
      expect(first?.cpu_busy_pct).not.toBeNull(); // measured over the priming window
      expect(agent.file).toBe(path.join(clusterDir, 'nodes', 'nodeA.json'));
      const snap = readSnapshotFile(agent.file);
      expect(snap).toMatchObject({ host: 'nodeA', seq: 1, interval_seconds: 0.3 });
      const t1 = Date.now();
      while (seqOf(agent.file) < 3 && Date.now() - t1 < 5000) await sleep(25);
      expect(seqOf(agent.file)).toBeGreaterThanOrEqual(3);
      expect(parseSnapshot(JSON.stringify(await agent.sample())).seq).toBe(0);
    } finally {
      await agent.stop();
    }
    const after = seqOf(agent.file);
    // Stopped, it writes nothing more: meanwhile a second agent on the same interval, started
    // now, writes its first snapshot and two more (the stopped one would have written >= 2).
    const control = startAgent({ clusterDir, intervalSeconds: 0.3, log: logger().log, version: 't', host: 'nodeC', primeMs: 50 });
    try {
      await control.firstWrite;
      const t2 = Date.now();
      while (seqOf(control.file) < 3 && Date.now() - t2 < 5000) await sleep(25);
      expect(seqOf(control.file)).toBeGreaterThanOrEqual(3);
    } finally {
      await control.stop();
    }
    expect(seqOf(agent.file)).toBe(after);
    expect(agent.last()?.seq).toBe(after);
    expect(lines.some((l) => /snapshot written/.test(l))).toBe(true);
  });

  it('logs a failing write and keeps going, never throwing out of the timer', async () => {
    const clusterDir = path.join(tmp, 'not-a-dir');
    fs.writeFileSync(clusterDir, 'x');
    const { log, lines } = logger();
    const agent = startAgent({ clusterDir, intervalSeconds: 0.2, log, version: 't', host: 'nodeB', primeMs: 50 });
    expect(await agent.firstWrite).toBeNull();
    const warned = () => lines.filter((l) => /WARN .*snapshot not written/.test(l)).length;
    const t0 = Date.now();
    while (warned() < 2 && Date.now() - t0 < 5000) await sleep(25);
    await agent.stop();
    expect(warned()).toBeGreaterThanOrEqual(2);
  });

  it('stop() before the first write resolves firstWrite with null', async () => {
    const { log } = logger();
    const agent = startAgent({ clusterDir: fs.mkdtempSync(path.join(tmp, 'c-')), intervalSeconds: 60, log, version: 't', host: 'x' });
    await agent.stop();
    expect(await agent.firstWrite).toBeNull();
    expect(fs.existsSync(agent.file)).toBe(false);
  });
});

describe('writeOnce / sampleOnce', () => {
  it('writeOnce numbers each run from the file; sampleOnce writes nothing', async () => {
    const clusterDir = fs.mkdtempSync(path.join(tmp, 'c-'));
    const a = await writeOnce({ clusterDir, intervalSeconds: 60, version: 't', host: 'nodeC', primeMs: 50 });
    const b = await writeOnce({ clusterDir, intervalSeconds: 60, version: 't', host: 'nodeC', primeMs: 50 });
    expect([a.snapshot.seq, b.snapshot.seq]).toEqual([1, 2]);
    expect(readSnapshotFile(b.file)).toMatchObject({ seq: 2, interval_seconds: 60 });
    const printed = await sampleOnce({ intervalSeconds: 15, version: 't', host: 'nodeC', primeMs: 50 });
    expect(parseSnapshot(JSON.stringify(printed))).toMatchObject({ seq: 0, host: 'nodeC' });
    expect(seqOf(b.file)).toBe(2);
  });
});
