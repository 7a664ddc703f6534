import { describe, expect, it } from 'vitest';
import { gpuView, realBusyView, viewFrom } from '../../test/fixtures/slurm/views-fixtures.js';
import { renderMessageForTerminal } from '../frontends/cli/message.js';
import { slurmStatus } from './slurm-status.js';

const text = (ms: { title: string }[]) => ms.map((m) => renderMessageForTerminal(m as never, { colour: false })).join('\n');

describe('SLURM status on the real captures (one node vm, partition debug)', () => {
  it('both CPUs taken, jobs pending: what a user reads', () => {
    const { messages, result } = slurmStatus(realBusyView(), { source: 'from the hub at http://hub:7077' });
    expect(messages.map((m) => m.title)).toEqual(['SLURM partitions', 'SLURM nodes']);
    expect(messages[0]!.summary).toBe('from the hub at http://hub:7077 · nodes 35s old · jobs 5s old\n1 partition, 1 node: 1 allocated · 2 jobs running, 6 pending');
    expect(messages[0]!.table!.rows).toEqual([['debug*', 'up', '1', '2/0/2', '—', 'infinite', '2', '6']]);
    expect(messages[1]!.table!.columns).toEqual(['NODE', 'PARTITIONS', 'STATE', 'CPUS A/T', 'MEM A/T', 'LOAD', 'GPUS A/T']);
    expect(messages[1]!.table!.rows[0]!.slice(0, 5)).toEqual(['vm', 'debug', 'allocated', '2/2', '2/23.5 GiB']);
    expect(messages[1]!.table!.rows[0]![5]).toMatch(/^\d+\.\d\/2$/);
    expect(result).toMatchObject({ jobs_running: 2, jobs_pending: 6, sinfo_age_seconds: 35, squeue_age_seconds: 5, problem: null });
    expect(result.partitions[0]).toMatchObject({ name: 'debug', default: true, cpus_alloc: 2, cpus_idle: 0, cpus_total: 2, jobs_running: 2, jobs_pending: 6 });
  });

  it('drained: the state and the reason (with its "|") are shown; live: no age', () => {
    const { messages } = slurmStatus(viewFrom('views-sinfo-drained.txt', 'views-squeue-cancelled.txt'), { source: 'live from sinfo and squeue on this host (no hub is configured)', live: true });
    expect(messages[0]!.summary).toBe('live from sinfo and squeue on this host (no hub is configured)\n1 partition, 1 node: 1 drained · 0 jobs running, 0 pending');
    expect(messages[1]!.table!.columns.at(-1)).toBe('REASON');
    expect(messages[1]!.table!.rows[0]).toEqual(['vm', 'debug', 'drained', '0/2', '0/23.5 GiB', expect.any(String), '—', 'views capture | drain test']);
    expect(messages[0]!.severity).toBe('warning');
  });
});

describe('SLURM status on the HAND-WRITTEN GPU cluster', () => {
  const { messages, result } = slurmStatus(gpuView(), { source: 'from the hub at http://hub:7077' });

  it('partitions: default starred, down partition, GPUs allocated/total, limits as SLURM writes them, jobs per partition', () => {
    expect(messages[0]!.table!.rows).toEqual([
      ['cpu*', 'up', '3', '98/94/192', '—', '1-00:00:00', '3', '0'],
      ['long', 'up', '2', '50/78/128', '4/4', '7-00:00:00', '0', '1'],
      ['old', 'down', '1', '64/0/64', '—', '12:00:00', '0', '0'],
      ['gpu', 'up', '5', '24/168/320', '5/24', '2-00:00:00', '2', '10'],
    ]);
    expect(messages[0]!.summary!.split('\n')[1]).toBe('4 partitions, 8 nodes: 2 idle, 3 mixed, 1 allocated, 1 drained, 1 down, 2 not responding · 5 jobs running, 10 pending');
  });

  it('nodes: state with flags, memory allocated, GPUs with types, the reason of the broken ones', () => {
    const rows = Object.fromEntries(messages[1]!.table!.rows.map((r) => [r[0], r]));
    expect(rows.gpu01).toEqual(['gpu01', 'gpu, long', 'mixed', '16/64', '64/503 GiB', '15.9/64', '4/4 a100', '']);
    expect(rows.gpu04).toEqual(['gpu04', 'gpu', 'drained (not responding)', '0/64', '0/503 GiB', '—', '0/8 v100', 'GPU 3 ECC errors']);
    expect(rows.gpu05![2]).toBe('down (not responding)');
    expect(rows.gpu05![6]).toBe('0/4');
    expect(result.nodes.map((n) => n.name)).toEqual(['cpu01', 'cpu02', 'cpu03', 'gpu01', 'gpu02', 'gpu03', 'gpu04', 'gpu05']);
    expect(text(messages)).toContain('gpu04  gpu         drained (not responding)');
  });

  it('slurmctld unreachable: the problem, since when, and that this is the last answer; jobs unknown', () => {
    const v = viewFrom('views-handwritten-gpu-sinfo.txt', null, {
      sinfoAt: '2026-03-02T11:50:00.000Z',
      problem: 'squeue: exit 1: slurm_load_jobs error: Unable to contact slurm controller (connect failure)',
      problemSince: '2026-03-02T11:55:00.000Z',
    });
    const savedTz = process.env.TZ;
    process.env.TZ = 'Europe/Berlin'; // the reader's zone: "since" is shown in it, named
    const s = slurmStatus(v, { source: 'from the hub at http://hub:7077' });
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
    expect(s.messages[0]!.summary!.split('\n')).toEqual([
      'from the hub at http://hub:7077 · nodes 10m old',
      '⚠ squeue: exit 1: slurm_load_jobs error: Unable to contact slurm controller (connect failure) — since 2026-03-02 12:55 CET (5m ago); showing its last answer',
      '4 partitions, 8 nodes: 2 idle, 3 mixed, 1 allocated, 1 drained, 1 down, 2 not responding · jobs unknown (squeue has not answered)',
    ]);
    expect(s.messages[0]!.table!.rows[0]!.slice(-2)).toEqual(['?', '?']);
    const never = slurmStatus(viewFrom(null, null, { problem: 'sinfo: exit 1: Unable to contact slurm controller' }), { source: 'live', live: true });
    expect(never.messages[0]!.summary).toBe('live\n⚠ sinfo: exit 1: Unable to contact slurm controller; SLURM has not answered yet\nno node data yet (sinfo has not answered) · jobs unknown (squeue has not answered)');
    expect(never.messages[1]!.summary).toBe('sinfo listed no node');
  });
});
