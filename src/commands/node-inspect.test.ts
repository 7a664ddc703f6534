import { describe, expect, it } from 'vitest';
import { renderText } from '../frontends/text/render.js';
import { UserError } from '../lib/errors.js';
import { inspect } from './node-inspect.js';
import { NOW_MS, job, lab } from '../../test/support/nodes.js';
import { jobName } from '../model/job-name.js';

const field = (m: { fields?: { name: string; value: string }[] }, re: RegExp) => m.fields?.find((f) => re.test(f.name))?.value ?? '';

describe('inspect', () => {
  it('shows one node in full: state, load, memory, swap, uptime, jobs with run times', () => {
    const m = inspect(lab(), { node: 'gpu4' }, { now: () => NOW_MS });
    expect(m.title).toBe('gpu4 — fresh');
    expect(field(m, /^State/)).toBe('fresh, data 12s old');
    expect(field(m, /^Load/)).toBe('12.30 12.00 11.50 (1, 5, 15 min) on 48 cores');
    expect(field(m, /^Memory/)).toBe('184/384 GiB used, 200 GiB available');
    expect(field(m, /^Swap/)).toBe('none');
    expect(field(m, /^Uptime/)).toBe('12d 0h');
    const jobs = field(m, /^flurm jobs/);
    expect(jobs).toContain('vit-l — dave, running 2h 00m, pid 51000');
    expect(jobs).toContain('train.py — erin, running 2h 30m');
    expect(m.table!.rows[0]!.slice(0, 1)).toEqual(['dave']);
  });

  it('says when the node\'s latest file was refused and the view is the last good snapshot', () => {
    const nodes = lab().map((n) => (n.host === 'gpu4' ? { ...n, problem: 'gpu4.json is not a valid snapshot: load: expected array' } : n));
    const m = inspect(nodes, { node: 'gpu4' }, { now: () => NOW_MS });
    expect(field(m, /^Problem/)).toBe('gpu4.json is not a valid snapshot: load: expected array — showing the last good snapshot');
    expect(field(inspect(lab(), { node: 'gpu4' }, { now: () => NOW_MS }), /^Problem/)).toBe('');
  });

  it('lists GPUs with util, memory, temperature, power and their holders', () => {
    const m = inspect(lab(), { node: 'gpu1' }, { now: () => NOW_MS });
    const gpus = field(m, /^GPUs/);
    expect(m.fields?.find((f) => f.name.startsWith('GPUs'))?.name).toBe('GPUs (7 of 8 free)');
    expect(gpus).toContain('0 NVIDIA A100-SXM4-80GB: 0%, 4 MiB/80 GiB, 31 °C, 62 W — free');
    expect(gpus).toMatch(/3 NVIDIA A100-SXM4-80GB: 0%, 2.6\/80 GiB, 31 °C, 62 W — carol \(pid \d+, 2.6 GiB\)/);
    expect(field(inspect(lab(), { node: 'gpu1' }, { now: () => NOW_MS, timeZone: 'UTC' }), /^Idle/)).toBe('idle for 2h 15m (since 2026-03-02 09:45 UTC)');
    expect(field(m, /^flurm jobs/)).toBe('none');
  });

  it('names running jobs by the one rule the messages and flurm jobs use (jobName)', () => {
    const cmds = [`bash -lc 'cd ~/exp && python train.py --lr 3'`, `srun -p gpu python eval.py`, `sh -c 'echo hi; sleep 600'`];
    const nodes = lab().map((n) =>
      n.host === 'gpu4' ? { ...n, jobs: cmds.map((cmd, i) => job('frank', 'gpu4', { id: `01JNODEJOBFRANK${i}000000000000`, cmd })) } : n,
    );
    const lines = field(inspect(nodes, { node: 'gpu4' }, { now: () => NOW_MS }), /^flurm jobs/).split('\n');
    expect(lines.map((l) => l.split(' — ')[0])).toEqual(['train.py', 'eval.py', 'sh']);
    expect(lines.map((l) => l.split(' — ')[0])).toEqual(cmds.map((cmd) => jobName({ title: null, cmd })));
  });

  it("shows times in the reader's zone, named (the data keeps the ISO times)", () => {
    const berlin = inspect(lab(), { node: 'gpu1' }, { now: () => NOW_MS, timeZone: 'Europe/Berlin' });
    expect(field(berlin, /^Idle/)).toBe('idle for 2h 15m (since 2026-03-02 10:45 CET)');
    expect(berlin.footer).toMatch(/ · written 2026-03-02 \d\d:\d\d CET \(node clock\)$/);
    const utc = inspect(lab(), { node: 'gpu1' }, { now: () => NOW_MS, timeZone: 'UTC' });
    expect(utc.footer).toMatch(/ · written 2026-03-02 \d\d:\d\d UTC \(node clock\)$/);
    expect((berlin.data?.node as { idle_since: string }).idle_since).toBe('2026-03-02T09:45:00.000Z');
  });

  it('a live snapshot says so; without a hub the jobs are unknown, not none', () => {
    const m = inspect(lab(), { node: 'cpu1', live: true, jobs_known: false }, { now: () => NOW_MS });
    expect(m.title).toBe('cpu1 — live');
    expect(field(m, /^State/)).toMatch(/live/);
    expect(field(m, /^flurm jobs/)).toMatch(/unknown/);
    expect(field(m, /^Swap/)).toBe('4/16 GiB used');
    expect(renderText(m)).toContain('python preprocess.py');
  });

  it('a down node is a warning and shows its data age', () => {
    const m = inspect(lab(), { node: 'gpu2' }, { now: () => NOW_MS });
    expect(m.severity).toBe('warning');
    expect(field(m, /^State/)).toBe('down, data 2h old');
  });

  it('an unknown node is a UserError listing the known ones', () => {
    expect(() => inspect(lab(), { node: 'nope' })).toThrow(UserError);
    expect(() => inspect(lab(), { node: 'nope' })).toThrow(/known nodes: cpu1, gpu1/);
  });
});
