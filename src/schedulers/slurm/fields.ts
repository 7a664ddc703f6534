// Shared pieces of the SLURM output parsers (sacct, squeue, scontrol, sinfo, sbatch): the typed
// parse error, a bounded reader for `|`-separated tables (header-driven when the header is there),
// and the value forms SLURM prints: durations, sizes, `N:S` exit codes, times, job ids, TRES.
// Pure: text in, typed values out; no I/O, nothing imported but lib/. Facts checked against slurm-wlm
// 22.05.8 (test/fixtures/slurm/README.md); older and newer forms are noted where they differ.
import { splitTopLevel } from '../../lib/split.js';

/** Lines read from one command's output; the rest is dropped and `truncated` set. */
export const SLURM_MAX_LINES = 50_000;
/** Characters kept of one field (a job name, a path); longer values are cut. */
export const SLURM_MAX_FIELD_CHARS = 4096;

/** Output that is not what the parser expects. The message names the command, line and field. */
export class SlurmParseError extends Error {
  override name = 'SlurmParseError';
  constructor(
    readonly command: string,
    readonly detail: string,
    readonly where: { line?: number; field?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(
      `${command} output: ${where.line !== undefined ? `line ${where.line}: ` : ''}${where.field !== undefined ? `${where.field}: ` : ''}${detail}`,
      options,
    );
  }
}

/** `text` cut to SLURM_MAX_FIELD_CHARS. */
export function capField(text: string): string {
  return text.length > SLURM_MAX_FIELD_CHARS ? text.slice(0, SLURM_MAX_FIELD_CHARS) : text;
}

/** A short, quoted sample of bad input for error messages. */
export function sample(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** Lines of `text` (LF or CRLF), at most `maxLines`; a final newline makes no empty last line. */
export function boundedLines(text: string, maxLines = SLURM_MAX_LINES): { lines: string[]; truncated: boolean } {
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    if (lines.length >= maxLines) return { lines, truncated: true };
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lines.push(text.slice(start, end > start && text[end - 1] === '\r' ? end - 1 : end));
    start = end + 1;
  }
  return { lines, truncated: false };
}

// ---- `|` tables ---------------------------------------------------------------------------------

export interface PipeRow {
  /** 1-based line number in the command's output. */
  line: number;
  /** Cells by column name (the header's spelling, or the caller's names without a header). */
  cells: Map<string, string>;
}

export interface PipeTable {
  /** Column names in order. */
  columns: string[];
  /** True when the first line was a header line. */
  hadHeader: boolean;
  rows: PipeRow[];
  truncated: boolean;
}

export interface PipeTableOptions {
  /** Command name for error messages ("sacct"). */
  command: string;
  /** Column names to use when the output has no header line (from the format the caller ran). */
  columns: readonly string[];
  /** True when `line` (split into cells) is the header line. */
  isHeader: (cells: string[]) => boolean;
  /**
   * The one free-text column (a job name, a node reason) that may itself hold `|`: a row with more
   * cells than columns gives the extra cells back to it. Without one, such a row is an error.
   */
  freeText?: string;
  maxLines?: number;
}

/**
 * Read `|`-separated output (sacct --parsable2, squeue/sinfo -o 'a|b|c'). Column names come from
 * the header line when there is one, else from `opts.columns`. Blank lines are skipped. A row
 * with fewer cells than columns is an error naming its line; with more, the extra cells go to the
 * free-text column.
 */
export function parsePipeTable(text: string, opts: PipeTableOptions): PipeTable {
  const { lines, truncated } = boundedLines(text, opts.maxLines);
  let columns = [...opts.columns];
  let hadHeader = false;
  const rows: PipeRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    let cells = raw.split('|');
    if (!hadHeader && rows.length === 0 && opts.isHeader(cells)) {
      columns = cells.map((c) => c.trim());
      hadHeader = true;
      continue;
    }
    if (cells.length < columns.length) {
      throw new SlurmParseError(opts.command, `${cells.length} fields where ${columns.length} were expected (${columns.join('|')}): ${sample(raw)}`, { line: i + 1 });
    }
    if (cells.length > columns.length) {
      const free = opts.freeText === undefined ? -1 : columns.indexOf(opts.freeText);
      if (free < 0) {
        throw new SlurmParseError(opts.command, `${cells.length} fields where ${columns.length} were expected (${columns.join('|')}): ${sample(raw)}`, { line: i + 1 });
      }
      const extra = cells.length - columns.length;
      cells = [...cells.slice(0, free), cells.slice(free, free + extra + 1).join('|'), ...cells.slice(free + extra + 1)];
    }
    const map = new Map<string, string>();
    columns.forEach((c, j) => map.set(c, capField(cells[j]!)));
    rows.push({ line: i + 1, cells: map });
  }
  return { columns, hadHeader, rows, truncated };
}

/** The cell of `row` under the first of `names` the table has (case-insensitive), or undefined. */
export function cellOf(row: PipeRow, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = row.cells.get(n);
    if (v !== undefined) return v;
  }
  const lower = names.map((n) => n.toLowerCase());
  for (const [k, v] of row.cells) if (lower.includes(k.toLowerCase())) return v;
  return undefined;
}

// ---- "no value" spellings -------------------------------------------------------------------

const NULL_WORDS = new Set(['', 'n/a', 'none', 'unknown', '(null)', 'none assigned', 'not_set']);

/** True for SLURM's ways of printing nothing: "", N/A, None, Unknown, (null), "None assigned". */
export function isNullValue(text: string | undefined): boolean {
  return text === undefined || NULL_WORDS.has(text.trim().toLowerCase());
}

/** `text` trimmed, or null when empty: for names, where "None" may be a real job name. */
export function nonEmpty(text: string | undefined): string | null {
  const t = text?.trim();
  return t ? t : null;
}

/** `text` trimmed, or null for SLURM's "no value" spellings. */
export function nullable(text: string | undefined): string | null {
  return isNullValue(text) ? null : text!.trim();
}

// ---- durations -----------------------------------------------------------------------------------

const UNLIMITED_WORDS = new Set(['unlimited', 'infinite', 'partition_limit', 'invalid']);
const DURATION_RE = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?(?:\.(\d+))?$/;

/**
 * Seconds in a SLURM duration: `D-HH:MM:SS` and `HH:MM:SS` (sacct Elapsed, scontrol RunTime),
 * `MM:SS.mmm` (sacct TotalCPU under an hour), `M:SS` / `H:MM:SS` / `D-HH:MM:SS` (squeue %M, %l),
 * `D-HH` / `D-HH:MM` (sinfo %l). Milliseconds are kept as a fraction. null for no value and for
 * UNLIMITED / infinite / Partition_Limit / INVALID (a limit that is not a number). Throws
 * SlurmParseError (command "slurm") on anything else; callers rethrow with their line and field.
 */
export function parseDurationSeconds(text: string | undefined): number | null {
  if (isNullValue(text)) return null;
  const t = text!.trim();
  if (UNLIMITED_WORDS.has(t.toLowerCase())) return null;
  const m = DURATION_RE.exec(t);
  if (!m) throw new SlurmParseError('slurm', `not a duration: ${sample(t)}`);
  const days = m[1] === undefined ? 0 : Number(m[1]);
  const parts = [m[2], m[3], m[4]].filter((p): p is string => p !== undefined).map(Number);
  const frac = m[5] === undefined ? 0 : Number(`0.${m[5]}`);
  let seconds: number;
  if (m[1] !== undefined) {
    // With days the fields are hours[:minutes[:seconds]].
    seconds = days * 86400 + (parts[0] ?? 0) * 3600 + (parts[1] ?? 0) * 60 + (parts[2] ?? 0);
  } else if (parts.length === 3) {
    seconds = parts[0]! * 3600 + parts[1]! * 60 + parts[2]!;
  } else if (parts.length === 2) {
    seconds = parts[0]! * 60 + parts[1]!;
  } else {
    // A bare number is minutes in SLURM's time syntax (sbatch -t 30); outputs do not print it.
    seconds = parts[0]! * 60;
  }
  return seconds + frac;
}

// ---- sizes ---------------------------------------------------------------------------------------

const SIZE_POWER: Readonly<Record<string, number>> = { '': 0, K: 1, M: 2, G: 3, T: 4, P: 5 };
const SIZE_RE = /^(\d+(?:\.\d+)?)([KMGTP]?)$/i;

/**
 * Bytes in a SLURM size (base 1024): `620956K`, `1.50M`, `4G`, `0`. A bare number is in
 * `bareUnit` ("" = bytes for sacct MaxRSS; "M" for squeue %m and sinfo %m / %e, which print MB).
 * null for no value. Throws SlurmParseError on anything else.
 */
export function parseSizeBytes(text: string | undefined, bareUnit: '' | 'K' | 'M' = ''): number | null {
  if (isNullValue(text)) return null;
  const t = text!.trim();
  const m = SIZE_RE.exec(t);
  if (!m) throw new SlurmParseError('slurm', `not a size: ${sample(t)}`);
  const unit = (m[2] || bareUnit).toUpperCase();
  return Math.round(Number(m[1]) * 1024 ** SIZE_POWER[unit]!);
}

// ---- exit codes ----------------------------------------------------------------------------------

/** SLURM's `N:S`: the exit code of the script and the signal that ended it (0 = none). */
export interface ExitStatus {
  code: number;
  signal: number;
}

/** Parse `3:0`, `0:15`, `0:125`. null for no value. Throws SlurmParseError on anything else. */
export function parseExitStatus(text: string | undefined): ExitStatus | null {
  if (isNullValue(text)) return null;
  const m = /^(\d+):(\d+)$/.exec(text!.trim());
  if (!m) throw new SlurmParseError('slurm', `not an exit code N:S: ${sample(text!.trim())}`);
  return { code: Number(m[1]), signal: Number(m[2]) };
}

// ---- times ---------------------------------------------------------------------------------------

const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/**
 * A SLURM timestamp (`2026-11-21T16:15:43`) as printed: the cluster's local time, no zone
 * (turning it into an instant needs the cluster's time zone, which the output does not say).
 * null for Unknown / None / N/A. Throws SlurmParseError on anything else.
 */
export function parseSlurmTime(text: string | undefined): string | null {
  if (isNullValue(text)) return null;
  const t = text!.trim();
  if (!TIME_RE.test(t)) throw new SlurmParseError('slurm', `not a time YYYY-MM-DDTHH:MM:SS: ${sample(t)}`);
  return t;
}

// ---- numbers -------------------------------------------------------------------------------------

/** A non-negative integer; null for no value. Throws SlurmParseError on anything else. */
export function parseCount(text: string | undefined): number | null {
  if (isNullValue(text)) return null;
  const t = text!.trim();
  if (!/^\d+$/.test(t)) throw new SlurmParseError('slurm', `not a whole number: ${sample(t)}`);
  return Number(t);
}

/**
 * Run `parse` on a field; a SlurmParseError it throws is rethrown with `command`, `line` and
 * `field` filled in, so every message says where the bad value was.
 */
export function field<T>(command: string, line: number | undefined, name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof SlurmParseError) throw new SlurmParseError(command, err.detail, { line, field: name }, { cause: err });
    throw err;
  }
}

/** Reads one typed field of a row: `f('UID', parseCount)`; a parse error names the field and line. */
export type FieldReader = <T>(name: string, parse: (v: string | undefined) => T) => T;

/** The FieldReader of the row on `line`, whose cells `get` looks up by name. */
export function fieldReader(command: string, line: number | undefined, get: (name: string) => string | undefined): FieldReader {
  return (name, parse) => field(command, line, name, () => parse(get(name)));
}

// ---- job ids -------------------------------------------------------------------------------------

export interface JobIdParts {
  /** The id without a step, as SLURM prints it: "18", "39_3", "48_[0-3%2]". */
  job_id: string;
  /** The number before `_` (the array's job id) or the plain job id. */
  base_id: number;
  /** Array task index ("39_3" → 3); null for a plain job or an unsplit pending array. */
  array_task_id: number | null;
  /** The bracketed task set of an unsplit pending array ("48_[0-3%2]" → "0-3%2"), else null. */
  array_task_spec: string | null;
  /** The step after the dot: "batch", "extern", "interactive", "0"; null for the job itself. */
  step: string | null;
  /** Heterogeneous job component ("7+1" → 1), else null. */
  het_offset: number | null;
}

const JOB_ID_RE = /^(\d+)(?:_(\d+)|_\[([^\]]*)\])?(?:\+(\d+))?(?:\.([A-Za-z0-9_-]+))?$/;

/** Split a SLURM job id (`18`, `18.batch`, `39_3.batch`, `48_[0-3%2]`, `7+1.0`). Throws on garbage. */
export function parseJobIdParts(text: string): JobIdParts {
  const t = text.trim();
  const m = JOB_ID_RE.exec(t);
  if (!m) throw new SlurmParseError('slurm', `not a job id: ${sample(t)}`);
  const step = m[5] ?? null;
  return {
    job_id: step === null ? t : t.slice(0, t.length - step.length - 1),
    base_id: Number(m[1]),
    array_task_id: m[2] === undefined ? null : Number(m[2]),
    array_task_spec: m[3] ?? null,
    step,
    het_offset: m[4] === undefined ? null : Number(m[4]),
  };
}

// ---- TRES ----------------------------------------------------------------------------------------

/** `cpu=1,mem=1G,node=1,billing=1,gres/gpu:a100=2` → Map of name → value. Empty for no value. */
export function parseTres(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (isNullValue(text)) return out;
  for (const part of text!.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * GPUs in a TRES list: `gres/gpu=N` when present (SLURM also lists typed `gres/gpu:a100=N`,
 * which count the same GPUs), else the sum of the typed entries. null when no GPU is listed.
 */
export function tresGpus(tres: Map<string, string>): number | null {
  const plain = tres.get('gres/gpu');
  if (plain !== undefined && /^\d+$/.test(plain)) return Number(plain);
  let sum: number | null = null;
  for (const [k, v] of tres) {
    if (k.startsWith('gres/gpu:') && /^\d+$/.test(v)) sum = (sum ?? 0) + Number(v);
  }
  return sum;
}

// ---- -o format strings -----------------------------------------------------------------------

/**
 * Column names for a `-o` format of `|`-separated `%X` fields ("%i|%T|%j"), as the command would
 * print them in its header line; a letter missing from `headers` becomes "%X".
 */
export function columnsFromFormat(format: string, headers: Readonly<Record<string, string>>): string[] {
  return format.split('|').map((part) => {
    const m = /%\.?\d*([A-Za-z])/.exec(part);
    if (!m) return part;
    return headers[m[1]!] ?? `%${m[1]}`;
  });
}

/** True when every cell looks like a header name (JOBID, CPUS(A/I/O/T)) and one is in `known`. */
export function looksLikeHeader(cells: string[], known: Iterable<string>): boolean {
  const set = new Set(known);
  return cells.every((c) => /^[A-Z][A-Z0-9_()/%]*$/.test(c.trim())) && cells.some((c) => set.has(c.trim()));
}

export interface FormatTableOptions {
  command: string;
  /** The `-o` format the command ran with: the columns of output without a header line. */
  format: string;
  /** The command's header name for each `-o` letter: the header line is recognised by them. */
  headers: Readonly<Record<string, string>>;
  freeText?: string;
  maxLines?: number;
}

/** parsePipeTable for the output of a `-o FORMAT` command (squeue, sinfo), with or without its header line. */
export function parseFormatTable(text: string, opts: FormatTableOptions): PipeTable {
  const known = Object.values(opts.headers);
  return parsePipeTable(text, {
    command: opts.command,
    columns: columnsFromFormat(opts.format, opts.headers),
    isHeader: (cells) => looksLikeHeader(cells, known),
    freeText: opts.freeText,
    maxLines: opts.maxLines,
  });
}

// ---- GRES ------------------------------------------------------------------------------------

export interface GresEntry {
  /** "gpu", "mps", "shard". */
  name: string;
  /** "a100", "nvidia_a100-sxm4-80gb"; null when untyped. */
  type: string | null;
  count: number;
  /** What followed in parentheses: "S:0-1" (sockets), "IDX:0-3" (indexes in use). */
  detail: string | null;
}

const GRES_COUNT_RE = /^(\d+)([KMGTP]?)$/i;

/**
 * A GRES list as sinfo %G, squeue %b and scontrol TresPerNode print it: `gpu:a100:4(S:0-1)`,
 * `gpu:4,mps:400`, `gres:gpu:1`, `gres/gpu:a100=2`. A count suffix K/M/G multiplies by 1024, as
 * in slurm.conf. No count means 1. Empty for no value ((null), N/A). Entries that do not parse are
 * skipped (GRES plugins print their own forms).
 */
export function parseGres(text: string | undefined): GresEntry[] {
  if (isNullValue(text)) return [];
  const out: GresEntry[] = [];
  for (let e of splitTopLevel(text!.trim(), ',')) {
    e = e.trim();
    if (e === '') continue;
    let detail: string | null = null;
    const paren = e.indexOf('(');
    if (paren >= 0) {
      detail = e.slice(paren + 1, e.endsWith(')') ? -1 : undefined);
      e = e.slice(0, paren);
    }
    e = e.replace(/^gres[:/]/, '');
    const parts = e.split(/[:=]/);
    const name = parts[0]!;
    if (!/^[A-Za-z][\w.-]*$/.test(name)) continue;
    let count = 1;
    let type: string | null = null;
    const last = parts.length > 1 ? parts[parts.length - 1]! : undefined;
    const m = last === undefined ? null : GRES_COUNT_RE.exec(last);
    if (m) {
      count = Number(m[1]) * 1024 ** SIZE_POWER[m[2]!.toUpperCase()]!;
      type = parts.length > 2 ? parts.slice(1, -1).join(':') : null;
    } else {
      type = parts.length > 1 ? parts.slice(1).join(':') : null;
    }
    out.push({ name, type, count, detail });
  }
  return out;
}

/** GPUs in a GRES list (sum of the `gpu` entries); null when there is none. */
export function gresGpus(entries: GresEntry[]): number | null {
  const gpus = entries.filter((e) => e.name === 'gpu');
  return gpus.length === 0 ? null : gpus.reduce((n, e) => n + e.count, 0);
}

/** The first host of a SLURM node list ("node[01-04],gpu1" → "node01"); null when none. */
export function firstNode(nodeList: string | null | undefined): string | null {
  if (!nodeList || nodeList === 'None' || nodeList === '(null)') return null;
  const m = /^([^,[]+)(?:\[([^\]]+)\])?/.exec(nodeList.trim());
  if (!m) return null;
  if (!m[2]) return m[1]!;
  const first = m[2].split(',')[0]!.split('-')[0]!;
  return m[1]! + first;
}
