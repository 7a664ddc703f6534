// NodeView fixtures for the node commands' tests: builders with realistic snapshot values, and a
// small lab of nodes — a busy 64-core CPU node, an idle 8-GPU node on which one GPU is held idle
// by a notebook kernel, a 48-core node with 1 of 4 GPUs free, a down node and a waiting one.
import type { NodeSnapshot, SnapshotGpu, SnapshotGpuProcess, SnapshotProcess } from '../../src/model/snapshot.js';
import type { JobView } from '../../src/model/job-view.js';
import type { NodeState, NodeView } from '../../src/model/node-view.js';

export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const TiB = 1024 ** 4;

/** The hub's clock for the fixtures ("generated"). */
export const GENERATED = '2026-03-02T12:00:00.000Z';
export const NOW_MS = Date.parse(GENERATED);

let nextPid = 40_000;

export function proc(user: string, cpu_pct: number | null, rss_bytes: number, cmd: string, over: Partial<SnapshotProcess> = {}): SnapshotProcess {
  const pid = over.pid ?? nextPid++;
  return {
    pid,
    start: String(1_000_000 + pid),
    user,
    uid: 1000 + (user.charCodeAt(0) % 50),
    cpu_pct,
    rss_bytes,
    mem_pct: 0,
    elapsed_seconds: 3600,
    cmd,
    ...over,
  };
}

export function gpuProc(user: string | null, mem_bytes: number | null, pid = nextPid++, name = 'python'): SnapshotGpuProcess {
  return { pid, user, uid: user === null ? null : 1000, mem_bytes, name };
}

/** An A100 80GB: idle (4 MiB used, 0 %) unless told otherwise. */
export function gpu(index: number, over: Partial<SnapshotGpu> = {}): SnapshotGpu {
  return {
    index,
    uuid: `GPU-0000000${index}-aaaa-bbbb-cccc-dddddddddddd`,
    name: 'NVIDIA A100-SXM4-80GB',
    util_pct: 0,
    mem_used_bytes: 4 * MiB,
    mem_total_bytes: 80 * GiB,
    temp_c: 31,
    power_w: 62,
    procs: [],
    ...over,
  };
}

/** A GPU at work for `user`: 98 %, 70 GiB used by one process. */
export function busyGpu(index: number, user: string): SnapshotGpu {
  return gpu(index, { util_pct: 98, mem_used_bytes: 70 * GiB, temp_c: 67, power_w: 380, procs: [gpuProc(user, 70 * GiB - 500 * MiB)] });
}

export function snapshot(host: string, over: Partial<NodeSnapshot> = {}): NodeSnapshot {
  const busy = over.busy ?? [];
  const total = over.mem?.total_bytes ?? 256 * GiB;
  return {
    v: 1,
    host,
    seq: 1234,
    ts: '2026-03-02T11:59:55.000Z',
    interval_seconds: 15,
    agent: { version: '0.1.0', pid: 999, user: 'labadmin' },
    uptime_seconds: 12 * 86_400,
    cpus: 32,
    load: [0.5, 0.4, 0.3],
    cpu_busy_pct: 2,
    mem: { total_bytes: total, available_bytes: total * 0.9, swap_total_bytes: 8 * GiB, swap_free_bytes: 8 * GiB },
    pids: busy.map((p) => [p.pid, p.start] as [number, string]),
    pids_visible: 'all',
    gpus: null,
    collectors: { load: { ok: true, seconds: 0.001 }, procs: { ok: true, seconds: 0.05 }, gpu: { ok: true, seconds: 0.2 } },
    ...over,
    busy: busy.map((p) => ({ ...p, mem_pct: Math.round((p.rss_bytes / total) * 1000) / 10 })),
  };
}

export function job(user: string, host: string, over: Partial<JobView> = {}): JobView {
  return {
    id: `01JNODEJOB${user.toUpperCase().padEnd(16, '0').slice(0, 16)}`,
    user,
    host,
    state: 'running',
    title: null,
    cmd: 'python train.py --epochs 90',
    pid: 51_000,
    startTs: '2026-03-02T09:30:00.000Z',
    src: 'node',
    ...over,
  };
}

export function nodeView(
  snap: NodeSnapshot,
  over: { state?: NodeState; age_seconds?: number | null; jobs?: JobView[]; idle_since?: string | null } = {},
): NodeView {
  const state = over.state ?? 'fresh';
  return {
    host: snap.host,
    state,
    age_seconds: over.age_seconds !== undefined ? over.age_seconds : state === 'waiting' ? null : 12,
    snapshot: snap,
    jobs: over.jobs ?? [],
    idle_since: over.idle_since ?? null,
  };
}

/** The lab described at the top of this file. */
export function lab(): NodeView[] {
  const cpu1 = nodeView(
    snapshot('cpu1', {
      cpus: 64,
      load: [59.1, 58.3, 55.0],
      cpu_busy_pct: 91,
      mem: { total_bytes: 503 * GiB, available_bytes: 120 * GiB, swap_total_bytes: 16 * GiB, swap_free_bytes: 12 * GiB },
      busy: [
        proc('alice', 1590, 40 * GiB, 'python preprocess.py --workers 16 --input /data/corpus'),
        proc('bob', 3180, 200 * GiB, 'Rscript fit_models.R --chains 32'),
        proc('alice', 800, 12 * GiB, 'python preprocess.py --workers 8 --input /data/extra'),
        proc('carol', 2.5, 100 * MiB, 'vim notes.md'),
      ],
    }),
    { jobs: [job('alice', 'cpu1', { title: 'preprocess' }), job('bob', 'cpu1', { state: 'succeeded', id: '01JNODEJOBBOBDONE0000000000' })] },
  );
  const gpu1 = nodeView(
    snapshot('gpu1', {
      cpus: 32,
      load: [0.42, 0.3, 0.25],
      cpu_busy_pct: 1.2,
      mem: { total_bytes: 1 * TiB, available_bytes: 980 * GiB, swap_total_bytes: 0, swap_free_bytes: 0 },
      busy: [proc('carol', 0.4, 3 * GiB, 'python -m ipykernel_launcher -f kernel-1234.json', { elapsed_seconds: 6 * 3600 })],
      gpus: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => (i === 3 ? gpu(3, { mem_used_bytes: 2 * GiB + 600 * MiB, procs: [gpuProc('carol', 2 * GiB + 590 * MiB)] }) : gpu(i))),
    }),
    { idle_since: '2026-03-02T09:45:00.000Z' },
  );
  const gpu4 = nodeView(
    snapshot('gpu4', {
      cpus: 48,
      load: [12.3, 12.0, 11.5],
      cpu_busy_pct: 25,
      mem: { total_bytes: 384 * GiB, available_bytes: 200 * GiB, swap_total_bytes: 0, swap_free_bytes: 0 },
      busy: [
        proc('dave', 310, 30 * GiB, 'torchrun --nproc_per_node 3 train.py --model vit-l'),
        proc('dave', 290, 28 * GiB, 'torchrun worker 1'),
        proc('erin', 100, 2 * GiB, 'python eval.py'),
      ],
      gpus: [busyGpu(0, 'dave'), busyGpu(1, 'dave'), busyGpu(2, 'dave'), gpu(3, { name: 'NVIDIA A100-SXM4-40GB', mem_total_bytes: 40 * GiB })],
    }),
    { jobs: [job('dave', 'gpu4', { title: 'vit-l', startTs: '2026-03-02T10:00:00.000Z' }), job('erin', 'gpu4', { id: '01JNODEJOBERIN00000000000000' })] },
  );
  // Down for two hours; its old snapshot shows 4 idle GPUs, which must not tempt `best`.
  const gpu2 = nodeView(
    snapshot('gpu2', { cpus: 32, load: [0, 0, 0], gpus: [gpu(0), gpu(1), gpu(2), gpu(3)] }),
    { state: 'down', age_seconds: 7200 },
  );
  const gpu3 = nodeView(snapshot('gpu3', { cpus: 32, load: [0.1, 0.1, 0.1], gpus: [gpu(0), gpu(1)] }), { state: 'waiting' });
  return [cpu1, gpu1, gpu2, gpu3, gpu4];
}
