// SLURM job-end messages, built from the real captures (sacct, scontrol, the jobs' output files)
// and checked for what the user reads, then rendered by the Discord and Slack front ends and held
// to those services' documented limits.
import type { APIEmbed } from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import { captureJobs, slurmFixture } from '../../test/fixtures/slurm/fixtures.js';
import { diagnose, loadPatterns } from '../diagnose/diagnose.js';
import { renderDiscord } from '../frontends/discord/render.js';
import { renderSlack } from '../frontends/slack/render.js';
import type { Message } from '../model/message.js';
import { type OutcomeContext, type SlurmOutcome, arrayOutcome, outcomeFromSacct, outcomeFromScontrol, signalName, unknownOutcome } from '../schedulers/slurm/outcome.js';
import { arrayTasks, parseSacct } from '../schedulers/slurm/sacct.js';
import { parseScontrolJob } from '../schedulers/slurm/scontrol.js';
import { boundTail } from '../spool/events.js';
import type { JobView } from '../model/job-view.js';
import { DATA_MAX_TASKS, FAILED_IDS_MAX_CHARS, buildSlurmArrayMessage, buildSlurmJobMessage, buildSlurmTaskMessage, compactTaskIds } from './slurm-message.js';

const ids = captureJobs();
const USER = ids.submit_user;
const WORK = '/tmp/flurm-slurm-capture'; // capture.sh's $WORK
const ctx: OutcomeContext = { userName: (uid) => (uid === Number(ids.submit_uid) ? USER : uid === 0 ? 'root' : null) };
const sacct = parseSacct(slurmFixture('sacct-header.txt'));
const patterns = loadPatterns();

function outcome(id: string): SlurmOutcome {
  const o = outcomeFromSacct(sacct.jobs.get(id)!, ctx);
  if (!o) throw new Error(`job ${id} not final`);
  return o;
}

/** The job row as the poller hands it over after the end was applied (store.finish). */
function view(name: string, over: Partial<JobView> = {}): JobView {
  return {
    id: '01JDSLURM0000000000000000A',
    user: USER,
    host: 'vm',
    state: 'failed',
    title: name,
    cmd: `sbatch -J ${name} job.sh`,
    cwd: WORK,
    log: `${WORK}/slurm-%j.out`,
    startTs: '2026-11-21T16:24:41Z',
    endTs: '2026-11-21T16:26:13Z',
    wallSeconds: 0,
    src: 'slurm',
    slurm: { job_id: '0' },
    ...over,
  };
}

/** A job's tail as the poller reads it, and its diagnoses. */
function tailAndDiagnoses(file: string | null, o: Pick<SlurmOutcome, 'exit_code' | 'signal'>) {
  const lines = file ? slurmFixture(file).split('\n') : [];
  if (lines.at(-1) === '') lines.pop();
  const tail = boundTail(lines);
  return { tail, diagnoses: diagnose({ tail, exit: o.exit_code, signal: o.signal === null ? null : signalName(o.signal) }, patterns) };
}

const field = (m: Message, name: string) => m.fields?.find((f) => f.name === name)?.value;

// ---- the documented limits, asserted one by one (as the front ends' own tests do) ----

function expectWithinDiscordLimits(m: Message): APIEmbed {
  const body = renderDiscord(m);
  expect((body.content ?? '').length).toBeLessThanOrEqual(2000);
  expect(body.embeds).toHaveLength(1);
  const e = body.embeds![0]!;
  expect((e.title ?? '').length).toBeLessThanOrEqual(256);
  expect((e.description ?? '').length).toBeLessThanOrEqual(4096);
  expect((e.fields ?? []).length).toBeLessThanOrEqual(25);
  for (const f of e.fields ?? []) {
    expect(f.name.length).toBeGreaterThan(0);
    expect(f.name.length).toBeLessThanOrEqual(256);
    expect(f.value.length).toBeGreaterThan(0);
    expect(f.value.length).toBeLessThanOrEqual(1024);
  }
  expect((e.footer?.text ?? '').length).toBeLessThanOrEqual(2048);
  const total =
    (e.title ?? '').length +
    (e.description ?? '').length +
    (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0) +
    (e.footer?.text ?? '').length +
    (e.author?.name ?? '').length;
  expect(total).toBeLessThanOrEqual(6000);
  expect(body.allowed_mentions).toEqual({ parse: [] });
  return e;
}

function expectWithinSlackLimits(m: Message): ReturnType<typeof renderSlack> {
  const body = renderSlack(m);
  expect(body.text.length).toBeGreaterThan(0);
  expect(body.text.length).toBeLessThanOrEqual(3000);
  expect(body.blocks.length).toBeLessThanOrEqual(50);
  for (const b of body.blocks) {
    if (b.type === 'header') {
      expect(b.text.text.length).toBeGreaterThan(0);
      expect(b.text.text.length).toBeLessThanOrEqual(150);
    } else if (b.type === 'section') {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
      for (const f of b.fields ?? []) {
        expect(f.text.length).toBeGreaterThan(0);
        expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    } else if (b.type === 'context') {
      expect(b.elements.length).toBeLessThanOrEqual(10);
      for (const el of b.elements) if ('text' in el) expect(el.text.length).toBeLessThanOrEqual(3000);
    }
  }
  return body;
}

describe('buildSlurmJobMessage on the captured jobs', () => {
  it('TIMEOUT: title, the limit in words, facts, the time-limit diagnosis and the tail', () => {
    const o = outcome(ids.timeout);
    const { tail, diagnoses } = tailAndDiagnoses('job-output-timeout.txt', o);
    const m = buildSlurmJobMessage(view('timeout', { tail }), o, diagnoses);
    expect(m.title).toBe(`✗ timeout timed out on vm (SLURM ${ids.timeout})`);
    expect(m.severity).toBe('failure');
    expect(m.summary).toMatch(/^hit its time limit of 0:01:00 \(killed by SIGTERM after 0:01:\d\d\)$/);
    expect(m.fields!.map((f) => f.name)).toEqual(['Host', 'User', 'Result', 'Duration', 'Peak memory', 'CPU time', 'SLURM job', 'Requested', 'Efficiency', 'Command', 'Directory', 'Log']);
    expect(field(m, 'Host')).toBe('vm');
    expect(field(m, 'Duration')).toMatch(/^1m \d\ds$/);
    expect(field(m, 'SLURM job')).toBe(`${ids.timeout} · partition debug`);
    expect(field(m, 'Requested')).toBe('1 CPU · 1 GiB · limit 0:01:00');
    expect(field(m, 'Log')).toBe(`${WORK}/slurm-${ids.timeout}.out`); // %j expanded
    expect(m.diagnosis?.map((d) => d.pattern)).toEqual(['slurm-time-limit']);
    expect(m.diagnosis![0]!.hint).toMatch(/--time/);
    expect(m.logTail?.at(-1)).toMatch(/DUE TO TIME LIMIT \*\*\*$/);
    const slurm = m.data!.slurm as Record<string, unknown>;
    expect(slurm).toMatchObject({ job_id: ids.timeout, state: 'TIMEOUT', signal: 15, exit_code: null, source: 'sacct', severity: 'failure' });
    expect(JSON.parse(JSON.stringify(m.data))).toEqual(m.data);
    expectWithinDiscordLimits(m);
    expectWithinSlackLimits(m);
  });

  it('exit 3, success, SIGKILL: the result a user reads', () => {
    const exit3 = outcome(ids.exit3);
    const { tail } = tailAndDiagnoses('job-output-exit3.txt', exit3);
    const m3 = buildSlurmJobMessage(view('exit3', { tail }), exit3, []);
    expect(m3.title).toBe(`✗ exit3 failed on vm (SLURM ${ids.exit3})`);
    expect(field(m3, 'Result')).toBe('failed with exit code 3');
    expect(m3.logTail).toEqual(['failing']);

    const ok = buildSlurmJobMessage(view('ok', { state: 'succeeded' }), outcome(ids.ok), []);
    expect(ok.title).toBe(`✓ ok completed on vm (SLURM ${ids.ok})`);
    expect(ok.severity).toBe('success');
    expect(field(ok, 'Peak memory')).toBe('6.4 MiB'); // .batch MaxRSS 6572K
    expect(field(ok, 'CPU time')).toMatch(/^3s \(avg 1\.0 core\)$|^\ds \(avg 0\.\d cores\)$/);

    const kill = buildSlurmJobMessage(view('sigkill'), outcome(ids.sigkill), []);
    expect(field(kill, 'Result')).toMatch(/^killed by SIGKILL/);
  });

  it('cancelled by root: a warning that says an administrator did it; by its owner: info', () => {
    const admin = buildSlurmJobMessage(view('cancel-admin'), outcome(ids.cancel_admin), []);
    expect(admin.title).toBe(`⚠ cancel-admin was cancelled on vm (SLURM ${ids.cancel_admin})`);
    expect(admin.summary).toBe('cancelled by root (an administrator)');
    const owner = buildSlurmJobMessage(view('cancel-owner'), outcome(ids.cancel_owner), []);
    expect(owner.title).toBe(`• cancel-owner was cancelled on vm (SLURM ${ids.cancel_owner})`);
    expect(owner.summary).toBe(`cancelled by ${USER}`);
  });

  it('memhog: the efficiency hint about the request it exceeded', () => {
    const m = buildSlurmJobMessage(view('memhog'), outcome(ids.memhog), []);
    expect(field(m, 'Efficiency')).toMatch(/^peak 3\d\d MiB is more than the 50 MiB requested/);
    expect(field(m, 'Requested')).toBe('1 CPU · 50 MiB · limit 0:05:00');
  });

  it('from scontrol (accounting off): no peak memory or CPU time, and the Result says why', () => {
    const o = outcomeFromScontrol(parseScontrolJob(slurmFixture('scontrol-timeout.txt')), ctx)!;
    const m = buildSlurmJobMessage(view('timeout'), o, []);
    expect(field(m, 'Peak memory')).toBeUndefined();
    expect(field(m, 'CPU time')).toBeUndefined();
    expect(field(m, 'Result')).toMatch(/\(record from scontrol: accounting is off, no peak memory or CPU time\)$/);
    expectWithinDiscordLimits(m);
  });

  it('OUT_OF_MEMORY (hand-written record): the --mem advice with the peak and the request', () => {
    const header = slurmFixture('sacct-header.txt').split('\n')[0]!;
    const r = parseSacct(
      [
        header,
        '9001|9001|train|alice|gpu|OUT_OF_MEMORY|0:125|0:0|OutOfMemory|02:03:04|2-00:00:00||16G|8|billing=8,cpu=8,gres/gpu=2,mem=16G,node=1|10:00:00|gpu01|2026-01-01T00:00:00|2026-01-01T00:00:01|2026-01-01T02:03:05',
        '9001.batch|9001.batch|batch|||OUT_OF_MEMORY|0:125|||02:03:04||15.90G||8|cpu=8,gres/gpu=2,mem=16G,node=1|10:00:00|gpu01|2026-01-01T00:00:01|2026-01-01T00:00:01|2026-01-01T02:03:05',
      ].join('\n'),
    );
    const o = outcomeFromSacct(r.jobs.get('9001')!, ctx)!;
    const m = buildSlurmJobMessage(view('train', { host: 'login1', user: 'alice' }), o, [
      { pattern: 'slurm-oom', description: 'SLURM killed the job for exceeding its memory limit', line: 'slurmstepd: error: Detected 1 oom_kill event in StepId=9001.batch.' },
    ]);
    expect(m.title).toBe('✗ train ran out of memory on gpu01 (SLURM 9001)');
    expect(field(m, 'Host')).toBe('gpu01');
    expect(field(m, 'Requested')).toBe('8 CPUs · 16 GiB · 2 GPUs · limit 2-00:00:00');
    expect(field(m, 'Efficiency')).toBe('peak 15.9 GiB of the 16 GiB requested: ask for more with --mem');
    expect(field(m, 'Duration')).toBe('2h 03m');
  });

  it('the record never came: a warning with no made-up duration or node', () => {
    const o = unknownOutcome('45', 'no final record from sacct');
    const m = buildSlurmJobMessage(view('train', { host: 'login1', wallSeconds: 0 }), o, []);
    expect(m.title).toBe('⚠ train ended (SLURM 45)');
    expect(m.summary).toBe('ended, but SLURM’s final record never came: state unknown (no final record from sacct)');
    expect(field(m, 'Duration')).toBeUndefined();
    expect(field(m, 'Host')).toBe('login1');
  });

  it('--hide-command: no command anywhere; the job name still comes from SLURM', () => {
    const m = buildSlurmJobMessage(view('', { title: null, cmd: 'sbatch secret.sh --token abc' }), outcome(ids.exit3), [], { hideCommand: true });
    expect(m.title).toBe(`✗ exit3 failed on vm (SLURM ${ids.exit3})`);
    expect(field(m, 'Command')).toBeUndefined();
    expect(JSON.stringify(m)).not.toContain('secret.sh');
  });
});

describe('buildSlurmArrayMessage', () => {
  const tasks = () => arrayTasks(sacct, Number(ids.array)).map((t) => ({ ...outcomeFromSacct(t, ctx)!, task_id: t.array_task_id! }));

  it('the captured array: counts, failed ids, the first failure, its log file', () => {
    const a = arrayOutcome(ids.array, tasks(), 4);
    const m = buildSlurmArrayMessage(view('arr', { log: `${WORK}/slurm-%A_%a.out`, tail: ['task 1 failing'] }), a, []);
    expect(m.title).toBe(`✗ arr array ${ids.array}: 2 of 4 tasks failed`);
    expect(m.summary).toBe('2 of 4 tasks failed (2 COMPLETED, 2 FAILED)');
    expect(field(m, 'Failed tasks')).toBe('1, 3');
    expect(field(m, 'First failure')).toBe('task 1 on vm: failed with exit code 1');
    expect(field(m, 'SLURM job')).toBe(`${ids.array} · array of 4 · partition debug`);
    expect(field(m, 'Host')).toBe('vm');
    expect(field(m, 'Log')).toBe(`${WORK}/slurm-${ids.array}_1.out`);
    expect(field(m, 'Duration')).toMatch(/^\d+s$/); // first start → last end
    expect(m.logTail).toEqual(['task 1 failing']);
    expect(m.data!.slurm).toMatchObject({ counts: { COMPLETED: 2, FAILED: 2 }, failed_task_ids: [1, 3], tasks_omitted: 0, success: false });
    expectWithinDiscordLimits(m);
    expectWithinSlackLimits(m);
  });

  it('all tasks completed: a success', () => {
    const ok = tasks().filter((t) => t.success).map((t, i) => ({ ...t, task_id: i }));
    const m = buildSlurmArrayMessage(view('arr', { state: 'succeeded' }), arrayOutcome('7', ok, 2), []);
    expect(m.title).toBe('✓ arr array 7: all 2 tasks completed');
    expect(field(m, 'Failed tasks')).toBeUndefined();
  });

  it('1000 tasks, every other one failed, a long tail with backticks: cut, never over a limit', () => {
    const base = tasks();
    const many = Array.from({ length: 1000 }, (_, i) => ({ ...base[i % 2]!, task_id: i, job_id: `77_${i}`, node_list: `node${String(i % 37).padStart(3, '0')}` }));
    const a = arrayOutcome('77', many, 1000);
    expect(a.failed_task_ids).toHaveLength(500);
    const tail = Array.from({ length: 50 }, (_, i) => `line ${i} \`\`\` @everyone <b>${'x'.repeat(400)}`);
    const m = buildSlurmArrayMessage(view('n'.repeat(300), { tail }), a, []);
    const failed = field(m, 'Failed tasks')!;
    expect(failed.length).toBeLessThanOrEqual(FAILED_IDS_MAX_CHARS);
    expect(failed).toMatch(/^1, 3, 5, .* … \(500 tasks\)$/);
    expect(field(m, 'Host')).toBe('node000, node001, node002, node003 +33 more');
    const data = m.data!.slurm as { tasks: unknown[]; tasks_omitted: number };
    expect(data.tasks).toHaveLength(DATA_MAX_TASKS);
    expect(data.tasks_omitted).toBe(1000 - DATA_MAX_TASKS);
    expect(JSON.stringify(m).length).toBeLessThan(200_000);
    const e = expectWithinDiscordLimits(m);
    expect(e.description).toContain(`line 49`);
    expectWithinSlackLimits(m);
  });
});

describe('buildSlurmTaskMessage', () => {
  const task = () => {
    const t = arrayTasks(sacct, Number(ids.array)).find((j) => j.array_task_id === 1)!;
    return { ...outcomeFromSacct(t, ctx)!, task_id: 1 };
  };

  it('a task that failed while the array runs: which of the capped messages this is', () => {
    const running = view('arr', { state: 'running', endTs: null, tail: null, log: `${WORK}/slurm-%A_%a.out` });
    const m = buildSlurmTaskMessage(running, task(), [], { index: 1, cap: 5 }, { tail: ['failing task 1'] });
    expect(m.title).toBe(`✗ arr array ${ids.array}: task 1 failed on vm`);
    expect(m.summary).toBe("task 1 failed with exit code 1 (1 of at most 5 task messages; the array's summary comes at the end)");
    expect(field(m, 'Result')).toBe('failed with exit code 1');
    expect(field(m, 'Log')).toBe(`${WORK}/slurm-${ids.array}_1.out`);
    expect(m.logTail).toEqual(['failing task 1']);
    expect(m.data!.task_message).toEqual({ index: 1, cap: 5, task_id: 1 });
    const last = buildSlurmTaskMessage(running, task(), [], { index: 5, cap: 5 });
    expect(last.summary).toMatch(/\(5 of at most 5 task messages: no more until the array's summary at the end\)$/);
    expectWithinDiscordLimits(m);
    expectWithinSlackLimits(m);
  });
});

describe('compactTaskIds', () => {
  it('runs, and a cut at a comma that says how many', () => {
    expect(compactTaskIds([3, 5, 7, 8, 9])).toBe('3, 5, 7-9');
    expect(compactTaskIds([9, 1, 1, 2])).toBe('1-2, 9');
    const cut = compactTaskIds(Array.from({ length: 100 }, (_, i) => i * 2), 40);
    expect(cut.length).toBeLessThanOrEqual(40);
    expect(cut).toMatch(/^0, 2, 4, .*\d, … \(100 tasks\)$/);
  });
});
