// The history over a real index file with an injected clock: a node's values per bucket, its
// state when it stops writing, downsampling into hours, retention, each user's core-, GPU- and
// memory-hours on agent nodes and SLURM, and a SLURM partition's nodes by state.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from './db.js';
import { NodeStore } from './nodes.js';
import { HistoryStore, chooseRange, slurmHistoryState } from './history.js';
import { GiB, gpu, gpuProc, proc, snapshot } from '../../test/support/nodes.js';
import type { SlurmClusterView } from '../model/slurm-view.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-30T09:00:00Z');

let dir: string;
let db: Db;
let nodes: NodeStore;
let history: HistoryStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-history-'));
  db = openDb(path.join(dir, 'index.db'));
  nodes = new NodeStore(db);
  history = new HistoryStore(db);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What the NodeWatcher does with one snapshot at `ms`. */
function sample(host: string, ms: number, over: Parameters<typeof snapshot>[1] = {}): void {
  const s = snapshot(host, over);
  nodes.save({ host, seq: s.seq, snapshot: s, writer_uid: 0, changed_ms: ms, idle_since_ms: null, down: false });
  nodes.addSample(host, s, ms);
  history.recordNode(host, s, ms);
}

const range = (sinceMs: number, untilMs: number, stepMs: number, resolution: 60 | 3600) => ({ sinceMs, untilMs, stepMs, resolution });

describe('node history', () => {
  it('per bucket: busy cores out of capacity, and the state the hub saw — down once the node stops writing', () => {
    for (let m = 0; m < 120; m++) {
      const t = T0 + m * MIN;
      sample('a', t, { cpus: 8, cpu_busy_pct: 50 });
      if (m < 60) sample('b', t, { cpus: 4, cpu_busy_pct: 100 });
      history.recordStates([{ host: 'a', state: 'fresh', cpus: 8, memTotal: 64 * GiB, gpus: 0 }, { host: 'b', state: m < 60 ? 'fresh' : 'down', cpus: 4, memTotal: 64 * GiB, gpus: 0 }], t + 1000);
    }
    const h = history.nodes('cpu', range(T0, T0 + 2 * HOUR, 30 * MIN, 60));
    expect(h.times).toEqual([0, 1, 2, 3].map((i) => T0 + i * 30 * MIN));
    const a = h.hosts.find((x) => x.host === 'a')!;
    const b = h.hosts.find((x) => x.host === 'b')!;
    expect(a.used).toEqual([4, 4, 4, 4]);
    expect(a.capacity).toEqual([8, 8, 8, 8]);
    expect(b.used.slice(0, 2)).toEqual([4, 4]);
    // Down: no value (it said nothing), but its capacity and its state are known.
    expect(b.used.slice(2)).toEqual([null, null]);
    expect(b.capacity.slice(2)).toEqual([4, 4]);
    expect(b.state).toEqual(['fresh', 'fresh', 'down', 'down']);
    expect(history.nodes('cpu', range(T0, T0 + 2 * HOUR, 30 * MIN, 60), ['a']).hosts.map((x) => x.host)).toEqual(['a']);
  });

  it('the hour buckets are exact averages of what the minutes saw; retention drops minutes, keeps hours', () => {
    for (let m = 0; m < 60; m++) sample('a', T0 + m * MIN, { cpus: 10, cpu_busy_pct: m < 30 ? 20 : 80, mem: { total_bytes: 100, available_bytes: m < 30 ? 90 : 30, swap_total_bytes: 0, swap_free_bytes: 0 } });
    const minutes = history.nodes('mem', range(T0, T0 + HOUR, MIN, 60)).hosts[0]!.used;
    const hour = history.nodes('mem', range(T0, T0 + HOUR, HOUR, 3600)).hosts[0]!;
    expect(hour.used).toEqual([minutes.reduce<number>((s, v) => s + (v ?? 0), 0) / 60]);
    expect(hour.used).toEqual([40]);
    expect(history.nodes('cpu', range(T0, T0 + HOUR, HOUR, 3600)).hosts[0]!.used).toEqual([5]);
    const keep = { 60: 2 * 86_400_000, 600: 14 * 86_400_000, 3600: 400 * 86_400_000 };
    nodes.prune(T0 + 3 * 86_400_000, keep);
    history.prune(T0 + 3 * 86_400_000, keep);
    expect(history.nodes('mem', range(T0, T0 + HOUR, MIN, 60)).hosts).toEqual([]);
    expect(history.nodes('mem', range(T0, T0 + HOUR, HOUR, 3600)).hosts[0]!.used).toEqual([40]);
  });

  it('GPUs: busy GPUs out of the count; users: core-, GPU- and memory-hours for the time each sample stands for', () => {
    const gpus = [gpu(0, { util_pct: 100, procs: [gpuProc('alice', GiB)] }), gpu(1, { util_pct: 50, procs: [gpuProc('alice', GiB), gpuProc('bob', GiB)] })];
    for (let m = 0; m <= 60; m++) {
      sample('g', T0 + m * MIN, { gpus, busy: [proc('alice', 200, 4 * 1e9, 'python train.py'), proc('bob', 100, 1e9, 'python eval.py')] });
    }
    expect(history.nodes('gpu', range(T0, T0 + HOUR, HOUR, 3600)).hosts[0]).toMatchObject({ used: [1.5], capacity: [2] });
    // Each GPU on its own: 100 % and 50 %, 1 GiB each of 80.
    const per = history.gpus(range(T0, T0 + HOUR, 30 * MIN, 60)).gpus;
    expect(per.map((g) => `${g.host}/${g.gpu}: ${g.util.join(',')}`)).toEqual(['g/0: 100,100', 'g/1: 50,50']);
    expect(per[0]!.mem_total).toEqual([80 * GiB, 80 * GiB]);
    const usage = history.usage(T0, T0 + 2 * HOUR);
    // 61 samples a minute apart: the first stands for the agent's interval (15 s), the others for 60 s each.
    const hours = (60 * 60 + 15) / 3600;
    const alice = usage.find((u) => u.user === 'alice')!;
    const bob = usage.find((u) => u.user === 'bob')!;
    expect(usage[0]!.user).toBe('alice');
    expect(alice.core_hours).toBeCloseTo(2 * hours, 6);
    expect(alice.gpu_hours).toBeCloseTo(1.5 * hours, 6);
    expect(bob.gpu_hours).toBeCloseTo(0.5 * hours, 6);
    expect(alice.mem_gb_hours).toBeCloseTo(4 * hours, 6);
    expect(alice.slurm_core_hours).toBe(0);
  });

  it('a node silent for hours counts its next sample for MAX_SAMPLE_SECONDS, not the silence', () => {
    sample('a', T0, { busy: [proc('alice', 100, 0, 'x')] });
    sample('a', T0 + 5 * HOUR, { busy: [proc('alice', 100, 0, 'x')] });
    expect(history.usage(T0, T0 + 6 * HOUR)[0]!.core_hours).toBeCloseTo((15 + 300) / 3600, 6);
  });
});

describe('SLURM history', () => {
  const view = (allocated: number): SlurmClusterView => ({
    generated: new Date(T0).toISOString(), sinfo_at: null, squeue_at: null, problem: null,
    nodes: ['g1', 'g2', 'g3', 'g4'].map((name, i) => ({
      name, partitions: ['gpu'], state: i < allocated ? 'allocated' : i === 3 ? 'drained' : 'idle', flags: [], cpus_total: 32, cpus_alloc: i < allocated ? 32 : 0, cpus_idle: 0,
      memory_bytes: null, alloc_memory_bytes: null, free_memory_bytes: null, gpus_total: 4, gpus_alloc: i < allocated ? 4 : 0, gpu_types: [], load: null, reason: null,
    })),
    partitions: [{ name: 'gpu', default: true, avail: 'up', time_limit_seconds: null, nodes: ['g1', 'g2', 'g3', 'g4'], cpus_total: 128, cpus_alloc: allocated * 32, cpus_idle: 0, gpus_total: 16, gpus_alloc: allocated * 4 }],
    jobs: [
      { job_id: '1', array_job_id: null, array_task_id: null, user: 'alice', state: 'RUNNING', reason: null, partition: 'gpu', name: 'train', cpus: 32, nodes: 1, gpus: 4, min_memory_bytes: 8e9, node_list: 'g1', time_used_seconds: 60, time_limit_seconds: null, submit: null, start: null },
      { job_id: '2', array_job_id: null, array_task_id: null, user: 'bob', state: 'PENDING', reason: 'Resources', partition: 'gpu', name: 'sweep', cpus: 8, nodes: 1, gpus: 1, min_memory_bytes: null, node_list: null, time_used_seconds: null, time_limit_seconds: null, submit: null, start: null, tasks: 3 },
    ],
  });

  it('a partition\'s nodes by state, cores and GPUs allocated vs total, jobs running and pending; each node\'s state', () => {
    for (let m = 0; m < 60; m++) history.recordSlurm(view(m < 30 ? 1 : 2), T0 + m * MIN);
    const s = history.slurm(range(T0, T0 + HOUR, 30 * MIN, 60));
    const p = s.partitions[0]!;
    expect(p.partition).toBe('gpu');
    expect(p.nodes.allocated).toEqual([1, 2]);
    expect(p.nodes.idle).toEqual([2, 1]);
    expect(p.nodes.down).toEqual([1, 1]);
    expect(p.cpus_alloc).toEqual([32, 64]);
    expect(p.cpus_total).toEqual([128, 128]);
    expect(p.gpus_alloc).toEqual([4, 8]);
    expect(p.jobs_running).toEqual([1, 1]);
    expect(p.jobs_pending).toEqual([3, 3]);
    expect(s.nodes.map((n) => `${n.node}:${n.state.join(',')}`)).toEqual(['g1:allocated,allocated', 'g2:idle,allocated', 'g3:idle,idle', 'g4:down,down']);
    // alice's running job: 32 cores and 4 GPUs for the hour (the first poll stands for 60 s).
    const alice = history.usage(T0, T0 + HOUR).find((u) => u.user === 'alice')!;
    expect(alice.slurm_core_hours).toBeCloseTo(32, 6);
    expect(alice.gpu_hours).toBeCloseTo(4, 6);
    expect(history.usage(T0, T0 + HOUR).find((u) => u.user === 'bob')).toBeUndefined();
  });

  it('reads SLURM\'s state names as the four history states', () => {
    expect(['idle', 'mixed', 'allocated', 'completing', 'down*', 'drained', 'draining', 'planned', 'future'].map(slurmHistoryState)).toEqual(['idle', 'mixed', 'allocated', 'allocated', 'down', 'down', 'down', null, null]);
  });
});

describe('chooseRange', () => {
  const now = T0 + 30 * 86_400_000;
  const keep = { 60: 2 * 86_400_000, 600: 14 * 86_400_000, 3600: 400 * 86_400_000 };
  it('at most 200 buckets, read from the coarsest samples that divide the step and are still kept', () => {
    expect(chooseRange(now - HOUR, now, keep, now)).toMatchObject({ stepMs: MIN, resolution: 60 });
    expect(chooseRange(now - 6 * HOUR, now, keep, now)).toMatchObject({ stepMs: 5 * MIN, resolution: 60 });
    expect(chooseRange(now - 86_400_000, now, keep, now)).toMatchObject({ stepMs: 10 * MIN, resolution: 600 });
    expect(chooseRange(now - 7 * 86_400_000, now, keep, now)).toMatchObject({ stepMs: HOUR, resolution: 3600 });
    expect(chooseRange(now - 30 * 86_400_000, now, keep, now)).toMatchObject({ stepMs: 6 * HOUR, resolution: 3600 });
    // Six hours that ended 5 days ago: their minutes are gone, their 10-minute samples are not.
    expect(chooseRange(now - 5 * 86_400_000 - 6 * HOUR, now - 5 * 86_400_000, keep, now)).toMatchObject({ stepMs: 10 * MIN, resolution: 600 });
    // An hour 20 days ago: only hours are kept.
    expect(chooseRange(now - 20 * 86_400_000, now - 20 * 86_400_000 + HOUR, keep, now)).toMatchObject({ stepMs: HOUR, resolution: 3600 });
  });
});

describe('a simulated week: 100 nodes and a SLURM partition, one sample an hour', () => {
  it('every bucket exact in each tier, a node down for a day shows down, retention keeps each tier its days', () => {
    const DAY = 86_400_000;
    const hosts = Array.from({ length: 100 }, (_, i) => `n${String(i).padStart(3, '0')}`);
    // Node i at hour h: busy (i + h) % 100 % of its 10 cores; n042 silent from hour 50 to 73.
    const busy = (i: number, h: number) => (i + h) % 100;
    const down = (i: number, h: number) => i === 42 && h >= 50 && h < 74;
    const slurmView = (h: number): SlurmClusterView => ({
      generated: '', sinfo_at: null, squeue_at: null, problem: null, jobs: [],
      nodes: Array.from({ length: 10 }, (_, k) => ({ name: `s${k}`, partitions: ['batch'], state: k < h % 10 ? 'allocated' : 'idle', flags: [], cpus_total: 8, cpus_alloc: k < h % 10 ? 8 : 0, cpus_idle: 0, memory_bytes: null, alloc_memory_bytes: null, free_memory_bytes: null, gpus_total: 0, gpus_alloc: 0, gpu_types: [], load: null, reason: null })),
      partitions: [{ name: 'batch', default: true, avail: 'up', time_limit_seconds: null, nodes: Array.from({ length: 10 }, (_, k) => `s${k}`), cpus_total: 80, cpus_alloc: (h % 10) * 8, cpus_idle: 0, gpus_total: 0, gpus_alloc: 0 }],
    });
    db.transaction(() => {
      for (let h = 0; h < 168; h++) {
        const t = T0 + h * HOUR;
        hosts.forEach((host, i) => {
          if (!down(i, h)) sample(host, t, { cpus: 10, cpu_busy_pct: busy(i, h) });
        });
        history.recordStates(hosts.map((host, i) => ({ host, state: down(i, h) ? 'down' : 'fresh', cpus: 10, memTotal: 1, gpus: 0 })), t + 1);
        history.recordSlurm(slurmView(h), t);
      }
    })();
    const end = T0 + 168 * HOUR;
    const keep = { 60: 2 * DAY, 600: 14 * DAY, 3600: 400 * DAY };
    history.prune(end, keep);
    nodes.prune(end, keep);
    const week = chooseRange(T0, end, keep, end);
    expect(week).toMatchObject({ stepMs: HOUR, resolution: 3600 });
    const h = history.nodes('cpu', week);
    expect(h.times).toHaveLength(168);
    expect(h.hosts).toHaveLength(100);
    for (const [i, host] of h.hosts.entries()) {
      for (let k = 0; k < 168; k++) {
        if (down(i, k)) {
          expect(host.used[k], `${host.host} h${k}`).toBeNull();
          expect(host.state[k]).toBe('down');
        } else {
          expect(host.used[k], `${host.host} h${k}`).toBeCloseTo(busy(i, k) / 10, 9);
          expect(host.state[k]).toBe('fresh');
        }
      }
    }
    // The 10-minute tier holds the week too (one sample in each hour's first bucket), the same values.
    const tens = history.nodes('cpu', { sinceMs: T0, untilMs: end, stepMs: HOUR, resolution: 600 });
    expect(tens.hosts.map((x) => x.used)).toEqual(h.hosts.map((x) => x.used));
    // Minutes: only the last 2 days are kept.
    const minutes = history.nodes('cpu', { sinceMs: T0, untilMs: end, stepMs: DAY, resolution: 60 });
    expect(minutes.hosts[0]!.used.map((v) => v !== null)).toEqual([false, false, false, false, false, true, true]);
    // The partition: allocated nodes and cores exact each hour.
    const s = history.slurm(week, 'batch');
    expect(s.partitions[0]!.nodes.allocated).toEqual(Array.from({ length: 168 }, (_, k) => k % 10));
    expect(s.partitions[0]!.cpus_alloc).toEqual(Array.from({ length: 168 }, (_, k) => (k % 10) * 8));
    expect(s.nodes).toHaveLength(10);
    expect(s.nodes.find((n) => n.node === 's0')!.state.slice(0, 3)).toEqual(['idle', 'allocated', 'allocated']);
  });
});
