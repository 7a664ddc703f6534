import { describe, expect, it } from 'vitest';
import { gpuView, realBusyView, realIdleView } from '../../test/fixtures/slurm/views-fixtures.js';
import { queueBoard, queueByUser, type QueueResult } from './queue-board.js';

const src = { source: 'from the hub at http://hub:7077' };

describe('queue: the leaderboard by user', () => {
  it('real: root and the capture user, running and pending jobs and cores; the held array counts its 4 tasks', () => {
    const m = queueBoard(realBusyView(), src);
    expect(m.title).toBe('SLURM queue by user');
    expect(m.table!.columns).toEqual(['USER', 'RUNNING', 'PENDING', 'CORES', 'PENDING CORES']);
    expect(m.table!.rows).toEqual([
      // cloudsdk: 1 running (1 CPU), pending: a 2-CPU job and the 4 held array tasks of 1 CPU.
      ['cloudsdk', '1', '5', '1', '6'],
      ['root', '1', '1', '1', '1'],
      ['total', '2', '6', '2', '7'],
    ]);
    expect(m.summary!.split('\n')[1]).toBe('2 users: 2 jobs running (2 cores), 6 pending (7 cores)');
  });

  it('real, empty queue', () => {
    const m = queueBoard(realIdleView(), src);
    expect(m.summary!.split('\n')[1]).toBe('The queue is empty: no job running or pending.');
    expect(m.table).toBeUndefined();
    expect((m.data as unknown as QueueResult).users).toEqual([]);
  });

  it('HAND-WRITTEN GPU cluster: GPUs column, most running cores first, suspended apart, totals', () => {
    const m = queueBoard(gpuView(), src);
    expect(m.table!.rows).toEqual([
      ['carol', '2', '0', '66', '0', '0'],
      ['dave', '1', '0', '32', '0', '0'],
      ['alice', '2', '8', '24', '64', '5'],
      ['bob', '0', '1', '0', '32', '0'],
      ['erin', '0', '1', '0', '8', '0'],
      ['total', '5', '10', '122', '104', '5'],
    ]);
    expect(m.summary!.split('\n')[1]).toBe('5 users: 5 jobs running (122 cores, 5 GPUs), 10 pending (104 cores), 1 suspended or other');
    const r = queueByUser(gpuView().jobs);
    expect(r.users.find((u) => u.user === 'alice')).toMatchObject({ pending_gpus: 8, running_gpus: 5 });
    expect(r.users.find((u) => u.user === 'dave')).toMatchObject({ other_jobs: 1 });
    expect(r.totals).toMatchObject({ users: 5, running_jobs: 5, pending_jobs: 10, pending_gpus: 8 + 4 + 2 });
  });
});
