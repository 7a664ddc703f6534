import { describe, expect, it } from 'vitest';
import { captureJobs, slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { SlurmParseError } from './fields.js';
import { isInvalidJobId } from './scontrol.js';
import { SQUEUE_FORMAT, type SqueueResult, parseSqueue, squeueArgs } from './squeue.js';
import { buildSlurmView } from './view.js';
import { queueByUser } from '../../commands/queue-board.js';

/** The leaderboard (commands/queue-board.ts) over these squeue rows, as the hub builds it. */
const leaderboard = (rows: SqueueResult['rows']) =>
  queueByUser(buildSlurmView({ sinfo: null, squeue: rows, sinfoAt: null, squeueAt: null, problem: null, now: 0 }).jobs).users;

const ids = captureJobs();
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const byId = (r: SqueueResult) => new Map(r.rows.map((row) => [row.job_id, row]));
const strip = (r: SqueueResult) => r.rows.map(({ line: _l, fields: _f, ...rest }) => rest);

describe('squeue: the format flurm runs', () => {
  it('one constant, as capture.sh ran it', () => {
    expect(slurmFixture('capture.sh')).toContain(`SQUEUE_FORMAT='${SQUEUE_FORMAT}'\n`);
    expect(squeueArgs()).toEqual(['-a', '-t', 'all', '-o', SQUEUE_FORMAT]);
  });

  it('with and without the header line, the same values', () => {
    expect(strip(parseSqueue(slurmFixture('squeue-watched-header.txt')))).toEqual(strip(parseSqueue(slurmFixture('squeue-watched.txt'))));
  });
});

describe('squeue -t all -j <watched ids>: real rows (slurm 22.05.8)', () => {
  const done = byId(parseSqueue(slurmFixture('squeue-watched-header.txt')));
  const during = byId(parseSqueue(slurmFixture('squeue-watched-running.txt')));

  it('final states stay visible until MinJobAge, with their reason', () => {
    expect(done.get(ids.ok)).toMatchObject({ state: 'COMPLETED', reason: null, name: 'ok', user: ids.submit_user, uid: Number(ids.submit_uid), partition: 'debug' });
    expect(done.get(ids.exit3)).toMatchObject({ state: 'FAILED', reason: 'NonZeroExitCode' });
    expect(done.get(ids.timeout)).toMatchObject({ state: 'TIMEOUT', reason: 'TimeLimit', time_limit_seconds: 60 });
    expect(done.get(ids.timeout)!.time_used_seconds!).toBeGreaterThan(60);
    expect(done.get(ids.cancel_owner)).toMatchObject({ state: 'CANCELLED' });
    expect(done.get(ids.sigkill)).toMatchObject({ state: 'FAILED', reason: 'JobLaunchFailure' });
  });

  it('array tasks by their task ids', () => {
    const tasks = [0, 1, 2, 3].map((t) => done.get(`${ids.array}_${t}`)!);
    expect(tasks.map((t) => t.state)).toEqual(['COMPLETED', 'FAILED', 'COMPLETED', 'FAILED']);
    expect(tasks.map((t) => t.array_task_id)).toEqual([0, 1, 2, 3]);
    expect(tasks.every((t) => t.array_job_id === Number(ids.array))).toBe(true);
    expect(done.get(ids.ok)).toMatchObject({ array_job_id: null, array_task_id: null });
  });

  it('while running: RUNNING with time used, PENDING held / waiting for Resources, an unsplit held array', () => {
    expect(during.get(ids.timeout)).toMatchObject({ state: 'RUNNING', reason: null, time_limit_seconds: 60, nodes: 1, cpus: 1 });
    expect(during.get(ids.running)).toMatchObject({ state: 'RUNNING', time_limit_seconds: 600, min_memory_bytes: GiB, tres_per_node: null, gpus_per_node: null });
    expect(during.get(ids.running)!.node_list).not.toBeNull();
    expect(during.get(ids.held)).toMatchObject({ state: 'PENDING', reason: 'JobHeldUser', start: null, node_list: null, time_used_seconds: 0 });
    expect(during.get(ids.waiting)).toMatchObject({ state: 'PENDING', reason: 'Resources' });
    expect(during.get(`${ids.held_array}_[0-3%2]`)).toMatchObject({ array_job_id: Number(ids.held_array), array_task_id: null, array_task_spec: '0-3%2', state: 'PENDING' });
  });

  it('%m is per CPU as requested: --mem-per-cpu=100M shows 100M; --mem=50M shows 50M', () => {
    expect(done.get(ids.percpu)).toMatchObject({ cpus: 2, min_memory_bytes: 100 * MiB });
    expect(done.get(ids.memhog)).toMatchObject({ min_memory_bytes: 50 * MiB });
  });

  it('an ended job without -t all prints nothing (exit 0); one unknown id is an error (exit 1)', () => {
    expect(slurmFixture('squeue-ended.txt')).toBe('');
    expect(parseSqueue(slurmFixture('squeue-ended.txt')).rows).toEqual([]);
    expect(slurmFixture('squeue-unknown.txt')).toBe('');
    expect(isInvalidJobId(slurmFixture('squeue-unknown.txt.stderr'))).toBe(true);
    const codes = slurmFixture('exit-codes.tsv');
    expect(codes).toMatch(/^squeue-ended\.txt\t0\t/m);
    expect(codes).toMatch(/^squeue-unknown\.txt\t1\t/m);
    expect(codes).toMatch(/^squeue-unknown-many\.txt\t0\t/m);
    expect(parseSqueue(slurmFixture('squeue-unknown-many.txt')).rows).toEqual([]);
    expect(parseSqueue(slurmFixture('squeue-known-and-unknown.txt')).rows.map((r) => r.job_id)).toEqual([ids.ok]);
  });
});

describe('squeue for all users: the queue leaderboard', () => {
  it('sums running and pending jobs and CPUs per user', () => {
    const all = parseSqueue(slurmFixture('squeue-all-users-header.txt'));
    expect(strip(all)).toEqual(strip(parseSqueue(slurmFixture('squeue-all-users.txt'))));
    // Only the capture's own jobs are asserted: another user's jobs may have been queued too.
    const mine = leaderboard(all.rows.filter((r) => r.user === ids.submit_user));
    // Pending: job 135, job 133 and the held array 134_[0-3%2] as its 4 tasks.
    expect(mine).toEqual([{ user: ids.submit_user, running_jobs: 2, pending_jobs: 6, running_cpus: 2, pending_cpus: 6, running_gpus: 0, pending_gpus: 0, other_jobs: 0 }]);
  });

  it('orders users by running CPUs and counts GPUs per node × nodes (hand-written rows)', () => {
    const rows = parseSqueue(
      [
        '101|101|N/A|RUNNING|None|ann|1001|gpu|1-02:03:04|2-00:00:00|2|32|64G|gres:gpu:a100:4|2026-11-20T10:00:00|2026-11-20T10:00:05|gpu[01-02]|big run',
        '102|102|N/A|RUNNING|None|bob|1002|cpu|10:00|1:00:00|1|64|4G|N/A|2026-11-21T10:00:00|2026-11-21T10:00:01|cn01|sweep',
        '103_[0-99%4]|103|0-99%4|PENDING|Priority|ann|1001|gpu|0:00|UNLIMITED|1|8|16G|gres:gpu:1|2026-11-21T11:00:00|N/A||a|b|c',
      ].join('\n'),
    ).rows;
    expect(rows[0]).toMatchObject({ time_used_seconds: 93784, time_limit_seconds: 172800, gpus_per_node: 4, nodes: 2, min_memory_bytes: 64 * GiB, name: 'big run' });
    expect(rows[2]).toMatchObject({ name: 'a|b|c', time_limit_seconds: null, start: null, array_task_spec: '0-99%4' });
    // The unsplit pending array 103_[0-99%4] counts as its 100 tasks.
    expect(leaderboard(rows).map((s) => [s.user, s.running_cpus, s.running_gpus, s.pending_jobs])).toEqual([
      ['bob', 64, 0, 0],
      ['ann', 32, 8, 100],
    ]);
  });
});

describe('squeue: header-driven and strict', () => {
  it('columns in another order, with unknown ones, when the header is there (hand-written)', () => {
    const r = parseSqueue('STATE|ACCOUNT|JOBID|USER|PRIORITY\nRUNNING|lab|7|ann|4294901727\n');
    expect(r.rows[0]).toMatchObject({ job_id: '7', state: 'RUNNING', user: 'ann', cpus: null });
    expect(r.rows[0]!.fields.get('ACCOUNT')).toBe('lab');
  });

  it('short state codes (%t) map to names (hand-written)', () => {
    expect(parseSqueue('JOBID|ST\n7|TO\n8|CD\n').rows.map((r) => r.state)).toEqual(['TIMEOUT', 'COMPLETED']);
  });

  it('garbage throws SlurmParseError naming line and field', () => {
    expect(() => parseSqueue('             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)\n')).toThrow(SlurmParseError);
    expect(() => parseSqueue('             JOBID PARTITION     NAME\n')).toThrow(/line 1: 1 fields where 18 were expected/);
    const row = '7|7|N/A|RUNNING|None|ann|1001|cpu|0:01|5:00|1|1|1G|N/A|2026-11-21T10:00:00|2026-11-21T10:00:01|cn01|x';
    expect(() => parseSqueue(row.replace('0:01', 'soon'))).toThrow(/line 1: TIME: not a duration/);
    expect(() => parseSqueue(row.replace('|1001|', '|ann|'))).toThrow(/line 1: UID: not a whole number/);
    expect(() => parseSqueue(row.replace('7|7|', 'x|7|'))).toThrow(/line 1: JOBID: not a job id/);
    expect(() => parseSqueue(row.replace('RUNNING', 'running'))).toThrow(/line 1: STATE: not a job state/);
  });
});
