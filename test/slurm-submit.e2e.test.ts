// `flurm submit` and `flurm watch --slurm`, the built CLI run as a real process:
//  1. with a stand-in sbatch ($FLURM_SBATCH, a shell script that records its argv and prints
//     sbatch's real answers from test/fixtures/slurm/): runs everywhere;
//  2. with the REAL sbatch/scontrol/squeue when a SLURM cluster answers here (skipped otherwise):
//     output passes through, `jid=$(flurm submit --parsable …)`, exactly one valid `slurm` event
//     whose patterns give what SLURM itself says, sbatch's failures, and `watch --slurm` on a job
//     submitted with plain sbatch. Jobs are submitted held (-H) and cancelled at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FLURM, makeLab, runFlurm, type Lab } from './support/lab.js';
import { slurmFixture } from './fixtures/slurm/fixtures.js';
import { parseEventLine } from '../src/spool/validate.js';
import { expandOutputPattern } from '../src/schedulers/slurm/output-path.js';
import { parseScontrolJobs } from '../src/schedulers/slurm/scontrol.js';
import { parseSqueueStdio, squeueStdioArgs } from '../src/schedulers/slurm/submit.js';
import type { SlurmEvent } from '../src/spool/events.js';

const HOST = 'node1'; // lab.home()'s FLURM_HOST

/** The valid events of a spool (every line must be one). */
function spoolEvents(spool: string): SlurmEvent[] {
  const file = path.join(spool, 'events', `${HOST}.jsonl`);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const p = parseEventLine(l);
      expect(p.kind, `${p.kind === 'event' ? '' : p.reason}: ${l}`).toBe('event');
      return JSON.parse(l) as SlurmEvent;
    });
}

describe('flurm submit with a stand-in sbatch', () => {
  let lab: Lab;
  let home: ReturnType<Lab['home']>;
  let work: string;
  let fake: string;

  beforeAll(() => {
    lab = makeLab('flurm-submit-');
    home = lab.home('alice');
    work = path.join(lab.root, 'work');
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(work, 'job.sh'), '#!/bin/bash\n#SBATCH -J fromscript\n#SBATCH -o logs/%x-%j.out\necho hi\n');
    // Prints $FAKE_OUT / $FAKE_ERR, exits $FAKE_CODE; leaves its argv (NUL-separated), cwd and stdin behind.
    fake = path.join(lab.root, 'sbatch');
    fs.writeFileSync(
      fake,
      `#!/bin/sh\nprintf '%s\\0' "$@" > "$FAKE_LOG.argv"\npwd > "$FAKE_LOG.cwd"\ncat > "$FAKE_LOG.stdin"\nprintf '%s' "$FAKE_OUT"\nprintf '%s' "$FAKE_ERR" >&2\nexit "\${FAKE_CODE:-0}"\n`,
      { mode: 0o755 },
    );
  });
  afterAll(() => lab.cleanup());

  it('warns when the --output directory does not exist (SLURM fails such a job at once, 0:53)', async () => {
    const r = await submit(['--', '-o', 'nosuchdir/%j.out', 'job.sh'], { out: slurmFixture('sbatch-plain.txt') });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/nosuchdir does not exist, and SLURM does not create it: the job will fail as soon as it starts \(exit 0:53\)\. Create it now: mkdir -p /);
    expect(r.events).toHaveLength(1);
  });

  let n = 0;
  async function submit(args: string[], fakeAnswer: { out?: string; err?: string; code?: number }, opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
    const log = path.join(lab.root, `call-${++n}`);
    const spool = path.join(lab.root, `spool-${n}`);
    const env = { ...home.env, FLURM_SPOOL: spool, FLURM_SBATCH: fake, FAKE_LOG: log, FAKE_OUT: fakeAnswer.out ?? '', FAKE_ERR: fakeAnswer.err ?? '', FAKE_CODE: String(fakeAnswer.code ?? 0), ...opts.env };
    const r = await runFlurm(['submit', ...args], { env, cwd: work, input: opts.input });
    const argv = fs.existsSync(`${log}.argv`) ? fs.readFileSync(`${log}.argv`, 'utf8').split('\0').slice(0, -1) : null;
    const stdin = fs.existsSync(`${log}.stdin`) ? fs.readFileSync(`${log}.stdin`, 'utf8') : null;
    const cwd = fs.existsSync(`${log}.cwd`) ? fs.readFileSync(`${log}.cwd`, 'utf8').trim() : null;
    return { ...r, argv, stdin, cwd, events: spoolEvents(spool) };
  }

  it('passes sbatch its arguments untouched, its output through, and registers the job', async () => {
    // job.sh writes to logs/: with the directory there, flurm adds nothing but its one line.
    fs.mkdirSync(path.join(work, 'logs'), { recursive: true });
    const r = await submit(['-t', 'resnet', '--', '-p', 'gpu', '--comment', 'a  b;$(x)', 'job.sh', '--lr', '3'], { out: slurmFixture('sbatch-plain.txt'), err: 'sbatch: warning: a site note\n' });
    expect(r.code).toBe(0);
    expect(r.argv).toEqual(['-p', 'gpu', '--comment', 'a  b;$(x)', 'job.sh', '--lr', '3']);
    expect(r.cwd).toBe(fs.realpathSync(work));
    expect(r.stdout).toBe(slurmFixture('sbatch-plain.txt'));
    const id = /(\d+)/.exec(r.stdout)![1]!;
    expect(r.stderr).toBe(`sbatch: warning: a site note\nflurm: watching job ${id} (output: ${fs.realpathSync(work)}/logs/fromscript-${id}.out)\n`);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({
      type: 'slurm',
      user: expect.any(String),
      host: HOST,
      title: 'resnet',
      cmd: "sbatch -p gpu --comment 'a  b;$(x)' job.sh --lr 3",
      cwd: fs.realpathSync(work),
      output: `${fs.realpathSync(work)}/logs/%x-%j.out`,
      error: null,
      slurm: { job_id: id, cluster: null, name: 'fromscript', partition: 'gpu', array: null, tasks: null },
    });
  });

  it('--parsable: stdout is the id alone, so jid=$(flurm submit --parsable …) works', async () => {
    const log = path.join(lab.root, 'parsable');
    const env = { ...home.env, FLURM_SBATCH: fake, FAKE_LOG: log, FAKE_OUT: '4242;localci\n', FAKE_ERR: '' };
    const r = spawnSync('bash', ['-c', `jid=$("${process.execPath}" "${FLURM}" submit --parsable -M localci job.sh); echo "[$jid]"`], { env, cwd: work, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[4242;localci]\n');
    expect(r.stderr).toMatch(/^flurm: watching job 4242 on cluster localci \(output: /);
    expect(spoolEvents(home.spool).at(-1)!.slurm).toMatchObject({ job_id: '4242', cluster: 'localci' });
  });

  it("sbatch refuses: its message, its exit status, nothing registered", async () => {
    const r = await submit(['-p', 'nosuch', '--wrap', 'true'], { err: slurmFixture('submit/sbatch-bad-partition.txt.stderr'), code: 1 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(slurmFixture('submit/sbatch-bad-partition.txt.stderr'));
    expect(r.events).toEqual([]);
  });

  it('--test-only submits nothing: passed through, "nothing registered"', async () => {
    const r = await submit(['--test-only', '--wrap', 'true'], { err: slurmFixture('submit/sbatch-test-only.txt.stderr') });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(slurmFixture('submit/sbatch-test-only.txt.stderr'));
    expect(r.stderr).toMatch(/flurm: nothing registered \(--test-only/);
    expect(r.events).toEqual([]);
  });

  it('sbatch succeeds without a job id: flurm says it could not register, exit 1', async () => {
    const r = await submit(['job.sh'], { out: 'something else\n' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('something else\n');
    expect(r.stderr).toMatch(/printed no job id.*flurm watch --slurm JOBID/);
    expect(r.events).toEqual([]);
  });

  it('--wait and -Q are refused before sbatch runs', async () => {
    for (const args of [['-W', 'job.sh'], ['--wait', 'job.sh'], ['-Q', 'job.sh']]) {
      const r = await submit(args, { out: '1\n' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.argv, 'sbatch must not run').toBeNull();
      expect(r.stderr).toMatch(args[0] === '-Q' ? /-Q\/--quiet is not supported/ : /--wait .* is not supported/);
    }
  });

  it('-t with a time limit is refused; --hide-command; --to is validated', async () => {
    expect((await submit(['-t', '1:00:00', 'job.sh'], { out: '1\n' })).stderr).toMatch(/looks like a time limit/);
    const hidden = await submit(['--hide-command', '--wrap', 'secret'], { out: '5\n' });
    expect(hidden.events[0]!.cmd).toBeUndefined();
    expect(hidden.events[0]!.slurm.name).toBe('wrap');
    const badTo = await submit(['--to', 'nope://x', 'job.sh'], { out: '6\n' });
    expect(badTo.code).toBe(2);
    expect(badTo.stderr).toContain('--to nope://x');
    expect(badTo.argv).toBeNull();
  });

  it('a script flurm cannot read: sbatch judges; if it accepts, the job is registered with the defaults', async () => {
    const r = await submit(['-p', 'gpu', 'missing.sh'], { out: 'Submitted batch job 77\n' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/flurm: warning: cannot read the batch script \(.*missing\.sh: no such file\)/);
    expect(r.events[0]).toMatchObject({ slurm: { job_id: '77', name: 'missing.sh' }, output: `${fs.realpathSync(work)}/slurm-%j.out` });
  });

  it('a script on standard input goes to sbatch on its stdin, and its #SBATCH lines count', async () => {
    const script = '#!/bin/bash\n#SBATCH -o from-stdin-%j.txt\ntrue\n';
    const r = await submit(['--parsable'], { out: '88\n' }, { input: script });
    expect(r.stdin).toBe(script);
    expect(r.events[0]).toMatchObject({ slurm: { name: 'sbatch' }, output: `${fs.realpathSync(work)}/from-stdin-%j.txt` });
  });

  it('no sbatch: exit 127 with what to do; flurm --help lists submit; flurm submit --help', async () => {
    const r = await runFlurm(['submit', 'job.sh'], { env: { ...home.env, PATH: work, FLURM_SBATCH: '' }, cwd: work });
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/sbatch not found on PATH: run flurm submit on a SLURM login node/);
    expect((await runFlurm(['--help'], { env: home.env })).stdout).toMatch(/submit \[options\] \[--\] \[SBATCH ARGS\.\.\.\] SCRIPT/);
    const help = await runFlurm(['submit', '--help'], { env: home.env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: flurm submit/);
    expect((await runFlurm(['watch', '--help'], { env: home.env })).stdout).toMatch(/flurm watch --slurm \[options\] JOBID/);
  });
});

// ---- the real SLURM --------------------------------------------------------------------------

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 15_000 });
  return r.status === 0;
}
const hasSbatch = works('sbatch', ['--version']) && works('scontrol', ['ping']);
/** Another user to submit as (root only), for the "not your job" refusal. */
const OTHER_USER = process.env.FLURM_E2E_OTHER_USER ?? 'cloudsdk';
const canSubmitAsOther = hasSbatch && process.getuid?.() === 0 && works('id', [OTHER_USER]) && works('runuser', ['-u', OTHER_USER, '--', 'true']);

const REAL = `flurm submit / watch --slurm with the real SLURM${hasSbatch ? '' : ' (skipped: no sbatch on PATH, or scontrol ping fails: no slurmctld answering)'}`;
describe.skipIf(!hasSbatch)(REAL, () => {
  let lab: Lab;
  let home: ReturnType<Lab['home']>;
  let work: string;
  const submitted: string[] = [];

  beforeAll(() => {
    lab = makeLab('flurm-submit-real-');
    home = lab.home('alice');
    work = fs.realpathSync(path.join(lab.root, 'home', 'alice'));
    fs.mkdirSync(path.join(work, 'logs'));
    fs.writeFileSync(path.join(work, 'job.sh'), '#!/bin/bash\n#SBATCH -J e2e-script\n#SBATCH -o logs/%x-%j.out\n#SBATCH -t 5\necho hi\n', { mode: 0o755 });
  });
  afterAll(() => {
    if (submitted.length > 0) spawnSync('scancel', submitted);
    lab.cleanup();
  });

  const flurm = (args: string[], cwd = work) => runFlurm(args, { env: home.env, cwd });
  const scontrol = (id: string) => parseScontrolJobs(spawnSync('scontrol', ['show', 'job', '-o', id], { encoding: 'utf8' }).stdout).jobs;
  const squeueOut = (id: string) => parseSqueueStdio(spawnSync('squeue', squeueStdioArgs(id), { encoding: 'utf8' }).stdout)[0]!;
  const newEvents = (() => {
    let seen = 0;
    return () => {
      const all = spoolEvents(home.spool);
      const fresh = all.slice(seen);
      seen = all.length;
      return fresh;
    };
  })();

  it("plain: sbatch's line passes through; one valid event whose pattern gives scontrol's StdOut", async () => {
    const r = await flurm(['submit', '-t', 'e2e', '--', '-H', 'job.sh', 'arg1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Submitted batch job \d+\n$/);
    const id = /(\d+)/.exec(r.stdout)![1]!;
    submitted.push(id);
    expect(r.stderr).toBe(`flurm: watching job ${id} (output: ${work}/logs/e2e-script-${id}.out)\n`);
    const events = newEvents();
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e).toMatchObject({ type: 'slurm', title: 'e2e', cmd: 'sbatch -H job.sh arg1', cwd: work, output: `${work}/logs/%x-%j.out`, error: null });
    expect(e.slurm).toMatchObject({ job_id: id, name: 'e2e-script', array: null, tasks: null, cluster: null });
    const [rec] = scontrol(id);
    expect(rec!.name).toBe('e2e-script');
    expect(rec!.work_dir).toBe(work);
    expect(expandOutputPattern(e.output!, { jobId: Number(id), arrayTaskId: null, jobName: rec!.name!, user: rec!.user! }).path).toBe(rec!.std_out);
    expect(squeueOut(id).stdout).toBe(e.output);
  });

  it('jid=$(flurm submit --parsable …) is the id alone; an array registers as one unit', async () => {
    const r = spawnSync('bash', ['-c', `jid=$("${process.execPath}" "${FLURM}" submit --parsable -H -a 0-3%2 --wrap true); echo "[$jid]"`], { env: home.env, cwd: work, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const id = /^\[(\d+)(?:;\S+)?\]\n$/.exec(r.stdout)?.[1];
    expect(id, r.stdout).toBeDefined();
    submitted.push(id!);
    const [e] = newEvents();
    expect(e!.slurm).toMatchObject({ job_id: id, array: '0-3%2', tasks: 4, name: 'wrap' });
    expect(e!.output).toBe(`${work}/slurm-%A_%a.out`);
    // The unsplit pending record: task id 4294967294 in scontrol's StdOut, as the pattern gives.
    const meta = scontrol(id!).find((j) => j.array_task_spec !== null)!;
    expect(expandOutputPattern(e!.output!, { jobId: Number(id), arrayJobId: Number(id), arrayTaskId: 4294967294 }).path).toBe(meta.std_out);
  });

  it("a failing sbatch (-p nosuch): sbatch's error, sbatch's exit code, no event", async () => {
    const direct = spawnSync('sbatch', ['-p', 'nosuch', '--wrap', 'true'], { cwd: work, encoding: 'utf8' });
    expect(direct.status).not.toBe(0);
    const r = await flurm(['submit', '-p', 'nosuch', '--wrap', 'true']);
    expect(r.code).toBe(direct.status);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(direct.stderr);
    expect(newEvents()).toEqual([]);
  });

  it('--test-only: nothing submitted, nothing registered', async () => {
    const r = await flurm(['submit', '--test-only', '--wrap', 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^sbatch: Job \d+ to start at /);
    expect(r.stderr).toMatch(/flurm: nothing registered/);
    expect(newEvents()).toEqual([]);
  });

  it('-o/-e/-D and a literal %%: the patterns travel as sbatch stores them', async () => {
    fs.mkdirSync(path.join(work, 'sub'), { recursive: true });
    const r = await flurm(['submit', '--parsable', '-H', '-D', 'sub', '-o', 'o-%x-%j-%%.out', '-e', 'e-%j.err', '--wrap', 'true']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim().split(';')[0]!;
    submitted.push(id);
    const [e] = newEvents();
    expect(e).toMatchObject({ output: `${work}/sub/o-%x-%j-%%.out`, error: `${work}/sub/e-%j.err` });
    expect(squeueOut(id)).toMatchObject({ stdout: e!.output, stderr: e!.error });
  });

  it('watch --slurm on a job submitted with plain sbatch', async () => {
    const s = spawnSync('sbatch', ['--parsable', '-H', '-J', 'plain', '-o', 'w-%x-%j.out', '--wrap', 'true'], { cwd: work, encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    const id = s.stdout.trim().split(';')[0]!;
    submitted.push(id);
    const r = await flurm(['watch', '--slurm', id, '-t', 'later']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`flurm: watching job ${id} (output: ${work}/w-plain-${id}.out)\n`);
    const [e] = newEvents();
    expect(e).toMatchObject({ attached: true, title: 'later', cwd: work, output: `${work}/w-%x-%j.out`, error: null, slurm: { job_id: id, name: 'plain' } });
    expect(e!.cmd).toBeUndefined();
  });

  it('watch --slurm: an unknown job is an error, exit 1; an array task names the array', async () => {
    const r = await flurm(['watch', '--slurm', '3999999']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SLURM does not know job 3999999/);
    const t = await flurm(['watch', '--slurm', '12_3']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/flurm watch --slurm 12/);
    expect(newEvents()).toEqual([]);
  });

  it.skipIf(!canSubmitAsOther)(`watch --slurm refuses another user's job (${OTHER_USER}; root only)`, async () => {
    const s = spawnSync('runuser', ['-u', OTHER_USER, '--', 'sbatch', '--parsable', '-H', '-D', '/tmp', '--wrap', 'true'], { cwd: '/tmp', encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    const id = s.stdout.trim().split(';')[0]!;
    submitted.push(id);
    const r = await flurm(['watch', '--slurm', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`job ${id} belongs to ${OTHER_USER}`);
    expect(newEvents()).toEqual([]);
  });
});
