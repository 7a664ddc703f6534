// The fast path of the CLI: `run`, `notify`, `watch` (and the internal `__detached`), parsed with
// node:util parseArgs (strict) and nothing else, so wrapping a job costs little more than starting
// Node. Each command module is imported only when it runs; the notifier registry only when --to is
// given (to validate the URLs before anything starts). Returns an exit code; errors are thrown as
// UserError (exit 2 for usage) and mapped by cli/index.ts.
import { parseArgs } from 'node:util';
import { UserError } from '../lib/errors.js';
import { TO_MAX_ENTRIES, TO_URL_MAX_CHARS } from '../spool/events.js';

export const RUN_USAGE = `Usage: flurm run [options] [--] CMD [ARGS...]
       flurm run [options] 'SHELL COMMAND LINE'

Run a job and be told when it ends. flurm records the job's start and end in your
spool (exit status, wall and CPU time, peak memory of the whole process tree, last
lines of output) and the hub sends your notifications.

Options:
  -t, --title TITLE   a name for the job in notifications and flurm jobs (default: the
                      script or program it runs: 'python train.py' is train.py)
  -d, --detach        run in the background, in a session of its own: the job survives
                      logout and a dropped SSH connection. Prints the job id and log path.
      --log FILE      append the output to FILE (with -d: the default is
                      ./flurm-<title or job name>-<id>.log)
      --to URL        also notify this destination for this job (repeatable)
  -q, --quiet         print nothing of flurm's own
      --hide-command  do not record the command line (only the title; without one the
                      job is named "job")
  -h, --help          show this help

The first word that is not an option starts the command; '--' makes it explicit.
A single argument with shell syntax ('make && ./train', 'a | b') runs with $SHELL -c
when $SHELL is a POSIX shell (bash, zsh, dash...), else /bin/sh -c.

In the foreground the job's output passes through (and stdin works); Ctrl-C reaches
the job as usual, SIGTERM/SIGHUP sent to flurm are passed on, and flurm exits with
the job's status (128+N when killed by signal N). PYTHONUNBUFFERED=1 is set unless
you set PYTHONUNBUFFERED yourself. To survive logout use -d, not nohup.

Examples:
  flurm run -t resnet -- python train.py --lr 0.1
  flurm run -d 'source venv/bin/activate && python train.py'
`;

export const NOTIFY_USAGE = `Usage: flurm notify [options] MESSAGE...

Send yourself an ad-hoc note (from a script, at a milestone).

Options:
  -t, --title TITLE   a title for the note
      --to URL        send it to this destination too (repeatable)
  -h, --help          show this help

Example:
  flurm notify -t sweep "epoch 10 done, val acc 0.91"
`;

export const WATCH_USAGE = `Usage: flurm watch [options] PID
       flurm watch --slurm [options] JOBID

Be told when a process already running on this host ends (one you started without
flurm). Its exit status cannot be known (it is not flurm's child); wall time is
counted from the process's real start, peak memory while watched.

Runs in the foreground until the process ends (Ctrl-C stops watching, the process
goes on); -d watches in the background and returns at once.

With --slurm, JOBID is a SLURM job of yours submitted with plain sbatch (for an
array, the array's id): flurm asks scontrol and squeue for its name and output
files, registers it with the hub and returns at once; the hub follows the job in
SLURM and notifies you when it ends (see flurm submit --help). SLURM must still
list the job (up to MinJobAge, 5 minutes by default, after it ended).

Options:
  -t, --title TITLE   a name for the job in notifications
  -d, --detach        watch in the background (survives logout)
      --to URL        also notify this destination (repeatable)
  -q, --quiet         print nothing of flurm's own
      --hide-command  do not record the process's command line
      --slurm         JOBID is a SLURM job id, not a process id
      --output FILE   with --slurm: the job's stdout file or sbatch pattern
                      (default: what SLURM says; relative to this directory)
      --error FILE    with --slurm: the same for stderr
  -h, --help          show this help
`;

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

const RUN_OPTIONS: Record<string, OptionSpec> = {
  title: { type: 'string', short: 't' },
  detach: { type: 'boolean', short: 'd' },
  log: { type: 'string' },
  to: { type: 'string', multiple: true },
  quiet: { type: 'boolean', short: 'q' },
  'hide-command': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const NOTIFY_OPTIONS: Record<string, OptionSpec> = {
  title: { type: 'string', short: 't' },
  to: { type: 'string', multiple: true },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
};

const WATCH_OPTIONS: Record<string, OptionSpec> = {
  title: { type: 'string', short: 't' },
  detach: { type: 'boolean', short: 'd' },
  to: { type: 'string', multiple: true },
  quiet: { type: 'boolean', short: 'q' },
  'hide-command': { type: 'boolean' },
  slurm: { type: 'boolean' },
  output: { type: 'string' },
  error: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * `flurm watch --slurm` lives in tsc's ESM output next to the fast bundle and is imported from
 * there, by a specifier esbuild does not follow: the bundle `flurm run` loads stays as it was.
 */
const WATCH_SLURM_MODULE = './commands/watch-slurm.js';

/** The JOBID of `flurm watch --slurm`: digits; an array task ("42_3") is refused with what to do. */
export function parseSlurmJobId(text: string): string {
  const t = text.trim();
  const task = /^(\d+)_(\d+|\[.*\])$/.exec(t);
  if (task) {
    throw new UserError(`watch: ${t} names part of array ${task[1]}: flurm watches an array as one unit; run flurm watch --slurm ${task[1]}`);
  }
  if (!/^\d{1,12}$/.test(t) || Number(t) === 0) throw new UserError(`watch: not a SLURM job id: '${text}' (digits, as sbatch printed it)`);
  return String(Number(t));
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** parseArgs, strict, with its errors turned into UserErrors that name the option. */
function parseStrict(cmd: string, argv: string[], options: Record<string, OptionSpec>): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const msg = (err as Error).message;
    const named = /'([^']+)'/.exec(msg)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UserError(`${cmd}: unknown option '${named ?? msg}' (see flurm ${cmd} --help)`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UserError(`${cmd}: option ${named ?? ''} needs a value (see flurm ${cmd} --help)`.replace('  ', ' '));
    }
    throw new UserError(`${cmd}: ${msg}`);
  }
}

/**
 * Split `flurm run` arguments into flurm's options and the command: the command starts at '--'
 * or at the first word that is not an option or an option's value, so
 * `flurm run -t x python train.py --lr 3` leaves `--lr 3` to the job.
 */
export function splitRunArgv(argv: string[], options: Record<string, OptionSpec> = RUN_OPTIONS): { flags: string[]; command: string[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type === 'string') {
      takesValue.add(`--${name}`);
      if (o.short) takesValue.add(o.short);
    }
  }
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') return { flags: argv.slice(0, i), command: argv.slice(i + 1) };
    if (a === '-' || !a.startsWith('-')) break;
    if (a.startsWith('--')) {
      i += !a.includes('=') && takesValue.has(a) ? 2 : 1;
      continue;
    }
    // A group of short options: the first that takes a value takes the rest, or the next word.
    let next = 1;
    for (let j = 1; j < a.length; j++) {
      if (takesValue.has(a[j]!)) {
        if (j === a.length - 1) next = 2;
        break;
      }
    }
    i += next;
  }
  return { flags: argv.slice(0, i), command: argv.slice(i) };
}

/** Validate each --to URL with the notifier registry (imported only now). Throws UserError. */
export async function validateDestinations(urls: string[]): Promise<void> {
  if (urls.length === 0) return;
  // What the hub accepts in an event (spool/validate.ts): more would write an event it refuses.
  if (urls.length > TO_MAX_ENTRIES) throw new UserError(`--to: at most ${TO_MAX_ENTRIES} destinations per job (got ${urls.length})`);
  const long = urls.find((u) => u.length > TO_URL_MAX_CHARS);
  if (long !== undefined) throw new UserError(`--to ${long.slice(0, 60)}…: longer than ${TO_URL_MAX_CHARS} characters`);
  let parseDestination: (url: string) => unknown;
  try {
    ({ parseDestination } = await import('../notifiers/registry.js'));
  } catch (err) {
    throw new UserError(`cannot check --to destinations: the notifier registry failed to load (${(err as Error).message})`, { exitCode: 70, cause: err });
  }
  for (const url of urls) {
    try {
      parseDestination(url);
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`--to ${url}: ${err.message}`, { cause: err });
      throw new UserError(`--to ${url}: ${(err as Error).message}`, { cause: err });
    }
  }
}

function str(v: Values[string]): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function print(text: string): void {
  try {
    process.stdout.write(text);
  } catch {
    /* closed */
  }
}

export async function runFastCommand(cmd: string, argv: string[]): Promise<number> {
  switch (cmd) {
    case 'run': {
      const { flags, command } = splitRunArgv(argv);
      const { values, positionals } = parseStrict('run', flags, RUN_OPTIONS);
      if (values.help) return print(RUN_USAGE), 0;
      const opts = {
        command: [...positionals, ...command],
        title: str(values.title),
        detach: values.detach === true,
        log: str(values.log),
        to: (values.to as string[] | undefined) ?? [],
        quiet: values.quiet === true,
        hideCommand: values['hide-command'] === true,
      };
      if (opts.command.length === 0) throw new UserError('run: no command given (flurm run [options] -- CMD [ARGS...]; see flurm run --help)');
      await validateDestinations(opts.to);
      const m = await import('./commands/run.js');
      return m.run(opts);
    }
    case 'notify': {
      const { values, positionals } = parseStrict('notify', argv, NOTIFY_OPTIONS);
      if (values.help) return print(NOTIFY_USAGE), 0;
      const message = positionals.join(' ').trim();
      if (!message) throw new UserError('notify: no message given (flurm notify [-t TITLE] MESSAGE)');
      const to = (values.to as string[] | undefined) ?? [];
      await validateDestinations(to);
      const m = await import('./commands/notify.js');
      return m.run({ message, title: str(values.title), to, quiet: values.quiet === true });
    }
    case 'watch': {
      const { values, positionals } = parseStrict('watch', argv, WATCH_OPTIONS);
      if (values.help) return print(WATCH_USAGE), 0;
      if (values.slurm) {
        if (positionals.length !== 1) throw new UserError('watch: give exactly one SLURM job id (flurm watch --slurm [options] JOBID)');
        if (values.detach) throw new UserError('watch: --detach does not go with --slurm: flurm watch --slurm returns at once, the hub follows the job');
        const jobId = parseSlurmJobId(positionals[0]!);
        const to = (values.to as string[] | undefined) ?? [];
        await validateDestinations(to);
        const m = (await import(WATCH_SLURM_MODULE)) as typeof import('./commands/watch-slurm.js');
        return m.run({ jobId, output: str(values.output), error: str(values.error), title: str(values.title), to, quiet: values.quiet === true });
      }
      if (values.output !== undefined || values.error !== undefined) throw new UserError('watch: --output and --error go with --slurm (flurm watch --slurm JOBID --output FILE)');
      if (positionals.length !== 1) throw new UserError('watch: give exactly one PID (flurm watch [options] PID)');
      const pid = Number(positionals[0]);
      if (!/^\d+$/.test(positionals[0]!) || !Number.isSafeInteger(pid) || pid <= 0) throw new UserError(`watch: not a process id: '${positionals[0]}'`);
      const to = (values.to as string[] | undefined) ?? [];
      await validateDestinations(to);
      const m = await import('./commands/watch.js');
      return m.run({ pid, title: str(values.title), to, detach: values.detach === true, quiet: values.quiet === true, hideCommand: values['hide-command'] === true });
    }
    case '__detached': {
      // The detached watcher (run -d, watch -d): its spec comes in the environment.
      const { takeDetachedSpec } = await import('../schedulers/local/detach.js');
      const { kind, spec } = takeDetachedSpec(argv[0], process.env);
      if (kind === 'run') {
        const m = await import('./commands/run.js');
        return m.runDetachedJob(spec as import('./commands/run.js').JobSpec, process.env);
      }
      const m = await import('./commands/watch.js');
      return m.runDetachedWatch(spec as import('./commands/watch.js').WatchSpec, process.env);
    }
    default:
      throw new UserError(`unknown command: ${cmd}`);
  }
}
