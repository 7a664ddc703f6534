import { describe, expect, it } from 'vitest';
import { captureJobs, slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { parseSacct } from './sacct.js';
import { parseScontrolJob, parseScontrolJobs } from './scontrol.js';
import { JOB_STATES, finalResult, isFinalState, parseJobState, stateFromShortCode } from './states.js';

const ids = captureJobs();
const sacct = parseSacct(slurmFixture('sacct-header.txt'));
/** finalResult from sacct: job line + .batch step, as the poller will call it. */
const fromSacct = (id: string) => {
  const j = sacct.jobs.get(id)!;
  return finalResult(j.job!, j.batch);
};
const fromScontrol = (file: string) => finalResult(parseScontrolJob(slurmFixture(file)));

describe('job states', () => {
  it('final and not final', () => {
    for (const s of ['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']) {
      expect(isFinalState(s), s).toBe(true);
    }
    for (const s of ['PENDING', 'RUNNING', 'SUSPENDED', 'COMPLETING', 'REQUEUED', 'CONFIGURING', 'RESIZING', 'SOMETHING_NEW']) {
      expect(isFinalState(s), s).toBe(false);
    }
  });

  it('CANCELLED by <uid> splits; short codes map back', () => {
    expect(parseJobState('CANCELLED by 1000')).toEqual({ state: 'CANCELLED', by_uid: 1000 });
    expect(parseJobState('TIMEOUT')).toEqual({ state: 'TIMEOUT', by_uid: null });
    expect(parseJobState('CANCELLED+')).toBeNull();
    expect(stateFromShortCode('TO')).toBe('TIMEOUT');
    expect(stateFromShortCode('OOM')).toBe('OUT_OF_MEMORY');
    expect(new Set(Object.values(JOB_STATES).map((s) => s.short)).size).toBe(Object.keys(JOB_STATES).length);
  });
});

describe('finalResult on the captured jobs: sacct (job line + .batch) and scontrol agree', () => {
  it('exit 0: success', () => {
    const want = { state: 'COMPLETED', exit_code: 0, signal: null, success: true, out_of_memory: false, source: 'job' };
    expect(fromSacct(ids.ok)).toMatchObject(want);
    expect(fromScontrol('scontrol-completed.txt')).toMatchObject(want);
  });

  it('exit 3 → exit 3, everywhere', () => {
    const want = { state: 'FAILED', exit_code: 3, signal: null, success: false, source: 'job' };
    expect(fromSacct(ids.exit3)).toMatchObject(want);
    expect(fromScontrol('scontrol-exit3.txt')).toMatchObject(want);
  });

  it('TIMEOUT → signal 15: from the .batch step in sacct (job line 0:0), from ExitCode in scontrol', () => {
    expect(fromSacct(ids.timeout)).toEqual({ state: 'TIMEOUT', cancelled_by_uid: null, exit_code: null, signal: 15, out_of_memory: false, success: false, source: 'batch' });
    expect(fromScontrol('scontrol-timeout.txt')).toMatchObject({ state: 'TIMEOUT', exit_code: null, signal: 15, source: 'job' });
  });

  it('TIMEOUT from sacct -X (no steps): signal unknown rather than a made-up exit 0', () => {
    expect(finalResult(sacct.jobs.get(ids.timeout)!.job!)).toMatchObject({ state: 'TIMEOUT', exit_code: null, signal: null, source: 'none' });
  });

  it('scancel → CANCELLED by the uid that cancelled, signal 15', () => {
    expect(fromSacct(ids.cancel_owner)).toMatchObject({ state: 'CANCELLED', cancelled_by_uid: Number(ids.submit_uid), signal: 15, exit_code: null });
    expect(fromSacct(ids.cancel_admin)).toMatchObject({ state: 'CANCELLED', cancelled_by_uid: 0, signal: 15 });
    // scontrol does not say who cancelled.
    expect(fromScontrol('scontrol-cancelled-owner.txt')).toMatchObject({ state: 'CANCELLED', cancelled_by_uid: null, signal: 15 });
  });

  it('killed by SIGKILL → FAILED, signal 9, no exit code', () => {
    expect(fromSacct(ids.sigkill)).toMatchObject({ state: 'FAILED', exit_code: null, signal: 9, source: 'job' });
    expect(fromScontrol('scontrol-sigkill.txt')).toMatchObject({ state: 'FAILED', exit_code: null, signal: 9 });
  });

  it('array tasks: each its own verdict', () => {
    const tasks = parseScontrolJobs(slurmFixture('scontrol-array.txt')).jobs;
    expect(Object.fromEntries(tasks.map((t) => [t.display_id, finalResult(t)!.exit_code]))).toEqual({
      [`${ids.array}_0`]: 0,
      [`${ids.array}_1`]: 1,
      [`${ids.array}_2`]: 0,
      [`${ids.array}_3`]: 1,
    });
  });

  it('running and pending jobs have no final result', () => {
    expect(fromSacct(ids.running)).toBeNull();
    expect(fromSacct(ids.held)).toBeNull();
    expect(fromScontrol('scontrol-running.txt')).toBeNull();
    expect(fromScontrol('scontrol-pending-held.txt')).toBeNull();
  });
});

describe('finalResult on hand-written forms the capture cluster cannot produce', () => {
  it('OUT_OF_MEMORY 0:125 (SIG_OOM, not a signal) → out_of_memory, no signal (hand-written)', () => {
    expect(finalResult({ state: 'OUT_OF_MEMORY', exit: { code: 0, signal: 125 } }, { state: 'OUT_OF_MEMORY', exit: { code: 0, signal: 125 } })).toEqual({
      state: 'OUT_OF_MEMORY',
      cancelled_by_uid: null,
      exit_code: null,
      signal: null,
      out_of_memory: true,
      success: false,
      source: 'job',
    });
    // 0:125 means out of memory whatever the state says.
    expect(finalResult({ state: 'FAILED', exit: { code: 0, signal: 125 } })).toMatchObject({ out_of_memory: true, signal: null });
  });

  it('NODE_FAIL 0:0 → unknown exit, not "exit 0"; PREEMPTED with .batch 0:15 → signal 15 (hand-written)', () => {
    expect(finalResult({ state: 'NODE_FAIL', exit: { code: 0, signal: 0 } })).toMatchObject({ exit_code: null, signal: null, success: false, source: 'none' });
    expect(finalResult({ state: 'PREEMPTED', exit: { code: 0, signal: 0 } }, { state: 'CANCELLED', exit: { code: 0, signal: 15 } })).toMatchObject({ signal: 15, source: 'batch' });
    expect(finalResult({ state: 'DEADLINE', exit: null })).toMatchObject({ exit_code: null, signal: null, source: 'none' });
  });

  it('a non-zero code with a signal keeps both; COMPLETED 0:0 is success (hand-written)', () => {
    expect(finalResult({ state: 'FAILED', exit: { code: 2, signal: 6 } })).toMatchObject({ exit_code: 2, signal: 6 });
    expect(finalResult({ state: 'COMPLETED', exit: { code: 0, signal: 0 } })).toMatchObject({ success: true, exit_code: 0 });
    expect(finalResult({ state: null, exit: null })).toBeNull();
  });
});
