import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSnapshot } from '../model/snapshot-schema.js';
import { findExecutable } from '../lib/exec.js';
import { Sampler, type SamplerOptions } from './sampler.js';
import { SNAPSHOT_VERSION } from '../model/snapshot.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures');
const NODE = path.join(FIXTURES, 'proc-node');
const SMI = path.join(FIXTURES, 'nvidia-smi');
const info = Object.fromEntries(
  fs
    .readFileSync(path.join(NODE, 'info.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('=') as [string, string]),
);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-sampler-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const MiB = 1024 ** 2;
const names = async (uid: number) => (uid === 0 ? 'root' : uid === 65534 ? 'nobody' : `uid${uid}`);

function fakeSmi(name: string, script: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return file;
}
const smiPrinting = (gpuFile: string, appsFile?: string) =>
  fakeSmi(
    `smi-${path.basename(gpuFile)}`,
    `case "$*" in\n  *--query-gpu=*) cat '${gpuFile}' ;;\n  *) ${appsFile ? `cat '${appsFile}'` : "echo 'gpu_uuid, pid, process_name, used_gpu_memory [MiB]'"} ;;\nesac`,
  );

/** Two samples: t0, then t1 (the fixture's second capture, one second later). */
async function fixtureSnapshot(extra: Partial<SamplerOptions> = {}) {
  const opts: SamplerOptions = { version: '0.1.0-test', procRoot: path.join(NODE, 't0'), host: 'fixture-node', pageSizeBytes: 4096, userNameOf: names, availableParallelism: () => 2, ...extra };
  const s = new Sampler(opts);
  const first = await s.sample(15);
  opts.procRoot = path.join(NODE, 't1');
  return { first, second: await s.sample(15) };
}

describe('Sampler on this machine', () => {
  it('produces snapshots the hub accepts, with CPU measured from the second one', async () => {
    const s = new Sampler({ version: '0.1.0-test', env: { ...process.env, FLURM_HOST: 'nodeA' } });
    const first = await s.sample(15);
    await new Promise((r) => setTimeout(r, 200));
    const second = await s.sample(15);
    for (const snap of [first, second]) expect(parseSnapshot(JSON.stringify(snap))).toEqual(snap);
    expect(first.cpu_busy_pct).toBeNull();
    expect(second.cpu_busy_pct).not.toBeNull();
    expect(second).toMatchObject({ v: SNAPSHOT_VERSION, host: 'nodeA', seq: 0, interval_seconds: 15, agent: { version: '0.1.0-test', pid: process.pid } });
    expect(second.pids.some(([pid]) => pid === process.pid)).toBe(true);
    expect(second.mem.total_bytes).toBeGreaterThan(0);
    expect(second.uptime_seconds).toBeGreaterThan(0);
    for (const name of ['uptime', 'cpus', 'loadavg', 'cpu', 'meminfo', 'processes']) expect(second.collectors[name]?.ok, name).toBe(true);
    // The GPU collector ran and said what it found. Without nvidia-smi (CI, most test machines):
    // ok, "nvidia-smi not found", no GPU list; with it: a list, or (no driver) ok false and none.
    if (findExecutable('nvidia-smi', process.env) === null) {
      expect(second.collectors.gpu).toMatchObject({ ok: true, error: 'nvidia-smi not found' });
      expect(second.gpus).toBeNull();
    } else {
      expect(second.gpus === null).toBe(second.collectors.gpu!.ok === false);
    }
  });
});

describe('Sampler on fixtures', () => {
  it('builds a full snapshot from the proc-node fixture and one H100 (fake nvidia-smi)', async () => {
    const nvidiaSmi = smiPrinting(path.join(SMI, 'h100-80gb-hbm3.query-gpu.csv'), path.join(SMI, 'h100-80gb-hbm3.compute-apps.csv'));
    const { first, second } = await fixtureSnapshot({ nvidiaSmi });
    for (const snap of [first, second]) expect(parseSnapshot(JSON.stringify(snap))).toEqual(snap);
    const t1 = (f: string) => fs.readFileSync(path.join(NODE, 't1', f), 'utf8');
    expect(second.load).toEqual(t1('loadavg').split(' ').slice(0, 3).map(Number));
    expect(second.uptime_seconds).toBe(Number(t1('uptime').split(' ')[0]));
    expect(second.mem.total_bytes).toBe(Number(/^MemTotal:\s+(\d+)/m.exec(t1('meminfo'))![1]) * 1024);
    expect(second.cpus).toBe(2);
    expect(second.cpu_busy_pct).toBeGreaterThan(40);
    expect(second.pids).toHaveLength(4);
    expect(second.busy).toHaveLength(1);
    const b = second.busy[0]!;
    expect(b).toMatchObject({ pid: Number(info.busy), cmd: 'sh -c while :; do :; done' });
    expect(b.user).toBe(await names(b.uid));
    expect(b.mem_pct).toBeCloseTo((b.rss_bytes / second.mem.total_bytes) * 100, 1);
    expect(second.gpus).toHaveLength(1);
    expect(second.gpus![0]).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', util_pct: 100, mem_total_bytes: 81559 * MiB });
    expect(second.gpus![0]!.procs.map((p) => p.pid)).toEqual([11327, 11328, 11345]);
    expect(second.collectors.gpu).toEqual({ ok: true, seconds: expect.any(Number) });
  });

  it('eight V100s, MIG [N/A] and WDDM [N/A] all pass the hub\'s validation', async () => {
    for (const [gpuFile, appsFile, count] of [
      ['v100x8.query-gpu.csv', undefined, 8],
      ['h100-mig.query-gpu.csv', 'h100-mig.compute-apps.csv', 1],
      ['rtx-2080-super.query-gpu.csv', 'rtx-2080-super-windows.compute-apps.csv', 1],
    ] as const) {
      const nvidiaSmi = smiPrinting(path.join(SMI, gpuFile), appsFile && path.join(SMI, appsFile));
      const { second } = await fixtureSnapshot({ nvidiaSmi });
      expect(parseSnapshot(JSON.stringify(second)).gpus, gpuFile).toHaveLength(count);
    }
  });

  it('nvidia-smi without a driver: gpus null, collectors.gpu ok:false with its message; the rest is written', async () => {
    const nvidiaSmi = fakeSmi('smi-nodriver', `cat '${path.join(SMI, 'driver-not-loaded.txt')}'\nexit 9`);
    const { second } = await fixtureSnapshot({ nvidiaSmi });
    expect(parseSnapshot(JSON.stringify(second))).toEqual(second);
    expect(second.gpus).toBeNull();
    expect(second.collectors.gpu).toMatchObject({ ok: false, error: expect.stringMatching(/^NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/) });
    expect(second.busy).toHaveLength(1);
  });

  it('no nvidia-smi: gpus null and collectors.gpu ok with "nvidia-smi not found"', async () => {
    const { second } = await fixtureSnapshot({ nvidiaSmi: path.join(tmp, 'absent') });
    expect(second.gpus).toBeNull();
    expect(second.collectors.gpu).toMatchObject({ ok: true, error: 'nvidia-smi not found' });
  });

  it('a failing collector is isolated: safe defaults, ok:false, the snapshot still valid', async () => {
    // test/fixtures/proc has uptime and processes, but no loadavg, stat or meminfo.
    const s = new Sampler({ version: 't', procRoot: path.join(FIXTURES, 'proc'), host: 'h', pageSizeBytes: 4096, nvidiaSmi: path.join(tmp, 'absent'), userNameOf: names });
    const snap = await s.sample(60);
    expect(parseSnapshot(JSON.stringify(snap))).toEqual(snap);
    for (const name of ['loadavg', 'cpu', 'meminfo']) expect(snap.collectors[name]).toMatchObject({ ok: false, error: expect.stringMatching(/ENOENT/) });
    expect(snap.load).toEqual([0, 0, 0]);
    expect(snap.mem.total_bytes).toBe(0);
    expect(snap.collectors.processes!.ok).toBe(true);
    expect(snap.pids.length).toBeGreaterThan(3);
    expect(snap.interval_seconds).toBe(60);
  });
});
