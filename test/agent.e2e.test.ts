// `flurm agent` as a real process (dist/ must be built: `npm run build`): --once numbers its
// writes from the file, --print writes nothing, a long-running agent keeps writing and leaves
// cleanly on SIGTERM, a bad --interval is a usage error naming the value.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSnapshot, readSnapshotFile } from '../src/model/snapshot-schema.js';
import { runFlurm, startFlurm, waitUntil } from './support/lab.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-agent-e2e-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const env = { ...process.env, FLURM_HOST: 'nodeA', FLURM_SPOOL: path.join(root, 'spool'), FLURM_CLUSTER: path.join(root, 'default-cluster') };
const clusterDir = () => fs.mkdtempSync(path.join(root, 'cluster-'));

describe('flurm agent', () => {
  it('--once writes nodes/nodeA.json with seq 1, then 2, valid for the hub', async () => {
    const cluster = clusterDir();
    const file = path.join(cluster, 'nodes', 'nodeA.json');
    const r1 = await runFlurm(['agent', '--once', '--cluster', cluster], { env });
    expect(r1.code, r1.stderr).toBe(0);
    const s1 = readSnapshotFile(file);
    expect(s1).toMatchObject({ host: 'nodeA', seq: 1, interval_seconds: 60 });
    expect(s1.cpu_busy_pct).not.toBeNull();
    expect(s1.pids.length).toBeGreaterThan(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    const r2 = await runFlurm(['agent', '--once', '--cluster', cluster], { env });
    expect(r2.code, r2.stderr).toBe(0);
    expect(readSnapshotFile(file).seq).toBe(2);
    expect(fs.readdirSync(path.join(cluster, 'nodes'))).toEqual(['nodeA.json']);
  });

  it('--once without --cluster uses the cluster dir flurm run finds (FLURM_CLUSTER)', async () => {
    const r = await runFlurm(['agent', '--once'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(readSnapshotFile(path.join(env.FLURM_CLUSTER, 'nodes', 'nodeA.json')).seq).toBe(1);
  });

  it('--print prints one valid snapshot and writes no file', async () => {
    const cluster = clusterDir();
    const r = await runFlurm(['agent', '--print', '--cluster', cluster], { env });
    expect(r.code, r.stderr).toBe(0);
    const snap = parseSnapshot(r.stdout);
    expect(snap).toMatchObject({ host: 'nodeA', seq: 0 });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(fs.readdirSync(cluster)).toEqual([]);
  });

  it('long-running --interval 1s writes increasing seq and exits 0 on SIGTERM', async () => {
    const cluster = clusterDir();
    const file = path.join(cluster, 'nodes', 'nodeA.json');
    const p = startFlurm(['agent', '--interval', '1s', '--cluster', cluster], { env });
    try {
      await p.waitForOutput(/agent running/);
      const first = await waitUntil(() => fs.existsSync(file) && readSnapshotFile(file), 5000, 'the first snapshot');
      expect(first.interval_seconds).toBe(1);
      const later = await waitUntil(() => {
        const s = readSnapshotFile(file);
        return s.seq >= first.seq + 2 && s;
      }, 6000, 'two more snapshots');
      expect(later.pids.some(([pid]) => pid === p.child.pid)).toBe(true);
    } finally {
      p.child.kill('SIGTERM');
    }
    const { code, signal } = await p.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(p.text()).toMatch(/agent stopped/);
    expect(fs.readdirSync(path.join(cluster, 'nodes'))).toEqual(['nodeA.json']);
  });

  it('a bad --interval exits 2 naming the value', async () => {
    const r = await runFlurm(['agent', '--interval', 'xyz', '--cluster', clusterDir()], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--interval "xyz"/);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});
