// Log-tail diagnosis: match the last lines of a job's output against a pack of patterns and say
// in a few lines what most likely went wrong, quoting the line that shows it.
//
// The pack is src/diagnose/patterns.json (built in) plus `diagnose.patterns` from config; a config
// entry with the id of a built-in pattern replaces it. loadPatterns() validates and compiles them
// once (bad entries are a ConfigError naming the entry, at start-up, never at send time);
// diagnose() is pure and bounded: each pattern is tested against at most TAIL_MAX_LINES lines of
// at most TAIL_MAX_LINE_CHARS characters, and regexes with the classic exponential shape
// ((a+)+) are refused at load time.
//
// Pattern semantics (see also the "about" text in patterns.json):
//   priority   higher first; when two patterns quote the same line, the higher one keeps it
//   quote      "first" | "last" matching line, or "python-exception": the exception line that ends
//              the last Python traceback (the regex finds the traceback header or frame lines)
//   onSuccess  also diagnose jobs that exited 0 (e.g. a NaN loss in a run that "finished")
import fs from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../lib/errors.js';
import { clip, TAIL_MAX_LINE_CHARS, TAIL_MAX_LINES } from '../spool/events.js';

export type QuoteMode = 'first' | 'last' | 'python-exception';

/** A validated, compiled pattern. */
export interface Pattern {
  readonly id: string;
  readonly description: string;
  readonly regex: RegExp;
  readonly hint?: string;
  readonly priority: number;
  readonly quote: QuoteMode;
  readonly onSuccess: boolean;
  readonly source: 'builtin' | 'config';
}

export interface Diagnosis {
  /** Pattern id, e.g. "cuda-oom". */
  pattern: string;
  description: string;
  /** The quoted log line: trimmed, runs of blanks collapsed, clipped to QUOTE_MAX_CHARS. */
  line: string;
  hint?: string;
}

export interface DiagnoseInput {
  tail: readonly string[];
  exit?: number | null;
  signal?: string | null;
}

/** At most this many diagnoses are returned. */
export const MAX_DIAGNOSES = 5;
/** A quoted line is clipped to this many characters. */
export const QUOTE_MAX_CHARS = 300;
/** Longest regex source accepted from config. */
export const REGEX_MAX_CHARS = 1000;
/** Where config patterns live, for error paths. */
export const CONFIG_PATTERNS_PATH = 'diagnose.patterns';

const BUILTIN_FILE = new URL('./patterns.json', import.meta.url);

const patternSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be kebab-case: lower-case letters, digits and dashes, at most 64'),
  description: z.string().trim().min(1).max(200),
  regex: z.string().min(1).max(REGEX_MAX_CHARS),
  flags: z.string().regex(/^[imsu]*$/, 'may only contain i, m, s and u').optional(),
  hint: z.string().trim().min(1).max(500).optional(),
  priority: z.number().int().min(0).max(1000).default(50),
  quote: z.enum(['first', 'last', 'python-exception']).default('last'),
  onSuccess: z.boolean().default(false),
});

const packSchema = z.strictObject({
  about: z.string().optional(),
  patterns: z.array(z.unknown()),
});

let builtinCache: readonly Pattern[] | undefined;

/**
 * The built-in pack plus `extra` (entries of `diagnose.patterns` from config), validated and
 * compiled. An extra entry whose id equals a built-in one replaces it in place; new ids are added.
 * Throws ConfigError naming the entry, e.g. `diagnose.patterns[2].regex: invalid regular expression: …`.
 */
export function loadPatterns(extra?: readonly unknown[], opts?: { path?: string }): Pattern[] {
  const builtin = (builtinCache ??= loadBuiltinPatterns());
  if (!extra || extra.length === 0) return [...builtin];
  const base = opts?.path ?? CONFIG_PATTERNS_PATH;
  const own = compileEntries(extra, base, 'config');
  const byId = new Map(own.map((p) => [p.id, p]));
  const merged = builtin.map((p) => byId.get(p.id) ?? p);
  const builtinIds = new Set(builtin.map((p) => p.id));
  for (const p of own) if (!builtinIds.has(p.id)) merged.push(p);
  return merged;
}

function loadBuiltinPatterns(): readonly Pattern[] {
  const base = 'src/diagnose/patterns.json: patterns';
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(BUILTIN_FILE, 'utf8'));
  } catch (err) {
    throw new ConfigError(base, `cannot read the built-in pattern pack`, { cause: err });
  }
  const pack = packSchema.safeParse(raw);
  if (!pack.success) throw zodToConfigError(pack.error, base);
  return Object.freeze(compileEntries(pack.data.patterns, base, 'builtin'));
}

function compileEntries(entries: readonly unknown[], base: string, source: Pattern['source']): Pattern[] {
  const out: Pattern[] = [];
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const at = `${base}[${i}]`;
    const parsed = patternSchema.safeParse(entry);
    if (!parsed.success) throw zodToConfigError(parsed.error, at);
    const p = parsed.data;
    const first = seen.get(p.id);
    if (first !== undefined) throw new ConfigError(`${at}.id`, `duplicate id "${p.id}" (also ${base}[${first}])`);
    seen.set(p.id, i);
    const regex = compileRegex(p.regex, p.flags ?? '', `${at}.regex`);
    out.push(
      Object.freeze({
        id: p.id,
        description: p.description,
        regex,
        ...(p.hint !== undefined ? { hint: p.hint } : {}),
        priority: p.priority,
        quote: p.quote,
        onSuccess: p.onSuccess,
        source,
      }),
    );
  });
  return out;
}

function compileRegex(source: string, flags: string, path: string): RegExp {
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch (err) {
    const msg = err instanceof Error ? err.message.replace(/^Invalid regular expression:\s*/i, '') : String(err);
    throw new ConfigError(path, `invalid regular expression: ${msg}`, { cause: err });
  }
  if (hasNestedQuantifier(source)) {
    throw new ConfigError(
      path,
      'a repeated group contains another repetition, e.g. (a+)+; such regexes can take exponential time on some lines, rewrite it without the outer repetition',
    );
  }
  if (re.test('')) throw new ConfigError(path, 'matches an empty line, so it would match every line');
  return re;
}

/**
 * True when a group that contains an unbounded repetition (+, *, {n,}) is itself repeated without
 * bound, e.g. (a+)+ or (?:x*y)*: the classic catastrophic-backtracking shape. A heuristic: it
 * does not catch overlapping alternations like (a|a)*.
 */
export function hasNestedQuantifier(source: string): boolean {
  const stack: boolean[] = []; // per open group: does it contain an unbounded repetition?
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') {
      stack.push(false);
      continue;
    }
    if (c === ')') {
      const inner = stack.pop() ?? false;
      const outer = unboundedQuantifierAt(source, i + 1);
      if (inner && outer) return true;
      if ((inner || outer) && stack.length > 0) stack[stack.length - 1] = true;
      continue;
    }
    if (stack.length > 0 && unboundedQuantifierAt(source, i)) stack[stack.length - 1] = true;
  }
  return false;
}

function unboundedQuantifierAt(source: string, i: number): boolean {
  const c = source[i];
  if (c === '+' || c === '*') return true;
  return c === '{' && /^\{\d+,\}/.test(source.slice(i, i + 12));
}

function zodToConfigError(error: z.ZodError, base: string): ConfigError {
  const issue = error.issues[0];
  if (!issue) return new ConfigError(base, 'invalid pattern');
  let path = base;
  for (const seg of issue.path) path += typeof seg === 'number' ? `[${seg}]` : `.${String(seg)}`;
  return new ConfigError(path, issue.message, { cause: error });
}

/**
 * What the tail says went wrong: at most MAX_DIAGNOSES diagnoses, most important (highest
 * priority) first, one per pattern, and never the same quoted line twice. A job that exited 0
 * is only checked against patterns marked onSuccess.
 */
export function diagnose(input: DiagnoseInput, patterns: readonly Pattern[]): Diagnosis[] {
  const lines = boundLines(input.tail);
  if (lines.length === 0) return [];
  const succeeded = input.exit === 0 && !input.signal;

  const found: { pattern: Pattern; line: string }[] = [];
  for (const pattern of patterns) {
    if (succeeded && !pattern.onSuccess) continue;
    const at = matchIndex(lines, pattern);
    if (at < 0) continue;
    const line = pattern.quote === 'python-exception' ? (pythonExceptionLine(lines, at) ?? lines[at]!) : lines[at]!;
    // Bash pads "Killed" and "Segmentation fault" with runs of spaces; a quote is for people.
    found.push({ pattern, line: line.trim().replace(/[ \t]{2,}/g, ' ') });
  }
  // Stable sort: equal priorities keep the pack's order.
  found.sort((a, b) => b.pattern.priority - a.pattern.priority);

  const out: Diagnosis[] = [];
  const quoted = new Set<string>();
  for (const { pattern, line } of found) {
    if (quoted.has(line)) continue;
    quoted.add(line);
    out.push({
      pattern: pattern.id,
      description: pattern.description,
      line: clip(line, QUOTE_MAX_CHARS),
      ...(pattern.hint !== undefined ? { hint: pattern.hint } : {}),
    });
    if (out.length >= MAX_DIAGNOSES) break;
  }
  return out;
}

/** The tail as diagnose() reads it: the last TAIL_MAX_LINES lines, each cut to TAIL_MAX_LINE_CHARS. */
function boundLines(tail: readonly string[]): string[] {
  const from = Math.max(0, tail.length - TAIL_MAX_LINES);
  const out: string[] = [];
  for (let i = from; i < tail.length; i++) {
    const l = tail[i];
    out.push(typeof l === 'string' ? l.slice(0, TAIL_MAX_LINE_CHARS) : '');
  }
  return out;
}

function matchIndex(lines: readonly string[], pattern: Pattern): number {
  if (pattern.quote === 'first') {
    for (let i = 0; i < lines.length; i++) if (pattern.regex.test(lines[i]!)) return i;
    return -1;
  }
  for (let i = lines.length - 1; i >= 0; i--) if (pattern.regex.test(lines[i]!)) return i;
  return -1;
}

/** "[rank0]: " (torchrun), "[default0]:" (elastic --tee), "0: " (srun --label). */
const RANK_PREFIX = /^(?:\[[^\]\s]{1,40}\]:|\d{1,5}:(?= ))/;

/**
 * The exception line that ends the traceback containing lines[from] (its header or a frame):
 * the first later line, from the same rank prefix if any, that is neither blank nor indented
 * (source lines, ^^^ markers and frames are indented). Lines from other ranks are skipped.
 */
function pythonExceptionLine(lines: readonly string[], from: number): string | undefined {
  const prefix = RANK_PREFIX.exec(lines[from]!)?.[0] ?? '';
  for (let i = from + 1; i < lines.length; i++) {
    const raw = lines[i]!;
    const own = RANK_PREFIX.exec(raw)?.[0] ?? '';
    if (own !== prefix) continue;
    let body = raw.slice(own.length);
    if (own) body = body.replace(/^ /, '');
    if (body.trim() === '' || /^\s/.test(body)) continue;
    if (body.startsWith('Traceback (most recent call last):')) continue;
    return raw;
  }
  return undefined;
}
