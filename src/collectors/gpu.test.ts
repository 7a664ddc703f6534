import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findExecutable } from '../lib/exec.js';
import {
  collectGpus,
  isNullCell,
  joinComputeApps,
  parseComputeApps,
  parseGpuQuery,
  parseMemoryBytes,
  parseNvidiaCsv,
} from './gpu.js';

const SMI = path.resolve(import.meta.dirname, '../../test/fixtures/nvidia-smi');
const fixture = (f: string) => fs.readFileSync(path.join(SMI, f), 'utf8');
const MiB = 1024 ** 2;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-gpu-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const MASKED_UUID = 'GPU-00000000-0000-0000-0000-000000000000';

/** A fake nvidia-smi: prints `gpuFile` for --query-gpu and `appsFile` for --query-compute-apps. */
function fakeSmi(name: string, body: { gpuFile?: string; appsFile?: string; script?: string }): string {
  const file = path.join(tmp, name);
  const script =
    body.script ??
    `#!/bin/sh
case "$*" in
  *--query-gpu=*) cat '${body.gpuFile}' ;;
  *--query-compute-apps=*) ${body.appsFile ? `cat '${body.appsFile}'` : 'echo "Failed to query compute apps" >&2; exit 3'} ;;
  *) exit 2 ;;
esac
`;
  fs.writeFileSync(file, script, { mode: 0o755 });
  return file;
}

describe('parsing real nvidia-smi CSV (header-driven)', () => {
  it('one H100 from a wide 212-column query, units in header and values', () => {
    const gpus = parseGpuQuery(fixture('h100-80gb-hbm3.query-gpu.csv'));
    expect(gpus).toEqual([
      {
        index: 0,
        uuid: MASKED_UUID,
        name: 'NVIDIA H100 80GB HBM3',
        util_pct: 100,
        mem_used_bytes: 19818 * MiB,
        mem_total_bytes: 81559 * MiB,
        temp_c: 59,
        power_w: 631.95,
        procs: [],
      },
    ]);
  });

  it('an H100 in MIG mode: utilization.gpu is [N/A] → null', () => {
    const [g] = parseGpuQuery(fixture('h100-mig.query-gpu.csv'));
    expect(g).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', util_pct: null, mem_used_bytes: 11125 * MiB, temp_c: 53, power_w: 433.78 });
  });

  it('a GeForce card ([N/A] serial and more, which it does not need)', () => {
    const [g] = parseGpuQuery(fixture('rtx-2080-super.query-gpu.csv'));
    expect(g).toMatchObject({ index: 0, name: 'NVIDIA GeForce RTX 2080 SUPER', util_pct: 8, mem_used_bytes: 819 * MiB, mem_total_bytes: 8192 * MiB, temp_c: 45, power_w: 111.5 });
  });

  it('eight V100s with fewer columns: no uuid → "", no power.draw → null', () => {
    const gpus = parseGpuQuery(fixture('v100x8.query-gpu.csv'));
    expect(gpus).toHaveLength(8);
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus.every((g) => g.name === 'Tesla V100-SXM2-32GB' && g.uuid === '' && g.power_w === null)).toBe(true);
    expect(gpus[6]).toMatchObject({ util_pct: 100, mem_used_bytes: 13928 * MiB, mem_total_bytes: 32768 * MiB, temp_c: 51 });
    expect(gpus[5]!.mem_total_bytes).toBe(32764 * MiB);
    expect(gpus[0]).toMatchObject({ util_pct: 0, mem_used_bytes: 4 * MiB, temp_c: 35 });
  });

  it('compute apps of the H100 (three processes) in bytes', () => {
    expect(parseComputeApps(fixture('h100-80gb-hbm3.compute-apps.csv'))).toEqual([
      { gpu_uuid: MASKED_UUID, pid: 11327, name: '/root/tools/memhog', mem_bytes: 2566 * MiB },
      { gpu_uuid: MASKED_UUID, pid: 11328, name: '/root/tools/memhog', mem_bytes: 1542 * MiB },
      { gpu_uuid: MASKED_UUID, pid: 11345, name: './gpu_burn', mem_bytes: 15690 * MiB },
    ]);
  });

  it('compute apps under Windows WDDM: used_gpu_memory [N/A] → null, names with spaces kept', () => {
    const apps = parseComputeApps(fixture('rtx-2080-super-windows.compute-apps.csv'));
    expect(apps).toHaveLength(12);
    expect(apps.every((a) => a.mem_bytes === null)).toBe(true);
    expect(apps.find((a) => a.pid === 20372)?.name).toBe('C:\\Program Files\\NZXT CAM\\NZXT CAM.exe');
  });

  it('accepts nounits output, a process name holding ", ", and every null spelling', () => {
    const apps = parseComputeApps('gpu_uuid, pid, process_name, used_gpu_memory [MiB]\nGPU-a, 42, python train.py --tags a, b, 81920\nGPU-a, [N/A], x, 1\n');
    expect(apps).toEqual([{ gpu_uuid: 'GPU-a', pid: 42, name: 'python train.py --tags a, b', mem_bytes: 81920 * MiB }]);
    const [g] = parseGpuQuery('name, index, power.draw [W], utilization.gpu [%], temperature.gpu\nTesla K80, 3, [Not Supported], [Unknown Error], N/A\n');
    expect(g).toMatchObject({ index: 3, name: 'Tesla K80', power_w: null, util_pct: null, temp_c: null });
    for (const c of ['[N/A]', '[Not Supported]', '[Unknown Error]', '[Insufficient Permissions]', 'N/A', '', undefined]) expect(isNullCell(c)).toBe(true);
    expect(parseMemoryBytes('1 GiB')).toBe(1024 ** 3);
    expect(parseMemoryBytes('512', 'KiB')).toBe(512 * 1024);
    expect(parseMemoryBytes('100')).toBe(100 * MiB);
  });

  it('refuses text without a CSV header (the driver error is not CSV)', () => {
    expect(() => parseNvidiaCsv(fixture('driver-not-loaded.txt'))).toThrow(/header/);
    expect(() => parseNvidiaCsv('')).toThrow(/nothing/);
  });

  it('joins compute apps to GPUs on uuid, with owners', () => {
    const gpus = parseGpuQuery(fixture('h100-80gb-hbm3.query-gpu.csv'));
    const apps = parseComputeApps(fixture('h100-80gb-hbm3.compute-apps.csv'));
    const owners = new Map([[11327, { uid: 1000, user: 'alice' }]]);
    const [g] = joinComputeApps(gpus, [...apps, { gpu_uuid: 'GPU-other', pid: 5, name: 'x', mem_bytes: null }], owners);
    expect(g!.procs).toEqual([
      { pid: 11327, user: 'alice', uid: 1000, mem_bytes: 2566 * MiB, name: '/root/tools/memhog' },
      { pid: 11328, user: null, uid: null, mem_bytes: 1542 * MiB, name: '/root/tools/memhog' },
      { pid: 11345, user: null, uid: null, mem_bytes: 15690 * MiB, name: './gpu_burn' },
    ]);
  });
});

describe('collectGpus with an injected nvidia-smi', () => {
  it('runs both queries of a fake nvidia-smi and takes owners from the proc root', async () => {
    const smi = fakeSmi('smi-h100', { gpuFile: path.join(SMI, 'h100-80gb-hbm3.query-gpu.csv'), appsFile: path.join(SMI, 'h100-80gb-hbm3.compute-apps.csv') });
    const procRoot = fs.mkdtempSync(path.join(tmp, 'proc-'));
    fs.mkdirSync(path.join(procRoot, '11345'));
    const uid = process.getuid!() === 0 ? 65534 : process.getuid!();
    if (process.getuid!() === 0) fs.chownSync(path.join(procRoot, '11345'), 65534, 65534);
    const r = await collectGpus({ nvidiaSmi: smi, procRoot, userNameOf: async (u) => (u === 65534 ? 'nobody' : `u${u}`) });
    expect(r.note).toBeUndefined();
    expect(r.value).toHaveLength(1);
    const procs = r.value![0]!.procs;
    expect(procs.map((p) => p.pid)).toEqual([11327, 11328, 11345]);
    expect(procs[2]).toEqual({ pid: 11345, uid, user: uid === 65534 ? 'nobody' : `u${uid}`, mem_bytes: 15690 * MiB, name: './gpu_burn' });
    expect(procs[0]).toMatchObject({ uid: null, user: null }); // not visible here
  });

  it('no nvidia-smi: gpus null, a note, no error', async () => {
    expect(await collectGpus({ nvidiaSmi: path.join(tmp, 'no-such-nvidia-smi') })).toEqual({ value: null, note: 'nvidia-smi not found' });
    expect(await collectGpus({ env: { PATH: tmp } })).toEqual({ value: null, note: 'nvidia-smi not found' });
    expect(findExecutable('sh')).toMatch(/\/sh$/);
  });

  it('nvidia-smi failing (no driver, exit 9): throws with its message', async () => {
    const smi = fakeSmi('smi-nodriver', { script: `#!/bin/sh\ncat '${path.join(SMI, 'driver-not-loaded.txt')}'\nexit 9\n` });
    await expect(collectGpus({ nvidiaSmi: smi })).rejects.toThrow(/^NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/);
  });

  it('compute apps failing alone keeps the GPUs, with a note', async () => {
    const smi = fakeSmi('smi-noapps', { gpuFile: path.join(SMI, 'v100x8.query-gpu.csv') });
    const r = await collectGpus({ nvidiaSmi: smi });
    expect(r.value).toHaveLength(8);
    expect(r.note).toMatch(/compute apps: .*Failed to query compute apps/);
  });

  it('a hanging nvidia-smi is killed after the timeout', async () => {
    const smi = fakeSmi('smi-hang', { script: '#!/bin/sh\nsleep 30\n' });
    const t0 = Date.now();
    await expect(collectGpus({ nvidiaSmi: smi, timeoutMs: 300 })).rejects.toThrow(/timed out/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
