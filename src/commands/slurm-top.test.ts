import { describe, expect, it } from 'vitest';
import { slurmFixture } from '../../test/fixtures/slurm/fixtures.js';
import { gpuView, realBusyView, realIdleView } from '../../test/fixtures/slurm/views-fixtures.js';
import { findSlurmNode, slurmTop, type SlurmTopResult } from './slurm-top.js';

const src = { source: 'from the hub at http://hub:7077' };
const ids = Object.fromEntries(slurmFixture('views-jobs.txt').trim().split('\n').map((l) => l.split('=') as [string, string]));

describe('SLURM top', () => {
  it('real: the two running jobs with user, name, partition, node, elapsed / limit; the pending count', () => {
    const m = slurmTop(realBusyView(), {}, src);
    expect(m.title).toBe('SLURM jobs running');
    expect(m.summary!.split('\n')[1]).toBe('2 jobs running: 2 CPUs; 6 pending in the queue');
    expect(m.table!.columns).toEqual(['JOBID', 'USER', 'NAME', 'PARTITION', 'NODES', 'CPUS', 'TIME / LIMIT']);
    const rows = m.table!.rows;
    expect(rows.map((r) => r.slice(0, 6))).toEqual([
      [ids.root_running, 'root', 'views-root', 'debug', 'vm', '1'],
      [ids.user_running, 'cloudsdk', 'views-user', 'debug', 'vm', '1'],
    ]);
    expect(rows[0]![6]).toMatch(/^0:\d\d \/ 5:00$/);
    expect(rows[1]![6]).toMatch(/^0:\d\d \/ 10:00$/);
  });

  it('real, idle: says nothing runs', () => {
    const m = slurmTop(realIdleView(), {}, src);
    expect(m.summary!.split('\n')[1]).toBe('No SLURM job running; 0 pending in the queue.');
    expect(m.table).toBeUndefined();
  });

  it('HAND-WRITTEN GPU cluster: biggest first (GPUs, then CPUs), a multi-node job, COMPLETING counted as running', () => {
    const m = slurmTop(gpuView(), {}, src);
    expect(m.table!.columns).toContain('GPUS');
    expect(m.table!.rows.map((r) => [r[0], r[6]])).toEqual([
      ['9001', '4'],
      ['9005_1', '1'],
      ['9003', '0'],
      ['9004', '0'],
      ['9010', '0'],
    ]);
    expect(m.table!.rows[0]!.at(-1)).toBe('1-02:03:04 / 2-00:00:00');
    expect(m.summary!.split('\n')[1]).toBe('5 jobs running: 122 CPUs, 5 GPUs; 10 pending in the queue');
  });

  it('one node: the jobs whose node list includes it (host lists expanded); a limit leaves a note', () => {
    const v = gpuView();
    const m = slurmTop(v, { node: 'cpu03' }, src);
    expect(m.title).toBe('SLURM jobs on cpu03');
    expect(m.table!.rows.map((r) => r[0])).toEqual(['9003', '9004']);
    expect(findSlurmNode(v, 'gpu04.cluster.example')).toBe('gpu04');
    expect(findSlurmNode(v, 'nope')).toBeNull();
    const limited = slurmTop(v, { limit: 2 }, src);
    expect((limited.data!.slurm as SlurmTopResult).omitted).toBe(3);
    expect(limited.hints?.map((h) => [h.text, h.command])).toEqual([
      ['showing the 2 biggest (3 more): {command} by user', 'queue'],
      ['{command} for one node', 'top'],
    ]);
  });
});
