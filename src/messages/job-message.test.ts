import { describe, expect, it } from 'vitest';
import type { Diagnosis } from '../diagnose/diagnose.js';
import { buildJobMessage, buildNoteMessage, buildVanishedMessage } from './job-message.js';
import { jobName } from '../model/job-name.js';
import { formatCpuTime } from '../model/format-job.js';
import type { JobView } from '../model/job-view.js';

const GiB = 1024 ** 3;

function job(over: Partial<JobView> = {}): JobView {
  return {
    id: '01JD6Z8Q3M4W2N7T5V9XKRYB0C',
    user: 'alice',
    host: 'gpu3',
    state: 'failed',
    title: 'train-resnet',
    cmd: 'python train.py --arch resnet50 --lr 0.1',
    cwd: '/home/alice/projects/resnet',
    pid: 48213,
    startTs: '2025-03-02T10:01:10Z',
    endTs: '2025-03-02T11:13:20Z',
    exit: 1,
    signal: null,
    wallSeconds: 4330,
    cpuSeconds: 16_887,
    peakRssBytes: 12.3 * GiB,
    tail: ['epoch 3/90', 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.', '', ''],
    src: 'node',
    ...over,
  };
}

const oom: Diagnosis = {
  pattern: 'cuda-oom',
  description: 'CUDA out of memory',
  line: 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.',
  hint: 'lower the batch size',
};

const field = (m: { fields?: { name: string; value: string }[] }, name: string) => m.fields?.find((f) => f.name === name)?.value;

describe('buildJobMessage', () => {
  it('a failed job: title, result, the facts, the diagnosis and the tail', () => {
    const m = buildJobMessage(job(), [oom]);
    expect(m.title).toBe('✗ train-resnet failed on gpu3');
    expect(m.severity).toBe('failure');
    expect(m.summary).toBe('exit 1');
    expect(m.fields?.map((f) => f.name)).toEqual([
      'Host',
      'User',
      'Result',
      'Duration',
      'Peak memory',
      'CPU time',
      'Command',
      'Directory',
    ]);
    expect(field(m, 'Host')).toBe('gpu3');
    expect(field(m, 'User')).toBe('alice');
    expect(field(m, 'Result')).toBe('exit 1');
    expect(field(m, 'Duration')).toBe('1h 12m');
    expect(field(m, 'Peak memory')).toBe('12.3 GiB');
    expect(field(m, 'CPU time')).toBe('4h 41m (avg 3.9 cores)');
    expect(field(m, 'Command')).toBe('python train.py --arch resnet50 --lr 0.1');
    expect(field(m, 'Directory')).toBe('/home/alice/projects/resnet');
    expect(m.diagnosis).toEqual([oom]);
    // Trailing blank lines are dropped from the code block.
    expect(m.logTail).toEqual(['epoch 3/90', 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.']);
    expect(m.footer).toBe('flurm · job 01JD6Z8Q3M4W2N7T5V9XKRYB0C');
    expect(m.timestamp).toBe('2025-03-02T11:13:20Z');
  });

  it('a successful job is a success with a check mark, and says no diagnosis', () => {
    const m = buildJobMessage(job({ state: 'succeeded', exit: 0 }), []);
    expect(m.title).toBe('✓ train-resnet finished on gpu3');
    expect(m.severity).toBe('success');
    expect(m.summary).toBe('exit 0');
    expect(m.diagnosis).toBeUndefined();
  });

  it('killed by a signal: the summary explains it', () => {
    const m = buildJobMessage(job({ exit: null, signal: 'SIGKILL' }), []);
    expect(m.title).toBe('✗ train-resnet failed on gpu3');
    expect(m.summary).toBe('killed by SIGKILL — likely out of memory (or killed by an admin or a time limit)');
  });

  it('interrupted and unknown outcomes get their own verbs', () => {
    expect(buildJobMessage(job({ exit: null, signal: 'SIGINT' }), []).title).toBe('⚠ train-resnet was interrupted on gpu3');
    const watched = buildJobMessage(job({ state: 'unknown', exit: null, exitUnknown: true, attached: true }), []);
    expect(watched.title).toBe('• train-resnet ended on gpu3');
    expect(watched.severity).toBe('info');
  });

  it('without a title, the job is named after the script it runs', () => {
    const named = (cmd: string | null) => buildJobMessage(job({ title: null, cmd }), []).title;
    expect(named('CUDA_VISIBLE_DEVICES=1 python -u train.py --lr 0.1')).toBe('✗ train.py failed on gpu3');
    expect(named('./scripts/run_sweep.sh 3')).toBe('✗ run_sweep.sh failed on gpu3');
    expect(named('torchrun --nproc_per_node 4 pretrain.py')).toBe('✗ pretrain.py failed on gpu3');
    expect(named('uv run python eval.py')).toBe('✗ eval.py failed on gpu3');
    expect(named('make -j8 all')).toBe('✗ make failed on gpu3');
    expect(named(null)).toBe('✗ job failed on gpu3');
  });

  it('the title names the job by the one rule flurm jobs and the API use (jobName)', () => {
    const named = (cmd: string) => buildJobMessage(job({ title: null, cmd }), []);
    // `flurm run -- sh -c 'echo hi; exit 3'`: the shell ran only set-up steps, so the shell is the job.
    expect(named(`sh -c 'echo hi; exit 3'`).title).toBe('✗ sh failed on gpu3');
    expect(named(`bash -lc 'cd ~/proj && python train.py --lr 3'`).title).toBe('✗ train.py failed on gpu3');
    expect(named(`srun -p gpu python train.py`).title).toBe('✗ train.py failed on gpu3');
    for (const cmd of [`sh -c 'echo hi; exit 3'`, 'env FOO=1 python x.py', 'nohup python train.py']) {
      expect((named(cmd).data?.job as Record<string, unknown>).name).toBe(jobName({ title: null, cmd }));
    }
  });

  it('hideCommand keeps the command out of everything the message carries', () => {
    const secret = 'python leak_me.py --token=hunter2';
    const m = buildJobMessage(job({ title: null, cmd: secret }), [], { hideCommand: true });
    expect(m.title).toBe('✗ job failed on gpu3');
    expect(field(m, 'Command')).toBeUndefined();
    expect(JSON.stringify(m)).not.toMatch(/leak_me|hunter2/);
    expect((m.data?.job as Record<string, unknown>).commandHidden).toBe(true);
  });

  it('unknown figures are left out rather than shown as "?"', () => {
    const m = buildJobMessage(
      job({ wallSeconds: null, startTs: null, cpuSeconds: Number.NaN, peakRssBytes: null, cwd: null, tail: [] }),
      [],
    );
    expect(m.fields?.map((f) => f.name)).toEqual(['Host', 'User', 'Result', 'Command']);
    expect(m.logTail).toBeUndefined();
  });

  it('the duration falls back to end minus start when wall seconds are missing', () => {
    const m = buildJobMessage(job({ wallSeconds: null, startTs: '2025-03-02T10:00:00Z', endTs: '2025-03-02T10:42:05Z' }), []);
    expect(field(m, 'Duration')).toBe('42m 05s');
  });

  it('data is a JSON-safe job record (no undefined, NaN or Infinity)', () => {
    const m = buildJobMessage(job({ cpuSeconds: Number.POSITIVE_INFINITY, pid: undefined, log: '/home/alice/logs/run.log' }), [oom]);
    const data = m.data!;
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
    const rec = data.job as Record<string, unknown>;
    expect(rec).toMatchObject({
      id: '01JD6Z8Q3M4W2N7T5V9XKRYB0C',
      state: 'failed',
      exit: 1,
      cpuSeconds: null,
      pid: null,
      result: 'exit 1',
      cmd: 'python train.py --arch resnet50 --lr 0.1',
    });
    expect(Object.values(rec)).not.toContain(undefined);
    expect(data.diagnoses).toEqual([oom]);
    expect(field(m, 'Log')).toBe('/home/alice/logs/run.log');
  });
});

describe('buildVanishedMessage', () => {
  it('warns that the job vanished, with the reason', () => {
    const m = buildVanishedMessage(job({ state: 'running', exit: null, endTs: null }), 'gpu3 rebooted at 03:12');
    expect(m.title).toBe('⚠ train-resnet vanished on gpu3');
    expect(m.severity).toBe('warning');
    expect(m.summary).toBe('vanished: gpu3 rebooted at 03:12');
    expect(m.diagnosis).toBeUndefined();
  });
});

describe('buildNoteMessage', () => {
  const note = { id: '01JD70000000000000000000AA', user: 'bob', host: 'ws2', ts: '2025-03-02T12:00:00Z', message: 'rsync to /data done' };
  it('uses the title, or says who sent it', () => {
    expect(buildNoteMessage({ ...note, title: 'backup' }).title).toBe('backup');
    const m = buildNoteMessage(note);
    expect(m.title).toBe('Message from bob@ws2');
    expect(m.summary).toBe('rsync to /data done');
    expect(m.severity).toBe('info');
    expect(m.footer).toBe('flurm · note 01JD70000000000000000000AA');
    expect(m.timestamp).toBe('2025-03-02T12:00:00Z');
  });
});

describe('formatCpuTime', () => {
  it('shows the average number of busy cores when the wall time is known', () => {
    expect(formatCpuTime(7200, 3600)).toBe('2h 00m (avg 2.0 cores)');
    expect(formatCpuTime(3600, 3600)).toBe('1h 00m (avg 1.0 core)');
    expect(formatCpuTime(90, null)).toBe('1m 30s');
    expect(formatCpuTime(null, 3600)).toBe('');
    expect(formatCpuTime(-1, 3600)).toBe('');
  });
});
