import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ARRAY_OUTPUT_PATTERN,
  DEFAULT_OUTPUT_PATTERN,
  NOT_AN_ARRAY_TASK_ID,
  expandOutputPattern,
  jobWorkDir,
  patternFields,
  resolveOutputPaths,
  type PatternContext,
} from './output-path.js';

// A plain job, everything known (as once it runs).
const JOB: PatternContext = { jobId: 128, arrayTaskId: null, jobName: 'train', user: 'ada', nodeName: 'gpu07', restartCount: 0, sluid: 'sXYZ' };
// Task 3 of array job 500, whose own job id is 503.
const TASK: PatternContext = { jobId: 503, arrayJobId: 500, arrayTaskId: 3, jobName: 'sweep', user: 'ada', nodeName: 'gpu02', restartCount: 0 };

describe('expandOutputPattern: the sbatch(1) "FILENAME PATTERN" section', () => {
  // sbatch(1): "Some examples of how the format string may be used for a 4 task job step with a
  // JobID of 128 and step id of 0 are included below:
  //   job%J.out      job128.0.out
  //   job%4j.out     job0128.out
  //   job%2j-%2t.out job128-00.out, job128-01.out, ..."
  // The batch script is not step 0 but the "batch" step, for which "%J ... The stepid is only
  // expanded for regular steps, not for special steps like "batch"", and its one task is task 0.
  const manPage: Array<[string, string]> = [
    ['job%J.out', 'job128.out'],
    ['job%4j.out', 'job0128.out'],
    ['job%2j-%2t.out', 'job128-00.out'],
  ];
  it.each(manPage)('%s → %s (the batch step)', (pattern, path) => {
    expect(expandOutputPattern(pattern, JOB)).toEqual({ path, pending: [] });
  });

  // One row per replacement symbol of sbatch(1).
  const symbols: Array<[string, PatternContext, string]> = [
    ['%%', JOB, '%'], // 'The character "%".'
    ['%A', TASK, '500'], // "Job array's master job allocation number."
    ['%a', TASK, '3'], // "Job array ID (index) number."
    ['%b', { ...TASK, arrayTaskId: 13 }, '3'], // "Job array ID (index) number modulo 10."
    ['%J', JOB, '128'], // "jobid.stepid of the running job" — no stepid for the batch step
    ['%j', TASK, '503'], // "jobid of the running job." — an array task's own id
    ['%N', JOB, 'gpu07'], // "short hostname."
    ['%n', JOB, '0'], // "Node identifier relative to current job"
    ['%r', { ...JOB, restartCount: 2 }, '2'], // "Restart count of the running job."
    ['%S', JOB, 'sXYZ'], // "SLUID of the running job."
    ['%s', JOB, 'batch'], // "stepid of the running job." — the batch step (src/common/print_fields.c)
    ['%t', JOB, '0'], // "task identifier (rank) relative to current job."
    ['%u', JOB, 'ada'], // "User name."
    ['%x', JOB, 'train'], // "Job name."
  ];
  it.each(symbols)('%s', (pattern, ctx, path) => {
    expect(expandOutputPattern(pattern, ctx)).toEqual({ path, pending: [] });
  });

  // "A number placed between the percent character and format specifier may be used to zero-pad
  // the result in the IO filename to at minimum of specified numbers. This number is ignored if the
  // format specifier corresponds to non-numeric data (%N for example). The maximal number is 10, if
  // a value greater than 10 is used the result is padding up to 10 characters."
  const padding: Array<[string, PatternContext, string]> = [
    ['%3a', TASK, '003'],
    ['%03a', TASK, '003'],
    ['%1j', JOB, '128'],
    ['%0j', JOB, '128'],
    ['%10j', JOB, '0000000128'],
    ['%12j', JOB, '0000000128'],
    ['%999999999999999999999j', JOB, '0000000128'],
    ['%5A_%3a', TASK, '00500_003'],
    ['%5N', JOB, 'gpu07'],
    ['%5u-%5x', JOB, 'ada-train'],
    ['%4s', JOB, 'batch'],
    ['%4t', JOB, '0000'],
  ];
  it.each(padding)('%s → %s', (pattern, ctx, path) => {
    expect(expandOutputPattern(pattern, ctx).path).toBe(path);
  });

  it('backslash: "Do not process any of the replacement symbols."', () => {
    expect(expandOutputPattern('esc\\%j-%x.log', JOB).path).toBe('esc%j-%x.log');
    expect(expandOutputPattern('%j\\', JOB).path).toBe('%j');
    expect(expandOutputPattern('a\\\\b-%j', JOB).path).toBe('ab-%j'); // Slurm 25.11 drops every backslash
  });

  const literal: Array<[string, string]> = [
    ['%q.log', '%q.log'], // not a symbol: written as it is
    ['%3q.log', '%3q.log'], // Slurm 25.11 (print_fields.c); before it, slurmstepd wrote "3q.log"

    ['%5%', '%5%'],
    ['%%j', '%j'],
    ['%%%j', '%128'],
    ['100%', '100%'], // a trailing % is kept
    ['out%7', 'out%7'], // digits and then nothing
    ['plain.log', 'plain.log'],
    ['', ''],
  ];
  it.each(literal)('%j → %j', (pattern, path) => {
    expect(expandOutputPattern(pattern, JOB).path).toBe(path);
  });

  it('a job that is not an array: %A is the job id, %a is 4294967294 (job_array.html, "File Names")', () => {
    // "If these file name options are used without being part of a job array then "%A" will be
    // replaced by the current job ID and "%a" will be replaced by 4,294,967,294".
    // sbatch 22.05 agrees: --array=... -o arr-%A_%a.log shows StdOut=.../arr-60_4294967294.log for
    // the array record before any task exists, and a plain job gets the same for %a.
    expect(expandOutputPattern('slurm-%A_%a.out', JOB).path).toBe('slurm-128_4294967294.out');
    expect(expandOutputPattern('%b', JOB).path).toBe(String(NOT_AN_ARRAY_TASK_ID % 10));
  });
});

describe('files a real job wrote (sbatch 22.05, slurmstepd on node "vm", user root)', () => {
  // sbatch -o 'p%%-%5j-%3a-%A-%s-%n-%t-%N-%q-%J-%u-%x-%12j-100%' --wrap true   → job 94
  it('a plain job: every symbol, padding, a trailing %', () => {
    const ctx: PatternContext = { jobId: 94, arrayTaskId: null, jobName: 'wrap', user: 'root', nodeName: 'vm' };
    expect(expandOutputPattern('p%%-%5j-%3a-%A-%s-%n-%t-%N-%q-%J-%u-%x-%12j-100%', ctx).path).toBe(
      'p%-00094-4294967294-94-batch-0-0-vm-%q-94-root-wrap-0000000094-100%',
    );
  });

  // sbatch --array=0-1 -J arr -o 'arr-%A_%3a-%j-%5N.out' -e 'arr-%A_%a.err' --wrap true → array 95;
  // task 0 ran as job 97, task 1 as job 95: a task's %j is only known when it starts.
  it('an array: %A is the array, %j each task\'s own id', () => {
    const task0: PatternContext = { jobId: 97, arrayJobId: 95, arrayTaskId: 0, jobName: 'arr', user: 'root', nodeName: 'vm' };
    const task1: PatternContext = { ...task0, jobId: 95, arrayTaskId: 1 };
    expect(resolveOutputPaths({ output: 'arr-%A_%3a-%j-%5N.out', error: 'arr-%A_%a.err', array: '0-1' }, task0)).toMatchObject({
      stdout: { path: 'arr-95_000-97-vm.out' },
      stderr: { path: 'arr-95_0.err' },
    });
    expect(resolveOutputPaths({ output: 'arr-%A_%3a-%j-%5N.out', error: 'arr-%A_%a.err', array: '0-1' }, task1)).toMatchObject({
      stdout: { path: 'arr-95_001-95-vm.out' },
      stderr: { path: 'arr-95_1.err' },
    });
  });

  // sbatch -o 'esc\%j-%x' --wrap true
  it('a backslash: nothing replaced', () => {
    expect(expandOutputPattern('esc\\%j-%x', { jobId: 96 }).path).toBe('esc%j-%x');
  });
});

describe('expandOutputPattern: what is not known yet', () => {
  it('leaves a symbol whose value is missing as written and lists its field once', () => {
    // At submit time of a plain job: everything but the node.
    const atSubmit: PatternContext = { jobId: 128, arrayTaskId: null, jobName: 'train', user: 'ada' };
    expect(expandOutputPattern('logs/%x-%j-%N.%3N.out', atSubmit)).toEqual({ path: 'logs/train-128-%N.%3N.out', pending: ['nodeName'] });
    // An array at submit time: %A is known, %a per task, %j of a task only when it starts.
    const arrayAtSubmit: PatternContext = { arrayJobId: 500, jobName: 'sweep', user: 'ada' };
    expect(expandOutputPattern('%A_%3a-%j.out', arrayAtSubmit)).toEqual({ path: '500_%3a-%j.out', pending: ['arrayTaskId', 'jobId'] });
  });

  it('the partial result expands no further: expand the pattern again with the fuller context', () => {
    const early = expandOutputPattern('%%N-%N', { jobId: 1 });
    expect(early).toEqual({ path: '%N-%N', pending: ['nodeName'] });
    expect(expandOutputPattern('%%N-%N', { jobId: 1, nodeName: 'n1' }).path).toBe('%N-n1');
  });

  it('patternFields names what a pattern needs', () => {
    expect(patternFields('logs/%x-%j.out')).toEqual(['jobName', 'jobId']);
    expect(patternFields(DEFAULT_ARRAY_OUTPUT_PATTERN)).toEqual(['arrayJobId', 'arrayTaskId']);
    expect(patternFields('%N-%u-%r-%S-%s-%t-%n-%%x')).toEqual(['nodeName', 'user', 'restartCount', 'sluid']);
    expect(patternFields('no\\%symbols')).toEqual([]);
  });
});

describe('paths and working directory', () => {
  it('puts a relative result under the job working directory: --chdir, else the submit dir', () => {
    expect(expandOutputPattern('logs/%j.out', { ...JOB, submitDir: '/home/ada/proj' }).path).toBe('/home/ada/proj/logs/128.out');
    expect(expandOutputPattern('logs/%j.out', { ...JOB, submitDir: '/home/ada/proj', chdir: '/scratch/ada' }).path).toBe('/scratch/ada/logs/128.out');
    // sbatch(1) --chdir: "The path can be specified as full path or relative path to the directory
    // where the command is executed." (sbatch 22.05: -D sub → WorkDir=<cwd>/sub)
    expect(expandOutputPattern('logs/%j.out', { ...JOB, submitDir: '/home/ada/proj', chdir: 'runs/1' }).path).toBe('/home/ada/proj/runs/1/logs/128.out');
    expect(expandOutputPattern('/abs/%j.out', { ...JOB, submitDir: '/home/ada' }).path).toBe('/abs/128.out');
    expect(expandOutputPattern('x.out', { submitDir: '/' }).path).toBe('/x.out');
    // Without a submit dir the path stays relative.
    expect(expandOutputPattern('logs/%j.out', JOB).path).toBe('logs/128.out');
    // Joined as text, like Slurm: ".." is left for the kernel to resolve (symlinks!).
    expect(expandOutputPattern('../out/%j.log', { ...JOB, submitDir: '/home/ada/proj' }).path).toBe('/home/ada/proj/../out/128.log');
  });

  it('jobWorkDir', () => {
    expect(jobWorkDir({ submitDir: '/a' })).toBe('/a');
    expect(jobWorkDir({ submitDir: '/a', chdir: 'b' })).toBe('/a/b');
    expect(jobWorkDir({ submitDir: '/a/', chdir: 'b' })).toBe('/a/b');
    expect(jobWorkDir({ chdir: '/c' })).toBe('/c');
    expect(jobWorkDir({ chdir: 'b' })).toBeUndefined();
    expect(jobWorkDir({})).toBeUndefined();
  });
});

describe('resolveOutputPaths', () => {
  const ctx: PatternContext = { jobId: 74, arrayTaskId: null, jobName: 'wrap', user: 'root', submitDir: '/tmp/w' };

  // Each row was checked against sbatch 22.05 with `sbatch -H ...` and `scontrol show job`
  // (StdOut/StdErr/WorkDir), job ids replaced.
  it('defaults: slurm-%j.out for both streams (sbatch(1): "By default both standard output and standard error are directed to the same file")', () => {
    const got = resolveOutputPaths({}, ctx);
    expect(got.stdout).toMatchObject({ pattern: DEFAULT_OUTPUT_PATTERN, isDefault: true, path: '/tmp/w/slurm-74.out', pending: [] });
    expect(got.stderr.path).toBe('/tmp/w/slurm-74.out');
    expect(got.sameFile).toBe(true);
  });

  it('an array defaults to slurm-%A_%a.out', () => {
    const got = resolveOutputPaths({ array: '0-9:3' }, { ...ctx, jobId: undefined, arrayJobId: 61, arrayTaskId: 6 });
    expect(got.stdout.path).toBe('/tmp/w/slurm-61_6.out');
    expect(got.stdout.pattern).toBe(DEFAULT_ARRAY_OUTPUT_PATTERN);
  });

  it('--output only: stderr goes to the same file', () => {
    const got = resolveOutputPaths({ output: 'out-%x-%j-%u.log' }, ctx);
    expect(got.stdout.path).toBe('/tmp/w/out-wrap-74-root.log');
    expect(got.stdout.pattern).toBe('/tmp/w/out-%x-%j-%u.log');
    expect(got.stderr).toBe(got.stdout);
    expect(got.sameFile).toBe(true);
  });

  it('--error only: stdout keeps the default', () => {
    const got = resolveOutputPaths({ error: 'err-%j.log' }, ctx);
    expect(got.stdout.path).toBe('/tmp/w/slurm-74.out');
    expect(got.stderr.path).toBe('/tmp/w/err-74.log');
    expect(got.sameFile).toBe(false);
  });

  it('"none" is /dev/null, in any case', () => {
    const got = resolveOutputPaths({ output: 'none', error: 'NONE' }, ctx);
    expect(got.stdout.path).toBe('/dev/null');
    expect(got.stderr.path).toBe('/dev/null');
    expect(got.sameFile).toBe(true);
  });

  it('--chdir moves relative and default paths', () => {
    expect(resolveOutputPaths({ chdir: 'sub', output: 'rel-%j.log' }, ctx).stdout.path).toBe('/tmp/w/sub/rel-74.log');
    expect(resolveOutputPaths({ chdir: 'sub' }, ctx).stdout.path).toBe('/tmp/w/sub/slurm-74.out');
    expect(resolveOutputPaths({ chdir: '/scratch' }, ctx).stdout.path).toBe('/scratch/slurm-74.out');
  });

  it('an explicit relative pattern is made absolute first and then expanded whole (sbatch _fullpath)', () => {
    // So a '%' in a directory name is a symbol too; the default name's directory is not expanded.
    const odd: PatternContext = { ...ctx, submitDir: '/tmp/100%x' };
    expect(resolveOutputPaths({ output: 'o.log' }, odd).stdout.path).toBe('/tmp/100wrap/o.log');
    expect(resolveOutputPaths({}, odd).stdout.path).toBe('/tmp/100%x/slurm-74.out');
  });

  it('reports what is still pending for each stream', () => {
    const got = resolveOutputPaths({ output: 'logs/%x_%A_%a.out', error: 'logs/%x_%A_%a.%N.err', array: '0-3' }, { arrayJobId: 9, jobName: 'sweep', submitDir: '/w' });
    expect(got.stdout).toMatchObject({ path: '/w/logs/sweep_9_%a.out', pending: ['arrayTaskId'] });
    expect(got.stderr).toMatchObject({ path: '/w/logs/sweep_9_%a.%N.err', pending: ['arrayTaskId', 'nodeName'] });
    expect(got.sameFile).toBe(false);
  });
});
