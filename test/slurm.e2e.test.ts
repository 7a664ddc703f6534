// flurm on a REAL one-node SLURM (.ci/run starts it with ../shared/reference/slurm): jobs are
// submitted with `flurm submit`, the hub's one poller follows them through squeue and sacct, and
// each ends in the right message at a local webhook sink — success, `exit 3`, a time limit hit,
// `scancel`, an array with mixed results — exactly once, also across a hub killed with -9.
// Then a slurmctld that stops answering (a squeue in front of the real one that fails on
// demand): one lab alert, not one per job, doctor names it, and jobs that ended meanwhile are
// told once it answers again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { hubHealth, hubJobs, makeLab, runFlurm, startHub, waitForQuiet, waitUntil, type HubProc, type Lab } from './support/lab.js';
import { startFakeServices, type FakeServices, type ReceivedRequest } from './support/fake-services.js';
import { findExecutable } from '../src/lib/exec.js';

const SQUEUE = findExecutable('squeue');
const hasSlurm = (() => {
  if (!SQUEUE) return false;
  try {
    execFileSync('sinfo', ['-h'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(async () => {
  await fake?.close();
});

interface Body {
  title: string;
  severity: string;
  summary?: string;
  fields?: { name: string; value: string }[];
  data?: { slurm?: SlurmData; alert?: { kind: string }; task_message?: { task_id: number } };
}
/** data.slurm of a job-end message: one job's outcome, or an array's (with `tasks`). */
interface SlurmData {
  job_id?: string;
  array_job_id?: string | number | null;
  tasks?: { task_id: number }[];
  failed_task_ids?: number[];
}
/** The Message inside the JSON destination's envelope ({version, …, message}). */
const body = (r: ReceivedRequest) => ((r.body as { message?: Body }).message ?? (r.body as Body));
const textOf = (r: ReceivedRequest) => JSON.stringify(r.body);
const slurmOf = (r: ReceivedRequest): SlurmData | undefined => (r.path === '/hook/me' ? body(r).data?.slurm : undefined);
/** The end message of the (non-array) SLURM job `id`: its data.slurm.job_id is exactly `id`. */
const endOf = (id: string) => (r: ReceivedRequest) => {
  const s = slurmOf(r);
  return s !== undefined && !body(r).data?.task_message && !Array.isArray(s.tasks) && s.job_id === id;
};
/** The one summary message of array `id`, once every task has ended. */
const arrayEndOf = (id: string) => (r: ReceivedRequest) => {
  const s = slurmOf(r);
  return s !== undefined && !body(r).data?.task_message && Array.isArray(s.tasks) && String(s.array_job_id) === id;
};
/** A failed task's own message while array `id` still runs. */
const taskMessageOf = (id: string) => (r: ReceivedRequest) => {
  const s = slurmOf(r);
  return s !== undefined && body(r).data?.task_message !== undefined && String(s.array_job_id) === id;
};
/** SLURM's own word (the real sacct, not the hub's) on these jobs: id → State. */
function sacctStates(ids: string[]): Map<string, string> {
  const out = execFileSync('sacct', ['-n', '-X', '-P', '-j', ids.join(','), '-o', 'JobID,State'], { encoding: 'utf8', timeout: 10_000 });
  return new Map(out.trim().split('\n').filter(Boolean).map((l) => l.split('|') as [string, string]));
}

/** The job id `flurm submit --parsable` printed ("42" or "42;cluster"). */
function jobIdOf(stdout: string): string {
  const id = stdout.trim().split(';')[0]!;
  expect(id).toMatch(/^\d+$/);
  return id;
}

describe.skipIf(!hasSlurm)('a real SLURM: flurm submit, the hub poller, final states', () => {
  let lab: Lab;
  let hub: HubProc | null = null;
  const submitted: string[] = [];

  afterEach(async () => {
    if (submitted.length) {
      try {
        execFileSync('scancel', submitted.splice(0), { stdio: 'ignore' });
      } catch {
        /* already ended */
      }
    }
    await hub?.stop();
    hub = null;
    lab?.cleanup();
    fake.reset();
  });

  const slurmCfg = (extra = '') => `enabled = true\npoll_interval_seconds = 1\nsinfo_interval_seconds = 5\n${extra}`;

  it('success, exit 3, scancel, an array with a failed task and a time limit each end in one right message, across a hub kill -9', async () => {
    lab = makeLab('flurm-slurm-');
    const me = lab.home('me');
    const work = path.join(me.home, 'proj');
    fs.mkdirSync(work, { recursive: true });
    fs.chmodSync(me.home, 0o755);
    const hook = fake.jsonUrl('/hook/me');
    const config = lab.hubConfig({ slurm: slurmCfg(), extra: `[delivery]\nbackoff_base_seconds = 0.2\n[[routes]]\non = ["all"]\nto = ["${hook}"]\n` });
    hub = await startHub(config);
    const env = me.env;

    const submit = async (...args: string[]) => {
      const r = await runFlurm(['submit', ...args], { env, cwd: work });
      expect(r.code, r.stderr).toBe(0);
      const id = jobIdOf(r.stdout);
      submitted.push(id);
      return id;
    };

    fs.mkdirSync(path.join(work, 'logs'), { recursive: true });
    const ok = await submit('-t', 'ok-job', '--', '--parsable', '-J', 'okname', '--wrap', 'echo all good');
    const three = await submit('-t', 'exit-three', '--', '--parsable', '-o', 'logs/%x-%j.out', '-J', 'three', '--wrap', 'echo "ValueError: learning rate must be positive" >&2; exit 3');
    const arr = await submit('-t', 'sweep', '--', '--parsable', '-a', '0-3', '-o', 'arr-%A_%a.out', '--wrap', 'if [ "$SLURM_ARRAY_TASK_ID" = 2 ]; then echo "task two broke" >&2; exit 4; fi; echo fine');
    const victim = await submit('-t', 'to-cancel', '--', '--parsable', '--wrap', 'sleep 600');
    // The classic mistake: an --output directory that does not exist. flurm warns at submit time,
    // SLURM fails the job at once (0:53), and the message says why instead of "signal 53".
    const nodir = await runFlurm(['submit', '-t', 'no-dir', '--', '--parsable', '-o', 'missing/%j.out', '--wrap', 'true'], { env, cwd: work });
    expect(nodir.code, nodir.stderr).toBe(0);
    expect(nodir.stderr).toMatch(/missing does not exist, and SLURM does not create it/);
    const nodirId = jobIdOf(nodir.stdout);
    submitted.push(nodirId);

    const okMsg = await fake.waitFor(endOf(ok), 120_000);
    expect(body(okMsg).severity).toBe('success');
    expect(body(okMsg).title).toContain('ok-job');
    expect(textOf(okMsg)).toContain('COMPLETED');

    const nodirMsg = await fake.waitFor(endOf(nodirId), 120_000);
    expect(body(nodirMsg).severity).toBe('failure');
    expect(textOf(nodirMsg)).toMatch(/could not open its output or error file/);

    const threeMsg = await fake.waitFor(endOf(three), 120_000);
    expect(body(threeMsg).severity).toBe('failure');
    expect(textOf(threeMsg)).toMatch(/exit code 3/);
    // The diagnosis comes from the tail of the job's own output file (-o logs/%x-%j.out).
    expect(textOf(threeMsg)).toContain('ValueError: learning rate must be positive');

    const arrMsg = await fake.waitFor(arrayEndOf(arr), 180_000);
    expect(body(arrMsg).severity).toBe('failure');
    expect(body(arrMsg).title).toBe(`✗ sweep array ${arr}: 1 of 4 tasks failed`);
    expect(textOf(arrMsg)).toContain('1 of 4 tasks failed (3 COMPLETED, 1 FAILED)');
    expect(body(arrMsg).data!.slurm!.failed_task_ids).toEqual([2]);

    // Cancel the sleeper once it runs: "cancelled by root".
    await waitUntil(() => execFileSync('squeue', ['-h', '-j', victim, '-o', '%T'], { encoding: 'utf8' }).trim() === 'RUNNING', 120_000, 'the sleeper running');
    execFileSync('scancel', [victim]);
    const cancelMsg = await fake.waitFor(endOf(victim), 60_000);
    expect(textOf(cancelMsg)).toMatch(/cancelled by root/i);
    expect(body(cancelMsg).severity).toBe('warning'); // someone else's scancel (root's), not the owner's

    // A time limit of one minute: SLURM kills it late (~80 s). The hub is killed -9 while it
    // runs and a new hub on the same index takes over the job: one message, no daemon to recover.
    const slow = await submit('-t', 'too-slow', '--', '--parsable', '--time', '0:01', '--wrap', 'echo started; sleep 600');
    await waitUntil(() => execFileSync('squeue', ['-h', '-j', slow, '-o', '%T'], { encoding: 'utf8' }).trim() === 'RUNNING', 120_000, 'the slow job running');
    hub.child.kill('SIGKILL');
    await hub.exited;
    hub = await startHub(config);
    const slowMsg = await fake.waitFor(endOf(slow), 240_000);
    expect(textOf(slowMsg)).toMatch(/time limit/i);
    expect(body(slowMsg).severity).toBe('failure');

    // Exactly once each: asked when the hub follows no SLURM job any more (watching 0), every job
    // is ended in its index and nothing is left in its outbox.
    const quiet = await waitForQuiet(hub, {
      ended: ['ok-job', 'exit-three', 'sweep', 'to-cancel', 'no-dir', 'too-slow'],
      until: (h) => h.slurm.watching === 0,
      timeoutMs: 60_000,
    });
    const ends = fake.received.filter((r) => r.path === '/hook/me');
    for (const id of [ok, nodirId, three, victim, slow]) expect(ends.filter(endOf(id)), `end messages of job ${id}`).toHaveLength(1);
    expect(ends.filter(arrayEndOf(arr))).toHaveLength(1);
    // While the array ran, at most one message of its own for the failed task 2, none for the others.
    const taskMessages = ends.filter(taskMessageOf(arr)).map((r) => body(r).data!.task_message!.task_id);
    expect(taskMessages).toEqual(taskMessages.length ? [2] : []);
    expect(ends).toHaveLength(6 + taskMessages.length);
    expect(quiet.outbox).toEqual({ pending: 0, sent: ends.length, failed: 0 });

    // flurm jobs shows them ended, with SLURM's ids.
    const jobs = await runFlurm(['jobs', '--all', '--json'], { env });
    expect(jobs.code).toBe(0);
    expect(jobs.stdout).toMatch(new RegExp(`"job_id":\\s*"${slow}"`));
    const human = await runFlurm(['jobs', '--all'], { env: { ...env, NO_COLOR: '1' } });
    expect(human.stdout).toContain('too-slow');
  }, 600_000);

  it('a slurmctld that stops answering raises one alert, doctor names it, and jobs are told once it answers', async () => {
    lab = makeLab('flurm-slurm-down-');
    const me = lab.home('me');
    fs.chmodSync(me.home, 0o755);
    // A squeue in front of the real one: fails like an unreachable controller while `down` exists.
    const bin = path.join(lab.root, 'slurm-bin');
    fs.mkdirSync(bin);
    const flag = path.join(lab.root, 'down');
    fs.writeFileSync(
      path.join(bin, 'squeue'),
      `#!/bin/sh\nif [ -e "${flag}" ]; then echo "squeue: error: Unable to contact slurm controller (connect failure)" >&2; exit 1; fi\nexec "${SQUEUE}" "$@"\n`,
      { mode: 0o755 },
    );
    for (const c of ['sacct', 'scontrol', 'sinfo']) fs.symlinkSync(findExecutable(c)!, path.join(bin, c));
    const hook = fake.jsonUrl('/hook/me');
    const labHook = fake.jsonUrl('/hook/lab');
    const config = lab.hubConfig({
      // Alert at the first failed poll, so that the next one (5 s later: the poller backs off 5,
      // 10, 20 s...) shows the alert is not repeated, and the controller is back 10 s after that.
      slurm: slurmCfg(`bin_dir = "${bin}"\ndown_alert_after_seconds = 0`),
      extra: `[alerts]\nto = ["${labHook}"]\n[delivery]\nbackoff_base_seconds = 0.2\n[[routes]]\non = ["all"]\nto = ["${hook}"]\n`,
    });
    hub = await startHub(config);
    const env = me.env;
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const r = await runFlurm(['submit', '-t', `during-outage-${n}`, '--', '--parsable', '--wrap', 'sleep 2'], { env, cwd: me.home });
      expect(r.code, r.stderr).toBe(0);
      ids.push(jobIdOf(r.stdout));
    }
    submitted.push(...ids);
    fs.writeFileSync(flag, '');
    const down = await fake.waitFor((r) => r.path === '/hook/lab' && body(r).data?.alert?.kind === 'slurmctld-down', 60_000);
    expect(body(down).title).toMatch(/SLURM is not answering/);

    const doctor = await runFlurm(['doctor'], { env: { ...env, NO_COLOR: '1' } });
    expect(doctor.stdout + doctor.stderr).toMatch(/slurmctld unreachable/);

    // Jobs end in SLURM while the hub cannot see it (the real sacct says so: the first two, which
    // run side by side on the 2 CPUs), and the hub's squeue fails once more after that: still one
    // alert, no job judged ended, nothing told. (Waiting for the third too would often miss the
    // next failed poll, 5 s later, and cost the following one, 10 s after that.)
    await waitUntil(() => [...sacctStates(ids).values()].filter((st) => st === 'COMPLETED').length >= 2, 60_000, 'two jobs to end in SLURM');
    const failedBefore = (await hubHealth(hub)).slurm.commands!.squeue.failures;
    const quiet = await waitForQuiet(hub, { until: (h) => h.slurm.commands!.squeue.failures > failedBefore, timeoutMs: 60_000, what: 'a failed squeue after two jobs ended' });
    expect(quiet.slurm.consecutive_failures).toBeGreaterThanOrEqual(2);
    const alerts = (kind: string) => fake.received.filter((r) => r.path === '/hook/lab' && body(r).data?.alert?.kind === kind);
    expect(alerts('slurmctld-down')).toHaveLength(1);
    expect(fake.received.filter((r) => r.path === '/hook/me')).toHaveLength(0);
    const jobs = await hubJobs(hub);
    for (const id of ids) expect(jobs.find((j) => j.slurm?.job_id === id), `job ${id} in /api/v1/jobs`).toMatchObject({ endTs: null, state: expect.stringMatching(/^(pending|running)$/) });

    fs.rmSync(flag);
    await fake.waitFor((r) => r.path === '/hook/lab' && body(r).data?.alert?.kind === 'slurmctld-back', 90_000);
    for (const id of ids) {
      const m = await fake.waitFor(endOf(id), 90_000);
      expect(body(m).severity).toBe('success');
    }
    // Once the hub follows nothing any more: one message per job, one alert each way.
    await waitForQuiet(hub, { ended: ['during-outage-1', 'during-outage-2', 'during-outage-3'], until: (h) => h.slurm.watching === 0, timeoutMs: 60_000 });
    for (const id of ids) expect(fake.received.filter(endOf(id)), `end messages of job ${id}`).toHaveLength(1);
    expect(fake.received.filter((r) => r.path === '/hook/me')).toHaveLength(ids.length);
    expect(alerts('slurmctld-down')).toHaveLength(1);
    expect(alerts('slurmctld-back')).toHaveLength(1);
  }, 300_000);
});
