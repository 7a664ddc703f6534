// `flurm submit [FLURM OPTIONS] [--] [SBATCH ARGS...] SCRIPT [SCRIPT ARGS]`: run sbatch with its
// arguments untouched (no shell), pass its output through as it is, and register the job it
// printed with one `slurm` event in the user's spool; the hub's SLURM poller owns the job from
// there (docs/slurm.md). The reading of the submission (flurm's options, #SBATCH lines, output
// patterns) is pure, in schedulers/slurm/submit.ts; this module does the I/O.
//
// Not parsed by commander (cli/commander-commands.ts hands argv over before it runs): sbatch's
// options would be mangled. stdout carries sbatch's own output only, so
// `jid=$(flurm submit --parsable job.sh)` works as with sbatch; flurm speaks on stderr.
//
// Decisions (docs/slurm.md):
// - sbatch fails → its message and its exit status, nothing registered.
// - sbatch submits nothing (--test-only, --help, --version) → passed through, nothing registered.
// - --wait/-W and -Q/--quiet are refused before anything runs: with --wait sbatch prints the job id
//   only once the job has ended (flurm captures sbatch's output), -Q hides the id altogether.
// - The batch script is read (its head, bounded) for its #SBATCH lines; one flurm cannot read is no
//   error of flurm's — sbatch says what is wrong — and if sbatch accepts it anyway the job is
//   registered with sbatch's default name and output file, with a warning.
// - The spool is created before sbatch runs: an unwritable spool stops the submission, rather
//   than leave a job nobody watches.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExecError, UserError, errorMessage } from '../../lib/errors.js';
import { execCommand, findExecutable, type ExecResult } from '../../lib/exec.js';
import { spoolDir } from '../../lib/host.js';
import { ringHub } from '../../lib/doorbell.js';
import { writerOrigin } from '../../spool/envelope.js';
import { appendEvent, ensureSpool } from '../../spool/writer.js';
import { commandIO, type CommandIO } from '../command-io.js';
import { shellQuote } from '../../schedulers/local/command-line.js';
import { SCAN_LIMIT_CHARS } from '../../schedulers/slurm/sbatch-script.js';
import { parseSbatchOutput, type SbatchSubmission } from '../../schedulers/slurm/sbatch-output.js';
import {
  describePaths,
  missingOutputDirs,
  planSubmission,
  scriptSource,
  slurmEvent,
  splitSubmitCommandLine,
  submitRegistration,
  type ScriptText,
} from '../../schedulers/slurm/submit.js';
import { validateDestinations } from '../fast-commands.js';

export const SUBMIT_USAGE = `Usage: flurm submit [options] [--] [SBATCH OPTIONS...] SCRIPT [ARGS...]
       flurm submit [options] [--] [SBATCH OPTIONS...] --wrap 'COMMAND'

Submit a SLURM batch job with sbatch and be told when it ends. Everything after
flurm's options goes to sbatch exactly as given; sbatch's output passes through
(so jid=$(flurm submit --parsable job.sh) works), and flurm registers the job
with the hub, which follows it in SLURM and sends your notification when it ends
(state, exit code, run time, the last lines of its output file).

Options (before any sbatch option; the first other argument, or '--', ends them):
  -t, --title TITLE   a name for the job in notifications (not sbatch's -t: write
                      --time=..., or put sbatch's options after '--')
      --to URL        also notify this destination for this job (repeatable)
      --hide-command  do not record the sbatch command line
  -h, --help          show this help

flurm reads the job's name and output file the way sbatch does (command line over
SBATCH_* variables over #SBATCH lines). Not supported: --wait (flurm tells you when
the job ends) and -Q/--quiet (it hides the job id). --test-only submits nothing,
so nothing is registered. The sbatch run is $FLURM_SBATCH if set, else sbatch on PATH.

A job submitted with plain sbatch can be registered later: flurm watch --slurm JOBID.

Examples:
  flurm submit -p gpu train.sh --lr 3
  flurm submit -t resnet --to ntfy://ntfy.sh/my-topic -- -p gpu --array=0-9 sweep.sh
  jid=$(flurm submit --parsable job.sh)
`;

/** Most of the batch script read for #SBATCH lines (bytes): SCAN_LIMIT_CHARS characters of UTF-8 at most. */
const SCRIPT_HEAD_BYTES = 4 * (SCAN_LIMIT_CHARS + 1);
/** Largest script taken from standard input (Slurm's own max_script_size is 4 MB by default). */
export const STDIN_SCRIPT_MAX_BYTES = 64 * 1024 * 1024;
/** sbatch normally answers within a second; a busy controller makes it retry for minutes. */
export const SBATCH_TIMEOUT_MS = 15 * 60 * 1000;
const SBATCH_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const ALL_EXIT_CODES = Array.from({ length: 256 }, (_, i) => i);

export interface SubmitDeps extends CommandIO {
  /** The batch script from standard input (sbatch reads it there when no script is given). */
  readStdin: () => string;
  stdinIsTTY: boolean;
  doorbellTimeoutMs: number;
}

/**
 * The head of the batch script (enough for its #SBATCH lines), or why it cannot be read. Not
 * lib/small-file.ts: sbatch follows a symlinked script and takes a script of any size, so flurm
 * must too; only a FIFO or a device is refused (reading one would block or never end).
 */
export function readScriptHead(file: string): ScriptText {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { error: code === 'ENOENT' ? `${file}: no such file` : code === 'EACCES' ? `${file}: permission denied` : `${file}: ${errorMessage(err)}` };
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return { error: `${file} is not a regular file` };
    const buf = Buffer.alloc(SCRIPT_HEAD_BYTES);
    let got = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, got, buf.length - got, null);
      if (n === 0 || (got += n) === buf.length) break;
    }
    return { text: buf.subarray(0, got).toString('utf8').slice(0, SCAN_LIMIT_CHARS + 1) };
  } catch (err) {
    return { error: `${file}: ${errorMessage(err)}` };
  } finally {
    fs.closeSync(fd);
  }
}

/** All of standard input, bounded; a non-blocking stdin is waited on. */
export function readAllStdin(maxBytes = STDIN_SCRIPT_MAX_BYTES): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if (code === 'EOF') break;
      throw new UserError(`submit: cannot read the batch script from standard input: ${errorMessage(err)}`, { cause: err });
    }
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw new UserError(`submit: the batch script on standard input is larger than ${maxBytes} bytes; save it to a file and submit that`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** sbatch, or $FLURM_SBATCH; a clear error when there is none. */
function sbatchExecutable(env: NodeJS.ProcessEnv): string {
  const name = env.FLURM_SBATCH?.trim() || 'sbatch';
  const file = findExecutable(name, env);
  if (!file) {
    throw new UserError(
      env.FLURM_SBATCH?.trim()
        ? `submit: FLURM_SBATCH=${name} is not an executable file`
        : 'submit: sbatch not found on PATH: run flurm submit on a SLURM login node (or set FLURM_SBATCH to the path of sbatch)',
      { exitCode: 127 },
    );
  }
  return file;
}

/** sbatch failed to run at all (not a refusal: those come back as its exit status). */
function sbatchError(err: unknown): UserError {
  if (!(err instanceof ExecError)) return new UserError(`submit: cannot run sbatch: ${errorMessage(err)}`, { exitCode: 1, cause: err });
  const d = err.details;
  const stderr = d.stderr?.trim() ? `\n${d.stderr.trim()}` : '';
  if (d.timedOut) {
    return new UserError(
      `submit: sbatch did not finish within ${SBATCH_TIMEOUT_MS / 60_000} minutes and was stopped; the job may have been submitted: look with squeue --me, and register it with flurm watch --slurm JOBID${stderr}`,
      { exitCode: 1, cause: err },
    );
  }
  if (d.signal) {
    const num = (os.constants.signals as Record<string, number | undefined>)[d.signal];
    return new UserError(`submit: sbatch was killed by ${d.signal}${stderr}`, { exitCode: 128 + (num ?? 0), cause: err });
  }
  return new UserError(`submit: ${err.message}`, { exitCode: 1, cause: err });
}

export async function run(argv: string[], deps: Partial<SubmitDeps> = {}): Promise<number> {
  const { env, cwd, stdout, stderr } = commandIO(deps);
  const stdinIsTTY = deps.stdinIsTTY ?? process.stdin.isTTY === true;

  const cl = splitSubmitCommandLine(argv);
  if (cl.help) {
    stdout(SUBMIT_USAGE);
    return 0;
  }
  const source = scriptSource(cl.sbatchArgv);
  if (source.kind === 'stdin' && stdinIsTTY) {
    throw new UserError('submit: no batch script given (flurm submit [options] [sbatch options] SCRIPT [ARGS], or --wrap \'COMMAND\'; see flurm submit --help)');
  }
  await validateDestinations(cl.to);

  let script: ScriptText = null;
  let input: string | undefined;
  if (source.kind === 'file') {
    script = readScriptHead(path.resolve(cwd, source.path));
  } else if (source.kind === 'stdin') {
    input = (deps.readStdin ?? readAllStdin)();
    script = { text: input.slice(0, SCAN_LIMIT_CHARS + 1) };
  }
  const plan = planSubmission(cl.sbatchArgv, { cwd, env, script });
  if (plan.wait && plan.noJob === null) {
    throw new UserError(
      'submit: --wait (-W, or SBATCH_WAIT) is not supported: sbatch would print the job id only once the job has ended, too late to register it. ' +
        'Leave it out: flurm tells you when the job ends (a script that must block can poll squeue, or use plain sbatch --wait)',
    );
  }
  if (plan.quiet && plan.noJob === null) {
    throw new UserError('submit: -Q/--quiet is not supported: it hides the job id, so flurm could not register the job. Leave it out (--parsable prints the id alone)');
  }

  const sbatch = sbatchExecutable(env);
  const spool = spoolDir(env);
  if (plan.noJob === null) ensureSpool(spool);

  let r: ExecResult;
  try {
    r = await execCommand(sbatch, cl.sbatchArgv, {
      timeoutMs: SBATCH_TIMEOUT_MS,
      maxOutputBytes: SBATCH_MAX_OUTPUT_BYTES,
      okExitCodes: ALL_EXIT_CODES,
      cwd,
      env,
      ...(input !== undefined ? { input } : {}),
    });
  } catch (err) {
    throw sbatchError(err);
  }
  // sbatch's own words first, as the user would see them from sbatch.
  if (r.stderr) stderr(r.stderr);
  if (r.stdout) stdout(r.stdout);
  if (r.exitCode !== 0) return r.exitCode;
  if (plan.noJob !== null) {
    if (plan.noJob.kind === 'test-only') stderr(`flurm: nothing registered (${plan.noJob.why})\n`);
    return 0;
  }

  let submission: SbatchSubmission;
  try {
    submission = parseSbatchOutput(r.stdout);
  } catch {
    stderr(
      'flurm: sbatch succeeded but printed no job id, so flurm could not register the job. ' +
        'If a job was submitted, find its id with squeue --me and register it with flurm watch --slurm JOBID\n',
    );
    return 1;
  }
  for (const w of plan.warnings) stderr(`flurm: warning: ${w}\n`);

  const origin = writerOrigin(env);
  const { user } = origin;
  const id = submission.job_id;
  const event = slurmEvent(submitRegistration(plan, submission, cl.sbatchArgv, cl, cwd), origin);
  try {
    appendEvent(spool, event);
  } catch (err) {
    stderr(`flurm: job ${id} was submitted, but flurm could not register it: ${errorMessage(err)}. Once that is fixed: flurm watch --slurm ${id}\n`);
    return 1;
  }
  await ringHub(env, spool, user, deps.doorbellTimeoutMs ?? 300);
  const where = submission.cluster ? ` on cluster ${submission.cluster}` : '';
  stderr(`flurm: watching job ${id}${where} (${describePaths(plan, { jobId: id, isArray: plan.array !== null, name: plan.name, user })})\n`);
  for (const dir of missingOutputDirs(plan, (d) => fs.existsSync(d))) {
    stderr(`flurm: warning: ${dir} does not exist, and SLURM does not create it: the job will fail as soon as it starts (exit 0:53). Create it now: mkdir -p ${shellQuote(dir)}\n`);
  }
  return 0;
}
