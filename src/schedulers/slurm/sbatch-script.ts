// Reading a submission the way sbatch reads it, so `flurm submit` knows the job's name and where its
// output goes without changing a single argument it passes on:
//   splitSubmitArgv        sbatch options | script | script arguments (getopt_long with "+": options
//                          stop at the first non-option; `--wrap` means no script)
//   parseSbatchDirectives  the #SBATCH lines of the script's leading comment block
//   effectiveOptions       script < SBATCH_* environment < command line, and the job name default
//
// Sources: sbatch(1) (Slurm 26.11: OPTIONS, INPUT ENVIRONMENT VARIABLES, the #SBATCH rules in
// DESCRIPTION) and the code behind it: the option table in src/common/slurm_opt.c (which options
// take a value, Slurm 19.05 to 26.11), process_options_first_pass(), get_argument(),
// _opt_batch_script(), _opt_env() and _opt_verify() in src/sbatch/opt.c, _get_script_buffer() in
// src/sbatch/sbatch.c. Pure: no I/O; the caller reads the script (its first SCAN_LIMIT_CHARS + 1
// characters are enough).
import { UserError } from '../../lib/errors.js';

export type OptionArg = 'required' | 'optional' | 'none';

// [long name, short letter, argument]. Every option sbatch 19.05 … 26.11 registers, from
// slurm_opt.c's common_options[] (the ones with an sbatch setter), not only the documented ones:
// a value option missing here would make its value look like the script. Where versions differ,
// the more permissive kind is kept (--get-user-env and --requeue take an optional value in some).
// An optional value is only ever attached (`--exclusive=user`, `-kfoo`), never the next argument.
const TABLE = [
  ['account', 'A', 'required'],
  ['acctg-freq', null, 'required'],
  ['array', 'a', 'required'],
  ['autocomplete', null, 'required'],
  ['batch', null, 'required'],
  ['bb', null, 'required'],
  ['bbf', null, 'required'],
  ['begin', 'b', 'required'],
  ['chdir', 'D', 'required'],
  ['checkpoint', null, 'required'], // Slurm ≤ 19.05
  ['cluster', null, 'required'], // same as --clusters
  ['cluster-constraint', null, 'required'],
  ['clusters', 'M', 'required'],
  ['comment', null, 'required'],
  ['consolidate-segments', null, 'none'],
  ['constraint', 'C', 'required'],
  ['container', null, 'required'],
  ['container-id', null, 'required'],
  ['context', null, 'required'],
  ['contiguous', null, 'none'],
  ['core-spec', 'S', 'required'],
  ['cores-per-socket', null, 'required'],
  ['cpu-freq', null, 'required'],
  ['cpus-per-gpu', null, 'required'],
  ['cpus-per-task', 'c', 'required'],
  ['deadline', null, 'required'],
  ['delay-boot', null, 'required'],
  ['dependency', 'd', 'required'],
  ['distribution', 'm', 'required'],
  ['error', 'e', 'required'],
  ['exclude', 'x', 'required'],
  ['exclusive', null, 'optional'],
  ['export', null, 'required'],
  ['export-file', null, 'required'],
  ['external', null, 'none'],
  ['extra', null, 'required'],
  ['extra-node-info', 'B', 'required'],
  ['get-user-env', null, 'optional'],
  ['gid', null, 'required'],
  ['gpu-bind', null, 'required'],
  ['gpu-freq', null, 'required'],
  ['gpus', 'G', 'required'],
  ['gpus-per-node', null, 'required'],
  ['gpus-per-socket', null, 'required'],
  ['gpus-per-task', null, 'required'],
  ['gres', null, 'required'],
  ['gres-flags', null, 'required'],
  ['help', 'h', 'none'],
  ['hint', null, 'required'],
  ['hold', 'H', 'none'],
  ['ignore-pbs', null, 'none'],
  ['input', 'i', 'required'],
  ['job-name', 'J', 'required'],
  ['kill-on-invalid-dep', null, 'required'],
  ['licenses', 'L', 'required'],
  ['mail-type', null, 'required'],
  ['mail-user', null, 'required'],
  ['mcs-label', null, 'required'],
  ['mem', null, 'required'],
  ['mem-bind', null, 'required'],
  ['mem-per-cpu', null, 'required'],
  ['mem-per-gpu', null, 'required'],
  ['mem-update', null, 'required'],
  ['mincpus', null, 'required'],
  ['network', null, 'required'],
  ['nice', null, 'optional'],
  ['no-kill', 'k', 'optional'],
  ['no-requeue', null, 'none'],
  ['nodefile', 'F', 'required'],
  ['nodelist', 'w', 'required'],
  ['nodes', 'N', 'required'],
  ['ntasks', 'n', 'required'],
  ['ntasks-per-core', null, 'required'],
  ['ntasks-per-gpu', null, 'required'],
  ['ntasks-per-node', null, 'required'],
  ['ntasks-per-socket', null, 'required'],
  ['ntasks-per-tres', null, 'required'],
  ['oom-kill-step', null, 'optional'],
  ['open-mode', null, 'required'],
  ['output', 'o', 'required'],
  ['overcommit', 'O', 'none'],
  ['oversubscribe', 's', 'none'],
  ['parsable', null, 'none'],
  ['partition', 'p', 'required'],
  ['power', null, 'required'], // Slurm ≤ 24.11
  ['prefer', null, 'required'],
  ['priority', null, 'required'],
  ['profile', null, 'required'],
  ['propagate', null, 'optional'],
  ['qos', 'q', 'required'],
  ['quiet', 'Q', 'none'],
  ['reboot', null, 'none'],
  ['requeue', null, 'optional'],
  ['reservation', null, 'required'],
  ['resources', null, 'required'],
  ['resv-ports', null, 'optional'],
  ['runtime', null, 'required'],
  ['segment', null, 'required'],
  ['signal', null, 'required'],
  ['sockets-per-node', null, 'required'],
  ['spread-job', null, 'none'],
  ['spread-segments', null, 'none'],
  ['stepmgr', null, 'none'],
  ['switches', null, 'required'],
  ['tasks-per-node', null, 'required'], // same as --ntasks-per-node
  ['test-only', null, 'none'],
  ['thread-spec', null, 'required'],
  ['threads-per-core', null, 'required'],
  ['time', 't', 'required'],
  ['time-min', null, 'required'],
  ['tmp', null, 'required'],
  ['tres-bind', null, 'required'],
  ['tres-per-task', null, 'required'],
  ['uid', null, 'required'],
  ['usage', null, 'none'],
  ['use-min-nodes', null, 'none'],
  ['verbose', 'v', 'none'],
  ['version', 'V', 'none'],
  ['wait', 'W', 'none'],
  ['wait-all-nodes', null, 'required'],
  ['wckey', null, 'required'],
  ['wrap', null, 'required'],
] as const satisfies ReadonlyArray<readonly [string, string | null, OptionArg]>;

/** Two spellings of one option: the value is stored under the second. */
const ALIASES: Readonly<Record<string, SbatchOptionName>> = { cluster: 'clusters', 'tasks-per-node': 'ntasks-per-node' };

export type SbatchOptionName = (typeof TABLE)[number][0];

export interface SbatchOptionSpec {
  /** The long name, without "--". */
  long: string;
  /** The short letter, without "-", or null. */
  short: string | null;
  arg: OptionArg;
  /** Where its value is stored in SbatchOptions (the long name, or the one it is an alias of). */
  key: SbatchOptionName;
}

export const SBATCH_OPTIONS: readonly SbatchOptionSpec[] = TABLE.map(([long, short, arg]) => ({
  long,
  short,
  arg,
  key: ALIASES[long] ?? long,
}));

const BY_LONG = new Map(SBATCH_OPTIONS.map((o) => [o.long, o]));
const BY_SHORT = new Map(SBATCH_OPTIONS.filter((o) => o.short !== null).map((o) => [o.short!, o]));

/**
 * Options that sbatch reads from its command line only, in a first pass; in an #SBATCH line they
 * are skipped without a word (sbatch_early_pass in slurm_opt.c).
 */
export const COMMAND_LINE_ONLY: ReadonlySet<SbatchOptionName> = new Set(['help', 'quiet', 'usage', 'verbose', 'version', 'wrap']);

/**
 * Options by their long name (aliases under the name they stand for), the last occurrence winning
 * as in sbatch. Flags, and optional values not given, are `true`.
 */
export type SbatchOptions = Partial<Record<SbatchOptionName, string | true>>;

/** A long option sbatch does not have built in (a SPANK plugin's, such as pyxis' --container-image). */
export interface ExtraOption {
  long: string;
  arg: OptionArg;
}

export interface ParseOptionsConfig {
  /** Site options from SPANK plugins: without them, `--name value` would read "value" as the script. */
  extraOptions?: readonly ExtraOption[];
}

/** One option occurrence as read from an argument list. */
interface Occurrence {
  key: SbatchOptionName | null; // null: an unknown or extra (SPANK) option
  value: string | true;
}

type LongLookup = { spec: SbatchOptionSpec | ExtraOption; known: boolean } | { ambiguous: string[] } | null;

/** getopt_long's lookup: an exact name, else an unambiguous abbreviation ("--out" is --output). */
function lookupLong(name: string, extra: readonly ExtraOption[]): LongLookup {
  const exact = BY_LONG.get(name);
  if (exact) return { spec: exact, known: true };
  const exactExtra = extra.find((e) => e.long === name);
  if (exactExtra) return { spec: exactExtra, known: false };
  if (name === '') return null;
  const matches: Array<{ spec: SbatchOptionSpec | ExtraOption; known: boolean }> = [];
  for (const o of SBATCH_OPTIONS) if (o.long.startsWith(name)) matches.push({ spec: o, known: true });
  for (const e of extra) if (e.long.startsWith(name)) matches.push({ spec: e, known: false });
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) return { ambiguous: matches.map((m) => '--' + m.spec.long) };
  return null;
}

interface ScanResult {
  /** Index of the first argument that is not an option (or argv.length). */
  end: number;
  /** Option occurrences per heterogeneous-job component (split at ":"). */
  components: Occurrence[][];
  unknown: string[];
}

type ErrorAt = (i: number, message: string) => UserError;

/**
 * getopt_long(argc, argv, "+…", …) over `argv`: options until the first non-option ("--" ends
 * them and is consumed; a lone "-" is a non-option). With `hetSeparator`, a ":" argument starts
 * the next heterogeneous-job component, as on sbatch's command line.
 */
function scanOptions(argv: readonly string[], cfg: ParseOptionsConfig, hetSeparator: boolean, errorAt: ErrorAt): ScanResult {
  const extra = cfg.extraOptions ?? [];
  const components: Occurrence[][] = [[]];
  const unknown: string[] = [];
  let i = 0;
  const add = (key: SbatchOptionName | null, value: string | true) => components[components.length - 1]!.push({ key, value });
  while (i < argv.length) {
    const a = argv[i]!;
    if (hetSeparator && a === ':') {
      components.push([]);
      i++;
      continue;
    }
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-' || !a.startsWith('-')) break;
    if (a.startsWith('--')) {
      const body = a.slice(2);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
      const found = lookupLong(name, extra);
      if (found && 'ambiguous' in found) {
        throw errorAt(i, `sbatch option --${name} is ambiguous (${found.ambiguous.join(', ')}); write it in full`);
      }
      if (!found) {
        // Not sbatch's own: a SPANK plugin's, presumably. Without `=` there is no telling whether
        // it takes the next argument; sbatch's getopt would know, we take it for a flag.
        unknown.push(a);
        add(null, inline ?? true);
        i++;
        continue;
      }
      const { spec, known } = found;
      const key = known ? (spec as SbatchOptionSpec).key : null;
      if (!known) unknown.push(a);
      if (spec.arg === 'none') {
        if (inline !== undefined) throw errorAt(i, `sbatch option --${spec.long} takes no value (got "${a}")`);
        add(key, true);
      } else if (spec.arg === 'optional') {
        add(key, inline ?? true);
      } else if (inline !== undefined) {
        add(key, inline);
      } else {
        // getopt takes the next argument whatever it looks like ("-o -x.log" writes to "-x.log").
        if (i + 1 >= argv.length) throw errorAt(i, `sbatch option --${spec.long} needs a value (--${spec.long}=VALUE)`);
        if (!known) unknown.push(argv[i + 1]!);
        add(key, argv[++i]!);
      }
      i++;
      continue;
    }
    // A cluster of short options: "-HW", "-oFILE", "-Ho FILE", "-kfoo".
    for (let j = 1; j < a.length; j++) {
      const ch = a[j]!;
      const spec = BY_SHORT.get(ch);
      if (!spec) throw errorAt(i, `sbatch has no option -${ch}${a.length > 2 ? ` (in "${a}")` : ''}`);
      if (spec.arg === 'none') {
        add(spec.key, true);
        continue;
      }
      const rest = a.slice(j + 1);
      if (spec.arg === 'optional') {
        add(spec.key, rest === '' ? true : rest);
      } else if (rest !== '') {
        add(spec.key, rest);
      } else {
        if (i + 1 >= argv.length) throw errorAt(i, `sbatch option -${ch} (--${spec.long}) needs a value`);
        add(spec.key, argv[++i]!);
      }
      break;
    }
    i++;
  }
  return { end: i, components, unknown };
}

function toOptions(occurrences: readonly Occurrence[]): SbatchOptions {
  const out: SbatchOptions = {};
  for (const o of occurrences) if (o.key !== null) out[o.key] = o.value;
  return out;
}

export interface SubmitArgv {
  /** Everything before the script (all of argv with --wrap), exactly as given; "--" included. */
  sbatchArgs: string[];
  /** The script path as given; null with --wrap, or when sbatch would read the script from stdin. */
  script: string | null;
  /** The script's own arguments, untouched. */
  scriptArgs: string[];
  /** The --wrap command, or null. */
  wrap: string | null;
  /** The options of the job (of its first component, for a heterogeneous job). */
  options: SbatchOptions;
  /** The options of each heterogeneous-job component (one entry for a plain job). */
  components: SbatchOptions[];
  /** Options (and their values) sbatch has not built in, as written: SPANK plugin options. */
  unknownOptions: string[];
}

/**
 * Split `sbatch [OPTIONS(0)...] [ : [OPTIONS(N)...]] script(0) [args(0)...]` the way sbatch does.
 * `sbatchArgs.concat(script ?? [], scriptArgs)` is `argv` again. Throws UserError for what sbatch
 * itself refuses: an option it does not have, a value missing, script arguments with --wrap.
 */
export function splitSubmitArgv(argv: readonly string[], cfg: ParseOptionsConfig = {}): SubmitArgv {
  const scan = scanOptions(argv, cfg, true, (_i, message) => new UserError(message));
  const components = scan.components.map(toOptions);
  const all = scan.components.flat();
  // --wrap is read in sbatch's first pass, over every component's options.
  let wrap: string | null = null;
  for (const o of all) if (o.key === 'wrap') wrap = o.value === true ? '' : o.value;
  const rest = argv.slice(scan.end);
  if (wrap !== null && rest.length > 0) {
    throw new UserError(`sbatch does not take a script or script arguments with --wrap (got "${rest.join(' ')}"); put the whole command in --wrap`);
  }
  return {
    sbatchArgs: argv.slice(0, scan.end),
    script: rest[0] ?? null,
    scriptArgs: rest.slice(1),
    wrap,
    options: components[0]!,
    components,
    unknownOptions: scan.unknown,
  };
}

// ---------------------------------------------------------------------------------------------
// #SBATCH directives

/** How much of a script is scanned for directives (characters). sbatch reads all of the leading
 *  comment block; real ones are a few KiB. Pass at most this + 1 characters: more tells nothing new. */
export const SCAN_LIMIT_CHARS = 256 * 1024;

export interface Directive {
  /** 1-based line number. */
  line: number;
  /** The arguments sbatch reads from it, quotes and escapes removed. */
  args: string[];
  /** The heterogeneous-job component it belongs to (0 for a plain job). */
  component: number;
}

export interface IgnoredDirective {
  line: number;
  text: string;
  /** after-command: below the first command, where sbatch has stopped reading; indented: "#SBATCH" must start the line. */
  reason: 'after-command' | 'indented';
}

export interface ScriptDirectives {
  /** The options of the job (of its first component, for a heterogeneous job). */
  options: SbatchOptions;
  /** One entry per heterogeneous-job component ("#SBATCH hetjob" separates them). */
  components: SbatchOptions[];
  /** The directive lines read. */
  directives: Directive[];
  /** Lines that look like directives but that sbatch does not read, for a friendly warning. */
  ignored: IgnoredDirective[];
  /** Options in directives that sbatch has not built in (SPANK), as written. */
  unknownOptions: string[];
  /** Things worth telling the user (deprecated #SLURM, #PBS lines sbatch translates, …). */
  warnings: string[];
  /** True when the scan limit was reached before the first command: later directives were not read. */
  truncated: boolean;
  /** Why sbatch would refuse to submit this script (no "#!" line, DOS line breaks, …), or null. */
  rejected: string | null;
}

const MAGIC = '#SBATCH';
const MAGIC_OLD = '#SLURM';

/** C's isspace() in the "C" locale. */
function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

/** `word` (any case) at `p`, followed by the end or a space: sbatch's hetjob/packjob separator test. */
function wordAt(s: string, p: number, word: string): boolean {
  return s.slice(p, p + word.length).toLowerCase() === word && (p + word.length === s.length || isSpace(s[p + word.length]));
}

/**
 * The arguments of one directive line (what follows "#SBATCH"), as sbatch's get_argument() reads
 * them: whitespace separates; '…' and "…" group (and may sit inside a word); a backslash makes the
 * next character literal; an unquoted '#' starts a comment. Like sbatch, an argument that comes out
 * empty ("") or a hetjob/packjob word ends the line.
 */
function lineArguments(text: string, lineNo: number): string[] {
  const args: string[] = [];
  let p = 0;
  for (;;) {
    while (p < text.length && isSpace(text[p])) p++;
    if (wordAt(text, p, 'packjob') || wordAt(text, p, 'hetjob')) return args;
    if (text[p] === ':') throw new UserError(`line ${lineNo}: unexpected ":" in an #SBATCH line (sbatch refuses it): ${text.trim()}`);
    if (p >= text.length) return args;
    let arg: string | null = null;
    let quote: string | null = null;
    let escaped = false;
    while (p < text.length && (quote !== null || !isSpace(text[p]))) {
      const c = text[p]!;
      if (escaped) {
        escaped = false;
      } else if (c === '\\') {
        p++;
        if (text[p] === ' ') {
          arg = (arg ?? '') + ' ';
          p++;
        } else {
          escaped = true;
        }
        continue;
      } else if (quote !== null) {
        if (c === quote) {
          quote = null;
          p++;
          continue;
        }
      } else if (c === '"' || c === "'") {
        quote = c;
        p++;
        continue;
      } else if (c === '#') {
        break;
      }
      arg = (arg ?? '') + c;
      p++;
    }
    if (quote !== null) throw new UserError(`line ${lineNo}: unmatched ${quote} in an #SBATCH line (sbatch refuses it): ${text.trim()}`);
    if (arg === null) return args;
    args.push(arg);
  }
}

/** The reason sbatch's _get_script_buffer() would refuse `text`, in its order, or null. */
function rejection(text: string): string | null {
  if (text.length === 0) return 'the batch script is empty';
  if (/^[ \t\n\v\f\r]*$/.test(text)) return 'the batch script contains only whitespace';
  if (!text.startsWith('#!')) return 'the first line of a batch script must start with #! and the path of an interpreter (e.g. #!/bin/bash)';
  if (text.includes('\0')) return 'the batch script contains a NUL character';
  if (text.includes('\r\n')) return 'the batch script has DOS line breaks (\\r\\n); convert it with dos2unix';
  return null;
}

export interface ParseDirectivesConfig extends ParseOptionsConfig {
  /** Characters scanned (default SCAN_LIMIT_CHARS). */
  maxChars?: number;
}

/**
 * The #SBATCH directives of a batch script, as sbatch reads them: lines that begin with "#SBATCH"
 * in column 0, in the leading block of comments and blank lines (sbatch stops at the first other
 * line), several options to a line. Options sbatch takes from its command line only (--wrap, -v,
 * …) are dropped with a warning, as sbatch skips them. Throws UserError, naming the line, for what
 * makes sbatch refuse the script: a word that is not an option, an unmatched quote, a ":".
 */
export function parseSbatchDirectives(scriptText: string, cfg: ParseDirectivesConfig = {}): ScriptDirectives {
  const maxChars = cfg.maxChars ?? SCAN_LIMIT_CHARS;
  let text = scriptText;
  let cut = false;
  if (text.length > maxChars) {
    text = text.slice(0, maxChars);
    // The last line may be cut short: it is not read.
    const nl = text.lastIndexOf('\n');
    text = nl >= 0 ? text.slice(0, nl + 1) : '';
    cut = true;
  }
  const rejected = rejection(scriptText.length > maxChars ? scriptText.slice(0, maxChars) : scriptText);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();

  const directives: Directive[] = [];
  const ignored: IgnoredDirective[] = [];
  const warnings: string[] = [];
  let component = 0;
  let inHeader = true;
  let warnedOld = false;
  let foreign: string | null = null;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const lineNo = n + 1;
    if (!inHeader) {
      if (line.startsWith(MAGIC)) ignored.push({ line: lineNo, text: line.trimEnd(), reason: 'after-command' });
      continue;
    }
    let rest: string;
    if (line.startsWith(MAGIC)) {
      rest = line.slice(MAGIC.length);
    } else if (line.startsWith(MAGIC_OLD)) {
      rest = line.slice(MAGIC_OLD.length);
      if (!warnedOld) {
        warnings.push(`line ${lineNo}: "#SLURM" is an old spelling of "#SBATCH"; sbatch still reads it but asks you to change it`);
        warnedOld = true;
      }
    } else {
      const first = line.search(/[^ \t\n\v\f\r]/);
      if (first >= 0 && line[first] !== '#') {
        inHeader = false; // the first command: sbatch reads no further
      } else if (first > 0 && line.startsWith(MAGIC, first)) {
        ignored.push({ line: lineNo, text: line.trim(), reason: 'indented' });
      } else if (foreign === null && /^#(PBS|BSUB)\b/.test(line)) {
        foreign = line.slice(1).split(/\s/)[0]!;
      }
      continue;
    }
    let p = 0;
    while (isSpace(rest[p])) p++;
    if (wordAt(rest, p, 'hetjob') || wordAt(rest, p, 'packjob')) component++;
    directives.push({ line: lineNo, args: lineArguments(rest, lineNo), component });
  }

  // Each component's arguments go through getopt as one argument list, like sbatch's.
  const components: SbatchOptions[] = [];
  const unknownOptions: string[] = [];
  for (let c = 0; c <= component; c++) {
    const args: string[] = [];
    const lineOf: number[] = [];
    for (const d of directives) {
      if (d.component !== c) continue;
      for (const a of d.args) {
        args.push(a);
        lineOf.push(d.line);
      }
    }
    const errorAt: ErrorAt = (i, message) => new UserError(`line ${lineOf[i] ?? '?'}: #SBATCH ${message}`);
    const scan = scanOptions(args, cfg, false, errorAt);
    if (scan.end < args.length) {
      throw errorAt(scan.end, `"${args[scan.end]}" is not an option; sbatch refuses the script (a value with spaces needs quotes)`);
    }
    const kept = scan.components[0]!.filter((o) => {
      if (o.key !== null && COMMAND_LINE_ONLY.has(o.key)) {
        warnings.push(`#SBATCH --${o.key} is ignored: sbatch reads it only from its command line`);
        return false;
      }
      return true;
    });
    components.push(toOptions(kept));
    unknownOptions.push(...scan.unknown);
  }
  if (foreign !== null) {
    warnings.push(`the script has #${foreign} lines: sbatch translates them into options unless --ignore-pbs is given; flurm does not read them`);
  }
  return {
    options: components[0]!,
    components,
    directives,
    ignored,
    unknownOptions,
    warnings,
    truncated: cut && inHeader,
    rejected,
  };
}

// ---------------------------------------------------------------------------------------------
// Precedence

/**
 * The input environment variables of sbatch(1) that stand for an option, in the order sbatch
 * applies them (a later one wins: SLURM_CLUSTERS over SBATCH_CLUSTERS, SBATCH_HINT over
 * SLURM_HINT). Only documented ones; SBATCH_DEBUG (a -v count) and the --switches pair
 * SBATCH_REQ_SWITCH / SBATCH_WAIT4SWITCH are left out.
 */
export const SBATCH_ENV_OPTIONS: ReadonlyArray<readonly [string, SbatchOptionName]> = [
  ['SBATCH_IGNORE_PBS', 'ignore-pbs'],
  ['SBATCH_ACCOUNT', 'account'],
  ['SBATCH_ARRAY_INX', 'array'],
  ['SBATCH_ACCTG_FREQ', 'acctg-freq'],
  ['SBATCH_BATCH', 'batch'],
  ['SBATCH_CLUSTERS', 'clusters'],
  ['SLURM_CLUSTERS', 'clusters'],
  ['SBATCH_CONTAINER', 'container'],
  ['SBATCH_CONTAINER_ID', 'container-id'],
  ['SBATCH_RUNTIME', 'runtime'],
  ['SBATCH_CONSTRAINT', 'constraint'],
  ['SBATCH_CORE_SPEC', 'core-spec'],
  ['SBATCH_CPUS_PER_GPU', 'cpus-per-gpu'],
  ['SBATCH_DELAY_BOOT', 'delay-boot'],
  ['SBATCH_DISTRIBUTION', 'distribution'],
  ['SBATCH_EXCLUSIVE', 'exclusive'],
  ['SBATCH_EXPORT', 'export'],
  ['SBATCH_GET_USER_ENV', 'get-user-env'],
  ['SBATCH_GRES', 'gres'],
  ['SBATCH_GRES_FLAGS', 'gres-flags'],
  ['SBATCH_GPUS', 'gpus'],
  ['SBATCH_GPU_BIND', 'gpu-bind'],
  ['SBATCH_GPU_FREQ', 'gpu-freq'],
  ['SBATCH_GPUS_PER_NODE', 'gpus-per-node'],
  ['SBATCH_GPUS_PER_TASK', 'gpus-per-task'],
  ['SLURM_HINT', 'hint'],
  ['SBATCH_HINT', 'hint'],
  ['SBATCH_JOB_NAME', 'job-name'],
  ['SBATCH_MEM_BIND', 'mem-bind'],
  ['SBATCH_MEM_PER_CPU', 'mem-per-cpu'],
  ['SBATCH_MEM_PER_GPU', 'mem-per-gpu'],
  ['SBATCH_MEM_PER_NODE', 'mem'],
  ['SBATCH_NETWORK', 'network'],
  ['SBATCH_NO_KILL', 'no-kill'],
  ['SBATCH_NO_REQUEUE', 'no-requeue'],
  ['SBATCH_OPEN_MODE', 'open-mode'],
  ['SBATCH_OVERCOMMIT', 'overcommit'],
  ['SBATCH_PARTITION', 'partition'],
  ['SBATCH_POWER', 'power'],
  ['SBATCH_PROFILE', 'profile'],
  ['SBATCH_QOS', 'qos'],
  ['SBATCH_REQUEUE', 'requeue'],
  ['SBATCH_RESERVATION', 'reservation'],
  ['SBATCH_SEGMENT_SIZE', 'segment'],
  ['SBATCH_SIGNAL', 'signal'],
  ['SBATCH_SPREAD_JOB', 'spread-job'],
  ['SBATCH_THREAD_SPEC', 'thread-spec'],
  ['SBATCH_THREADS_PER_CORE', 'threads-per-core'],
  ['SBATCH_TIMELIMIT', 'time'],
  ['SBATCH_TRES_BIND', 'tres-bind'],
  ['SBATCH_TRES_PER_TASK', 'tres-per-task'],
  ['SBATCH_USE_MIN_NODES', 'use-min-nodes'],
  ['SBATCH_WAIT', 'wait'],
  ['SBATCH_WAIT_ALL_NODES', 'wait-all-nodes'],
  ['SBATCH_WCKEY', 'wckey'],
  ['SBATCH_ERROR', 'error'],
  ['SBATCH_INPUT', 'input'],
  ['SBATCH_OUTPUT', 'output'],
];

export type OptionSource = 'script' | 'env' | 'command-line';

export interface EffectiveOptions {
  /** The merged options. */
  options: SbatchOptions;
  /** Where each merged option came from (the environment variable's name for 'env' is in `envNames`). */
  sources: Partial<Record<SbatchOptionName, OptionSource>>;
  /** The environment variable behind each option that came from the environment. */
  envNames: Partial<Record<SbatchOptionName, string>>;
  /** The job name: -J/--job-name/SBATCH_JOB_NAME, else sbatch's default. */
  jobName: string;
  /** --output as given (null: the default file). */
  output: string | null;
  /** --error as given (null: stderr goes with stdout). */
  error: string | null;
  /** --input as given (null: /dev/null). */
  input: string | null;
  /** --chdir as given (null: the directory sbatch runs in). */
  chdir: string | null;
  /** --array as given, or null. */
  array: string | null;
  /** --wrap, or null. */
  wrap: string | null;
}

/** A flag set from the environment: empty, "yes" or a non-zero number sets it, anything else clears it (sbatch(1)). */
function envFlagSet(value: string): boolean {
  if (value === '' || value.toLowerCase() === 'yes') return true;
  // strtol(): leading blanks and a sign allowed, the whole string must be the number.
  return /^[ \t\n\v\f\r]*[+-]?\d+$/.test(value) && Number(value.trim()) !== 0;
}

/** sbatch's base_name(): what follows the last "/". */
function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

function str(v: string | true | undefined): string | null {
  return v === undefined ? null : v === true ? '' : v;
}

export interface EffectiveContext {
  /** The environment sbatch will run in (SBATCH_* variables). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The script as given on the command line (null: --wrap or stdin). */
  script?: string | null;
}

/**
 * The options sbatch will use: #SBATCH directives, overridden by the SBATCH_* environment, overridden
 * by the command line (sbatch(1): "Environment variables will override any options set in a batch
 * script, and command line options will override any environment variables"). A flag variable set to
 * something other than empty/yes/a number clears the flag, whatever the script said. The job name
 * default is sbatch's: "wrap" with --wrap, "external" with --external, the script's base name, or
 * "sbatch" for a script read from stdin.
 */
export function effectiveOptions(directives: SbatchOptions, commandLine: SbatchOptions, ctx: EffectiveContext = {}): EffectiveOptions {
  const options: SbatchOptions = {};
  const sources: Partial<Record<SbatchOptionName, OptionSource>> = {};
  const envNames: Partial<Record<SbatchOptionName, string>> = {};
  for (const [k, v] of Object.entries(directives) as Array<[SbatchOptionName, string | true]>) {
    if (COMMAND_LINE_ONLY.has(k)) continue;
    options[k] = v;
    sources[k] = 'script';
  }
  const env = ctx.env ?? {};
  for (const [name, key] of SBATCH_ENV_OPTIONS) {
    const value = env[name];
    if (value === undefined) continue;
    const spec = BY_LONG.get(key)!;
    if (spec.arg === 'none') {
      if (envFlagSet(value)) {
        options[key] = true;
        sources[key] = 'env';
        envNames[key] = name;
      } else {
        delete options[key];
        delete sources[key];
        delete envNames[key];
      }
      continue;
    }
    if (spec.arg === 'optional') {
      options[key] = value === '' ? true : value;
    } else {
      // An empty value would give sbatch an empty file or name; take the variable as unset.
      if (value === '') continue;
      options[key] = value;
    }
    sources[key] = 'env';
    envNames[key] = name;
  }
  for (const [k, v] of Object.entries(commandLine) as Array<[SbatchOptionName, string | true]>) {
    options[k] = v;
    sources[k] = 'command-line';
    delete envNames[k];
  }

  const wrap = str(commandLine.wrap);
  let jobName = str(options['job-name']);
  if (jobName === null) {
    if (wrap !== null) jobName = 'wrap';
    else if (options.external !== undefined) jobName = 'external';
    else if (ctx.script) jobName = baseName(ctx.script);
    else jobName = 'sbatch';
  }
  return {
    options,
    sources,
    envNames,
    jobName,
    output: str(options.output),
    error: str(options.error),
    input: str(options.input),
    chdir: str(options.chdir),
    array: str(options.array),
    wrap,
  };
}
