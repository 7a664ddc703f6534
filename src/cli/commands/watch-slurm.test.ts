// `flurm watch --slurm` against stand-in scontrol/squeue scripts that print the real captures of
// test/fixtures/slurm/submit/ (so it runs where there is no SLURM), and its argument checks in
// cli/fast-commands.ts. The real thing is in test/slurm-submit.e2e.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SLURM_FIXTURES, slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { UserError } from '../../lib/errors.js';
import { userName } from '../../lib/host.js';
import { parseEventLine } from '../../spool/validate.js';
import { parseSlurmJobId, runFastCommand } from '../fast-commands.js';
import { run } from './watch-slurm.js';

const sub = Object.fromEntries(
  slurmFixture('submit/jobs.txt')
    .trim()
    .split('\n')
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
) as Record<string, string>;
const WORK = sub.work!;
const OWNER_UID = Number(sub.submit_uid);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-watch-slurm-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in command: prints `stdout`, `stderr` and exits with `code`; records that it ran. */
function standIn(name: string, out: { stdout?: string; stderr?: string; code?: number }): string {
  const file = path.join(dir, name);
  const data = path.join(dir, `${name}.data`);
  fs.writeFileSync(`${data}.out`, out.stdout ?? '');
  fs.writeFileSync(`${data}.err`, out.stderr ?? '');
  fs.writeFileSync(file, `#!/bin/sh\necho "$@" >> '${data}.ran'\ncat '${data}.out'\ncat '${data}.err' >&2\nexit ${out.code ?? 0}\n`, { mode: 0o755 });
  return file;
}
const ran = (name: string) => fs.existsSync(path.join(dir, `${name}.data.ran`));
const fixture = (f: string) => slurmFixture(`submit/${f}`);

interface Outcome {
  code: number | null;
  error: UserError | null;
  stderr: string;
  events: Record<string, unknown>[];
}

async function watch(opts: { jobId: string; output?: string; error?: string; title?: string; to?: string[] }, env: NodeJS.ProcessEnv, uid = OWNER_UID): Promise<Outcome> {
  const spool = fs.mkdtempSync(path.join(dir, 'spool-'));
  let stderr = '';
  let code: number | null = null;
  let error: UserError | null = null;
  try {
    code = await run({ to: [], quiet: false, ...opts }, { env: { PATH: process.env.PATH, FLURM_SPOOL: spool, FLURM_HOST: 'login1', ...env }, cwd: '/home/a', uid, stderr: (t) => (stderr += t) });
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    error = err;
  }
  const file = path.join(spool, 'events', 'login1.jsonl');
  const events = fs.existsSync(file)
    ? fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => {
        const p = parseEventLine(l);
        expect(p.kind, l).toBe('event');
        return JSON.parse(l) as Record<string, unknown>;
      })
    : [];
  return { code, error, stderr, events };
}

describe('flurm watch --slurm (stand-in scontrol/squeue printing real captures)', () => {
  it('registers a held job: one attached slurm event, the patterns from squeue', async () => {
    const env = {
      FLURM_SCONTROL: standIn('sc-pat', { stdout: fixture('scontrol-patterns-oneline.txt') }),
      FLURM_SQUEUE: standIn('sq-pat', { stdout: fixture('squeue-stdio-patterns.txt') }),
    };
    const r = await watch({ jobId: sub.patterns!, title: 'held', to: ['ntfy://ntfy.sh/x'] }, env);
    expect(r.error).toBeNull();
    expect(r.code).toBe(0);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({
      type: 'slurm',
      host: 'login1',
      attached: true,
      title: 'held',
      to: ['ntfy://ntfy.sh/x'],
      cwd: WORK,
      slurm: { job_id: sub.patterns, cluster: null, array: null, tasks: null, name: 'pat', partition: 'debug' },
      output: `${WORK}/o-%j-%x-%u-%N-%A-%a-%%-%5j-%q.out`,
      error: `${WORK}/e-%j.err`,
    });
    expect(r.events[0]!.cmd).toBeUndefined();
    expect(r.stderr).toContain(`flurm: watching job ${sub.patterns} (output: ${WORK}/o-${sub.patterns}-pat-`);
    expect(fs.readFileSync(path.join(dir, 'sc-pat.data.ran'), 'utf8').trim()).toBe(`show job -o ${sub.patterns}`);
  });

  it('an array: its spec and task count from scontrol, the default pattern from squeue', async () => {
    const env = {
      FLURM_SCONTROL: standIn('sc-arr', { stdout: fixture('scontrol-array-default-oneline.txt') }),
      FLURM_SQUEUE: standIn('sq-arr', { stdout: fixture('squeue-stdio-array-default.txt') }),
    };
    const r = await watch({ jobId: sub.array_default! }, env);
    expect(r.events[0]).toMatchObject({ slurm: { array: '1-2', tasks: 2, name: 'arrdflt' }, output: `${WORK}/slurm-%A_%a.out`, error: null });
    expect(r.stderr).toContain(`watching array ${sub.array_default} (2 tasks) (output: ${WORK}/slurm-${sub.array_default}_%a.out)`);
  });

  it("another user's job is refused, nothing written", async () => {
    const env = { FLURM_SCONTROL: standIn('sc-other', { stdout: fixture('scontrol-patterns-oneline.txt') }), FLURM_SQUEUE: standIn('sq-other', {}) };
    const r = await watch({ jobId: sub.patterns! }, env, OWNER_UID + 1);
    expect(r.error?.exitCode).toBe(1);
    expect(r.error?.message).toContain(`job ${sub.patterns} belongs to ${sub.submit_user} (uid ${OWNER_UID}), not to you`);
    expect(r.events).toEqual([]);
  });

  it('a job SLURM no longer knows: a clear error, exit 1 (the real stderr of scontrol)', async () => {
    const env = { FLURM_SCONTROL: standIn('sc-gone', { stderr: slurmFixture('scontrol-unknown.txt.stderr'), code: 1 }) };
    const r = await watch({ jobId: '4000000' }, env);
    expect(r.error?.exitCode).toBe(1);
    expect(r.error?.message).toMatch(/SLURM does not know job 4000000 .*MinJobAge/);
    expect(r.events).toEqual([]);
  });

  it('other scontrol failures name the command and its message', async () => {
    const env = { FLURM_SCONTROL: standIn('sc-down', { stderr: 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n', code: 1 }) };
    const r = await watch({ jobId: '5' }, env);
    expect(r.error?.message).toBe('watch: scontrol show job 5 failed (exit status 1): slurm_load_jobs error: Unable to contact slurm controller (connect failure)');
  });

  it('no scontrol: an error naming it, even with --output (flurm must see the job is yours)', async () => {
    const r = await watch({ jobId: '5', output: 'x.out', error: 'y.err' }, { PATH: dir, FLURM_SCONTROL: '' });
    expect(r.error?.exitCode).toBe(1);
    expect(r.error?.message).toMatch(/scontrol not found on PATH.*FLURM_SCONTROL/);
    const r2 = await watch({ jobId: '5' }, { FLURM_SCONTROL: path.join(dir, 'nope') });
    expect(r2.error?.message).toContain(`FLURM_SCONTROL=${path.join(dir, 'nope')} is not an executable file`);
  });

  it('an array task id is refused, naming the array', async () => {
    const recs = slurmFixture('scontrol-array-task.txt');
    const env = { FLURM_SCONTROL: standIn('sc-task', { stdout: recs }) };
    const id = /JobId=(\d+)/.exec(recs)![1]!;
    const arr = /ArrayJobId=(\d+)/.exec(recs)![1]!;
    const r = await watch({ jobId: id }, env);
    expect(r.error?.message).toContain(`flurm watch --slurm ${arr}`);
  });

  it('--output and --error: relative to the current directory, squeue not asked', async () => {
    const env = { FLURM_SCONTROL: standIn('sc-given', { stdout: fixture('scontrol-ran-oneline.txt') }), FLURM_SQUEUE: standIn('sq-given', { code: 3 }) };
    const r = await watch({ jobId: sub.ran!, output: 'logs/%j.out', error: '/abs/%j.err' }, env);
    expect(r.events[0]).toMatchObject({ output: '/home/a/logs/%j.out', error: '/abs/%j.err' });
    expect(ran('sq-given')).toBe(false);
    expect(r.stderr).toMatch(/it has already ended \(COMPLETED\)/);
  });

  it('squeue failing: scontrol\'s paths where they are a pattern; an array that ran gets null and a warning', async () => {
    const plain = await watch(
      { jobId: sub.ran! },
      { FLURM_SCONTROL: standIn('sc-fb', { stdout: fixture('scontrol-ran-oneline.txt') }), FLURM_SQUEUE: standIn('sq-fb', { code: 1, stderr: 'boom\n' }) },
    );
    expect(plain.events[0]).toMatchObject({ output: `${WORK}/ran-${sub.ran}-ran-${sub.submit_user}-%N-%%-%5j.out`, error: null });
    expect(plain.stderr).not.toContain('warning');
    const arr = await watch(
      { jobId: sub.ran_array! },
      { FLURM_SCONTROL: standIn('sc-fb2', { stdout: fixture('scontrol-ran-array-oneline.txt') }), FLURM_SQUEUE: standIn('sq-fb2', { code: 1 }) },
    );
    expect(arr.events[0]).toMatchObject({ output: null, slurm: { array: '0-1', tasks: 2 } });
    expect(arr.stderr).toMatch(/warning: squeue could not say where/);
    expect(arr.stderr).toMatch(/warning: .*give it with --output/);
    // The same with --output given: no guess needed.
    const given = await watch(
      { jobId: sub.ran_array!, output: 'ranarr-%A_%a.out' },
      { FLURM_SCONTROL: standIn('sc-fb3', { stdout: fixture('scontrol-ran-array-oneline.txt') }), FLURM_SQUEUE: standIn('sq-fb3', { code: 1 }) },
    );
    expect(given.events[0]).toMatchObject({ output: '/home/a/ranarr-%A_%a.out' });
  });

  it('every capture of the set registers as a valid event', async () => {
    for (const name of ['patterns', 'array-patterns', 'default', 'array-default', 'chdir', 'ran', 'ran-array']) {
      const role = name.replace('-', '_');
      const env = {
        FLURM_SCONTROL: standIn(`sc-all-${name}`, { stdout: fixture(`scontrol-${name}-oneline.txt`) }),
        FLURM_SQUEUE: standIn(`sq-all-${name}`, { stdout: fixture(`squeue-stdio-${name}.txt`) }),
      };
      const r = await watch({ jobId: sub[role]! }, env);
      expect(r.error, name).toBeNull();
      expect(r.events, name).toHaveLength(1);
    }
    expect(fs.existsSync(path.join(SLURM_FIXTURES, 'submit', 'capture.sh'))).toBe(true);
  });
});

describe('flurm watch --slurm: arguments (cli/fast-commands.ts)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['FLURM_SCONTROL', 'FLURM_SQUEUE', 'FLURM_SPOOL', 'FLURM_HOST']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  async function userError(p: Promise<unknown>): Promise<UserError> {
    try {
      await p;
    } catch (err) {
      if (err instanceof UserError) return err;
      throw err;
    }
    throw new Error('expected a UserError');
  }

  it('JOBID: digits; an array task is refused with what to run instead', () => {
    expect(parseSlurmJobId('42')).toBe('42');
    expect(parseSlurmJobId(' 0042 ')).toBe('42');
    expect(() => parseSlurmJobId('42_3')).toThrow(/42_3 names part of array 42.*flurm watch --slurm 42/);
    expect(() => parseSlurmJobId('42_[0-3%2]')).toThrow(/flurm watch --slurm 42/);
    for (const bad of ['abc', '0', '-1', '42.0', '1234567890123', '']) expect(() => parseSlurmJobId(bad), bad).toThrow(/not a SLURM job id/);
  });

  it('usage errors before anything runs', async () => {
    expect((await userError(runFastCommand('watch', ['--slurm']))).message).toMatch(/exactly one SLURM job id/);
    expect((await userError(runFastCommand('watch', ['--slurm', '1', '2']))).message).toMatch(/exactly one SLURM job id/);
    expect((await userError(runFastCommand('watch', ['--slurm', '-d', '12']))).message).toMatch(/--detach does not go with --slurm/);
    expect((await userError(runFastCommand('watch', ['--output', 'x', '123']))).message).toMatch(/--output and --error go with --slurm/);
    expect((await userError(runFastCommand('watch', ['--slurm', '12_1']))).exitCode).toBe(2);
  });

  it('--slurm reaches watch-slurm.ts (loaded by a specifier the fast bundle does not follow)', async () => {
    const me = userName();
    const uid = process.getuid!();
    const text = fixture('scontrol-default-oneline.txt').replace(/UserId=\S+/, `UserId=${me}(${uid})`);
    const spool = fs.mkdtempSync(path.join(dir, 'spool-'));
    Object.assign(process.env, {
      FLURM_SCONTROL: standIn('sc-fast', { stdout: text }),
      FLURM_SQUEUE: standIn('sq-fast', { stdout: fixture('squeue-stdio-default.txt') }),
      FLURM_SPOOL: spool,
      FLURM_HOST: 'login1',
    });
    expect(await runFastCommand('watch', ['--slurm', '-q', sub.default!])).toBe(0);
    const line = fs.readFileSync(path.join(spool, 'events', 'login1.jsonl'), 'utf8').trim();
    expect(JSON.parse(line)).toMatchObject({ attached: true, slurm: { job_id: sub.default }, output: `${WORK}/slurm-%j.out` });
  });
});
