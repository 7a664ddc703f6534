import { describe, expect, it } from 'vitest';
import { usersNow, type UserUsage } from './users-now.js';
import { GiB, MiB, lab } from '../../test/support/nodes.js';
import { gpuView, realBusyView } from '../../test/fixtures/slurm/views-fixtures.js';

describe('users', () => {
  const m = usersNow(lab());
  const users = m.data!.users as UserUsage[];
  const u = (name: string) => users.find((x) => x.user === name)!;

  it('sums cores, memory, GPUs, GPU memory and running jobs per user, busiest first', () => {
    expect(users.map((x) => x.user)).toEqual(['bob', 'alice', 'dave', 'erin', 'carol']);
    expect(u('bob')).toEqual({ user: 'bob', cores: 31.8, mem_bytes: 200 * GiB, gpus: 0, gpu_mem_bytes: 0, jobs: 0, nodes: ['cpu1'] });
    expect(u('alice')).toMatchObject({ cores: 23.9, mem_bytes: 52 * GiB, jobs: 1, nodes: ['cpu1'] });
    expect(u('dave')).toMatchObject({ cores: 6, mem_bytes: 58 * GiB, gpus: 3, gpu_mem_bytes: 3 * (70 * GiB - 500 * MiB), jobs: 1, nodes: ['gpu4'] });
    // carol: vim on cpu1 and a notebook kernel holding GPU 3 on gpu1.
    expect(u('carol')).toMatchObject({ cores: 0.03, gpus: 1, gpu_mem_bytes: 2 * GiB + 590 * MiB, nodes: ['cpu1', 'gpu1'] });
  });

  it('leaves down nodes out and says so', () => {
    const nodes = lab();
    nodes.find((n) => n.host === 'gpu4')!.state = 'down';
    const m2 = usersNow(nodes);
    expect((m2.data!.users as UserUsage[]).map((x) => x.user)).not.toContain('dave');
    expect(m2.footer).toMatch(/not counted \(down\): gpu2, gpu4/);
  });

  it('renders a table and marks jobs unknown without a hub', () => {
    expect(m.table!.columns).toEqual(['USER', 'CORES', 'MEM', 'GPUS', 'GPU MEM', 'JOBS', 'NODES']);
    expect(m.table!.rows[0]).toEqual(['bob', '31.8', '200 GiB', '0', '—', '0', 'cpu1']);
    const noHub = usersNow(lab(), { jobs_known: false });
    expect(noHub.table!.rows[0]![5]).toBe('?');
    expect(noHub.footer).toMatch(/jobs unknown/);
  });
});

describe('users with a SLURM view', () => {
  const src = { source: 'from the hub at http://hub:7077' };

  it('without one, nothing changes', () => {
    expect(usersNow(lab(), { slurm: null })).toEqual(usersNow(lab()));
  });

  it('a SLURM-only site: each user with running jobs, their jobs, CPUs (and GPUs where there are any)', () => {
    const m = usersNow([], { slurm: realBusyView(), slurm_source: src });
    expect(m.table!.columns).toEqual(['USER', 'SLURM JOBS', 'SLURM CPUS']);
    expect(m.table!.rows).toEqual([
      ['cloudsdk', '1', '1'],
      ['root', '1', '1'],
    ]);
    expect(m.summary).toBe('from the hub at http://hub:7077 · nodes 35s old · jobs 5s old\nSLURM: 2 running jobs hold 2 CPUs; 6 pending');
    const users = m.data!.users as UserUsage[];
    expect(users[0]!.slurm).toEqual({ running_jobs: 1, pending_jobs: 5, cpus: 1, gpus: 0 });
  });

  it('agent nodes and SLURM: the agent columns unchanged, SLURM columns beside them, users of either', () => {
    const m = usersNow(lab(), { slurm: gpuView(), slurm_source: src });
    expect(m.table!.columns).toEqual(['USER', 'CORES', 'MEM', 'GPUS', 'GPU MEM', 'JOBS', 'NODES', 'SLURM JOBS', 'SLURM CPUS', 'SLURM GPUS']);
    const rows = Object.fromEntries(m.table!.rows.map((r) => [r[0], r]));
    expect(rows.bob).toEqual(['bob', '31.8', '200 GiB', '0', '—', '0', 'cpu1', '0', '0', '0']);
    expect(rows.alice!.slice(-3)).toEqual(['2', '24', '5']);
    expect(rows.alice!.slice(0, 7)).toEqual(usersNow(lab()).table!.rows.find((r) => r[0] === 'alice'));
    // Sorted by cores in use plus CPUs allocated: carol (0.03 + 66) first.
    expect(m.table!.rows[0]![0]).toBe('carol');
    expect(m.footer).toMatch(/not counted \(down\): gpu2/);
    expect(m.summary!.split('\n')[0]).toBe(usersNow(lab()).summary);
  });
});
