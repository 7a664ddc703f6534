// The one rule that names a job, for every place that shows one: the job-end message's title,
// `flurm jobs` (table and --json), `inspect`, alerts, `/api/v1/jobs` (`name`) and the default log
// file of `flurm run -d`. In order: the --title (also a legacy ~/.pingchilling title); the
// scheduler's own job name (SLURM's JobName); the program or script the command runs, read the way
// a shell would read it — through `sh -c '…'`, wrappers (env, nohup, time, nice, timeout, srun,
// mpirun, torchrun, uv run, conda run…) and interpreters (`python train.py --lr 3` → train.py,
// `python -m pkg.train` → pkg.train), skipping set-up steps (`cd x && source venv/bin/activate &&
// python train.py` → train.py; a shell that runs set-up steps only, `sh -c 'echo hi; exit 3'`, is
// the shell: sh); else "job". A hidden command (--hide-command: no cmd is recorded) is never
// looked at. Pure.
import { truncate } from '../lib/format.js';
import type { JobView } from './job-view.js';

/** Longest job name. */
export const NAME_MAX_CHARS = 80;

export interface JobNameOptions {
  /** Never derive the name from the command (`flurm run --hide-command`). */
  hideCommand?: boolean;
  /** The scheduler's own name for the job (SLURM JobName), when the caller has it; else the job's final SLURM record is asked. */
  schedulerName?: string | null;
}

export type JobNameInput = Pick<JobView, 'title' | 'cmd'> & Partial<Pick<JobView, 'slurm'>>;

/** The name a job goes by wherever it is shown. Never empty. */
export function jobName(job: JobNameInput, opts: JobNameOptions = {}): string {
  const title = clean(job.title);
  if (title) return title;
  const scheduler = clean(opts.schedulerName ?? slurmName(job));
  if (scheduler) return scheduler;
  if (opts.hideCommand || !job.cmd) return 'job';
  return clean(commandName(job.cmd)) || 'job';
}

/** The job with its `name` (what /api/v1/jobs and `flurm jobs --json` carry beside the other fields). */
export function withJobName<T extends JobNameInput>(job: T, opts?: JobNameOptions): T & { name: string } {
  return { ...job, name: jobName(job, opts) };
}

function slurmName(job: JobNameInput): string | null {
  const name = job.slurm?.final?.name;
  return typeof name === 'string' ? name : null;
}

function clean(s: string | null | undefined): string {
  if (typeof s !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  const one = s.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return truncate(one, NAME_MAX_CHARS);
}

// ---- reading a command line ---------------------------------------------------------------------

interface Word {
  text: string;
  /** Holds a parameter or command substitution ($X, $(…), `…`): its value is unknown here. */
  dynamic: boolean;
}

interface Found {
  name: string;
  /** A set-up step (cd, source, export, echo, conda activate…): named only when nothing else is. */
  setup: boolean;
}

/** How deep `sh -c "bash -c '…'"` is followed. */
const MAX_DEPTH = 3;
/** Bounds on what is read (cmd is at most 4000 characters anyway). */
const MAX_INPUT_CHARS = 4000;
const MAX_COMMANDS = 64;

/**
 * The name of the program or script a command line runs (see the module comment); null when it
 * names nothing (only assignments, control words or unknown programs).
 */
export function commandName(cmd: string): string | null {
  // `flurm watch` of a process without a command line records its kernel name: "[python]".
  const comm = /^\[([^\]]+)\]$/.exec(cmd.trim());
  if (comm) return comm[1]!;
  return findProgram(cmd, 0)?.name ?? null;
}

/** The first command that is not a set-up step; else the first command, marked as set-up. */
function findProgram(cmd: string, depth: number): Found | null {
  let first: Found | null = null;
  for (const words of splitCommands(cmd.slice(0, MAX_INPUT_CHARS)).slice(0, MAX_COMMANDS)) {
    const p = pickProgram(words, 0, depth);
    if (!p) continue;
    if (!p.setup) return p;
    first ??= p;
  }
  return first;
}

/**
 * Shell words, grouped into simple commands (split at ; & && || | |& newline and parentheses), with
 * quotes removed, redirections (`> log 2>&1`) and comments dropped. Not a full shell grammar: enough
 * to find the program of each command.
 */
export function splitCommands(src: string): Word[][] {
  const commands: Word[][] = [];
  let words: Word[] = [];
  let cur: string | null = null;
  let dynamic = false;
  let dropNext = false;
  const endWord = () => {
    if (cur === null) return;
    if (dropNext) dropNext = false;
    else words.push({ text: cur, dynamic });
    cur = null;
    dynamic = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  const n = src.length;
  let i = 0;
  // The text up to the `close` that balances src[i - 1]'s opener, quotes respected.
  const balanced = (open: string, close: string): string => {
    let depth = 1;
    const start = i;
    while (i < n && depth > 0) {
      const c = src[i]!;
      if (c === '\\') i++;
      else if (c === "'") i = Math.max(i, src.indexOf("'", i + 1) === -1 ? n : src.indexOf("'", i + 1));
      else if (c === open) depth++;
      else if (c === close) depth--;
      i++;
    }
    return src.slice(start, depth === 0 ? i - 1 : i);
  };
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === '\n' || c === ';' || c === '(' || c === ')') {
      endCommand();
      i++;
    } else if (c === '|') {
      endCommand();
      i += src[i + 1] === '|' || src[i + 1] === '&' ? 2 : 1;
    } else if (c === '&' && src[i + 1] !== '>') {
      endCommand();
      i += src[i + 1] === '&' ? 2 : 1;
    } else if (c === '<' || c === '>' || c === '&') {
      // A redirection: "N>" drops the fd number, "&>" and ">" take a target word, ">&2" does not.
      if (cur !== null && /^\d+$/.test(cur)) cur = null;
      endWord();
      const op = src.startsWith('&>>', i) ? '&>>' : src.startsWith('&>', i) ? '&>' : /^(?:<<<|<<-?|>>|<>|>\||[<>])/.exec(src.slice(i, i + 4))![0];
      i += op.length;
      const fd = (op === '>' || op === '<' || op === '>>') && src[i] === '&' ? /^&(?:\d+-?|-)/.exec(src.slice(i, i + 12)) : null;
      if (fd) i += fd[0].length; // 2>&1, >&-: a duplication, no target word
      else dropNext = true;
      if (src[i] === '(') {
        // Process substitution <(…): a word of unknown value.
        i++;
        balanced('(', ')');
        dropNext = false;
        words.push({ text: '', dynamic: true });
      }
    } else if (c === '#' && cur === null) {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      cur = (cur ?? '') + src.slice(i + 1, end === -1 ? n : end);
      i = end === -1 ? n : end + 1;
    } else if (c === '"') {
      cur ??= '';
      i++;
      while (i < n && src[i] !== '"') {
        const d = src[i]!;
        if (d === '\\' && i + 1 < n && '"\\$`\n'.includes(src[i + 1]!)) {
          if (src[i + 1] !== '\n') cur += src[i + 1];
          i += 2;
          continue;
        }
        if (d === '$' || d === '`') dynamic = true;
        cur += d;
        i++;
      }
      i++;
    } else if (c === '\\') {
      if (src[i + 1] !== '\n' && i + 1 < n) cur = (cur ?? '') + src[i + 1];
      i += 2;
    } else if (c === '$' && src[i + 1] === "'") {
      // ANSI-C quoting: $'…' with \' inside.
      cur ??= '';
      i += 2;
      while (i < n && src[i] !== "'") {
        if (src[i] === '\\' && i + 1 < n) {
          cur += src[i + 1];
          i += 2;
        } else cur += src[i++];
      }
      i++;
    } else if (c === '$' && (src[i + 1] === '(' || src[i + 1] === '{')) {
      const open = src[i + 1]!;
      i += 2;
      cur = (cur ?? '') + '$' + open + balanced(open, open === '(' ? ')' : '}');
      dynamic = true;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      cur = (cur ?? '') + src.slice(i, end === -1 ? n : end + 1);
      i = end === -1 ? n : end + 1;
      dynamic = true;
    } else {
      if (c === '$' && /[A-Za-z_0-9@*#?!$-]/.test(src[i + 1] ?? '')) dynamic = true;
      cur = (cur ?? '') + c;
      i++;
    }
  }
  endCommand();
  return commands;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=/;
/** Words that start a command without being its program. */
const RESERVED = new Set(['!', '{', '}', 'if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'esac']);
/** Commands that run nothing by themselves worth a name (`for x in …`, `case`, function definitions). */
const CONTROL = new Set(['for', 'case', 'select', 'function', 'in', 'coproc']);
/** Set-up steps before the real work: named only when a command line has nothing else. */
const SETUP = new Set([
  'cd', 'pushd', 'popd', 'source', '.', 'export', 'unset', 'set', 'shopt', 'ulimit', 'umask', 'alias', 'eval', 'trap',
  'echo', 'printf', 'true', 'false', ':', 'sleep', 'wait', 'exit', 'return', 'read', 'test', '[', '[[', 'declare',
  'local', 'typeset', 'let', 'module', 'ml', 'activate', 'deactivate', 'mkdir', 'rm', 'cp', 'mv', 'ln', 'touch',
  'chmod', 'date', 'hostname', 'nvidia-smi', 'pip', 'pip3', 'git', 'cat', 'tee', 'ls', 'pwd', 'which', 'whoami',
]);
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ksh93', 'ash', 'yash', 'fish', 'csh', 'tcsh']);
/** `-Xc`-style shell flags that say the next word is a script text. */
const SHELL_INLINE = /^-[A-Za-z]*c[A-Za-z]*$/;

/** A program that runs another program named by its remaining words. */
interface WrapperSpec {
  /** Options followed by this many value words. */
  values?: Readonly<Record<string, number>>;
  /** Long options written without "=" take the next word as their value, unless listed in `flags`. */
  longTakesValue?: boolean;
  flags?: readonly string[];
  /** Words to skip after the options: timeout's DURATION, taskset's mask, flock's lock file. */
  positionals?: number;
  /** Sub-commands that make it a wrapper ("uv run"); any other sub-command is a set-up step ("uv sync"). */
  verbs?: readonly string[];
  /** Options whose value is a whole command line (sbatch --wrap, flock -c). */
  commandOptions?: readonly string[];
}

const v = (arity: number, ...names: string[]): Record<string, number> => Object.fromEntries(names.map((k) => [k, arity]));
const SLURM_VALUES = {
  ...v(1, '-A', '-B', '-C', '-c', '-D', '-d', '-e', '-G', '-i', '-J', '-L', '-M', '-m', '-N', '-n', '-o', '-p', '-q', '-r', '-S', '-T', '-t', '-W', '-w', '-x'),
};
const SLURM_FLAGS = [
  '--pty', '--exclusive', '--overcommit', '--label', '--unbuffered', '--verbose', '--quiet', '--exact', '--overlap', '--no-kill',
  '--kill-on-bad-exit', '--immediate', '--hold', '--oversubscribe', '--contiguous', '--disable-status', '--test-only', '--x11',
  '--spread-job', '--use-min-nodes', '--preserve-env', '--help', '--usage', '--version', '--requeue', '--no-requeue', '--parsable',
  '--wait', '--ignore-pbs', '--get-user-env', '--multi-prog', '--nice', '--propagate', '--open-mode',
];
const LAUNCHER_FLAGS = [
  '--standalone', '--no-python', '--no_python', '--run-path', '--run_path', '-m', '--module', '--multi_gpu', '--cpu', '--use_cpu',
  '--use_deepspeed', '--use_fsdp', '--use_megatron_lm', '--tpu', '--debug', '--quiet', '-q', '--no_local_rank', '--force_multi',
  '--elastic_training', '--bind_cores_to_rank', '--no_ssh', '--save_pid', '--same_network', '--dynamo_use_fullgraph', '--dynamo_use_dynamic',
];
const WRAPPERS = new Map<string, WrapperSpec>([
  ['env', { values: v(1, '-u', '--unset', '-C', '--chdir', '-S', '--split-string') }],
  ['nohup', {}],
  ['setsid', {}],
  ['command', {}],
  ['exec', { values: v(1, '-a') }],
  ['time', { values: v(1, '-o', '--output', '-f', '--format') }],
  ['nice', { values: v(1, '-n', '--adjustment') }],
  ['ionice', { values: v(1, '-c', '--class', '-n', '--classdata', '-p', '--pid', '-P', '--pgid', '-u', '--uid') }],
  ['chrt', {}],
  ['taskset', { positionals: 1 }],
  ['numactl', { values: v(1, '-N', '--cpunodebind', '-m', '--membind', '-C', '--physcpubind', '-i', '--interleave', '-p', '--preferred') }],
  ['timeout', { values: v(1, '-s', '--signal', '-k', '--kill-after'), positionals: 1 }],
  ['stdbuf', { values: v(1, '-i', '-o', '-e', '--input', '--output', '--error') }],
  ['xvfb-run', { values: v(1, '-n', '--server-num', '-s', '--server-args', '-f', '--auth-file', '-e', '--error-file', '-p') }],
  ['flock', { values: v(1, '-w', '--wait', '--timeout', '-E', '--conflict-exit-code'), positionals: 1, commandOptions: ['-c', '--command'] }],
  ['srun', { values: SLURM_VALUES, longTakesValue: true, flags: SLURM_FLAGS }],
  ['salloc', { values: SLURM_VALUES, longTakesValue: true, flags: SLURM_FLAGS }],
  ['sbatch', { values: SLURM_VALUES, longTakesValue: true, flags: SLURM_FLAGS, commandOptions: ['--wrap'] }],
  [
    'mpirun',
    {
      values: {
        ...v(1, '-n', '-np', '-c', '-N', '-H', '-host', '--host', '-hosts', '-hostfile', '--hostfile', '-machinefile', '--machinefile', '-f'),
        ...v(1, '-x', '-wdir', '--wdir', '-ppn', '--ppn', '-npernode', '--npernode', '--map-by', '--bind-to', '--rank-by', '-genvlist', '-envlist'),
        ...v(2, '-mca', '--mca', '-gmca', '--gmca', '-env', '-genv'),
      },
    },
  ],
  ['torchrun', { longTakesValue: true, flags: LAUNCHER_FLAGS }],
  ['deepspeed', { longTakesValue: true, flags: LAUNCHER_FLAGS }],
  ['accelerate', { verbs: ['launch'], longTakesValue: true, flags: LAUNCHER_FLAGS }],
  [
    'uv',
    {
      verbs: ['run'],
      values: v(1, '--with', '--with-editable', '--with-requirements', '--python', '-p', '--project', '--directory', '--extra', '--group', '--only-group', '--no-group', '--env-file', '--index', '--default-index', '--package', '--cache-dir', '--config-file'),
    },
  ],
  ['poetry', { verbs: ['run'] }],
  ['pipenv', { verbs: ['run'] }],
  ['pdm', { verbs: ['run'] }],
  ['hatch', { verbs: ['run'] }],
  ['rye', { verbs: ['run'] }],
  ['pixi', { verbs: ['run'], values: v(1, '-e', '--environment', '--manifest-path') }],
  ['conda', { verbs: ['run'], values: v(1, '-n', '--name', '-p', '--prefix', '--cwd') }],
  ['mamba', { verbs: ['run'], values: v(1, '-n', '--name', '-p', '--prefix', '--cwd') }],
  ['micromamba', { verbs: ['run'], values: v(1, '-n', '--name', '-p', '--prefix', '--cwd') }],
  ['apptainer', { verbs: ['exec'], values: v(1, '-B', '--bind', '--env', '-H', '--home', '--overlay', '-W', '--workdir', '--pwd'), positionals: 1 }],
  ['singularity', { verbs: ['exec'], values: v(1, '-B', '--bind', '--env', '-H', '--home', '--overlay', '-W', '--workdir', '--pwd'), positionals: 1 }],
  ['deno', { verbs: ['run'] }],
]);
WRAPPERS.set('mpiexec', WRAPPERS.get('mpirun')!);
WRAPPERS.set('orterun', WRAPPERS.get('mpirun')!);

/** An interpreter: its first plain word is the script that names the job. */
interface InterpreterSpec {
  values?: Readonly<Record<string, number>>;
  /** Options whose value is program text (`python -c CODE`): the job is named after the interpreter. */
  inline?: readonly string[];
  /** Options whose value names the module or file that runs (`python -m pkg.train`, `java -jar x.jar`). */
  named?: readonly string[];
}
const PYTHON: InterpreterSpec = { values: v(1, '-W', '-X', '--check-hash-based-pycs'), inline: ['-c'], named: ['-m'] };
const INTERPRETERS: ReadonlyMap<string, InterpreterSpec> = new Map<string, InterpreterSpec>([
  ['node', { values: v(1, '-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--input-type', '--title'), inline: ['-e', '--eval', '-p', '--print'] }],
  ['Rscript', { inline: ['-e'] }],
  ['R', { named: ['-f', '--file'], inline: ['-e'] }],
  ['julia', { values: v(1, '-t', '--threads', '-p', '--procs', '-J', '--sysimage', '-C', '--cpu-target', '--machine-file', '-L', '--load'), inline: ['-e', '--eval', '-E', '--print'] }],
  ['perl', { values: v(1, '-I'), inline: ['-e', '-E'] }],
  ['ruby', { values: v(1, '-I', '-r', '-C'), inline: ['-e'] }],
  ['lua', { values: v(1, '-l'), inline: ['-e'] }],
  ['php', { values: v(1, '-c', '-d'), inline: ['-r'], named: ['-f'] }],
  ['java', { values: v(1, '-cp', '-classpath', '--class-path', '-p', '--module-path'), named: ['-jar', '-m', '--module'] }],
  ['matlab', { inline: ['-batch', '-r'] }],
]);
function interpreterSpec(prog: string): InterpreterSpec | undefined {
  if (/^(?:python|pypy|ipython)[\d.]*(?:-dbg)?$/.test(prog)) return PYTHON;
  return INTERPRETERS.get(prog);
}
/** `python -m MODULE` launchers whose arguments are another program (like torchrun's). */
const LAUNCHER_MODULES = new Set(['torch.distributed.run', 'torch.distributed.launch', 'accelerate.commands.launch', 'deepspeed.launcher.runner']);

/** Scripts are never taken for an option's value by the "long options take a value" guess. */
const FILEISH = /\.(?:py|sh|bash|R|r|jl|js|mjs|cjs|ts|pl|rb|lua|php|jar|m|ipynb|sif)$/;

function base(word: string): string {
  const parts = word.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? word;
}

/** The last path part of a word, or null when a substitution decides it (`$PY`; `$HOME/bin/run.sh` is run.sh). */
function known(word: Word): string | null {
  const b = base(word.text);
  return word.dynamic && /[$`]/.test(b) ? null : b;
}

/** The program of the simple command `words[i…]`. */
function pickProgram(words: readonly Word[], i: number, depth: number): Found | null {
  const n = words.length;
  for (;;) {
    while (i < n && (ASSIGNMENT.test(words[i]!.text) || RESERVED.has(words[i]!.text))) i++;
    if (i >= n) return null;
    const prog = known(words[i]!);
    if (prog === null) {
      // `$PYTHON train.py`: the program is unknown, a script after it still names the job.
      const next = words.slice(i + 1).find((x) => !x.text.startsWith('-'));
      const script = next ? known(next) : null;
      return script !== null && FILEISH.test(script) ? { name: script, setup: false } : null;
    }
    if (!prog || CONTROL.has(prog)) return null;

    const wrapper = WRAPPERS.get(prog);
    if (wrapper) {
      let j = i + 1;
      if (wrapper.verbs) {
        j = skipOptions(words, j, wrapper).next;
        const verb = words[j]?.text;
        if (verb === undefined) return { name: prog, setup: false };
        if (!wrapper.verbs.includes(verb)) return { name: prog, setup: true };
        j++;
      }
      const r = afterWrapperOptions(words, j, wrapper, depth);
      if (r.command !== undefined) return r.command;
      if (r.next >= n) return { name: prog, setup: false };
      i = r.next;
      continue;
    }
    if (SHELLS.has(prog)) return shellProgram(words, i, prog, depth);
    const interp = interpreterSpec(prog);
    if (interp) return interpreterProgram(words, i, prog, interp, depth);
    return { name: prog, setup: SETUP.has(prog) };
  }
}

/** Where the wrapped program starts; or, for a command given as an option's value, its name. */
function afterWrapperOptions(words: readonly Word[], j: number, spec: WrapperSpec, depth: number): { next: number; command?: Found | null } {
  const n = words.length;
  for (let round = 0; round < 2; round++) {
    const r = skipOptions(words, j, spec);
    if (r.command !== undefined) {
      return { next: n, command: depth < MAX_DEPTH ? findProgram(r.command, depth + 1) : null };
    }
    j = r.next;
    if (round === 1) break;
    // Positionals (timeout's DURATION), numbers (nice -10, chrt 10), then options again (flock FILE -c CMD).
    for (let k = spec.positionals ?? 0; k > 0 && j < n - 1; k--) j++;
    while (j < n - 1 && /^\d+[a-z]?$/i.test(words[j]!.text)) j++;
  }
  return { next: j };
}

/** Past the options at words[j…]; `command` when one of them carries a whole command line (sbatch --wrap). */
function skipOptions(words: readonly Word[], j: number, spec: WrapperSpec): { next: number; command?: string } {
  const n = words.length;
  while (j < n) {
    const t = words[j]!.text;
    if (t === '--') return { next: j + 1 };
    if (!t.startsWith('-') || t === '-') break;
    const eq = t.startsWith('--') ? t.indexOf('=') : -1;
    const key = eq > 0 ? t.slice(0, eq) : t;
    const isCommand = spec.commandOptions?.includes(key) === true;
    if (eq > 0) {
      if (isCommand) return { next: n, command: t.slice(eq + 1) };
      j++;
      continue;
    }
    if (isCommand && j + 1 < n) return { next: n, command: words[j + 1]!.text };
    const known = spec.values?.[key];
    j++;
    if (known !== undefined) {
      j = Math.min(n, j + known);
    } else if (spec.longTakesValue && key.startsWith('--') && !spec.flags?.includes(key)) {
      // A guess: `--nproc_per_node 4`. Never eat a script name or another option.
      const next = words[j]?.text;
      if (next !== undefined && !next.startsWith('-') && !FILEISH.test(next)) j++;
    }
  }
  return { next: j };
}

function shellProgram(words: readonly Word[], i: number, prog: string, depth: number): Found {
  const n = words.length;
  let j = i + 1;
  let inline = false;
  while (j < n) {
    const t = words[j]!.text;
    if (t === '--') {
      j++;
      break;
    }
    if (/^[-+][oO]$/.test(t) || t === '--rcfile' || t === '--init-file') {
      j += 2;
      continue;
    }
    if (SHELL_INLINE.test(t)) inline = true;
    if (t.startsWith('-') || t.startsWith('+')) {
      j++;
      continue;
    }
    break;
  }
  const next = words[j];
  if (!next) return { name: prog, setup: false };
  if (inline) {
    // `sh -c 'python train.py'` is train.py; `sh -c 'sleep 1; exit 3'` (set-up steps only) is the shell.
    const inner = depth < MAX_DEPTH && !next.dynamic ? findProgram(next.text, depth + 1) : null;
    return { name: inner && !inner.setup ? inner.name : prog, setup: false };
  }
  return { name: known(next) ?? prog, setup: false };
}

function interpreterProgram(words: readonly Word[], i: number, prog: string, spec: InterpreterSpec, depth: number): Found {
  const n = words.length;
  let j = i + 1;
  while (j < n) {
    const t = words[j]!.text;
    if (t === '--') {
      j++;
      break;
    }
    if (t === '-' || !t.startsWith('-')) break;
    if (spec.inline?.includes(t)) return { name: prog, setup: false };
    if (spec.named?.includes(t)) {
      const named = words[j + 1];
      if (!named || known(named) === null) return { name: prog, setup: false };
      if (prog !== 'java' && LAUNCHER_MODULES.has(named.text)) {
        const r = afterWrapperOptions(words, j + 2, WRAPPERS.get('torchrun')!, depth);
        const inner = r.next < n ? pickProgram(words, r.next, depth) : null;
        return inner ?? { name: named.text, setup: false };
      }
      return { name: t === '-m' || t === '--module' ? named.text : base(named.text), setup: false };
    }
    j += 1 + (spec.values?.[t] ?? 0);
  }
  const script = words[j];
  if (!script || script.text === '-') return { name: prog, setup: false };
  return { name: known(script) ?? prog, setup: false };
}
