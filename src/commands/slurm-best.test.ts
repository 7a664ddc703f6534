import { describe, expect, it } from 'vitest';
import { gpuView, realBusyView, realIdleView, viewFrom } from '../../test/fixtures/slurm/views-fixtures.js';
import { UserError } from '../lib/errors.js';
import { sbatchLine, sbatchMem, slurmBest } from './slurm-best.js';
import type { SlurmClusterView } from '../model/slurm-view.js';

const GiB = 1024 ** 3;
const src = { source: 'from the hub at http://hub:7077' };

describe('SLURM best on the real captures (one node vm, 2 CPUs, partition debug)', () => {
  it('idle: vm in debug, with an sbatch line', () => {
    const { message, result } = slurmBest(realIdleView(), { cpus: 1 }, src);
    expect(result.chosen).toMatchObject({ node: 'vm', partition: 'debug', cpus_idle: 2, cpus_total: 2 });
    expect(result.sbatch).toBe('sbatch -p debug -w vm job.sh');
    expect(message.title).toBe('Best SLURM node: vm in debug');
    expect(message.severity).toBe('success');
    expect(message.fields!.find((f) => f.name === 'Submit')!.value).toMatch(/^sbatch -p debug -w vm job\.sh\n\(without -w, SLURM picks any node of debug\)$/);
  });

  it('both CPUs taken: nothing starts now (exit 1 in the CLI); the closest partition says why, with the pending jobs', () => {
    const { message, result } = slurmBest(realBusyView(), { cpus: 1 }, src);
    expect(result.chosen).toBeNull();
    expect(result.closest).toEqual({ partition: 'debug', node: 'vm', why: '0 of 2 CPUs idle, needs 1, 6 jobs pending' });
    expect(result.reasons[0]).toBe('nothing can start now; closest: debug (vm): 0 of 2 CPUs idle, needs 1, 6 jobs pending');
    expect(result.sbatch).toBe('sbatch -p debug job.sh');
    expect(message.title).toBe('No SLURM node fits now');
    expect(result.rejected).toEqual([{ node: 'vm', state: 'allocated', reasons: ['allocated: takes no new job', '0 of 2 CPUs idle (needs 1)'] }]);
  });

  it('more CPUs than any node has: says the job would never start, and gives no sbatch line', () => {
    const { result } = slurmBest(realIdleView(), { cpus: 999 }, src);
    expect(result.chosen).toBeNull();
    expect(result.reasons[0]).toBe('no node in any partition has 999 CPUs at all (the most on one node is 2): such a job would never start');
    expect(result.sbatch).toBeNull();
  });

  it('drained: not a candidate, and the reason is given', () => {
    const { result } = slurmBest(viewFrom('views-sinfo-drained.txt', 'views-squeue-cancelled.txt'), {}, src);
    expect(result.chosen).toBeNull();
    expect(result.rejected[0]!.reasons[0]).toBe('drained: takes no new job (views capture | drain test)');
    expect(result.closest!.why).toBe('its node is out of service (drained, down or not responding), 0 of 2 CPUs idle, needs 1, 0 jobs pending');
  });

  it('memory: what is not allocated counts, not what the OS says is free', () => {
    const v = viewFrom('views-sinfo-running.txt', null); // 1 GiB of 24105 MiB allocated
    expect(slurmBest(v, { mem_bytes: 22 * GiB }, src).result.chosen?.node).toBe('vm');
    const no = slurmBest(v, { mem_bytes: 23 * GiB }, src).result;
    expect(no.chosen).toBeNull();
    expect(no.rejected[0]!.reasons).toEqual(['22.5 GiB memory unallocated (needs 23 GiB)']);
  });

  it('an unknown partition is a usage error naming the partitions', () => {
    expect(() => slurmBest(realIdleView(), { partition: 'gpu' }, src)).toThrow(UserError);
    expect(() => slurmBest(realIdleView(), { partition: 'gpu' }, src)).toThrow('unknown partition "gpu"; SLURM partitions: debug');
  });
});

describe('SLURM best on the HAND-WRITTEN GPU cluster', () => {
  it('--gpus 2: the idle a100 node in gpu; drained and down nodes are never chosen', () => {
    for (const r of [0, 0.5, 0.99]) {
      const { result } = slurmBest(gpuView(), { gpus: 2 }, src, { random: () => r });
      expect(result.chosen).toMatchObject({ node: 'gpu03', partition: 'gpu', gpus_free: 4, gpus_total: 4, gpu_types: ['a100'] });
      expect(result.near_ties).toEqual(['gpu03']);
    }
    const { result } = slurmBest(gpuView(), { gpus: 2 }, src);
    expect(result.candidates.map((c) => c.node)).toEqual(['gpu03', 'gpu02']);
    expect(result.sbatch).toBe('sbatch -p gpu -w gpu03 --gres=gpu:2 job.sh');
    expect(result.rejected.find((x) => x.node === 'gpu04')!.reasons[0]).toBe('drained (not responding): takes no new job (GPU 3 ECC errors)');
    expect(result.rejected.find((x) => x.node === 'gpu01')!.reasons).toEqual(['0 of 4 GPUs free (needs 2)']);
    expect(result.reasons).toContain('10 jobs pending in gpu may be given these resources first (priority, backfill)');
  });

  it('--gpus 5: no node has 5 free; the closest partition: "gpu: 7 of 24 GPUs free, at most 4 on one node, needs 5, 10 jobs pending"', () => {
    const { result, message } = slurmBest(gpuView(), { gpus: 5 }, src);
    expect(result.chosen).toBeNull();
    expect(result.closest).toEqual({ partition: 'gpu', node: 'gpu03', why: '7 of 24 GPUs free, at most 4 on one node, needs 5, 10 jobs pending' });
    expect(result.sbatch).toBe('sbatch -p gpu --gres=gpu:5 job.sh');
    expect(message.summary).toContain('long (gpu01): 0 of 4 GPUs free, needs 5, 1 job pending');
  });

  it('every GPU taken: "gpu: 0 of … GPUs free" and the queue in front', () => {
    const v: SlurmClusterView = gpuView();
    for (const n of v.nodes) if (n.gpus_total > 0) n.gpus_alloc = n.gpus_total;
    const { result } = slurmBest(v, { gpus: 1 }, src);
    expect(result.closest!.partition).toBe('gpu');
    expect(result.closest!.why).toBe('0 of 24 GPUs free, needs 1, 10 jobs pending');
  });

  it('--gpus 9: more than any node has → never starts', () => {
    expect(slurmBest(gpuView(), { gpus: 9 }, src).result.reasons[0]).toBe('no node in any partition has 9 GPUs at all (the most on one node is 8): such a job would never start');
  });

  it('a CPU job goes to a node without GPUs while one fits; near-ties picked at random', () => {
    const picks = new Set<string>();
    for (const r of [0, 0.99]) picks.add(slurmBest(gpuView(), { cpus: 8 }, src, { random: () => r }).result.chosen!.node);
    expect(picks).toEqual(new Set(['cpu02']));
    const { result } = slurmBest(gpuView(), { cpus: 8 }, src);
    expect(result.candidates.map((c) => c.node)).toEqual(['cpu02', 'cpu01', 'gpu03', 'gpu02', 'gpu01']);
    expect(result.reasons).toContain('nodes with GPUs are left to GPU jobs while a node without GPUs fits');
    // Two equally idle CPU nodes: either may be picked.
    const v = gpuView();
    const cpu01 = v.nodes.find((n) => n.name === 'cpu01')!;
    Object.assign(cpu01, { cpus_alloc: 0, cpus_idle: 64, alloc_memory_bytes: 0 });
    expect(slurmBest(v, { cpus: 8 }, src, { random: () => 0 }).result.chosen!.node).toBe('cpu01');
    expect(slurmBest(v, { cpus: 8 }, src, { random: () => 0.99 }).result.chosen!.node).toBe('cpu02');
    expect(slurmBest(v, { cpus: 8 }, src).result.near_ties).toEqual(['cpu01', 'cpu02']);
  });

  it('--partition long: only its nodes, submitted to long', () => {
    const { result } = slurmBest(gpuView(), { cpus: 8, partition: 'long' }, src);
    expect(result.chosen).toMatchObject({ node: 'cpu01', partition: 'long' });
    expect(result.candidates.map((c) => c.node)).toEqual(['cpu01', 'gpu01']);
    expect(result.sbatch).toBe('sbatch -p long -w cpu01 -c 8 job.sh');
    // A partition that is down has no candidate.
    const down = slurmBest(gpuView(), { partition: 'old' }, src).result;
    expect(down.chosen).toBeNull();
    expect(down.closest!.why).toMatch(/^partition down, /);
  });

  it('the default partition is chosen for a node in several', () => {
    const v = gpuView();
    Object.assign(v.nodes.find((n) => n.name === 'cpu02')!, { cpus_idle: 0, cpus_alloc: 64 });
    expect(slurmBest(v, { cpus: 8 }, src).result.chosen).toMatchObject({ node: 'cpu01', partition: 'cpu', partitions: ['cpu', 'long'] });
  });
});

describe('sbatch line', () => {
  it('CPUs, memory, GPUs as sbatch takes them', () => {
    expect(sbatchMem(32 * GiB)).toBe('32G');
    expect(sbatchMem(1.5 * GiB)).toBe('1536M');
    expect(sbatchLine({ cpus: 8, gpus: 2, mem_bytes: 32 * GiB }, 'gpu', 'node03')).toBe('sbatch -p gpu -w node03 -c 8 --mem=32G --gres=gpu:2 job.sh');
  });
});
