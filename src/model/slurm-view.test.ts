import { describe, expect, it } from 'vitest';
import { slurmFixture } from '../../test/fixtures/slurm/fixtures.js';
import { gpuView, realBusyView, realIdleView, viewFrom } from '../../test/fixtures/slurm/views-fixtures.js';
import { parseSinfoLong } from '../schedulers/slurm/sinfo.js';
import { parseSqueue } from '../schedulers/slurm/squeue.js';
import { buildSlurmView } from '../schedulers/slurm/view.js';
import {
  countArrayTasks,
  formatNodeState,
  formatSlurmDuration,
  hostlistIncludes,
  jobCountsByPartition,
  jobPhase,
  jobTasks,
  nodeAcceptsJobs,
} from './slurm-view.js';

const MiB = 1024 ** 2;
const jobsOf = () =>
  Object.fromEntries(
    slurmFixture('views-jobs.txt')
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );

describe('buildSlurmView on the real captures (slurm 22.05.8, one node vm)', () => {
  it('one node, one default partition, its numbers summed', () => {
    const v = realBusyView();
    expect(v.generated).toBe('2026-03-02T12:00:00.000Z');
    expect(v.sinfo_at).toBe('2026-03-02T11:59:25.000Z');
    expect(v.nodes).toEqual([
      {
        name: 'vm',
        partitions: ['debug'],
        state: 'allocated',
        flags: [],
        cpus_total: 2,
        cpus_alloc: 2,
        cpus_idle: 0,
        memory_bytes: 24105 * MiB,
        alloc_memory_bytes: 2048 * MiB,
        free_memory_bytes: expect.any(Number),
        gpus_total: 0,
        gpus_alloc: 0,
        gpu_types: [],
        load: expect.any(Number),
        reason: null,
      },
    ]);
    expect(v.partitions).toEqual([
      { name: 'debug', default: true, avail: 'up', time_limit_seconds: null, nodes: ['vm'], cpus_total: 2, cpus_alloc: 2, cpus_idle: 0, gpus_total: 0, gpus_alloc: 0 },
    ]);
  });

  it('the queue: running and pending jobs of root and of the capture user; final states left out', () => {
    const ids = jobsOf();
    const v = realBusyView();
    // views-squeue.txt also lists jobs that had just ended (CANCELLED, COMPLETED: -t all): dropped.
    expect(parseSqueue(slurmFixture('views-squeue.txt')).rows.length).toBeGreaterThan(v.jobs.length);
    expect(v.jobs.map((j) => [j.job_id, j.user, j.state])).toEqual([
      [ids.root_pending, 'root', 'PENDING'],
      [ids.user_pending, 'cloudsdk', 'PENDING'],
      [`${ids.user_held_array}_[0-3%2]`, 'cloudsdk', 'PENDING'],
      [ids.root_running, 'root', 'RUNNING'],
      [ids.user_running, 'cloudsdk', 'RUNNING'],
    ]);
    const held = v.jobs[2]!;
    expect(held).toMatchObject({ reason: 'JobHeldUser', name: 'views held|array', array_job_id: Number(ids.user_held_array), array_task_id: null, tasks: 4, gpus: 0 });
    expect(v.jobs[0]).toMatchObject({ reason: 'Resources', min_memory_bytes: 2048 * MiB, node_list: null, start: null });
    expect(v.jobs[1]).toMatchObject({ cpus: 2, reason: 'Priority' });
    expect(v.jobs[3]).toMatchObject({ node_list: 'vm', partition: 'debug', cpus: 1, nodes: 1, time_limit_seconds: 300 });
    expect(v.jobs[3]!.time_used_seconds).toBeGreaterThan(0);
  });

  it('after the cancels every row is final: an empty queue', () => {
    expect(realIdleView().jobs).toEqual([]);
  });

  it('drained: the node says why, its CPUs are neither allocated nor idle', () => {
    const v = viewFrom('views-sinfo-drained.txt', null);
    expect(v.nodes[0]).toMatchObject({ state: 'drained', cpus_alloc: 0, cpus_idle: 0, cpus_total: 2, reason: 'views capture | drain test' });
    expect(nodeAcceptsJobs(v.nodes[0]!)).toBe(false);
    expect(v.partitions[0]).toMatchObject({ cpus_total: 2, cpus_idle: 0, cpus_alloc: 0 });
    expect(v.jobs).toEqual([]);
    expect(v.squeue_at).toBeNull();
  });

  it('sinfo never answered: no nodes; the problem (and since when) carried', () => {
    const v = buildSlurmView({ sinfo: null, squeue: null, sinfoAt: null, squeueAt: null, problem: 'slurmctld unreachable: connect failure', problemSince: '2026-03-02T11:50:00.000Z', now: new Date('2026-03-02T12:00:00Z') });
    expect(v).toEqual({ generated: '2026-03-02T12:00:00.000Z', sinfo_at: null, squeue_at: null, problem: 'slurmctld unreachable: connect failure', problem_since: '2026-03-02T11:50:00.000Z', nodes: [], partitions: [], jobs: [] });
    // Rows or the parse result: both are accepted (the poller passes the result).
    const parsed = parseSinfoLong(slurmFixture('views-sinfo-idle.txt'));
    const a = buildSlurmView({ sinfo: parsed, squeue: [], sinfoAt: null, squeueAt: null, problem: null, now: 0 });
    const b = buildSlurmView({ sinfo: parsed.rows, squeue: [], sinfoAt: null, squeueAt: null, problem: null, now: 0 });
    expect(a).toEqual(b);
    expect(a).not.toHaveProperty('problem_since');
  });
});

describe('buildSlurmView on the HAND-WRITTEN GPU cluster', () => {
  const v = gpuView();
  const node = (n: string) => v.nodes.find((x) => x.name === n)!;
  const part = (n: string) => v.partitions.find((x) => x.name === n)!;

  it('a node in two partitions is one node listing both', () => {
    expect(v.nodes.map((n) => n.name)).toEqual(['cpu01', 'cpu02', 'cpu03', 'gpu01', 'gpu02', 'gpu03', 'gpu04', 'gpu05']);
    expect(node('gpu01')).toMatchObject({ partitions: ['gpu', 'long'], gpus_total: 4, gpus_alloc: 4, gpu_types: ['a100'] });
    expect(node('gpu04')).toMatchObject({ state: 'drained', flags: ['not_responding'], gpus_total: 8, gpus_alloc: 0, gpu_types: ['v100'], reason: 'GPU 3 ECC errors' });
  });

  it('partitions: CPUs and GPUs summed over their nodes, the default marked, avail and limit kept', () => {
    expect(v.partitions.map((p) => p.name)).toEqual(['cpu', 'long', 'old', 'gpu']);
    expect(part('cpu')).toMatchObject({ default: true, nodes: ['cpu01', 'cpu02', 'cpu03'], cpus_total: 192, cpus_alloc: 98, cpus_idle: 94, gpus_total: 0 });
    expect(part('gpu')).toMatchObject({ default: false, avail: 'up', time_limit_seconds: 2 * 86400, nodes: ['gpu01', 'gpu02', 'gpu03', 'gpu04', 'gpu05'], cpus_total: 320, cpus_alloc: 24, cpus_idle: 168, gpus_total: 24, gpus_alloc: 5 });
    expect(part('long')).toMatchObject({ nodes: ['cpu01', 'gpu01'], cpus_total: 128, gpus_total: 4, gpus_alloc: 4, time_limit_seconds: 7 * 86400 });
    expect(part('old')).toMatchObject({ avail: 'down', nodes: ['cpu03'] });
  });

  it('jobs: GPUs per node × nodes, array tasks, COMPLETING and SUSPENDED kept, COMPLETED dropped', () => {
    expect(v.jobs.map((j) => j.job_id)).not.toContain('9012');
    const job = (id: string) => v.jobs.find((j) => j.job_id === id)!;
    expect(job('9001')).toMatchObject({ user: 'alice', gpus: 4, cpus: 16, time_used_seconds: 86400 + 2 * 3600 + 3 * 60 + 4 });
    expect(job('9005_[2-9%2]')).toMatchObject({ tasks: 8, gpus: 1, cpus: 8 });
    expect(job('9005_1')).toMatchObject({ array_job_id: 9005, array_task_id: 1, tasks: 1 });
    expect(job('9003')).toMatchObject({ nodes: 2, cpus: 64, gpus: 0, node_list: 'cpu[01,03]', name: 'mpi | sim' });
    expect(job('9010').state).toBe('COMPLETING');
    expect(job('9008').state).toBe('SUSPENDED');
    expect(jobCountsByPartition(v)).toEqual(
      new Map([
        ['gpu', { running: 2, pending: 10 }],
        ['long', { running: 0, pending: 1 }],
        ['cpu', { running: 3, pending: 0 }],
      ]),
    );
  });
});

describe('shared facts', () => {
  it('job phases: what holds nodes, what waits, what neither', () => {
    expect(['RUNNING', 'COMPLETING', 'CONFIGURING', 'STAGE_OUT'].map(jobPhase)).toEqual(['running', 'running', 'running', 'running']);
    expect(['PENDING', 'REQUEUED', 'REQUEUE_HOLD'].map(jobPhase)).toEqual(['pending', 'pending', 'pending']);
    expect(['SUSPENDED', 'STOPPED', 'SOMETHING_NEW'].map(jobPhase)).toEqual(['other', 'other', 'other']);
  });

  it('array task counts, counted not enumerated', () => {
    expect(countArrayTasks('0-3%2')).toBe(4);
    expect(countArrayTasks('1,3,5-11:2')).toBe(6);
    expect(countArrayTasks('[0-999999]')).toBe(1_000_000);
    expect(countArrayTasks('x')).toBeNull();
    expect(jobTasks({ job_id: '48_[0-3%2]' } as never)).toBe(4);
    expect(jobTasks({ job_id: '48_3' } as never)).toBe(1);
  });

  it('host lists as squeue prints them', () => {
    expect(hostlistIncludes('vm', 'vm')).toBe(true);
    expect(hostlistIncludes('cpu[01,03]', 'cpu03')).toBe(true);
    expect(hostlistIncludes('cpu[01,03]', 'cpu02')).toBe(false);
    expect(hostlistIncludes('cpu[01-03]', 'cpu3')).toBe(false);
    expect(hostlistIncludes('n[8-12],gpu5', 'n10')).toBe(true);
    expect(hostlistIncludes('n[8-12],gpu5', 'gpu5')).toBe(true);
    expect(hostlistIncludes('rack1-n[1-4]-ib', 'rack1-n3-ib')).toBe(true);
    expect(hostlistIncludes(null, 'vm')).toBe(false);
  });

  it('durations as SLURM prints them; node states with flags in words', () => {
    expect([5, 65, 3723, 2 * 86400, null].map(formatSlurmDuration)).toEqual(['0:05', '1:05', '1:02:03', '2-00:00:00', 'infinite']);
    expect(formatNodeState({ state: 'down', flags: ['not_responding'] })).toBe('down (not responding)');
    expect(formatNodeState({ state: 'idle', flags: [] })).toBe('idle');
  });
});
