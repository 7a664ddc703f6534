// Where a batch job's stdout and stderr go: sbatch's "filename pattern" replacement (%j, %A_%a,
// %x, %u, %N, zero padding like %3a), its defaults (slurm-%j.out, slurm-%A_%a.out for arrays;
// stderr goes where stdout goes), `none` for /dev/null, and relative paths under the job's
// working directory (--chdir, else the directory sbatch ran in).
//
// Sources: sbatch(1) "FILENAME PATTERN" and --output/--error/--chdir (Slurm 26.11), and the code
// that does it: expand_stdio_fields() in src/common/print_fields.c, _fullpath() in
// src/sbatch/opt.c, DEFAULT_BATCH_*_STDOUT_PATH in src/common/read_config.h. Values are the ones
// of the batch script's own step: %J is just the job id, %s is "batch", %n and %t are 0.
//
// Some values exist only once the job runs (%N, the node; %j of an array task; %S); a context
// without them leaves those tokens as they are and lists them in `pending`, so the caller can
// expand the same pattern again later with a fuller context.
// Pure: no I/O. Path joining is textual, as Slurm's (no normalisation of "..").

/** sbatch's stdout/stderr file when no --output is given (slurmctld fills it in). */
export const DEFAULT_OUTPUT_PATTERN = 'slurm-%j.out';
/** The same for a job array. */
export const DEFAULT_ARRAY_OUTPUT_PATTERN = 'slurm-%A_%a.out';
/** What %a and %b expand to for a job that is not an array: NO_VAL, 0xfffffffe (job_array.html). */
export const NOT_AN_ARRAY_TASK_ID = 4_294_967_294;
/** The widest zero padding Slurm applies ("%12j" pads to 10). */
export const MAX_PADDING = 10;

/** A value a pattern needs, by the name of its field in PatternContext. */
export type PatternField = 'jobId' | 'arrayJobId' | 'arrayTaskId' | 'jobName' | 'user' | 'nodeName' | 'restartCount' | 'sluid';

/**
 * Fields known as soon as sbatch has answered (job id) for a plain job: everything but these.
 * For an array task its own job id (%j, %J) is known only when the task starts.
 */
export const RUNTIME_ONLY_FIELDS: readonly PatternField[] = ['nodeName', 'sluid'];

export interface PatternContext {
  /** The job id (%j, %J; for an array task, the task's own job id, not the array's). */
  jobId?: number;
  /** The array's job id (%A). For a job that is not an array, %A is the job id. */
  arrayJobId?: number;
  /** The task index (%a, %b); null when the job is not an array (Slurm then writes 4294967294). */
  arrayTaskId?: number | null;
  /** The job name (%x). */
  jobName?: string;
  /** The user name (%u). */
  user?: string;
  /** The short host name of the node running the batch script (%N); known only once it runs. */
  nodeName?: string;
  /** Times the job was requeued (%r); 0 for a job that has just been submitted. */
  restartCount?: number;
  /** The job's SLUID (%S, Slurm 25.11+). */
  sluid?: string;
  /** The directory sbatch ran in: relative paths (and a relative chdir) are under it. */
  submitDir?: string;
  /** --chdir / -D as given (absolute, or relative to submitDir): the job's working directory. */
  chdir?: string | null;
}

export interface ExpandedPath {
  /** The file name; tokens whose value is pending are left as written (e.g. "%N", "%3j"). */
  path: string;
  /** Fields the pattern needs that the context did not have (each listed once). */
  pending: PatternField[];
}

// Letter → how to get its value for the batch step. Numbers take the zero padding; strings never do.
type Lookup = (ctx: PatternContext) => { value: number | string } | { missing: PatternField };

function need<K extends PatternField>(ctx: PatternContext, field: K): { value: number | string } | { missing: PatternField } {
  const v = ctx[field];
  return v === undefined || v === null ? { missing: field } : { value: v };
}

const WILDCARDS: Readonly<Record<string, Lookup>> = {
  A: (ctx) => {
    if (ctx.arrayJobId !== undefined) return { value: ctx.arrayJobId };
    if (ctx.arrayTaskId === null) return need(ctx, 'jobId');
    return { missing: 'arrayJobId' };
  },
  a: (ctx) => (ctx.arrayTaskId === null ? { value: NOT_AN_ARRAY_TASK_ID } : need(ctx, 'arrayTaskId')),
  b: (ctx) => {
    if (ctx.arrayTaskId === null) return { value: NOT_AN_ARRAY_TASK_ID % 10 };
    return ctx.arrayTaskId === undefined ? { missing: 'arrayTaskId' } : { value: ctx.arrayTaskId % 10 };
  },
  // The batch script's step: no ".stepid" after the job id.
  J: (ctx) => need(ctx, 'jobId'),
  j: (ctx) => need(ctx, 'jobId'),
  N: (ctx) => need(ctx, 'nodeName'),
  n: () => ({ value: 0 }),
  r: (ctx) => need(ctx, 'restartCount'),
  S: (ctx) => need(ctx, 'sluid'),
  s: () => ({ value: 'batch' }),
  t: () => ({ value: 0 }),
  u: (ctx) => need(ctx, 'user'),
  x: (ctx) => need(ctx, 'jobName'),
};

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** `dir` + "/" + `name`, as Slurm joins them (one slash, nothing normalised). */
function joinDir(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** The job's working directory: --chdir (relative to the submit dir) or the submit dir; undefined if unknown. */
export function jobWorkDir(ctx: Pick<PatternContext, 'submitDir' | 'chdir'>): string | undefined {
  const chdir = ctx.chdir ?? undefined;
  if (chdir !== undefined && chdir !== '') {
    if (chdir.startsWith('/')) return chdir;
    return ctx.submitDir === undefined ? undefined : joinDir(ctx.submitDir, chdir);
  }
  return ctx.submitDir;
}

/**
 * Replace the filename pattern's symbols with the context's values, as slurmstepd does for the
 * batch script's output. A relative result is put under the job's working directory when the
 * context knows it. A pattern containing a backslash is not expanded at all (its backslashes are
 * removed), as sbatch(1) says.
 */
export function expandOutputPattern(pattern: string, ctx: PatternContext = {}): ExpandedPath {
  const pending = new Set<PatternField>();
  let out = '';
  if (pattern.includes('\\')) {
    out = pattern.replaceAll('\\', '');
  } else {
    let i = 0;
    while (i < pattern.length) {
      const c = pattern[i]!;
      if (c !== '%') {
        out += c;
        i++;
        continue;
      }
      i++;
      if (i >= pattern.length) {
        // A lone trailing '%' is kept. (Slurm < 25.11 keeps it; 25.11 drops it.)
        out += '%';
        break;
      }
      if (pattern[i] === '%') {
        out += '%';
        i++;
        continue;
      }
      let digits = '';
      while (isDigit(pattern[i])) digits += pattern[i++];
      const letter = pattern[i];
      if (letter === undefined) {
        out += '%' + digits;
        break;
      }
      i++;
      const lookup = WILDCARDS[letter];
      if (!lookup) {
        // Not a replacement symbol: written as it is, with its '%' and digits.
        out += '%' + digits + letter;
        continue;
      }
      const got = lookup(ctx);
      if ('missing' in got) {
        pending.add(got.missing);
        out += '%' + digits + letter;
        continue;
      }
      if (typeof got.value === 'number') {
        const width = digits === '' ? 0 : Math.min(Number(digits), MAX_PADDING);
        out += String(got.value).padStart(width, '0');
      } else {
        out += got.value;
      }
    }
  }
  if (!out.startsWith('/')) {
    const dir = jobWorkDir(ctx);
    if (dir !== undefined) out = joinDir(dir, out);
  }
  return { path: out, pending: [...pending] };
}

/** The context fields a pattern refers to (what `expandOutputPattern` would list as pending with an empty context). */
export function patternFields(pattern: string): PatternField[] {
  // arrayTaskId: undefined makes %A ask for arrayJobId; a non-array job needs jobId for it instead.
  return expandOutputPattern(pattern, {}).pending;
}

/** The options that decide where output goes, after command line, environment and #SBATCH are merged. */
export interface OutputOptions {
  /** --output as given (null/undefined: the default). "none" means /dev/null. */
  output?: string | null;
  /** --error as given (null/undefined: same file as stdout). */
  error?: string | null;
  /** --chdir as given. */
  chdir?: string | null;
  /** --array as given: only whether it is set matters here (it picks the default file name). */
  array?: string | null;
}

export interface ResolvedOutput extends ExpandedPath {
  /** The pattern that was expanded, after `none` and the defaults were applied. */
  pattern: string;
  /** True when the pattern came from the default (no --output). */
  isDefault: boolean;
}

export interface OutputPaths {
  stdout: ResolvedOutput;
  stderr: ResolvedOutput;
  /** True when stdout and stderr go to the same file (no --error, or the same pattern). */
  sameFile: boolean;
}

function noneToDevNull(p: string): string {
  return p.toLowerCase() === 'none' ? '/dev/null' : p;
}

/**
 * Where the batch script's stdout and stderr go, for `opts` (the effective --output, --error,
 * --chdir and --array) and what is known of the job. `ctx.chdir` is taken from `opts.chdir`.
 *
 * sbatch turns an explicit relative --output into an absolute one at submit time (chdir + "/" +
 * pattern) and the whole string is then expanded; the default name is put under the working
 * directory only when the job runs. Both give the same file except in a directory whose name holds
 * '%' or '\'; this follows each.
 */
export function resolveOutputPaths(opts: OutputOptions, ctx: PatternContext = {}): OutputPaths {
  const context: PatternContext = { ...ctx, chdir: opts.chdir ?? ctx.chdir ?? null };
  const workDir = jobWorkDir(context);
  const isArray = opts.array !== undefined && opts.array !== null && opts.array !== '';
  const one = (given: string | null | undefined, fallback: ResolvedOutput | null): ResolvedOutput => {
    if (given === undefined || given === null) {
      if (fallback) return fallback;
      const pattern = isArray ? DEFAULT_ARRAY_OUTPUT_PATTERN : DEFAULT_OUTPUT_PATTERN;
      return { pattern, isDefault: true, ...expandOutputPattern(pattern, context) };
    }
    let pattern = noneToDevNull(given);
    // sbatch's _fullpath(): made absolute against --chdir (or the cwd) before it leaves the login node.
    if (!pattern.startsWith('/') && workDir !== undefined) pattern = joinDir(workDir, pattern);
    return { pattern, isDefault: false, ...expandOutputPattern(pattern, context) };
  };
  const stdout = one(opts.output, null);
  const stderr = one(opts.error, stdout);
  const sameFile = stderr === stdout || stderr.pattern === stdout.pattern || (stderr.pending.length === 0 && stdout.pending.length === 0 && stderr.path === stdout.path);
  return { stdout, stderr, sameFile };
}
