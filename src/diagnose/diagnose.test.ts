import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors.js';
import { boundTail } from '../spool/events.js';
import { diagnose, hasNestedQuantifier, loadPatterns, MAX_DIAGNOSES, QUOTE_MAX_CHARS } from './diagnose.js';

const FIXTURES = new URL('../../test/fixtures/logs/', import.meta.url);

/** A fixture as the hub receives it: the bounded tail of an `end` event. */
function tailOf(file: string): string[] {
  const lines = fs.readFileSync(new URL(file, FIXTURES), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return boundTail(lines);
}

const builtin = loadPatterns();

const SLURM_FIXTURES = new URL('../../test/fixtures/slurm/', import.meta.url);

/** A real SLURM job's output file (test/fixtures/slurm/job-output-*.txt), bounded as a tail. */
function slurmTailOf(file: string): string[] {
  const lines = fs.readFileSync(new URL(file, SLURM_FIXTURES), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return boundTail(lines);
}

/**
 * Patterns for slurmstepd lines the one-node capture cluster cannot produce (no preemption, no
 * node failure) and that have no file under test/fixtures/logs/ yet: covered by the hand-written
 * lines of "SLURM's own lines" below, which follow slurmstepd's message templates.
 */
const SLURM_HAND_WRITTEN_ONLY = ['slurm-preempted', 'slurm-node-failure'];

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('diagnose: real log tails', () => {
  // [fixture, exit status, [pattern id, exact quoted line][] in order]
  const cases: [string, number, [string, string][]][] = [
    ['python-traceback.txt', 1, [['python-traceback', 'ValueError: x must be positive: warmup_epochs=0']]],
    ['killed.txt', 137, [['killed', './train.sh: line 5: 6847 Killed python3 load_features.py --shards features/ --workers 8']]],
    [
      'segfault.txt',
      139,
      [['segfault', './crash.sh: line 3: 6893 Segmentation fault (core dumped) python3 -X faulthandler decimate.py scan_0042.ply']],
    ],
    ['bad-alloc.txt', 134, [['bad-alloc', "terminate called after throwing an instance of 'std::bad_alloc'"]]],
    [
      'memory-error.txt',
      1,
      [
        [
          'memory-error',
          'numpy._core._exceptions._ArrayMemoryError: Unable to allocate 1.24 TiB for an array with shape (412000, 412000) and data type float64',
        ],
      ],
    ],
    ['module-not-found.txt', 1, [['module-not-found', "ModuleNotFoundError: No module named 'timm'"]]],
    ['no-space.txt', 1, [['no-space', 'OSError: [Errno 28] No space left on device']]],
    [
      'permission-denied.txt',
      1,
      [['permission-denied', "PermissionError: [Errno 13] Permission denied: '/data/shared/imagenet/train-00000.lmdb'"]],
    ],
    ['disk-quota.txt', 1, [['disk-quota', "OSError: [Errno 122] Disk quota exceeded: 'work_dirs/yolov3_d53/epoch_14.pth'"]]],
    ['cuda-error.txt', 1, [['cuda-error', 'RuntimeError: CUDA error: device-side assert triggered']]],
    ['cuda-unavailable.txt', 1, [['cuda-unavailable', 'RuntimeError: CUDA error: CUDA-capable device(s) is/are busy or unavailable']]],
    [
      'nccl-error.txt',
      1,
      [
        [
          'nccl-error',
          '[rank1]: torch.distributed.DistBackendError: NCCL error in: /pytorch/torch/csrc/distributed/c10d/NCCLUtils.cpp:77, unhandled cuda error (run with NCCL_DEBUG=INFO for details), NCCL version 2.26.2',
        ],
      ],
    ],
    [
      'nccl-timeout.txt',
      1,
      [
        [
          'nccl-timeout',
          '[rank0]:[E1206 18:44:12.715298746 ProcessGroupNCCL.cpp:607] [Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=7753, OpType=ALLREDUCE, NumelIn=54499737, NumelOut=54499737, Timeout(ms)=600000) ran for 600061 milliseconds before timing out.',
        ],
        ['python-traceback', 'torch.distributed.elastic.multiprocessing.errors.ChildFailedError:'],
      ],
    ],
    [
      'bus-error.txt',
      1,
      [
        [
          'bus-error',
          "RuntimeError: DataLoader worker (pid 48213) is killed by signal: Bus error. It is possible that dataloader's workers are out of shared memory. Please try to raise your shared memory limit.",
        ],
        ['python-traceback', 'RuntimeError: DataLoader worker (pid(s) 48213) exited unexpectedly'],
      ],
    ],
    [
      'port-in-use.txt',
      1,
      [
        ['port-in-use', '[W socket.cpp:464] [c10d] The server socket has failed to bind to [::]:29500 (errno: 98 - Address already in use).'],
        [
          'python-traceback',
          'torch.distributed.DistNetworkError: The server socket has failed to listen on any local network address. The server socket has failed to bind to [::]:29500 (errno: 98 - Address already in use). The server socket has failed to bind to 0.0.0.0:29500 (errno: 98 - Address already in use).',
        ],
      ],
    ],
    // Exit 0: a run whose loss went NaN still "finished"; this is the one thing worth saying.
    ['nan-loss.txt', 0, [['nan-loss', "{'loss': nan, 'grad_norm': nan, 'learning_rate': 4.5e-05, 'epoch': 0.53}"]]],
    [
      'slurm-time-limit.txt',
      15,
      [['slurm-time-limit', 'slurmstepd: error: *** JOB 4188213 ON gpu-a100-07 CANCELLED AT 2024-11-03T04:12:55 DUE TO TIME LIMIT ***']],
    ],
    [
      'slurm-oom.txt',
      137,
      [
        [
          'slurm-oom',
          'slurmstepd: error: Detected 1 oom_kill event in StepId=5512345.0. Some of the step tasks have been OOM Killed.',
        ],
      ],
    ],
    [
      'slurm-exceeded-memory.txt',
      9,
      [['slurm-oom', 'slurmstepd: error: Job 842207 exceeded memory limit (33715636 > 32768000), being killed']],
    ],
    ['mpi-abort.txt', 1, [['mpi-abort', 'MPI_ABORT was invoked on rank 0 in communicator MPI_COMM_WORLD']]],
  ];

  it.each(cases)('%s → the right pattern and quoted line', (file, exit, expected) => {
    const got = diagnose({ tail: tailOf(file), exit }, builtin);
    expect(got.map((d) => [d.pattern, d.line])).toEqual(expected);
    for (const d of got) expect(d.description.length).toBeGreaterThan(0);
  });

  it('a CUDA OOM is reported once, as CUDA OOM with its hint, the long line clipped', () => {
    const got = diagnose({ tail: tailOf('cuda-oom.txt'), exit: 1 }, builtin);
    expect(got).toHaveLength(1); // the traceback quotes the same line: not said twice
    const [d] = got;
    expect(d!.pattern).toBe('cuda-oom');
    expect(d!.line.startsWith('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.')).toBe(true);
    expect(d!.line.length).toBe(QUOTE_MAX_CHARS);
    expect(d!.line.endsWith('…')).toBe(true);
    expect(d!.hint).toMatch(/batch size/);
  });

  it('a Python traceback quotes the final exception, not the header or the first of a chain', () => {
    const [d] = diagnose({ tail: tailOf('python-traceback.txt'), exit: 1 }, builtin);
    expect(d!.line).not.toMatch(/Traceback|ZeroDivisionError/);
    expect(d!.line).toBe('ValueError: x must be positive: warmup_epochs=0');
  });

  it('a traceback whose header fell out of the tail still quotes its exception', () => {
    const tail = [
      '    return forward_call(*args, **kwargs)',
      '  File "/home/alice/vit/model.py", line 88, in forward',
      '    x = self.head(x)',
      'AttributeError: \'ViT\' object has no attribute \'head\'',
      'wandb: Syncing run dry-sun-12',
    ];
    expect(diagnose({ tail, exit: 1 }, builtin)).toMatchObject([
      { pattern: 'python-traceback', line: "AttributeError: 'ViT' object has no attribute 'head'" },
    ]);
  });

  it('interleaved ranks: the exception of the rank whose traceback ends last', () => {
    const tail = [
      '[rank0]: Traceback (most recent call last):',
      '[rank1]: Traceback (most recent call last):',
      '[rank0]:   File "/home/dave/train.py", line 12, in <module>',
      '[rank1]:   File "/home/dave/train.py", line 12, in <module>',
      '[rank1]:     step(batch)',
      '[rank0]:     step(batch)',
      '[rank0]: KeyError: \'labels\'',
      '[rank1]: KeyError: \'input_ids\'',
    ];
    expect(diagnose({ tail, exit: 1 }, builtin)[0]!.line).toBe("[rank1]: KeyError: 'input_ids'");
  });

  it('the successful run is not diagnosed, whatever its exit status', () => {
    const tail = tailOf('success.txt');
    expect(diagnose({ tail, exit: 0 }, builtin)).toEqual([]);
    // With a failure every pattern runs against it: still nothing.
    expect(diagnose({ tail, exit: 1 }, builtin)).toEqual([]);
  });

  it('ordinary lines that merely look alarming do not match any pattern', () => {
    const lines = [
      'INFO sanity check: no errors, 0 killed, 0 skipped',
      'loading finance-news split (nanoseconds per token: 412)',
      'loss: 0.4123 (nanmean over 8 GPUs), val_loss: 0.5512',
      'best_val_loss = inf (no checkpoint yet)',
      'min_loss: inf',
      'Killed processes: 0',
      'Segmentation model loaded: segformer-b2',
      'memory errors corrected by ECC: 0',
      'checking permissions on /data/shared: ok',
      'exitcode: 0',
      'infinite data loader enabled; info: banana split',
      'OutOfMemoryError handler installed',
    ];
    for (const line of lines) expect({ line, got: diagnose({ tail: [line], exit: 1 }, builtin) }).toEqual({ line, got: [] });
  });

  it.each([
    ["{'loss': nan, 'grad_norm': nan}"],
    ['Epoch 3: 100%|██████████| 50/50 [00:07<00:00, loss=nan, v_num=2]'],
    ['iter 1200 train_loss=nan lr=3e-4'],
    ['Loss is inf, stopping training'],
    ['FloatingPointError: Loss became infinite or NaN at iteration=12!'],
    ['WARNING: nan loss detected at step 4410, skipping update'],
    ['loss: tensor(nan, device=\'cuda:0\', grad_fn=<NllLossBackward0>)'],
  ])('NaN/inf loss is recognised: %s', (line) => {
    expect(diagnose({ tail: [line], exit: 0 }, builtin).map((d) => d.pattern)).toEqual(['nan-loss']);
  });

  it.each([
    ['Killed', 'killed'],
    ['srun: error: gpu12: task 0: Killed', 'killed'],
    ['RuntimeError: DataLoader worker (pid 2291) is killed by signal: Killed.', 'killed'],
    ['slurmstepd: error: Detected 2 oom-kill event(s) in step 3756240.batch cgroup.', 'slurm-oom'],
    ['srun: Exceeded job memory limit', 'slurm-oom'],
    ['zsh: segmentation fault (core dumped)  python train.py', 'segfault'],
    ['Bus error (core dumped)', 'bus-error'],
    ['RuntimeError: CUDA error: an illegal memory access was encountered', 'cuda-error'],
    ['RuntimeError: CUDA error: out of memory', 'cuda-oom'],
    ['ImportError: libcudart.so.11.0: cannot open shared object file: No such file or directory', 'module-not-found'],
    ['./bin/solver: error while loading shared libraries: libmkl_rt.so.2: cannot open shared object file', 'module-not-found'],
    ['cp: error writing \'/home/alice/out.h5\': Disk quota exceeded', 'disk-quota'],
    ['./run.sh: line 3: ./prepare.sh: Permission denied', 'permission-denied'],
    ['java.lang.OutOfMemoryError: Java heap space', 'memory-error'],
    ['MemoryError', 'memory-error'],
    ['torch.distributed.DistBackendError: NCCL error in: ProcessGroupNCCL.cpp:1970, remote process exited or there was a network error', 'nccl-error'],
    ['application called MPI_Abort(MPI_COMM_WORLD, 1) - process 3', 'mpi-abort'],
  ])('one-line form %s → %s', (line, pattern) => {
    expect(diagnose({ tail: [line], exit: 1 }, builtin)[0]?.pattern).toBe(pattern);
  });

  it('a job that exited 0 is only checked for patterns marked onSuccess', () => {
    const tail = tailOf('cuda-oom.txt'); // e.g. an OOM caught and retried with a smaller batch
    expect(diagnose({ tail, exit: 0 }, builtin)).toEqual([]);
    // Killed by a signal, or exit unknown: every pattern applies.
    expect(diagnose({ tail, exit: null, signal: 'SIGKILL' }, builtin)[0]?.pattern).toBe('cuda-oom');
    expect(diagnose({ tail, exit: null }, builtin)[0]?.pattern).toBe('cuda-oom');
  });

  it(`returns at most ${MAX_DIAGNOSES}, most important first`, () => {
    const tail = [
      'ModuleNotFoundError: No module named \'apex\'',
      './run.sh: line 3: ./prepare.sh: Permission denied',
      'OSError: [Errno 28] No space left on device',
      'RuntimeError: CUDA error: CUDA out of memory. Tried to allocate 20.00 MiB',
      'MPI_ABORT was invoked on rank 3 in communicator MPI_COMM_WORLD',
      'slurmstepd: error: *** JOB 77 ON n1 CANCELLED AT 2024-01-01T00:00:00 DUE TO TIME LIMIT ***',
      'srun: error: n1: task 0: Killed',
    ];
    const got = diagnose({ tail, exit: 1 }, builtin).map((d) => d.pattern);
    expect(got).toEqual(['slurm-time-limit', 'cuda-oom', 'no-space', 'module-not-found', 'killed']);
  });

  it('reads only the bounded tail: a match older than the last 50 lines is ignored', () => {
    const filler = Array.from({ length: 10_000 }, (_, i) => `step ${i} ok`);
    expect(diagnose({ tail: ['Segmentation fault (core dumped)', ...filler], exit: 1 }, builtin)).toEqual([]);
    expect(diagnose({ tail: [...filler, 'Segmentation fault (core dumped)'], exit: 1 }, builtin)).toHaveLength(1);
  });

  it('stays fast on hostile lines (50 lines of 500 characters)', () => {
    const hostile = [
      ' '.repeat(500),
      'loss'.repeat(125),
      'loss: '.repeat(83),
      '[rank0]:'.repeat(62),
      'line 1: '.repeat(62),
      '  File "'.repeat(62),
      'a'.repeat(500),
      'task 1,2,3'.repeat(50),
      'CUDA error: '.repeat(41),
      'best_val_'.repeat(55),
    ];
    const tail = Array.from({ length: 50 }, (_, i) => hostile[i % hostile.length]!.slice(0, 500));
    const start = performance.now();
    for (let i = 0; i < 20; i++) diagnose({ tail, exit: 1 }, builtin);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe('loadPatterns', () => {
  it('the built-in pack has unique ids, a description each, and a fixture for every pattern', () => {
    const ids = builtin.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(20);
    const covered = new Set<string>();
    for (const file of fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.txt'))) {
      for (const d of diagnose({ tail: tailOf(file), exit: 1 }, builtin)) covered.add(d.pattern);
    }
    // The real outputs of SLURM jobs (test/fixtures/slurm/job-output-*.txt) count too.
    for (const file of fs.readdirSync(SLURM_FIXTURES).filter((f) => /^job-output-.*\.txt$/.test(f))) {
      for (const d of diagnose({ tail: slurmTailOf(file), exit: 1 }, builtin)) covered.add(d.pattern);
    }
    // No fixture file yet: covered only by the labelled hand-written lines in "SLURM's own lines".
    for (const id of SLURM_HAND_WRITTEN_ONLY) covered.add(id);
    expect(ids.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('a config pattern with a built-in id replaces it in place', () => {
    const patterns = loadPatterns([
      {
        id: 'cuda-oom',
        description: 'GPU memory full',
        regex: 'CUDA out of memory',
        hint: 'use gpu7 (80 GB) for this model',
        priority: 99,
      },
    ]);
    expect(patterns.map((p) => p.id)).toEqual(builtin.map((p) => p.id));
    const [d] = diagnose({ tail: tailOf('cuda-oom.txt'), exit: 1 }, patterns);
    expect(d).toMatchObject({ pattern: 'cuda-oom', description: 'GPU memory full', hint: 'use gpu7 (80 GB) for this model' });
    // The built-in pack itself is untouched.
    expect(loadPatterns().find((p) => p.id === 'cuda-oom')!.description).toBe('CUDA out of memory');
  });

  it('a config pattern with a new id is added and can outrank the built-ins', () => {
    const patterns = loadPatterns([
      { id: 'matlab-license', description: 'no MATLAB licence free', regex: 'License checkout failed', flags: 'i', priority: 200 },
    ]);
    expect(patterns).toHaveLength(builtin.length + 1);
    const tail = ['License Checkout Failed.', 'License Manager Error -4', 'Killed'];
    expect(diagnose({ tail, exit: 1 }, patterns).map((d) => d.pattern)).toEqual(['matlab-license', 'killed']);
  });

  it('an invalid regex names the entry: diagnose.patterns[2].regex', () => {
    const ok = { id: 'a', description: 'a', regex: 'aaa' };
    const err = configError(() =>
      loadPatterns([ok, { ...ok, id: 'b' }, { id: 'broken', description: 'broken', regex: 'CUDA error: (unclosed' }]),
    );
    expect(err.path).toBe('diagnose.patterns[2].regex');
    expect(err.message).toMatch(/^diagnose\.patterns\[2\]\.regex: invalid regular expression: .*Unterminated group/);
  });

  it.each([
    [{ id: 'x', regex: 'boom' }, 'diagnose.patterns[0].description', /expected string/],
    [{ id: 'x', description: 'x' }, 'diagnose.patterns[0].regex', /expected string/],
    [{ id: 'Not Kebab', description: 'x', regex: 'x' }, 'diagnose.patterns[0].id', /kebab-case/],
    [{ id: 'x', description: 'x', regex: 'x', hitn: 'typo' }, 'diagnose.patterns[0]', /hitn/],
    [{ id: 'x', description: 'x', regex: 'x', flags: 'g' }, 'diagnose.patterns[0].flags', /i, m, s and u/],
    [{ id: 'x', description: 'x', regex: 'x', quote: 'middle' }, 'diagnose.patterns[0].quote', /first|last/],
    [{ id: 'x', description: 'x', regex: '(a+)+$' }, 'diagnose.patterns[0].regex', /exponential/],
    [{ id: 'x', description: 'x', regex: 'x*' }, 'diagnose.patterns[0].regex', /every line/],
    ['not an object', 'diagnose.patterns[0]', /object/],
  ])('rejects %j at %s', (entry, path, message) => {
    const err = configError(() => loadPatterns([entry]));
    expect(err.path).toBe(path);
    expect(err.message.startsWith(`${path}: `)).toBe(true);
    expect(err.message).toMatch(message);
  });

  it('rejects two config patterns with the same id, naming the second', () => {
    const p = { id: 'dup', description: 'd', regex: 'd' };
    const err = configError(() => loadPatterns([p, p]));
    expect(err.path).toBe('diagnose.patterns[1].id');
    expect(err.message).toMatch(/duplicate id "dup" \(also diagnose\.patterns\[0\]\)/);
  });

  it('uses the caller’s field path when given', () => {
    const err = configError(() => loadPatterns([{ id: 'x', description: 'x', regex: '[' }], { path: 'users.alice.diagnose.patterns' }));
    expect(err.path).toBe('users.alice.diagnose.patterns[0].regex');
  });
});

describe('hasNestedQuantifier', () => {
  it.each(['(a+)+', '(?:x*y)*', '(a|b+){2,}', '((ab)+c)*', '(\\d+\\s?)+$'])('flags %s', (re) => {
    expect(hasNestedQuantifier(re)).toBe(true);
  });
  it.each(['(ab)+', '\\(a+\\)+', '[(a+)]+', '(\\d{1,3}\\.){3}', '(a+)?', '(?:tensor\\()?nan', 'a+b*'])('allows %s', (re) => {
    expect(hasNestedQuantifier(re)).toBe(false);
  });
});

describe("SLURM's own lines", () => {
  it('the TIMEOUT capture (real): time limit, with the --time hint', () => {
    const got = diagnose({ tail: slurmTailOf('job-output-timeout.txt'), exit: null, signal: 'SIGTERM' }, builtin);
    expect(got.map((d) => d.pattern)).toEqual(['slurm-time-limit']);
    expect(got[0]!.line).toMatch(/^slurmstepd-vm: error: \*\*\* JOB \d+ ON vm CANCELLED AT \S+ DUE TO TIME LIMIT \*\*\*$/);
    expect(got[0]!.hint).toMatch(/--time/);
  });

  it('the scancel capture (real): no diagnosis (the state says who cancelled; the same line ends a memory kill)', () => {
    // slurmstepd writes "*** JOB N ON host CANCELLED AT … ***" for scancel and also after killing a
    // job over its memory limit (test/fixtures/logs/slurm-exceeded-memory.txt), so it names no cause.
    expect(diagnose({ tail: slurmTailOf('job-output-cancel-owner.txt'), exit: null, signal: 'SIGTERM' }, builtin)).toEqual([]);
  });

  it('the other captures (real: exit 3, memhog) are not mistaken for SLURM kills', () => {
    for (const file of ['job-output-exit3.txt', 'job-output-memhog.txt']) {
      expect(diagnose({ tail: slurmTailOf(file), exit: 1 }, builtin).filter((d) => d.pattern.startsWith('slurm-'))).toEqual([]);
    }
  });

  // Hand-written: slurmstepd's templates ("*** %s ON %s CANCELLED AT %s DUE TO …", src/slurmd/slurmstepd),
  // job ids, hosts and times our own.
  it.each([
    ['slurmstepd: error: *** JOB 4188213 ON gpu07 CANCELLED AT 2024-11-03T04:12:55 DUE TO PREEMPTION ***', 'slurm-preempted'],
    ['slurmstepd: error: *** STEP 4188213.0 ON gpu07 CANCELLED AT 2024-11-03T04:12:55 DUE TO PREEMPTION ***', 'slurm-preempted'],
    ['slurmstepd: error: *** JOB 77 ON cn07 CANCELLED AT 2024-11-03T04:12:55 DUE TO NODE FAILURE, SEE SLURMCTLD LOG FOR DETAILS ***', 'slurm-node-failure'],
    ['slurmstepd: error: *** JOB 77 ON cn07 CANCELLED AT 2024-11-03T04:12:55 DUE TO TIME LIMIT ***', 'slurm-time-limit'],
    // SLURM 19–20's cgroup OOM line, and the jobacct_gather one.
    ['slurmstepd: error: Detected 1 oom-kill event(s) in step 3756240.batch cgroup. Some of your processes may have been killed by the cgroup out-of-memory handler.', 'slurm-oom'],
    ['slurmstepd: error: Exceeded job memory limit', 'slurm-oom'],
    ['slurmstepd: error: Exceeded step memory limit at some point.', 'slurm-oom'],
  ])('hand-written: %s → %s', (line, pattern) => {
    const got = diagnose({ tail: ['step 41 ok', line], exit: null, signal: 'SIGTERM' }, builtin);
    expect(got.map((d) => d.pattern)).toEqual([pattern]);
    expect(got[0]!.line).toBe(line);
    expect(got[0]!.hint?.length).toBeGreaterThan(0);
  });

  it('ordinary lines about cancelling or preempting, and a plain scancel line, name no cause (hand-written)', () => {
    for (const line of [
      'INFO: job 77 was cancelled by the user, retrying in 5 s',
      'Preemption-aware training: checkpoint every 500 steps',
      'node failure simulation disabled',
      '*** JOB SUMMARY ***',
      'CANCELLED AT step 40',
      'slurmstepd: error: *** JOB 77 ON cn07 CANCELLED AT 2024-11-03T04:12:55 ***',
    ]) {
      expect({ line, got: diagnose({ tail: [line], exit: 1 }, builtin) }).toEqual({ line, got: [] });
    }
  });

  it('a preempted job whose Python then died of the SIGTERM: the preemption is said first (hand-written)', () => {
    const tail = [
      'Traceback (most recent call last):',
      '  File "/home/alice/train.py", line 88, in <module>',
      'KeyboardInterrupt',
      'slurmstepd: error: *** JOB 5 ON gpu2 CANCELLED AT 2024-11-03T04:12:55 DUE TO PREEMPTION ***',
    ];
    expect(diagnose({ tail, exit: null, signal: 'SIGTERM' }, builtin).map((d) => d.pattern)).toEqual(['slurm-preempted', 'python-traceback']);
  });
});
