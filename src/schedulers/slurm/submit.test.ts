import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { captureJobs, slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { UserError } from '../../lib/errors.js';
import { parseEventLine } from '../../spool/validate.js';
import { expandOutputPattern } from './output-path.js';
import { parseSbatchOutput } from './sbatch-output.js';
import { parseScontrolJobs } from './scontrol.js';
import {
  arrayFromRecords,
  countTasks,
  defaultPatternIn,
  describePaths,
  displaySbatchCommand,
  givenPattern,
  parseSqueueStdio,
  pathsFromScontrol,
  pathsFromSqueue,
  planAttached,
  planSubmission,
  scriptSource,
  slurmEvent,
  splitSubmitCommandLine,
  squeueStdioArgs,
  submitRegistration,
  type ScriptText,
  type SubmitContext,
  missingOutputDirs,
} from './submit.js';

const CWD = '/home/alice/proj';
const BASE = { id: '01HZY5B3M8T2V6W4X9Y7Z0A1B2', ts: '2026-01-02T03:04:05.678Z', user: 'alice', host: 'login1' };

const script = (...lines: string[]): ScriptText => ({ text: ['#!/bin/bash', ...lines, 'echo run'].join('\n') + '\n' });

function plan(argv: string[], ctx: Partial<SubmitContext> = {}) {
  return planSubmission(argv, { cwd: CWD, env: {}, script: null, ...ctx });
}

/** The event flurm writes for `argv` after sbatch printed `out`, checked by the hub's validator. */
function eventFor(flurmArgv: string[], out: string, ctx: Partial<SubmitContext> = {}) {
  const cl = splitSubmitCommandLine(flurmArgv);
  const p = plan(cl.sbatchArgv, ctx);
  const e = slurmEvent(submitRegistration(p, parseSbatchOutput(out), cl.sbatchArgv, cl, CWD), BASE);
  const parsed = parseEventLine(JSON.stringify(e));
  expect(parsed.kind, JSON.stringify(parsed)).toBe('event');
  if (parsed.kind === 'event') expect(parsed.unknownFields).toEqual([]);
  return e;
}

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

describe('flurm submit: flurm options, then sbatch argv untouched', () => {
  it('the first argument that is not a flurm option ends them', () => {
    expect(splitSubmitCommandLine(['-p', 'gpu', 'job.sh'])).toEqual({ to: [], hideCommand: false, help: false, sbatchArgv: ['-p', 'gpu', 'job.sh'] });
    expect(splitSubmitCommandLine(['job.sh', '--title', 'x'])).toMatchObject({ sbatchArgv: ['job.sh', '--title', 'x'] });
    expect(splitSubmitCommandLine(['--title', 'resnet', '--to', 'a://1', '--to=b://2', '--hide-command', '--parsable', 'train.sh', '--lr', '3'])).toEqual({
      title: 'resnet',
      to: ['a://1', 'b://2'],
      hideCommand: true,
      help: false,
      sbatchArgv: ['--parsable', 'train.sh', '--lr', '3'],
    });
  });

  it('-t/--title in every spelling', () => {
    expect(splitSubmitCommandLine(['-t', 'resnet', 'job.sh']).title).toBe('resnet');
    expect(splitSubmitCommandLine(['-tresnet', 'job.sh']).title).toBe('resnet');
    expect(splitSubmitCommandLine(['--title=a b', 'job.sh']).title).toBe('a b');
  });

  it("'--' ends flurm's options and is not passed on; a second one is sbatch's", () => {
    expect(splitSubmitCommandLine(['--', '-t', '10', 'job.sh'])).toMatchObject({ sbatchArgv: ['-t', '10', 'job.sh'] });
    expect(splitSubmitCommandLine(['-t', 'x', '--', '--', 'job.sh'])).toMatchObject({ title: 'x', sbatchArgv: ['--', 'job.sh'] });
    expect(splitSubmitCommandLine(['--'])).toMatchObject({ sbatchArgv: [] });
  });

  it('-h/--help are flurm\'s before sbatch arguments, sbatch\'s after', () => {
    expect(splitSubmitCommandLine(['-h']).help).toBe(true);
    expect(splitSubmitCommandLine(['--help']).help).toBe(true);
    expect(splitSubmitCommandLine(['-p', 'x', '--help'])).toMatchObject({ help: false, sbatchArgv: ['-p', 'x', '--help'] });
  });

  it('-t with a time limit is refused, saying how to write either', () => {
    for (const t of ['10', '1:30:00', '2-00:00', '0:01', 'UNLIMITED']) {
      const e = userError(() => splitSubmitCommandLine(['-t', t, 'job.sh']));
      expect(e.message).toContain(`--time=${t}`);
      expect(e.message).toContain(`--title ${t}`);
    }
    expect(splitSubmitCommandLine(['--title', '10', 'job.sh']).title).toBe('10');
  });

  it('a flurm option without its value; too many --to', () => {
    expect(userError(() => splitSubmitCommandLine(['--title'])).message).toMatch(/--title needs a value/);
    expect(userError(() => splitSubmitCommandLine(['--to'])).message).toMatch(/--to needs a value/);
    expect(userError(() => splitSubmitCommandLine(['-t'])).message).toMatch(/-t needs a value/);
    const many = Array.from({ length: 17 }, (_, i) => `--to=x://${i}`);
    expect(userError(() => splitSubmitCommandLine([...many, 'job.sh'])).message).toMatch(/at most 16/);
  });

  it('the command as typed, quoted like a shell would need', () => {
    expect(displaySbatchCommand(['-p', 'gpu', 'train.sh', '--lr', '3'])).toBe('sbatch -p gpu train.sh --lr 3');
    expect(displaySbatchCommand(['--wrap', 'python a.py && echo "done"'])).toBe(`sbatch --wrap 'python a.py && echo "done"'`);
  });
});

describe('where sbatch reads the script from', () => {
  it('a file, stdin, or none (--wrap, or an argv sbatch refuses)', () => {
    expect(scriptSource(['-p', 'gpu', 'job.sh', 'a'])).toEqual({ kind: 'file', path: 'job.sh' });
    expect(scriptSource(['-p', 'gpu'])).toEqual({ kind: 'stdin' });
    expect(scriptSource(['--wrap', 'true'])).toEqual({ kind: 'none' });
    expect(scriptSource(['-Z', 'job.sh'])).toEqual({ kind: 'none' });
  });
});

describe('planSubmission: what sbatch will do, read its way', () => {
  it('a plain job: defaults (slurm-%j.out in the submit dir, stderr with stdout, the script\'s name)', () => {
    expect(plan(['job.sh'], { script: script() })).toMatchObject({
      name: 'job.sh',
      workDir: CWD,
      output: `${CWD}/slurm-%j.out`,
      error: null,
      array: null,
      tasks: null,
      partition: null,
      noJob: null,
      wait: false,
      quiet: false,
      warnings: [],
    });
    // A script in another directory is named by its base name, as sbatch does.
    expect(plan(['../jobs/train.sh'], { script: script() }).name).toBe('train.sh');
  });

  it('an array: slurm-%A_%a.out and the task count', () => {
    expect(plan(['--array=0-15%4', 'job.sh'], { script: script() })).toMatchObject({ output: `${CWD}/slurm-%A_%a.out`, array: '0-15%4', tasks: 16 });
    expect(plan(['-a', '1,3,5-11:2', 'job.sh'])).toMatchObject({ array: '1,3,5-11:2', tasks: 6 });
    // Bigger than the default MaxArraySize: the cluster may allow it; sbatch will say.
    expect(plan(['-a', '0-4999', 'job.sh']).tasks).toBe(5000);
    expect(plan(['-a', 'nonsense', 'job.sh'])).toMatchObject({ array: 'nonsense', tasks: null });
  });

  it('-o/-e/-J/-D/-p on the command line', () => {
    expect(plan(['-J', 'resnet', '-o', 'logs/%x-%j.out', '-e', 'logs/%x-%j.err', '-D', 'run1', '-p', 'gpu', 'job.sh'])).toMatchObject({
      name: 'resnet',
      workDir: `${CWD}/run1`,
      output: `${CWD}/run1/logs/%x-%j.out`,
      error: `${CWD}/run1/logs/%x-%j.err`,
      partition: 'gpu',
    });
    expect(plan(['--chdir=/scratch/a', '--output=/abs/out-%j.log', 'job.sh'])).toMatchObject({ workDir: '/scratch/a', output: '/abs/out-%j.log' });
    // The default file follows --chdir too.
    expect(plan(['-D', '/scratch/a', 'job.sh']).output).toBe('/scratch/a/slurm-%j.out');
  });

  it('the same in #SBATCH lines', () => {
    const s = script('#SBATCH -J fromscript', '#SBATCH --output=o-%j.txt', '#SBATCH -e e-%j.txt', '#SBATCH --array=1-3', '#SBATCH -D sub', '#SBATCH --partition=cpu');
    expect(plan(['job.sh'], { script: s })).toMatchObject({
      name: 'fromscript',
      workDir: `${CWD}/sub`,
      output: `${CWD}/sub/o-%j.txt`,
      error: `${CWD}/sub/e-%j.txt`,
      array: '1-3',
      tasks: 3,
      partition: 'cpu',
    });
  });

  it('precedence: command line > SBATCH_* environment > #SBATCH', () => {
    const s = script('#SBATCH -J script', '#SBATCH -o script.out', '#SBATCH -p scriptpart');
    const env = { SBATCH_JOB_NAME: 'env', SBATCH_PARTITION: 'envpart' };
    expect(plan(['job.sh'], { script: s, env })).toMatchObject({ name: 'env', partition: 'envpart', output: `${CWD}/script.out` });
    expect(plan(['-J', 'cli', '-o', 'cli.out', 'job.sh'], { script: s, env })).toMatchObject({ name: 'cli', partition: 'envpart', output: `${CWD}/cli.out` });
    expect(plan(['-p', 'clipart', 'job.sh'], { script: s, env: { SBATCH_OUTPUT: 'env.out' } })).toMatchObject({ name: 'script', partition: 'clipart', output: `${CWD}/env.out` });
  });

  it('patterns are kept as sbatch sends them: %j %x %u %A %a %N %% and padding, not expanded', () => {
    const p = plan(['-o', 'r-%j-%x-%u-%A-%a-%N-%%-%5j-100%.out', '-a', '0-1', 'job.sh']);
    expect(p.output).toBe(`${CWD}/r-%j-%x-%u-%A-%a-%N-%%-%5j-100%.out`);
    // What the hub makes of it for task 1 (own id 43) of array 42 on node gpu1: Slurm's own file name.
    expect(expandOutputPattern(p.output, { jobId: 43, arrayJobId: 42, arrayTaskId: 1, jobName: 'job.sh', user: 'alice', nodeName: 'gpu1' }).path).toBe(
      `${CWD}/r-43-job.sh-alice-42-1-gpu1-%-00043-100%.out`,
    );
    // A backslash turns expansion off (sbatch(1)); the pattern still travels as written.
    expect(plan(['-o', 'a\\%j.out', 'job.sh']).output).toBe(`${CWD}/a\\%j.out`);
  });

  it('a percent sign in the directory stays literal in a default name, and is expanded in an explicit one (as Slurm does)', () => {
    const dflt = plan(['job.sh'], { cwd: '/w/100%x' });
    expect(dflt.output).toBe('/w/100%%x/slurm-%j.out');
    expect(expandOutputPattern(dflt.output, { jobId: 7 }).path).toBe('/w/100%x/slurm-7.out');
    expect(plan(['-o', 'o.txt', 'job.sh'], { cwd: '/w/100%x' }).output).toBe('/w/100%x/o.txt');
  });

  it('stderr: null when it goes with stdout (no -e, or the same pattern); /dev/null for none', () => {
    expect(plan(['-o', 'a.out', 'job.sh']).error).toBeNull();
    expect(plan(['-o', 'a.out', '-e', 'a.out', 'job.sh']).error).toBeNull();
    expect(plan(['-e', 'err-%j.txt', 'job.sh'])).toMatchObject({ output: `${CWD}/slurm-%j.out`, error: `${CWD}/err-%j.txt` });
    expect(plan(['-o', 'none', '-e', 'none', 'job.sh'])).toMatchObject({ output: '/dev/null', error: null });
    expect(plan(['-e', 'none', 'job.sh'])).toMatchObject({ error: '/dev/null' });
    // -e naming the default stdout file is no separate file.
    expect(plan(['-e', 'slurm-%j.out', 'job.sh']).error).toBeNull();
  });

  it('--wrap: named "wrap", no script read', () => {
    expect(plan(['--wrap', 'python a.py', '-p', 'gpu'], { script: null })).toMatchObject({ name: 'wrap', partition: 'gpu', output: `${CWD}/slurm-%j.out` });
    expect(plan(['-J', 'w', '--wrap=true'])).toMatchObject({ name: 'w' });
  });

  it('a script on standard input is named "sbatch" and its #SBATCH lines are read', () => {
    expect(plan(['-p', 'gpu'], { script: script('#SBATCH -o in.out') })).toMatchObject({ name: 'sbatch', output: `${CWD}/in.out` });
  });

  it('an unreadable script: sbatch\'s defaults and a warning (sbatch will say what is wrong)', () => {
    const p = plan(['-p', 'gpu', 'job.sh'], { script: { error: 'job.sh: permission denied' } });
    expect(p).toMatchObject({ name: 'job.sh', output: `${CWD}/slurm-%j.out`, partition: 'gpu' });
    expect(p.warnings).toEqual([expect.stringContaining('job.sh: permission denied')]);
  });

  it('a script sbatch would refuse, or an argv flurm cannot read: defaults and a warning, never a throw', () => {
    expect(plan(['job.sh'], { script: script('#SBATCH --no-such-option-here=1 "unclosed') }).warnings).toEqual([expect.stringMatching(/#SBATCH lines/)]);
    const bad = plan(['-Z', 'job.sh']);
    expect(bad).toMatchObject({ split: null, name: 'sbatch', output: `${CWD}/slurm-%j.out` });
    expect(bad.argvError).toMatch(/-Z/);
  });

  it('#SBATCH lines sbatch ignores are pointed out', () => {
    const s: ScriptText = { text: '#!/bin/bash\necho hi\n#SBATCH -J late\n' };
    const p = plan(['job.sh'], { script: s });
    expect(p.name).toBe('job.sh');
    expect(p.warnings).toEqual([expect.stringMatching(/line 3: "#SBATCH -J late" is ignored by sbatch: it comes after the first command/)]);
  });

  it('--test-only, --help, --version submit nothing; --wait and --quiet are flagged', () => {
    expect(plan(['--test-only', 'job.sh']).noJob).toMatchObject({ kind: 'test-only' });
    expect(plan(['job.sh'], { script: script('#SBATCH --test-only') }).noJob).toMatchObject({ kind: 'test-only' });
    expect(plan(['--help']).noJob).toMatchObject({ kind: 'help' });
    expect(plan(['--usage']).noJob).toMatchObject({ kind: 'help' });
    expect(plan(['-V']).noJob).toMatchObject({ kind: 'version' });
    expect(plan(['-W', 'job.sh']).wait).toBe(true);
    expect(plan(['job.sh'], { script: script('#SBATCH --wait') }).wait).toBe(true);
    expect(plan(['job.sh'], { env: { SBATCH_WAIT: '1' } }).wait).toBe(true);
    expect(plan(['job.sh'], { env: { SBATCH_WAIT: 'no' }, script: script('#SBATCH -W') }).wait).toBe(false);
    expect(plan(['-Q', 'job.sh']).quiet).toBe(true);
  });

  it('countTasks', () => {
    expect(countTasks(null)).toBeNull();
    expect(countTasks('0-3')).toBe(4);
    expect(countTasks('0-9:3%2')).toBe(4);
    expect(countTasks('x')).toBeNull();
  });
});

describe('the slurm event of flurm submit (valid for the hub)', () => {
  it('plain: job id, name, paths, the command as typed', () => {
    const e = eventFor(['-p', 'gpu', 'train.sh', '--lr', '3'], 'Submitted batch job 4242\n', { script: script() });
    expect(e).toEqual({
      v: 1,
      type: 'slurm',
      ...BASE,
      src: 'node',
      slurm: { job_id: '4242', cluster: null, array: null, tasks: null, name: 'train.sh', partition: 'gpu' },
      cmd: 'sbatch -p gpu train.sh --lr 3',
      cwd: CWD,
      output: `${CWD}/slurm-%j.out`,
      error: null,
    });
  });

  it('--parsable, and id;cluster', () => {
    expect(eventFor(['--parsable', 'job.sh'], '77\n').slurm).toMatchObject({ job_id: '77', cluster: null });
    expect(eventFor(['--parsable', '-M', 'localci', 'job.sh'], '78;localci\n').slurm).toMatchObject({ job_id: '78', cluster: 'localci' });
    expect(eventFor(['-M', 'localci', 'job.sh'], 'Submitted batch job 79 on cluster localci\n').slurm).toMatchObject({ job_id: '79', cluster: 'localci' });
  });

  it('flurm options: title, destinations, --hide-command', () => {
    const e = eventFor(['-t', 'resnet', '--to', 'ntfy://ntfy.sh/t', '--hide-command', '--', '-a', '0-3', 'job.sh'], '90\n');
    expect(e).toMatchObject({ title: 'resnet', to: ['ntfy://ntfy.sh/t'], output: `${CWD}/slurm-%A_%a.out`, slurm: { array: '0-3', tasks: 4 } });
    expect(e.cmd).toBeUndefined();
    expect(eventFor(['job.sh'], '91\n').to).toBeUndefined();
  });

  it('--wrap', () => {
    expect(eventFor(['--wrap', 'sleep 1'], '92\n')).toMatchObject({ cmd: "sbatch --wrap 'sleep 1'", slurm: { name: 'wrap' } });
  });

  it('fields are bounded to what the hub accepts', () => {
    const e = eventFor(['-J', 'n'.repeat(400), '-p', 'p'.repeat(300), '--array', '1,'.repeat(600) + '2', 'job.sh'], '93\n');
    expect(e.slurm.name!.length).toBeLessThanOrEqual(256);
    expect(e.slurm.partition!.length).toBeLessThanOrEqual(256);
    expect(e.slurm.array).toBeNull();
    expect(e.slurm.tasks).toBe(2);
  });

  it('an attached event (flurm watch --slurm) is valid too', () => {
    const e = slurmEvent(
      { job_id: '5', cluster: null, array: '0-3%2', tasks: 4, name: 'x', partition: 'debug', cwd: '/w', output: '/w/slurm-%A_%a.out', error: null, to: [], attached: true },
      BASE,
    );
    expect(parseEventLine(JSON.stringify(e))).toMatchObject({ kind: 'event', unknownFields: [] });
    expect(e.attached).toBe(true);
  });

  it("flurm's line shows the output file with what is known filled in", () => {
    expect(describePaths({ output: `${CWD}/logs/%x-%j.out`, error: null }, { jobId: 42, isArray: false, name: 'train', user: 'alice' })).toBe(
      `output: ${CWD}/logs/train-42.out`,
    );
    expect(describePaths({ output: `${CWD}/slurm-%A_%a.out`, error: `${CWD}/e-%N.txt` }, { jobId: 42, isArray: true, name: 'x', user: 'alice' })).toBe(
      `output: ${CWD}/slurm-42_%a.out, error: ${CWD}/e-%N.txt`,
    );
  });
});

describe('the job id in every form sbatch prints it (real, slurm 22.05.8)', () => {
  const ids = captureJobs();
  it('plain, plain -M, --parsable, --parsable -M, --parsable --array', () => {
    expect(parseSbatchOutput(slurmFixture('sbatch-plain.txt'))).toMatchObject({ job_id: Number(ids.running), cluster: null });
    expect(parseSbatchOutput(slurmFixture('sbatch-plain-cluster.txt'))).toMatchObject({ job_id: Number(ids.held), cluster: 'localci' });
    expect(parseSbatchOutput(slurmFixture('sbatch-parsable.txt'))).toMatchObject({ job_id: Number(ids.ok), cluster: null });
    expect(parseSbatchOutput(slurmFixture('sbatch-parsable-cluster.txt'))).toMatchObject({ job_id: Number(ids.waiting), cluster: 'localci' });
    expect(parseSbatchOutput(slurmFixture('sbatch-parsable-array.txt'))).toMatchObject({ job_id: Number(ids.array) });
  });

  it('no id on stdout: --test-only, a refused job, --version (flurm registers nothing)', () => {
    for (const f of ['sbatch-test-only.txt', 'sbatch-bad-partition.txt', 'sbatch-parsable-bad-partition.txt', 'sbatch-version.txt']) {
      expect(() => parseSbatchOutput(slurmFixture(`submit/${f}`)), f).toThrow(/no job id/);
    }
    expect(slurmFixture('submit/sbatch-test-only.txt.stderr')).toMatch(/^sbatch: Job \d+ to start at /);
    expect(slurmFixture('submit/sbatch-bad-partition.txt.stderr')).toContain('invalid partition specified: nosuch');
  });
});

// ---- flurm watch --slurm ------------------------------------------------------------------------

const sub = (() => {
  const out: Record<string, string> = {};
  for (const line of slurmFixture('submit/jobs.txt').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
})();
const WORK = sub.work!; // capture-submit's $WORK
const records = (name: string) => parseScontrolJobs(slurmFixture(`submit/scontrol-${name}-oneline.txt`)).jobs;
const squeueRows = (name: string) => parseSqueueStdio(slurmFixture(`submit/squeue-stdio-${name}.txt`));

describe('squeue StdOut/StdErr (real, slurm 22.05.8): the patterns as stored', () => {
  it('the arguments; every row parses', () => {
    expect(squeueStdioArgs('42')).toEqual(['--noheader', '-t', 'all', '-j', '42', '-O', 'JobID:\x1f,StdOut:\x1f,StdErr:\x1f']);
    expect(fs.readFileSync(path.resolve(import.meta.dirname, '../../../test/fixtures/slurm/submit/capture.sh'), 'utf8')).toContain(`SQUEUE_STDIO_FORMAT=$'JobID:\\x1f,StdOut:\\x1f,StdErr:\\x1f'`);
    expect(squeueRows('patterns')).toEqual([{ jobId: sub.patterns, stdout: `${WORK}/o-%j-%x-%u-%N-%A-%a-%%-%5j-%q.out`, stderr: `${WORK}/e-%j.err` }]);
    expect(squeueRows('ran-array').map((r) => r.jobId)).toHaveLength(2);
  });

  it('explicit patterns come back unexpanded', () => {
    expect(pathsFromSqueue(squeueRows('patterns'), WORK, false)).toEqual({ output: `${WORK}/o-%j-%x-%u-%N-%A-%a-%%-%5j-%q.out`, error: `${WORK}/e-%j.err`, warnings: [] });
    expect(pathsFromSqueue(squeueRows('array-patterns'), WORK, true)).toMatchObject({ output: `${WORK}/logs/%x-%A_%3a.out`, error: null });
    expect(pathsFromSqueue(squeueRows('chdir'), `${WORK}/sub`, false)).toMatchObject({ output: `${WORK}/sub/rel/%x.out`, error: null });
  });

  it('no --output: squeue 22.05 makes up <WorkDir>/slurm-<id>.out (wrong for an array); taken as the default', () => {
    expect(squeueRows('default')[0]!.stdout).toBe(`${WORK}/slurm-${sub.default}.out`);
    expect(pathsFromSqueue(squeueRows('default'), WORK, false)).toMatchObject({ output: `${WORK}/slurm-%j.out`, error: null });
    expect(squeueRows('array-default')[0]!.stdout).toBe(`${WORK}/slurm-${sub.array_default}.out`);
    expect(pathsFromSqueue(squeueRows('array-default'), WORK, true)).toMatchObject({ output: `${WORK}/slurm-%A_%a.out`, error: null });
  });

  it('newer Slurm (hand-written from its source): "(null)" for unset (24.05-25.05), a relative default (25.11+)', () => {
    const rows = parseSqueueStdio('42\x1f(null)\x1f(null)\x1f\n');
    expect(rows).toEqual([{ jobId: '42', stdout: null, stderr: null }]);
    expect(pathsFromSqueue(rows, '/w', false)).toMatchObject({ output: '/w/slurm-%j.out', error: null });
    expect(pathsFromSqueue(parseSqueueStdio('42\x1fslurm-%A_%a.out\x1f(null)\x1f\n'), '/w', true)).toMatchObject({ output: '/w/slurm-%A_%a.out', error: null });
    expect(pathsFromSqueue(parseSqueueStdio('42\x1f/w/o.txt\x1f/w/e.txt\x1f\n'), '/w', false)).toMatchObject({ output: '/w/o.txt', error: '/w/e.txt' });
    expect(pathsFromSqueue([], '/w', false)).toBeNull();
    expect(parseSqueueStdio('garbage\nslurm_load_jobs error\n')).toEqual([]);
  });

  it('the patterns give the files the jobs really wrote (as the hub will expand them)', () => {
    const written = slurmFixture('submit/files-written.txt').trim().split('\n').map((f) => `${WORK}/${f}`);
    const ran = pathsFromSqueue(squeueRows('ran'), WORK, false)!;
    expect(written).toContain(expandOutputPattern(ran.output!, { jobId: Number(sub.ran), arrayTaskId: null, jobName: 'ran', user: sub.submit_user, nodeName: 'vm' }).path);
    const arr = pathsFromSqueue(squeueRows('ran-array'), WORK, true)!;
    for (const r of records('ran-array')) {
      const file = expandOutputPattern(arr.output!, { jobId: r.job_id, arrayJobId: r.array_job_id!, arrayTaskId: r.array_task_id, jobName: 'ranarr', user: sub.submit_user, nodeName: 'vm' }).path;
      expect(written).toContain(file);
    }
  });
});

describe('scontrol paths (the fallback): half-expanded by scontrol', () => {
  it('a plain job: scontrol\'s path is still a pattern giving the right file', () => {
    const r = records('ran');
    expect(r[0]!.std_out).toBe(`${WORK}/ran-${sub.ran}-ran-${sub.submit_user}-%N-%%-%5j.out`);
    const p = pathsFromScontrol(r, WORK, false);
    expect(p.warnings).toEqual([]);
    const written = slurmFixture('submit/files-written.txt').trim().split('\n').map((f) => `${WORK}/${f}`);
    expect(written).toContain(expandOutputPattern(p.output!, { jobId: Number(sub.ran), nodeName: 'vm' }).path);
    expect(pathsFromScontrol(records('patterns'), WORK, false)).toMatchObject({ error: `${WORK}/e-${sub.patterns}.err` });
  });

  it('an unsplit pending array: task id 4294967294 back to %a', () => {
    expect(pathsFromScontrol(records('array-default'), WORK, true)).toEqual({ output: `${WORK}/slurm-${sub.array_default}_%a.out`, error: null, warnings: [] });
    expect(pathsFromScontrol(records('array-patterns'), WORK, true)).toMatchObject({ output: `${WORK}/logs/arrpat-${sub.array_patterns}_%3a.out`, warnings: [] });
  });

  it('an array whose tasks ran: one task\'s file is no pattern; null and a warning', () => {
    const p = pathsFromScontrol(records('ran-array'), WORK, true);
    expect(p.output).toBeNull();
    expect(p.warnings).toEqual([expect.stringMatching(/--output/)]);
  });
});

describe('planAttached: what scontrol says of the job', () => {
  const ids = captureJobs();
  const main = (f: string) => parseScontrolJobs(slurmFixture(f)).jobs;

  it('a plain job', () => {
    expect(planAttached(sub.patterns!, records('patterns'))).toMatchObject({
      jobId: sub.patterns,
      name: 'pat',
      user: sub.submit_user,
      uid: Number(sub.submit_uid),
      workDir: WORK,
      partition: 'debug',
      array: null,
      tasks: null,
      endedState: null,
    });
    expect(planAttached(sub.ran!, records('ran')).endedState).toBe('COMPLETED');
  });

  it('arrays: pending (unsplit), split and ended, with the throttle', () => {
    expect(planAttached(sub.array_patterns!, records('array-patterns'))).toMatchObject({ array: '0-3%2', tasks: 4, name: 'arrpat' });
    expect(planAttached(ids.array, main('scontrol-array-oneline.txt'))).toMatchObject({ array: '0-3', tasks: 4, endedState: 'FAILED,COMPLETED' });
    expect(planAttached(sub.ran_array!, records('ran-array'))).toMatchObject({ array: '0-1', tasks: 2 });
    expect(planAttached(ids.held_array, main('scontrol-pending-array.txt'))).toMatchObject({ array: '0-3%2', tasks: 4, endedState: null });
  });

  it("an array task's own job id is refused, naming the array", () => {
    const recs = main('scontrol-array-oneline.txt');
    const task = recs.find((r) => r.job_id !== r.array_job_id)!;
    const e = userError(() => planAttached(String(task.job_id), recs));
    expect(e.message).toContain(`task ${task.array_task_id} of array ${ids.array}`);
    expect(e.message).toContain(`flurm watch --slurm ${ids.array}`);
  });

  it('arrayFromRecords: none for a plain job; a spec scontrol cut short is kept uncounted', () => {
    expect(arrayFromRecords(records('patterns'))).toEqual({ array: null, tasks: null });
    const cut = records('array-default').map((r) => ({ ...r, array_task_spec: '1,3,5,...' }));
    expect(arrayFromRecords(cut)).toEqual({ array: '1,3,5,...', tasks: null });
  });

  it('--output/--error given on the command line are relative to the current directory', () => {
    expect(givenPattern('logs/%j.out', '/home/a')).toBe('/home/a/logs/%j.out');
    expect(givenPattern('/abs/x.out', '/home/a')).toBe('/abs/x.out');
    expect(defaultPatternIn('/w/', true)).toBe('/w/slurm-%A_%a.out');
  });
});

describe('missingOutputDirs: SLURM does not create the directory of --output', () => {
  it('names a missing directory once, skips patterns and existing ones', () => {
    const exists = (d: string) => d === '/home/a/proj';
    expect(missingOutputDirs({ output: '/home/a/proj/logs/%x-%j.out', error: '/home/a/proj/logs/%x-%j.err' }, exists)).toEqual(['/home/a/proj/logs']);
    expect(missingOutputDirs({ output: '/home/a/proj/slurm-%j.out', error: null }, exists)).toEqual([]);
    expect(missingOutputDirs({ output: '/scratch/%u/out-%j.txt', error: null }, exists)).toEqual([]);
  });
});
