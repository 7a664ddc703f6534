import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSeq, snapshotFile, SnapshotWriter } from './writer.js';
import { SNAPSHOT_VERSION, type NodeSnapshot } from '../model/snapshot.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-writer-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const cluster = () => fs.mkdtempSync(path.join(tmp, 'cluster-'));

const snap = (host = 'nodeA'): NodeSnapshot => ({
  v: SNAPSHOT_VERSION,
  host,
  seq: 0,
  ts: new Date().toISOString(),
  interval_seconds: 15,
  agent: { version: 't', pid: 1, user: 'u' },
  uptime_seconds: 1,
  cpus: 1,
  load: [0, 0, 0],
  cpu_busy_pct: null,
  mem: { total_bytes: 1, available_bytes: 1, swap_total_bytes: 0, swap_free_bytes: 0 },
  pids: [],
  pids_visible: 'all',
  busy: [],
  gpus: null,
  collectors: {},
});

describe('SnapshotWriter', () => {
  it('writes nodes/<host>.json (0644, dir 0755) and numbers the writes 1, 2, 3 across writers', () => {
    const dir = cluster();
    const w = new SnapshotWriter(dir, 'nodeA');
    expect(w.file).toBe(path.join(dir, 'nodes', 'nodeA.json'));
    const oldMask = process.umask(0o077);
    try {
      expect(w.write(snap()).seq).toBe(1);
    } finally {
      process.umask(oldMask);
    }
    expect(fs.statSync(w.file).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.dirname(w.file)).mode & 0o777).toBe(0o755);
    expect(w.write(snap()).seq).toBe(2);
    expect(JSON.parse(fs.readFileSync(w.file, 'utf8')).seq).toBe(2);
    expect(new SnapshotWriter(dir, 'nodeA').write(snap()).seq).toBe(3); // --once: from the file
    expect(fs.readdirSync(path.dirname(w.file))).toEqual(['nodeA.json']); // no temp files left
  });

  it('starts at 1 over a missing, garbage, negative or symlinked file', () => {
    const dir = cluster();
    const file = snapshotFile(dir, 'nodeB');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    expect(readSeq(file)).toBe(0);
    for (const text of ['garbage', '{"seq":-4}', '{"seq":"7"}', 'null', `{"seq":${2 ** 60}}`]) {
      fs.writeFileSync(file, text);
      expect(readSeq(file), text).toBe(0);
    }
    const target = path.join(dir, 'other.json');
    fs.writeFileSync(target, '{"seq":41}');
    fs.rmSync(file);
    fs.symlinkSync(target, file);
    expect(readSeq(file)).toBe(0); // never followed
    expect(new SnapshotWriter(dir, 'nodeB').write(snap('nodeB')).seq).toBe(1);
    expect(fs.lstatSync(file).isFile()).toBe(true); // the link was replaced, its target untouched
    expect(fs.readFileSync(target, 'utf8')).toBe('{"seq":41}');
  });

  it('makes a missing cluster dir too, 0755 under a strict umask', () => {
    const dir = path.join(cluster(), 'a', 'cluster');
    const oldMask = process.umask(0o077);
    try {
      new SnapshotWriter(dir, 'nodeD').write(snap('nodeD'));
    } finally {
      process.umask(oldMask);
    }
    for (const d of [path.dirname(dir), dir, path.join(dir, 'nodes')]) expect(fs.statSync(d).mode & 0o777, d).toBe(0o755);
  });

  it('uses a safe file name for odd host names', () => {
    expect(snapshotFile('/c', 'a b/../c')).toBe('/c/nodes/a_b_.._c.json');
  });

  it('throws on a failed write, leaves no temp file and keeps its count', () => {
    const dir = cluster();
    fs.writeFileSync(path.join(dir, 'nodes'), 'a file where the dir should be');
    const w = new SnapshotWriter(dir, 'nodeC');
    expect(() => w.write(snap('nodeC'))).toThrow();
    fs.rmSync(path.join(dir, 'nodes'));
    expect(w.write(snap('nodeC')).seq).toBe(1);
  });
});
