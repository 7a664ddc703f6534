// The final verdict on SLURM jobs, driven by the real captures in test/fixtures/slurm/ (sacct with
// its .batch steps, scontrol) and, for states the one-node capture cluster cannot produce, by
// hand-written lines labelled so. What is asserted is what the user reads.
import { describe, expect, it } from 'vitest';
import { captureJobs, slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import {
  type OutcomeContext,
  type SlurmOutcome,
  arrayOutcome,
  efficiencyHints,
  endFacts,
  outcomeFromSacct,
  outcomeFromScontrol,
  slurmDuration,
  stateWords,
  taskOutputPath,
  unknownOutcome,
} from './outcome.js';
import { arrayTasks, parseSacct } from './sacct.js';
import { parseScontrolJob, parseScontrolJobs } from './scontrol.js';

const ids = captureJobs();
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const UID = Number(ids.submit_uid);
const USER = ids.submit_user;
const ctx: OutcomeContext = { userName: (uid) => (uid === UID ? USER : uid === 0 ? 'root' : null) };

const sacct = parseSacct(slurmFixture('sacct-header.txt'));
/** The outcome of a captured job, from sacct (job line + steps), as the poller makes it. */
function fromSacct(id: string, c: OutcomeContext | undefined = ctx): SlurmOutcome {
  const j = sacct.jobs.get(id);
  if (!j) throw new Error(`no job ${id} in sacct-header.txt`);
  const o = outcomeFromSacct(j, c);
  if (!o) throw new Error(`job ${id} is not final`);
  return o;
}
function fromScontrol(file: string): SlurmOutcome {
  const o = outcomeFromScontrol(parseScontrolJob(slurmFixture(file)), ctx);
  if (!o) throw new Error(`${file} is not final`);
  return o;
}
/** Rows under the header the poller uses (SACCT_FIELDS); hand-written lines for states the capture cluster cannot produce. */
const HEADER = slurmFixture('sacct-header.txt').split('\n')[0]!;
function handWritten(...rows: string[]): SlurmOutcome {
  const r = parseSacct([HEADER, ...rows].join('\n') + '\n');
  const [job] = [...r.jobs.values()];
  const o = outcomeFromSacct(job!, ctx);
  if (!o) throw new Error('not final');
  return o;
}

describe('outcomeFromSacct on the captured jobs (slurm 22.05.8)', () => {
  it('exit 0: completed, peak memory of the .batch step, the request in bytes, CPU efficiency', () => {
    const o = fromSacct(ids.ok);
    expect(o).toMatchObject({
      job_id: ids.ok,
      source: 'sacct',
      state: 'COMPLETED',
      exit_code: 0,
      signal: null,
      success: true,
      out_of_memory: false,
      cancelled_by: null,
      derived_exit_code: null,
      req_mem_bytes: GiB,
      alloc_cpus: 1,
      alloc_gpus: null,
      node_list: 'vm',
      partition: 'debug',
      name: 'ok',
      user: USER,
      raw_job_id: Number(ids.ok),
      array_task_id: null,
    });
    expect(o.max_rss_bytes).toBe(6572 * 1024); // .batch MaxRSS 6572K
    expect(o.elapsed_seconds).toBe(3);
    expect(o.time_limit_seconds).toBe(300);
    expect(o.cpu_efficiency!).toBeGreaterThan(0.8); // a busy loop: TotalCPU ≈ Elapsed
    expect(o.cpu_efficiency!).toBeLessThan(1.1);
    expect(stateWords(o)).toEqual({ words: 'completed (exit 0)', severity: 'success', verb: 'completed' });
    expect(endFacts(o)).toEqual({ exit: 0, signal: null, exit_unknown: false, wall_seconds: 3, cpu_seconds: 2.891, peak_rss_bytes: 6572 * 1024 }); // TotalCPU 00:02.891
    expect(efficiencyHints(o)).toEqual([]); // 3 s: too short to judge
  });

  it('exit 3: "failed with exit code 3", everywhere', () => {
    const o = fromSacct(ids.exit3);
    expect(o).toMatchObject({ state: 'FAILED', exit_code: 3, signal: null, success: false });
    expect(stateWords(o)).toEqual({ words: 'failed with exit code 3', severity: 'failure', verb: 'failed' });
    expect(endFacts(o)).toMatchObject({ exit: 3, signal: null, exit_unknown: false });
    expect(stateWords(fromScontrol('scontrol-exit3.txt')).words).toMatch(/^failed with exit code 3 \(record from scontrol/);
  });

  it('TIMEOUT: job line 0:0, .batch 0:15 → SIGTERM; the limit and the elapsed time in --time syntax', () => {
    const o = fromSacct(ids.timeout);
    expect(o).toMatchObject({ state: 'TIMEOUT', exit_code: null, signal: 15, exit_source: 'batch', time_limit_seconds: 60 });
    expect(o.elapsed_seconds!).toBeGreaterThan(60); // limits are enforced late
    const r = stateWords(o);
    expect(r.words).toBe(`hit its time limit of 0:01:00 (killed by SIGTERM after ${slurmDuration(o.elapsed_seconds!)})`);
    expect(r.words).toMatch(/^hit its time limit of 0:01:00 \(killed by SIGTERM after 0:01:\d\d\)$/);
    expect(r).toMatchObject({ severity: 'failure', verb: 'timed out' });
    expect(endFacts(o)).toMatchObject({ exit: null, signal: 'SIGTERM', exit_unknown: false, wall_seconds: o.elapsed_seconds });
  });

  it('cancelled by its owner: the name from ctx, signal 15; info (the user did it)', () => {
    const o = fromSacct(ids.cancel_owner);
    expect(o).toMatchObject({ state: 'CANCELLED', cancelled_by_uid: UID, cancelled_by: USER, signal: 15, exit_code: null });
    expect(stateWords(o)).toEqual({ words: `cancelled by ${USER}`, severity: 'info', verb: 'was cancelled' });
    expect(endFacts(o)).toMatchObject({ exit: null, signal: 'SIGTERM' });
    // Without a uid → name lookup the uid is still said.
    expect(stateWords(fromSacct(ids.cancel_owner, {})).words).toBe(`cancelled by uid ${UID}`);
  });

  it('cancelled by root: "cancelled by root (an administrator)", a warning, with or without a name lookup', () => {
    const o = fromSacct(ids.cancel_admin);
    expect(o).toMatchObject({ state: 'CANCELLED', cancelled_by_uid: 0, cancelled_by: 'root' });
    expect(stateWords(o)).toEqual({ words: 'cancelled by root (an administrator)', severity: 'warning', verb: 'was cancelled' });
    expect(stateWords(fromSacct(ids.cancel_admin, {})).words).toBe('cancelled by root (an administrator)');
  });

  it('kill -KILL $$: FAILED 0:9 → killed by SIGKILL', () => {
    const o = fromSacct(ids.sigkill);
    expect(o).toMatchObject({ state: 'FAILED', exit_code: null, signal: 9 });
    expect(stateWords(o).words).toMatch(/^killed by SIGKILL\b/);
    expect(stateWords(o).severity).toBe('failure');
    expect(endFacts(o)).toMatchObject({ exit: null, signal: 'SIGKILL' });
  });

  it('memhog: ~306 MiB used of 50M requested, not enforced here → said, whatever the duration', () => {
    const o = fromSacct(ids.memhog);
    expect(o).toMatchObject({ state: 'COMPLETED', success: true, req_mem_bytes: 50 * MiB });
    expect(o.max_rss_bytes!).toBeGreaterThan(250 * MiB);
    const hints = efficiencyHints(o);
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatch(/^peak 3\d\d MiB is more than the 50 MiB requested: ask for at least that with --mem/);
  });

  it('-c 2 --mem-per-cpu=100M: ReqMem is the job total (200M); one busy CPU of two', () => {
    const o = fromSacct(ids.percpu);
    expect(o).toMatchObject({ req_mem_bytes: 200 * MiB, alloc_cpus: 2 });
    expect(o.cpu_efficiency!).toBeGreaterThan(0.3);
    expect(o.cpu_efficiency!).toBeLessThan(0.6);
    expect(efficiencyHints(o)).toEqual([]); // 3 s: too short to judge
  });

  it('RUNNING and PENDING jobs have no outcome yet', () => {
    expect(outcomeFromSacct(sacct.jobs.get(ids.running)!, ctx)).toBeNull();
    expect(outcomeFromSacct(sacct.jobs.get(ids.held)!, ctx)).toBeNull();
    const running = parseSacct(slurmFixture('sacct-running-header.txt'));
    for (const j of running.jobs.values()) if (j.job?.state !== 'COMPLETED' && j.job?.state !== 'TIMEOUT') expect(outcomeFromSacct(j, ctx)).toBeNull();
    expect(outcomeFromScontrol(parseScontrolJob(slurmFixture('scontrol-running.txt')))).toBeNull();
    expect(outcomeFromScontrol(parseScontrolJob(slurmFixture('scontrol-pending-held.txt')))).toBeNull();
  });

  it('a job with only step rows (no job line) has no outcome: the poller asks again (hand-written)', () => {
    const r = parseSacct(`${HEADER}\n7.batch|7.batch|batch|||COMPLETED|0:0|||00:00:03||6572K||1|cpu=1,mem=1G,node=1|00:02.891|vm|2026-11-21T16:24:42|2026-11-21T16:24:42|2026-11-21T16:24:45\n`);
    expect(outcomeFromSacct(r.jobs.get('7')!, ctx)).toBeNull();
  });
});

describe('outcomeFromScontrol: accounting off (real records)', () => {
  it('TIMEOUT 0:15 → SIGTERM, and the message says the record is from scontrol', () => {
    const o = fromScontrol('scontrol-timeout.txt');
    expect(o).toMatchObject({ source: 'scontrol', state: 'TIMEOUT', signal: 15, exit_code: null, max_rss_bytes: null, total_cpu_seconds: null, cpu_efficiency: null, req_mem_bytes: GiB, alloc_cpus: 1 });
    expect(o.std_out).toBe(`/tmp/flurm-slurm-capture/slurm-${ids.timeout}.out`);
    expect(stateWords(o).words).toMatch(
      /^hit its time limit of 0:01:00 \(killed by SIGTERM after 0:01:\d\d\) \(record from scontrol: accounting is off, no peak memory or CPU time\)$/,
    );
    expect(endFacts(o)).toMatchObject({ signal: 'SIGTERM', cpu_seconds: null, peak_rss_bytes: null });
  });

  it('cancelled: scontrol does not say by whom', () => {
    for (const f of ['scontrol-cancelled-owner.txt', 'scontrol-cancelled-admin.txt']) {
      const o = fromScontrol(f);
      expect(o).toMatchObject({ state: 'CANCELLED', cancelled_by: null, cancelled_by_uid: null, signal: 15 });
      expect(stateWords(o)).toMatchObject({ words: expect.stringMatching(/^cancelled \(record from scontrol/), severity: 'warning' });
    }
  });

  it('completed, SIGKILL, per-CPU memory', () => {
    expect(stateWords(fromScontrol('scontrol-completed.txt'))).toMatchObject({ severity: 'success' });
    expect(fromScontrol('scontrol-sigkill.txt')).toMatchObject({ state: 'FAILED', signal: 9 });
    expect(fromScontrol('scontrol-percpu.txt')).toMatchObject({ req_mem_bytes: 200 * MiB, alloc_cpus: 2 });
  });
});

describe('arrayOutcome: the array as one unit', () => {
  const tasksOf = (c: OutcomeContext = ctx) =>
    arrayTasks(sacct, Number(ids.array)).map((t) => ({ ...outcomeFromSacct(t, c)!, task_id: t.array_task_id! }));

  it('the captured array (sacct): 2 of 4 failed, tasks 1 and 3, exit 1', () => {
    const a = arrayOutcome(ids.array, tasksOf(), 4);
    expect(a).toMatchObject({ array_job_id: ids.array, tasks_total: 4, counts: { COMPLETED: 2, FAILED: 2 }, failed_task_ids: [1, 3], success: false, source: 'sacct' });
    expect(a.tasks.map((t) => t.task_id)).toEqual([0, 1, 2, 3]);
    expect(a.tasks.map((t) => t.job_id)).toEqual([0, 1, 2, 3].map((i) => `${ids.array}_${i}`));
    // The last task keeps the array's id as its own (JobIDRaw); the others have their own.
    expect(a.tasks[3]!.raw_job_id).toBe(Number(ids.array));
    expect(a.tasks[0]!.raw_job_id).not.toBe(Number(ids.array));
    expect(a.elapsed_seconds).toBe(2);
    expect(a.max_rss_bytes).toBe(Math.max(...a.tasks.map((t) => t.max_rss_bytes!)));
    expect(stateWords(a)).toEqual({ words: '2 of 4 tasks failed (2 COMPLETED, 2 FAILED)', severity: 'failure', verb: 'failed' });
    expect(endFacts(a)).toMatchObject({ exit: 1, signal: null, exit_unknown: false, wall_seconds: 2 });
  });

  it('the same array from scontrol (4 records, newest first)', () => {
    const tasks = parseScontrolJobs(slurmFixture('scontrol-array.txt')).jobs.map((j) => ({ ...outcomeFromScontrol(j)!, task_id: j.array_task_id! }));
    const a = arrayOutcome(ids.array, tasks, 4);
    expect(a).toMatchObject({ counts: { COMPLETED: 2, FAILED: 2 }, failed_task_ids: [1, 3], source: 'scontrol', max_rss_bytes: null });
    expect(a.tasks.map((t) => t.task_id)).toEqual([0, 1, 2, 3]);
    expect(stateWords(a).words).toMatch(/^2 of 4 tasks failed \(2 COMPLETED, 2 FAILED\) \(record from scontrol/);
  });

  it('all succeeded → success, exit 0; a missing task counts as UNKNOWN and is not success', () => {
    const ok = tasksOf().filter((t) => t.success);
    const all = arrayOutcome('9', ok.map((t, i) => ({ ...t, task_id: i })), 2);
    expect(all).toMatchObject({ success: true, failed_task_ids: [], counts: { COMPLETED: 2 } });
    expect(stateWords(all)).toMatchObject({ words: 'all 2 tasks completed (exit 0)', severity: 'success' });
    expect(endFacts(all).exit).toBe(0);
    const short = arrayOutcome('9', ok.map((t, i) => ({ ...t, task_id: i })), 3);
    expect(short).toMatchObject({ success: false, tasks_total: 3, counts: { COMPLETED: 2, UNKNOWN: 1 }, failed_task_ids: [] });
    expect(endFacts(short).exit).toBe(1);
  });

  it('the first failed task\'s exit code is the array\'s; a task given twice keeps the last (hand-written)', () => {
    const base = fromSacct(ids.exit3);
    const tasks = [
      { ...fromSacct(ids.ok), task_id: 0 },
      { ...base, task_id: 5 },
      { ...fromSacct(ids.sigkill), task_id: 2 },
      { ...fromSacct(ids.ok), task_id: 5 },
    ];
    const a = arrayOutcome('9', tasks, 3);
    expect(a.failed_task_ids).toEqual([2]);
    expect(endFacts(a).exit).toBe(1); // task 2 was killed by a signal: no exit code → 1
    expect(endFacts(arrayOutcome('9', [{ ...base, task_id: 4 }], 1)).exit).toBe(3);
  });

  it('preempted and cancelled tasks only: "did not complete", a warning (hand-written states)', () => {
    const a = arrayOutcome('9', [{ ...fromSacct(ids.ok), task_id: 0 }, { ...fromSacct(ids.cancel_admin), task_id: 1 }], 2);
    expect(stateWords(a)).toMatchObject({ words: '1 of 2 tasks did not complete (1 CANCELLED, 1 COMPLETED)', severity: 'warning' });
  });

  it('no record for any task: unknown', () => {
    const a = arrayOutcome('9', [0, 1].map((i) => ({ ...unknownOutcome(`9_${i}`, 'no final record from sacct'), task_id: i })), 2);
    expect(a.source).toBe('none');
    expect(endFacts(a)).toMatchObject({ exit: null, exit_unknown: true });
    expect(stateWords(a).severity).toBe('warning');
  });
});

describe('states the capture cluster cannot produce (hand-written lines)', () => {
  it('OUT_OF_MEMORY 0:125 (hand-written): not a signal; peak of the largest step and the request', () => {
    const o = handWritten(
      '9001|9001|train|alice|gpu|OUT_OF_MEMORY|0:125|0:0|OutOfMemory|02:03:04|2-00:00:00||16G|8|billing=8,cpu=8,gres/gpu=2,mem=16G,node=1|10:00:00|gpu01|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T02:03:05',
      '9001.batch|9001.batch|batch|||OUT_OF_MEMORY|0:125|||02:03:04||15.50G||8|cpu=8,gres/gpu=2,mem=16G,node=1|10:00:00|gpu01|2026-01-01T00:00:01|2026-01-01T00:00:01|2026-01-01T02:03:05',
      '9001.0|9001.0|python|||OUT_OF_MEMORY|0:125|||02:03:00||15.90G||8|cpu=8,gres/gpu=2,mem=16G,node=1|09:59:00|gpu01|2026-01-01T00:00:02|2026-01-01T00:00:02|2026-01-01T02:03:05',
    );
    expect(o).toMatchObject({ state: 'OUT_OF_MEMORY', out_of_memory: true, signal: null, exit_code: null, req_mem_bytes: 16 * GiB, alloc_gpus: 2 });
    expect(o.max_rss_bytes).toBe(Math.round(15.9 * GiB));
    expect(stateWords(o)).toEqual({ words: 'ran out of memory (SLURM’s cgroup limit)', severity: 'failure', verb: 'ran out of memory' });
    expect(efficiencyHints(o)).toEqual(['peak 15.9 GiB of the 16 GiB requested: ask for more with --mem']);
    expect(endFacts(o)).toMatchObject({ exit: null, signal: null, exit_unknown: false });
  });

  it('NODE_FAIL (hand-written): not the job\'s fault, a warning, no made-up exit 0', () => {
    const o = handWritten('9002|9002|sim|alice|cpu|NODE_FAIL|0:0|0:0|NodeDown|00:31:00|01:00:00||4G|4|cpu=4,mem=4G,node=1|00:00:00|cn07|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T00:31:01');
    expect(o).toMatchObject({ state: 'NODE_FAIL', exit_code: null, signal: null, success: false });
    expect(stateWords(o)).toEqual({ words: 'lost its node (NODE_FAIL): the node failed, not your job', severity: 'warning', verb: 'lost its node' });
    expect(endFacts(o)).toMatchObject({ exit: null, signal: null, exit_unknown: false, wall_seconds: 31 * 60 });
    expect(efficiencyHints(o)).toEqual([]); // no verdict on a job its node killed
  });

  it('PREEMPTED with .batch 0:15 (hand-written)', () => {
    const o = handWritten(
      '9003|9003|low-prio|alice|scavenge|PREEMPTED|0:0|0:0|None|00:05:00|00:19:00||4G|4|cpu=4,mem=4G,node=1|00:10:00|cn08|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T00:05:01',
      '9003.batch|9003.batch|batch|||CANCELLED|0:15|||00:05:00||1.2G||4|cpu=4,mem=4G,node=1|00:10:00|cn08|2026-01-01T00:00:01|2026-01-01T00:00:01|2026-01-01T00:05:01',
    );
    expect(o).toMatchObject({ state: 'PREEMPTED', signal: 15 });
    expect(stateWords(o)).toEqual({ words: 'was preempted by a higher-priority job', severity: 'warning', verb: 'was preempted' });
    expect(endFacts(o).signal).toBe('SIGTERM');
  });

  it('BOOT_FAIL and DEADLINE (hand-written)', () => {
    const boot = handWritten('9004|9004|x|alice|cloud|BOOT_FAIL|0:0|0:0|None|00:00:00|01:00:00||4G|4||00:00:00|None assigned|2026-01-01T00:00:00|Unknown|2026-01-01T00:05:00');
    expect(stateWords(boot)).toMatchObject({ words: 'could not start: its node failed to boot (BOOT_FAIL), not your job', severity: 'warning' });
    const dl = handWritten('9005|9005|x|alice|cpu|DEADLINE|0:0|0:0|DeadLine|00:00:00|01:00:00||4G|4||00:00:00|None assigned|2026-01-01T00:00:00|Unknown|2026-01-01T00:05:00');
    expect(stateWords(dl)).toMatchObject({ words: 'missed its deadline (--deadline): SLURM ended it', severity: 'failure' });
  });

  it('cancelled while pending (hand-written): "before it started"', () => {
    const o = handWritten(`9006|9006|x|alice|cpu|CANCELLED by ${UID}|0:0|0:0|None|00:00:00|01:00:00||4G|4||00:00:00|None assigned|2026-01-01T00:00:00|Unknown|2026-01-01T00:05:00`);
    expect(stateWords(o).words).toBe(`cancelled by ${USER} before it started`);
  });

  it('REQUEUED is not final (hand-written)', () => {
    const r = parseSacct(`${HEADER}\n9007|9007|x|alice|cpu|REQUEUED|0:0|0:0|None|00:01:00|01:00:00||4G|4||00:00:00|cn1|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T00:01:01\n`);
    expect(outcomeFromSacct(r.jobs.get('9007')!, ctx)).toBeNull();
  });

  it('a script that exits 0 after a failed srun step: completed, but DerivedExitCode says a step failed (hand-written)', () => {
    const o = handWritten('9008|9008|x|alice|cpu|COMPLETED|0:0|2:0|None|00:10:00|01:00:00||4G|1|cpu=1,mem=4G,node=1|00:09:00|cn1|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T00:10:01');
    expect(o.derived_exit_code).toBe(2);
    expect(stateWords(o)).toMatchObject({ words: 'completed (exit 0), but a step failed: DerivedExitCode 2', severity: 'warning' });
  });

  it('exit 137 from the script: the 128+9 gloss (hand-written)', () => {
    const o = handWritten('9009|9009|x|alice|cpu|FAILED|137:0|0:0|NonZeroExitCode|00:10:00|01:00:00||4G|1|cpu=1,mem=4G,node=1|00:09:00|cn1|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T00:10:01');
    expect(stateWords(o).words).toBe('failed with exit code 137 (128+9: SIGKILL) — likely out of memory');
  });
});

describe('efficiencyHints (hand-written long jobs)', () => {
  const long = (over: string) =>
    handWritten(`9100|9100|train|alice|cpu|${over}|0:0|None|02:00:00|04:00:00||64G|8|cpu=8,mem=64G,node=1|00:57:36|cn1|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T02:00:01`,
      '9100.batch|9100.batch|batch|||COMPLETED|0:0|||02:00:00||1.9G||8|cpu=8,mem=64G,node=1|00:57:36|cn1|2026-01-01T00:00:01|2026-01-01T00:00:01|2026-01-01T02:00:01');

  it('2 h, 1.9 of 64 GiB, 8 cores at 6 %: both said, with the figures', () => {
    const o = long('COMPLETED|0:0');
    expect(o.cpu_efficiency).toBeCloseTo(0.06, 5); // 57:36 of CPU over 2 h × 8
    expect(efficiencyHints(o)).toEqual([
      'used 3 % of the 64 GiB memory requested (peak 1.9 GiB): ask for less with --mem and it may start sooner',
      'CPU efficiency 6 % of 8 cores (about 0.5 busy over 2h 00m): ask for fewer with --cpus-per-task, or check that the program uses them',
    ]);
  });

  it('a job that failed after 2 h is judged too; one that failed in its first minutes is not', () => {
    expect(efficiencyHints(long('FAILED|1:0'))).toHaveLength(2);
    const early = handWritten('9101|9101|train|alice|cpu|FAILED|1:0|0:0|None|00:05:00|04:00:00||64G|8|cpu=8,mem=64G,node=1|00:00:05|cn1|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T00:05:01',
      '9101.batch|9101.batch|batch|||FAILED|1:0|||00:05:00||100M||8|cpu=8,mem=64G,node=1|00:00:05|cn1|2026-01-01T00:00:01|2026-01-01T00:00:01|2026-01-01T00:05:01');
    expect(efficiencyHints(early)).toEqual([]);
  });

  it('a default-sized request, one core, or a well-used job: nothing to say', () => {
    const small = handWritten('9102|9102|x|alice|cpu|COMPLETED|0:0|0:0|None|02:00:00|04:00:00||1G|1|cpu=1,mem=1G,node=1|00:10:00|cn1|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T02:00:01',
      '9102.batch|9102.batch|batch|||COMPLETED|0:0|||02:00:00||10M||1|cpu=1,mem=1G,node=1|00:10:00|cn1|2026-01-01T00:00:01|2026-01-01T00:00:01|2026-01-01T02:00:01');
    expect(efficiencyHints(small)).toEqual([]);
    const busy = handWritten('9103|9103|x|alice|cpu|COMPLETED|0:0|0:0|None|02:00:00|04:00:00||8G|4|cpu=4,mem=8G,node=1|07:30:00|cn1|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T02:00:01',
      '9103.batch|9103.batch|batch|||COMPLETED|0:0|||02:00:00||6G||4|cpu=4,mem=8G,node=1|07:30:00|cn1|2026-01-01T00:00:01|2026-01-01T00:00:01|2026-01-01T02:00:01');
    expect(efficiencyHints(busy)).toEqual([]);
  });

  it('arrays: judged per task over the tasks that completed', () => {
    const a = arrayOutcome('9', [0, 1, 2].map((i) => ({ ...long('COMPLETED|0:0'), task_id: i })), 3);
    const hints = efficiencyHints(a);
    expect(hints).toHaveLength(2);
    expect(hints[0]).toMatch(/^used 3 % of the 64 GiB memory requested per task/);
    expect(hints[1]).toMatch(/^CPU efficiency 6 % of 8 cores per task/);
  });
});

describe('unknownOutcome', () => {
  it('the record never came: UNKNOWN, exit unknown, what squeue last said kept', () => {
    const o = unknownOutcome('45', 'no final record from sacct', { node_list: 'gpu[01-02]', partition: 'gpu', elapsed_seconds: 600, state: 'RUNNING', success: true });
    expect(o).toMatchObject({ job_id: '45', source: 'none', state: 'UNKNOWN', success: false, exit_code: null, signal: null, node_list: 'gpu[01-02]', partition: 'gpu', reason: 'no final record from sacct' });
    expect(stateWords(o)).toEqual({ words: 'ended, but SLURM’s final record never came: state unknown (no final record from sacct)', severity: 'warning', verb: 'ended' });
    expect(endFacts(o)).toEqual({ exit: null, signal: null, exit_unknown: true, wall_seconds: 600, cpu_seconds: null, peak_rss_bytes: null });
    expect(endFacts(unknownOutcome('46', 'x')).wall_seconds).toBe(0);
  });
});

describe('plain JSON', () => {
  it('every outcome survives JSON unchanged (what data.slurm and extra_json carry)', () => {
    for (const id of [ids.ok, ids.exit3, ids.timeout, ids.cancel_admin, ids.sigkill]) {
      const o = fromSacct(id);
      expect(JSON.parse(JSON.stringify(o))).toEqual(o);
    }
    const a = arrayOutcome(ids.array, arrayTasks(sacct, Number(ids.array)).map((t) => ({ ...outcomeFromSacct(t, ctx)!, task_id: t.array_task_id! })), 4);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });
});

describe('slurmDuration', () => {
  it.each([
    [0, '0:00:00'],
    [60, '0:01:00'],
    [3672, '1:01:12'],
    [2 * 86400, '2-00:00:00'],
    [93784, '1-02:03:04'],
    [-1, '?'],
  ])('%s s → %s', (s, text) => expect(slurmDuration(s)).toBe(text));
});

describe('taskOutputPath', () => {
  const base = { jobId: 126, arrayJobId: 125, arrayTaskId: 0, jobName: 'arr', user: 'alice', nodeName: 'vm', workDir: '/home/alice/proj' };

  it('expands the registered patterns for one task once the node is known', () => {
    expect(taskOutputPath('/home/alice/proj/slurm-%A_%a.out', base)).toBe('/home/alice/proj/slurm-125_0.out');
    expect(taskOutputPath('/home/alice/proj/logs/%x-%j-%N.err', base)).toBe('/home/alice/proj/logs/arr-126-vm.err');
    expect(taskOutputPath('/scratch/%u/%3a.log', base)).toBe('/scratch/alice/000.log');
    expect(taskOutputPath('slurm-%j.out', { ...base, arrayTaskId: null, arrayJobId: undefined, jobId: 45 })).toBe('/home/alice/proj/slurm-45.out');
    expect(taskOutputPath('/dev/null', base)).toBe('/dev/null');
  });

  it('null when a value is still unknown, or no pattern', () => {
    expect(taskOutputPath('/home/alice/%x-%N.out', { ...base, nodeName: undefined })).toBeNull();
    expect(taskOutputPath('/home/alice/%r.out', base)).toBeNull(); // restarts unknown: never guessed
    expect(taskOutputPath(null, base)).toBeNull();
  });
});

describe('a job whose output directory does not exist (seen on the real 22.05: FAILED 0:53 at once)', () => {
  it('says the output file could not be opened, not "killed by signal 53"', () => {
    const header = 'JobID|JobIDRaw|JobName|User|Partition|State|ExitCode|DerivedExitCode|Reason|Elapsed|Timelimit|MaxRSS|ReqMem|AllocCPUS|AllocTRES|TotalCPU|NodeList|Submit|Start|End';
    // The job line as sacct printed it for `sbatch -o logs/%x-%j.out` with no logs/ directory.
    const line = '1346|1346|three|root|debug|FAILED|0:53|0:0|None|00:00:00|UNLIMITED||1G|1|billing=1,cpu=1,mem=1G,node=1|00:00:00|vm|2026-11-21T17:14:08|2026-11-21T17:14:09|2026-11-21T17:14:09';
    const job = parseSacct(`${header}\n${line}\n`).jobs.get('1346')!;
    const o = outcomeFromSacct(job)!;
    expect(o.state).toBe('FAILED');
    const w = stateWords(o);
    expect(w.words).toMatch(/could not open its output or error file/);
    expect(w.words).toMatch(/directory/);
    expect(w.severity).toBe('failure');
  });
});
