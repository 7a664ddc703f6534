import { describe, expect, it } from 'vitest';
import { BEST_TIE_MARGIN, best } from './node-best.js';
import { GiB, gpu, gpuProc, lab, nodeView, snapshot } from '../../test/support/nodes.js';
import type { NodeView } from '../model/node-view.js';

/** Random values spread over [0, 1), the ends included. */
const RANDOMS = [0, 0.999999, ...Array.from({ length: 200 }, (_, i) => (i + 0.5) / 200)];

describe('best', () => {
  it('picks among fresh nodes only: the idle GPU node beats the busy CPU node, the down node with idle GPUs is ignored', () => {
    for (const r of RANDOMS) {
      const { result, message } = best(lab(), {}, { random: () => r });
      expect(result.chosen?.host).toBe('gpu1');
      expect(message.title).toBe('Best node: gpu1');
      expect(result.candidates.map((c) => c.host)).toEqual(['gpu1', 'gpu4', 'cpu1']);
      expect(result.rejected.map((x) => x.host).sort()).toEqual(['gpu2', 'gpu3']);
    }
  });

  it('says why: load/cores, free memory, free GPUs and which, runners-up, data age', () => {
    const { message } = best(lab(), { gpus: 2 }, { random: () => 0 });
    const text = JSON.stringify({ ...message, data: undefined });
    const why = message.fields?.find((f) => f.name === 'Why')?.value ?? '';
    expect(why).toContain('0.3/32');
    expect(why).toContain('980 GiB of 1 TiB memory free');
    expect(why).toContain('7 of 8 GPUs free (0, 1, 2, 4, 5, 6, 7)');
    expect(message.fields?.find((f) => f.name === 'GPUs to use')?.value).toMatch(/CUDA_VISIBLE_DEVICES=0,1\b/);
    expect(message.fields?.find((f) => f.name === 'Runners-up')?.value).toBeUndefined(); // gpu4 has only 1 free GPU
    expect(message.fields?.find((f) => f.name === 'Data age')?.value).toBe('12s');
    expect(text).not.toContain('gpu2');
  });

  it('a GPU held idle by someone is not free, and --gpus 2 excludes nodes with fewer free GPUs', () => {
    const { result } = best(lab(), { gpus: 2 }, { random: () => 0.5 });
    expect(result.chosen?.host).toBe('gpu1');
    expect(result.chosen?.gpus_free).toEqual([0, 1, 2, 4, 5, 6, 7]);
    expect(result.chosen?.gpus_chosen).not.toContain(3);
    expect(result.chosen?.gpus_chosen).toHaveLength(2);
    const gpu4 = result.rejected.find((x) => x.host === 'gpu4');
    expect(gpu4?.reasons.join()).toMatch(/1 free GPU of 4 \(needs 2\)/);
    expect(result.candidates.map((c) => c.host)).toEqual(['gpu1']);
  });

  it('--gpus 1 may land on the one free GPU of gpu4 only if it is among the near-ties; the chosen GPU is the free one', () => {
    const nodes = lab().filter((n) => n.host !== 'gpu1');
    const { result } = best(nodes, { gpus: 1 }, { random: () => 0 });
    expect(result.chosen?.host).toBe('gpu4');
    expect(result.chosen?.gpus_chosen).toEqual([3]);
  });

  it('--gpu-mem counts only free GPUs with that much free memory', () => {
    const nodes = lab().filter((n) => n.host !== 'gpu1');
    expect(best(nodes, { gpus: 1, gpu_mem_bytes: 39 * GiB }).result.chosen?.host).toBe('gpu4');
    const { result, message } = best(nodes, { gpus: 1, gpu_mem_bytes: 60 * GiB });
    expect(result.chosen).toBeNull();
    expect(message.summary).toMatch(/no fresh node has 1 free GPU with 60 GiB free memory each: gpu4 has 0 of its 1 free GPUs; the most on one is 40 GiB/);
    // --gpu-mem alone implies one GPU.
    expect(best(lab(), { gpu_mem_bytes: 79 * GiB }).result.chosen?.gpus_chosen).toHaveLength(1);
  });

  it('the random pick is confined to the near-ties, and every near-tie can be picked', () => {
    const idle = (host: string, load5: number) => nodeView(snapshot(host, { cpus: 64, load: [load5, load5, load5], mem: { total_bytes: 256 * GiB, available_bytes: 250 * GiB, swap_total_bytes: 0, swap_free_bytes: 0 } }));
    // Load per core 0.01, 0.03, 0.05 (and gpu1) → within the margin; 0.2 and a busy node → outside.
    const nodes: NodeView[] = [idle('a1', 0.64), idle('a2', 1.92), idle('a3', 3.2), idle('b1', 12.8), idle('c1', 50), ...lab()];
    const seen = new Set<string>();
    for (const r of RANDOMS) {
      const { result } = best(nodes, {}, { random: () => r });
      const top = result.candidates[0]!.score;
      expect(result.chosen!.score).toBeGreaterThanOrEqual(top - BEST_TIE_MARGIN - 1e-9);
      expect(result.near_ties).toContain(result.chosen!.host);
      seen.add(result.chosen!.host);
    }
    expect([...seen].sort()).toEqual(['a1', 'a2', 'a3', 'gpu1'].sort());
    const { message } = best(nodes, {}, { random: () => 0.3 });
    expect(message.fields?.find((f) => f.name === 'Near-ties')?.value).toMatch(/picked at random among/);
  });

  it('a random() outside [0, 1) cannot pick outside the near-ties', () => {
    for (const r of [1, 5, -1, NaN]) expect(best(lab(), {}, { random: () => r }).result.chosen?.host).toBe('gpu1');
  });

  it('when nothing fits, each requirement names the closest node', () => {
    const gpus = best(lab(), { gpus: 8 });
    expect(gpus.result.chosen).toBeNull();
    expect(gpus.message.title).toBe('No node fits');
    expect(gpus.message.severity).toBe('failure');
    expect(gpus.message.summary).toBe('no fresh node has 8 free GPUs: gpu1 has 7 free of 8');

    const cpus = best(lab(), { cpus: 40, mem_bytes: 2 * 1024 * GiB });
    expect(cpus.message.summary).toContain('no fresh node has 40 free cores: gpu4 has 36 free of 48');
    expect(cpus.message.summary).toContain('no fresh node has 2 TiB free memory: gpu1 has 980 GiB free of 1 TiB');
    expect(cpus.result.reasons).toHaveLength(2);
  });

  it('when each requirement is met somewhere but never together, it names the closest node and what it lacks', () => {
    const { message } = best(lab(), { cpus: 34, gpus: 2 });
    expect(message.summary).toMatch(/no fresh node meets all of 34 cores, 2 GPUs at once; closest: gpu\d/);
    expect(message.summary).toMatch(/needs (34|2)\)/);
  });

  it('with no fresh node at all, it says which are down or waiting and why waiting ones do not count', () => {
    const nodes = lab().map((n) => ({ ...n, state: n.host === 'gpu2' ? ('down' as const) : ('waiting' as const), age_seconds: null }));
    const { message, result } = best(nodes, {});
    expect(result.chosen).toBeNull();
    expect(message.summary).toMatch(/no fresh node: 1 down \(gpu2\), 4 waiting \(cpu1, gpu1, gpu3, gpu4\)/);
    expect(message.summary).toMatch(/hub/);
    expect(best([], {}).message.summary).toMatch(/flurm agent/);
  });

  it('unknown GPU memory (N/A) neither disqualifies a GPU nor satisfies --gpu-mem', () => {
    const n = nodeView(snapshot('gh1', { gpus: [gpu(0, { mem_used_bytes: null, mem_total_bytes: null }), gpu(1, { procs: [gpuProc(null, null)] })] }));
    expect(best([n], { gpus: 1 }).result.chosen?.gpus_chosen).toEqual([0]);
    expect(best([n], { gpus: 1, gpu_mem_bytes: GiB }).result.chosen).toBeNull();
  });

  it('a GPU with memory in use but no visible process (another container) is not free', () => {
    const n = nodeView(snapshot('gh2', { gpus: [gpu(0, { mem_used_bytes: 30 * GiB }), gpu(1, { util_pct: 55 }), gpu(2)] }));
    expect(best([n], { gpus: 1 }).result.chosen?.gpus_free).toEqual([2]);
  });
});
