import { describe, expect, it } from 'vitest';
import { captureJobs, slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { SlurmParseError } from './fields.js';
import { parseSacct } from './sacct.js';
import { type ScontrolJob, isInvalidJobId, parseScontrolJob, parseScontrolJobs, splitKeyValues } from './scontrol.js';

const ids = captureJobs();
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const WORK = '/tmp/flurm-slurm-capture'; // capture.sh's $WORK
const show = (file: string) => parseScontrolJob(slurmFixture(file));
/** Typed values without the line number and raw fields, to compare the two output forms. */
const typed = ({ line: _l, fields: _f, ...rest }: ScontrolJob) => rest;

describe('scontrol show job: real records (slurm 22.05.8)', () => {
  it('a completed job: ids, user(uid), times, paths, Command with a space, TRES memory', () => {
    const j = show('scontrol-completed.txt');
    expect(j).toMatchObject({
      job_id: Number(ids.ok),
      display_id: ids.ok,
      array_job_id: null,
      name: 'ok',
      user: ids.submit_user,
      uid: Number(ids.submit_uid),
      state: 'COMPLETED',
      reason: null,
      exit: { code: 0, signal: 0 },
      time_limit_seconds: 300,
      partition: 'debug',
      num_nodes: 1,
      num_cpus: 1,
      num_tasks: 1,
      mem_bytes: GiB,
      gpus: null,
      command: `${WORK}/jobs/burn.sh 3`,
      work_dir: WORK,
      std_out: `${WORK}/slurm-${ids.ok}.out`,
      std_err: `${WORK}/slurm-${ids.ok}.out`,
      std_in: '/dev/null',
    });
    expect(j.run_time_seconds).toBe(3);
    expect(j.node_list).toBe('vm');
    expect(j.batch_host).toBe('vm');
    expect(j.tres.get('billing')).toBe('1');
    expect(j.fields.get('Power')).toBe(''); // an empty value
    expect(j.fields.get('AllocNode:Sid')).toMatch(/:\d+$/);
    expect(j.fields.get('ReqB:S:C:T')).toBe('0:0:*:*');
  });

  it('exit 3: FAILED, NonZeroExitCode, 3:0', () => {
    expect(show('scontrol-exit3.txt')).toMatchObject({ state: 'FAILED', reason: 'NonZeroExitCode', exit: { code: 3, signal: 0 }, command: null });
  });

  it('timeout: TIMEOUT, reason TimeLimit, ExitCode 0:15, ran past its 60 s limit', () => {
    const j = show('scontrol-timeout.txt');
    expect(j).toMatchObject({ state: 'TIMEOUT', reason: 'TimeLimit', exit: { code: 0, signal: 15 }, time_limit_seconds: 60 });
    expect(j.run_time_seconds!).toBeGreaterThan(60);
    expect(slurmFixture('job-output-timeout.txt')).toMatch(new RegExp(`\\*\\*\\* JOB ${ids.timeout} ON \\S+ CANCELLED AT \\S+ DUE TO TIME LIMIT \\*\\*\\*`));
  });

  it('cancelled: CANCELLED 0:15 (scontrol does not say by whom)', () => {
    expect(show('scontrol-cancelled-owner.txt')).toMatchObject({ state: 'CANCELLED', exit: { code: 0, signal: 15 } });
    expect(show('scontrol-cancelled-admin.txt')).toMatchObject({ state: 'CANCELLED', exit: { code: 0, signal: 15 } });
  });

  it('-c 2 --mem-per-cpu=100M: NumCPUs 2, TRES mem 200M', () => {
    expect(show('scontrol-percpu.txt')).toMatchObject({ num_cpus: 2, mem_bytes: 200 * MiB, command: `${WORK}/jobs/burn.sh 3` });
    expect(show('scontrol-percpu.txt').fields.get('MinMemoryCPU')).toBe('100M');
  });

  it('an array: one record per task, newest first; task ids match sacct JobIDRaw', () => {
    const { jobs } = parseScontrolJobs(slurmFixture('scontrol-array.txt'));
    expect(jobs.map((j) => j.display_id)).toEqual([3, 2, 1, 0].map((t) => `${ids.array}_${t}`));
    expect(jobs.map((j) => j.state)).toEqual(['FAILED', 'COMPLETED', 'FAILED', 'COMPLETED']);
    expect(jobs.every((j) => j.array_job_id === Number(ids.array))).toBe(true);
    const sacct = parseSacct(slurmFixture('sacct-header.txt'));
    for (const j of jobs) expect(String(j.job_id)).toBe(sacct.jobs.get(j.display_id)!.job!.job_id_raw);
    expect(jobs[0]!.std_out).toBe(`${WORK}/slurm-${ids.array}_3.out`);
    // Each record starts on its JobId= line (28 lines apart: 26 pairs lines, "   ", "").
    const starts = slurmFixture('scontrol-array.txt').split('\n').flatMap((l, i) => (l.startsWith('JobId=') ? [i + 1] : []));
    expect(jobs.map((j) => j.line)).toEqual(starts);
    expect(starts).toEqual([1, 29, 57, 85]);
  });

  it('one array task by its id', () => {
    expect(show('scontrol-array-task.txt')).toMatchObject({ display_id: `${ids.array}_1`, array_task_id: 1, state: 'FAILED', exit: { code: 1, signal: 0 } });
  });

  it('-o one-liner form: the same values as the multi-line form', () => {
    const multi = parseScontrolJobs(slurmFixture('scontrol-array.txt')).jobs.map(typed);
    const one = parseScontrolJobs(slurmFixture('scontrol-array-oneline.txt')).jobs;
    expect(one.map((j) => j.line)).toEqual([1, 2, 3, 4]);
    expect(one.map(typed)).toEqual(multi);
    expect(typed(show('scontrol-pending-held-oneline.txt'))).toEqual(typed(show('scontrol-pending-held.txt')));
  });

  it('pending: held (JobHeldUser) and waiting for Resources; no node, no start', () => {
    expect(show('scontrol-pending-held.txt')).toMatchObject({ state: 'PENDING', reason: 'JobHeldUser', node_list: null, start: null, end: null, batch_host: null });
    expect(show('scontrol-pending-waiting.txt')).toMatchObject({ state: 'PENDING', reason: 'Resources', node_list: null });
  });

  it('an unsplit held array: ArrayTaskId 0-3%2, StdOut with task id NO_VAL as printed', () => {
    const j = show('scontrol-pending-array.txt');
    expect(j).toMatchObject({ display_id: `${ids.held_array}_[0-3%2]`, array_task_id: null, array_task_spec: '0-3%2', state: 'PENDING' });
    expect(j.std_out).toBe(`${WORK}/slurm-${ids.held_array}_4294967294.out`);
    expect(j.fields.get('ArrayTaskThrottle')).toBe('2');
  });

  it('running: EndTime is start + limit', () => {
    const j = show('scontrol-running.txt');
    expect(j).toMatchObject({ state: 'RUNNING', time_limit_seconds: 600 });
    expect(Date.parse(`${j.end}Z`) - Date.parse(`${j.start}Z`)).toBe(600_000);
  });

  it('an unknown id: nothing on stdout, "Invalid job id specified" on stderr, exit 1', () => {
    expect(parseScontrolJobs(slurmFixture('scontrol-unknown.txt')).jobs).toEqual([]);
    expect(isInvalidJobId(slurmFixture('scontrol-unknown.txt.stderr'))).toBe(true);
    expect(slurmFixture('exit-codes.tsv')).toMatch(/^scontrol-unknown\.txt\t1\t/m);
  });
});

describe('scontrol: hand-written forms', () => {
  it('values with spaces and "=" in the one-liner form (hand-written)', () => {
    const line =
      'JobId=7 JobName=train lr=0.1 big UserId=ann(1001) GroupId=lab(2000) JobState=RUNNING Reason=None ExitCode=0:0 RunTime=1-02:00:00 TimeLimit=2-00:00:00 ' +
      'NodeList=gpu[01-02] NumNodes=2 NumCPUs=16 NumTasks=2 TRES=cpu=16,mem=128G,node=2,billing=16,gres/gpu=4 TresPerNode=gres:gpu:2 ' +
      'Command=/home/ann/run.sh --lr=0.1 data=/x y WorkDir=/home/ann/my project StdErr=/home/ann/my project/err.log StdIn=/dev/null StdOut=/home/ann/my project/out.log Power=';
    const j = parseScontrolJob(line);
    expect(j).toMatchObject({
      name: 'train lr=0.1 big',
      user: 'ann',
      uid: 1001,
      gid: 2000,
      run_time_seconds: 93600,
      time_limit_seconds: 172800,
      node_list: 'gpu[01-02]',
      num_nodes: 2,
      num_cpus: 16,
      mem_bytes: 128 * GiB,
      gpus: 4,
      command: '/home/ann/run.sh --lr=0.1 data=/x y',
      work_dir: '/home/ann/my project',
      std_out: '/home/ann/my project/out.log',
      std_err: '/home/ann/my project/err.log',
    });
    expect(j.fields.get('TresPerNode')).toBe('gres:gpu:2');
  });

  it('unknown keys are kept; split of one line', () => {
    expect(splitKeyValues('   Foo=1 Bar:Baz=a b=c Qux=', 1)).toEqual([
      ['Foo', '1'],
      ['Bar:Baz', 'a'],
      ['b', 'c'],
      ['Qux', ''],
    ]);
  });

  it('garbage throws SlurmParseError with the line', () => {
    expect(() => parseScontrolJobs('No jobs in the system\n')).toThrow(SlurmParseError);
    expect(() => parseScontrolJobs('No jobs in the system\n')).toThrow(/line 1: no Key=Value pair/);
    expect(() => parseScontrolJobs('   UserId=a(1)\n')).toThrow(/line 1: expected a record starting with JobId=/);
    expect(() => parseScontrolJobs('JobId=7 JobState=RUNNING\n   oops\n')).toThrow(/line 2: no Key=Value/);
    expect(() => parseScontrolJobs('JobId=7 JobState=RUNNING ExitCode=x\n')).toThrow(/line 1: ExitCode: not an exit code/);
    expect(() => parseScontrolJobs('JobId=abc\n')).toThrow(/line 1: JobId: not a job id/);
    expect(() => parseScontrolJob('JobId=1\n\nJobId=2\n')).toThrow(/2 job records/);
  });
});
