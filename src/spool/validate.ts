// Hub-side validation of one untrusted spool line (protocol v1, spool/events.ts). Every problem is
// reported with the field it is about ("field `exit` must be an integer or null"), never thrown.
// Unknown fields are kept on the event and listed; unknown types are "ignored", not "invalid"; a
// `v` newer than SPOOL_VERSION is accepted when the line still parses as v1 (forward compatible).
import { z } from 'zod';
import {
  COMMAND_MAX_CHARS,
  MAX_EVENT_BYTES,
  MESSAGE_MAX_CHARS,
  PATH_MAX_CHARS,
  TAIL_MAX_BYTES,
  TAIL_MAX_LINES,
  TAIL_MAX_LINE_CHARS,
  TITLE_MAX_CHARS,
  TO_MAX_ENTRIES,
  TO_URL_MAX_CHARS,
  SLURM_ARRAY_MAX_CHARS,
  SLURM_JOB_ID_RE,
  SLURM_NAME_MAX_CHARS,
  clip,
  type SpoolEvent,
} from './events.js';
import { LINK_CHATS, LINK_CODE_CHARS, LINK_CODE_MAX_CHARS, parseLinkCode } from './link-code.js';
import { LOGIN_HASH_RE } from './login-code.js';
import { ULID_RE } from '../lib/ids.js';
import { formatPath } from '../lib/field-path.js';

// Reader-side bounds for fields events.ts does not limit (writers never come near them).
export const USER_MAX_CHARS = 256;
export const HOST_MAX_CHARS = 255;
export const SRC_MAX_CHARS = 32;
export const TYPE_MAX_CHARS = 64;
export const SIGNAL_MAX_CHARS = 32;
export { PATH_MAX_CHARS, SLURM_NAME_MAX_CHARS, TO_MAX_ENTRIES, TO_URL_MAX_CHARS };
/** Upper bound for durations (seconds): about 31 years. */
export const SECONDS_MAX = 1e9;

export type ParsedLine =
  | { kind: 'event'; event: SpoolEvent; unknownFields: string[] }
  | { kind: 'ignored'; type: string; reason: string }
  | { kind: 'invalid'; reason: string };

export const KNOWN_TYPES = ['start', 'end', 'note', 'slurm', 'link', 'login'] as const;
/** Most tasks an array may declare (SLURM's MaxArraySize ceiling is 4,000,001). */
export const SLURM_TASKS_MAX = 4_000_001;

const ISO_UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** What each field must be, in words; the reason for any issue on that field says this. */
const EXPECT: Record<string, string> = {
  v: 'an integer >= 1 (schema version)',
  type: `a string of at most ${TYPE_MAX_CHARS} characters`,
  id: 'a ULID (26 characters of Crockford base32, upper case)',
  ts: 'an ISO-8601 UTC time like 2024-05-01T12:00:00.000Z',
  user: `a non-empty string of at most ${USER_MAX_CHARS} characters`,
  host: `a non-empty string of at most ${HOST_MAX_CHARS} characters`,
  src: `a string of at most ${SRC_MAX_CHARS} characters`,
  pid: 'a positive integer',
  pid_start: 'a decimal string (clock ticks since boot, /proc/<pid>/stat field 22)',
  cwd: `a string of at most ${PATH_MAX_CHARS} characters`,
  title: `a string of at most ${TITLE_MAX_CHARS} characters`,
  cmd: `a string of at most ${COMMAND_MAX_CHARS} characters`,
  to: `a list of at most ${TO_MAX_ENTRIES} strings of at most ${TO_URL_MAX_CHARS} characters`,
  log: `a string of at most ${PATH_MAX_CHARS} characters`,
  detached: 'a boolean',
  attached: 'a boolean',
  exit: 'an integer or null',
  signal: `a signal name (string of at most ${SIGNAL_MAX_CHARS} characters) or null`,
  exit_unknown: 'a boolean',
  wall_seconds: `a finite number of seconds between 0 and ${SECONDS_MAX}`,
  cpu_seconds: `a finite number of seconds between 0 and ${SECONDS_MAX}, or null`,
  peak_rss_bytes: 'a non-negative integer (bytes) or null',
  tail: `a list of at most ${TAIL_MAX_LINES} strings of at most ${TAIL_MAX_LINE_CHARS} characters, ${TAIL_MAX_BYTES} bytes in all`,
  message: `a string of at most ${MESSAGE_MAX_CHARS} characters`,
  slurm: `an object: job_id (digits), and optional cluster, name, partition (strings of at most ${SLURM_NAME_MAX_CHARS} characters or null), array (a string of at most ${SLURM_ARRAY_MAX_CHARS} characters or null), tasks (an integer between 1 and ${SLURM_TASKS_MAX} or null)`,
  output: `a string of at most ${PATH_MAX_CHARS} characters or null`,
  error: `a string of at most ${PATH_MAX_CHARS} characters or null`,
  code: `a flurm link code: a string of at most ${LINK_CODE_MAX_CHARS} characters holding ${LINK_CODE_CHARS} letters and digits (Crockford base32; dashes and blanks ignored), unless \`unlink\` is true`,
  unlink: 'a boolean; `unlink: true` ends the link and comes without `code`',
  chat: `with \`unlink: true\`, the chat whose link ends: ${LINK_CHATS.join(' or ')} (without it: every chat)`,
  hash: 'the SHA-256 of a login code: 64 lower-case hex digits',
};

const str = (max: number) => z.string().max(max);
const nonEmpty = (max: number) => z.string().min(1).max(max);
const seconds = z.number().min(0).max(SECONDS_MAX);
const toList = z.array(str(TO_URL_MAX_CHARS)).max(TO_MAX_ENTRIES);

const base = {
  v: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  id: z.string().regex(ULID_RE),
  ts: z.string().regex(ISO_UTC_RE).refine((s) => Number.isFinite(Date.parse(s))),
  user: nonEmpty(USER_MAX_CHARS),
  host: nonEmpty(HOST_MAX_CHARS),
  src: str(SRC_MAX_CHARS).optional(),
};

const startSchema = z
  .object({
    ...base,
    type: z.literal('start'),
    pid: z.number().int().min(1).max(2 ** 31 - 1),
    pid_start: z.string().regex(/^\d{1,20}$/),
    cwd: str(PATH_MAX_CHARS).optional(),
    title: str(TITLE_MAX_CHARS).optional(),
    cmd: str(COMMAND_MAX_CHARS).optional(),
    to: toList.optional(),
    log: str(PATH_MAX_CHARS).optional(),
    detached: z.boolean().optional(),
    attached: z.boolean().optional(),
  })
  .loose();

const tailSchema = z
  .array(str(TAIL_MAX_LINE_CHARS))
  .max(TAIL_MAX_LINES)
  .refine((lines) => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) <= TAIL_MAX_BYTES);

const endSchema = z
  .object({
    ...base,
    type: z.literal('end'),
    exit: z.number().int().min(-(2 ** 31)).max(2 ** 32 - 1).nullable(),
    signal: str(SIGNAL_MAX_CHARS).nullable().optional(),
    exit_unknown: z.boolean().optional(),
    wall_seconds: seconds,
    cpu_seconds: seconds.nullable().optional(),
    peak_rss_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
    tail: tailSchema.optional(),
    title: str(TITLE_MAX_CHARS).optional(),
    cmd: str(COMMAND_MAX_CHARS).optional(),
    to: toList.optional(),
  })
  .loose();

const noteSchema = z
  .object({
    ...base,
    type: z.literal('note'),
    title: str(TITLE_MAX_CHARS).optional(),
    message: str(MESSAGE_MAX_CHARS),
    to: toList.optional(),
  })
  .loose();

const slurmName = str(SLURM_NAME_MAX_CHARS).nullable().optional();

const slurmSchema = z
  .object({
    ...base,
    type: z.literal('slurm'),
    slurm: z
      .object({
        job_id: z.string().regex(SLURM_JOB_ID_RE),
        cluster: slurmName,
        array: str(SLURM_ARRAY_MAX_CHARS).nullable().optional(),
        tasks: z.number().int().min(1).max(SLURM_TASKS_MAX).nullable().optional(),
        name: slurmName,
        partition: slurmName,
      })
      .loose(),
    title: str(TITLE_MAX_CHARS).optional(),
    cmd: str(COMMAND_MAX_CHARS).optional(),
    cwd: str(PATH_MAX_CHARS).optional(),
    output: str(PATH_MAX_CHARS).nullable().optional(),
    error: str(PATH_MAX_CHARS).nullable().optional(),
    to: toList.optional(),
    attached: z.boolean().optional(),
  })
  .loose();

// A `link` carries a code that parses (its signature is the hub's to check), or `unlink: true`.
const linkSchema = z
  .object({
    ...base,
    type: z.literal('link'),
    code: str(LINK_CODE_MAX_CHARS).refine((c) => parseLinkCode(c).ok).optional(),
    unlink: z.boolean().optional(),
    chat: z.enum(LINK_CHATS).optional(),
  })
  .loose()
  .superRefine((e, ctx) => {
    if (e.unlink === true && e.code !== undefined) ctx.addIssue({ code: 'custom', path: ['unlink'], message: 'with a code' });
    else if (e.chat !== undefined && e.unlink !== true) ctx.addIssue({ code: 'custom', path: ['chat'], message: 'without `unlink: true` (a code names its chat)' });
    else if (e.unlink !== true && e.code === undefined) ctx.addIssue({ code: 'custom', path: ['code'], message: 'missing' });
  });

// A `login` carries the hash of a one-time code, never the code (docs/access.md).
const loginSchema = z
  .object({
    ...base,
    type: z.literal('login'),
    hash: z.string().regex(LOGIN_HASH_RE),
  })
  .loose();

const SCHEMAS = { start: startSchema, end: endSchema, note: noteSchema, slurm: slurmSchema, link: linkSchema, login: loginSchema } as const;
const KNOWN_FIELDS: Record<string, Set<string>> = Object.fromEntries(
  Object.entries(SCHEMAS).map(([t, s]) => [t, new Set(Object.keys(s.shape))]),
);


/** One issue → "field `tail[3]` must be ...". Required fields that are absent say so. */
function describeIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>): string {
  const top = String(issue.path[0] ?? '');
  const name = issue.path.length > 0 ? formatPath(issue.path) : '(line)';
  const expect = EXPECT[top] ?? 'valid';
  if (issue.path.length === 1 && !(top in input)) return `field \`${name}\` is required (${expect})`;
  return `field \`${name}\` must be ${expect}`;
}

/**
 * Parse and validate one line of an events file (without its newline). `context` (e.g.
 * "events/gpu1.jsonl line 12") prefixes every reason. Never throws.
 */
export function parseEventLine(line: string, context?: string): ParsedLine {
  const at = context ? `${context}: ` : '';
  if (line.trim() === '') return { kind: 'ignored', type: '', reason: `${at}blank line` };
  // MAX_EVENT_BYTES counts the newline the reader stripped.
  const bytes = Buffer.byteLength(line) + 1;
  if (bytes > MAX_EVENT_BYTES) return { kind: 'invalid', reason: `${at}line of ${bytes} bytes is longer than the limit of ${MAX_EVENT_BYTES} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { kind: 'invalid', reason: `${at}not JSON: ${clip((err as Error).message, 120)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', reason: `${at}not a JSON object (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})` };
  }
  const obj = value as Record<string, unknown>;
  if (!('type' in obj)) return { kind: 'invalid', reason: `${at}field \`type\` is required (${EXPECT.type})` };
  const type = obj.type;
  if (typeof type !== 'string' || type.length > TYPE_MAX_CHARS) {
    return { kind: 'invalid', reason: `${at}field \`type\` must be ${EXPECT.type}` };
  }
  if (!Object.hasOwn(SCHEMAS, type)) {
    return { kind: 'ignored', type, reason: `${at}unknown event type "${clip(type, TYPE_MAX_CHARS)}" ignored` };
  }
  const schema = SCHEMAS[type as keyof typeof SCHEMAS];
  const result = schema.safeParse(obj);
  if (!result.success) {
    const issues = result.error.issues;
    const seen = new Set<string>();
    const parts: string[] = [];
    for (const issue of issues) {
      const d = describeIssue(issue, obj);
      if (seen.has(d)) continue;
      seen.add(d);
      parts.push(d);
    }
    const more = parts.length > 5 ? `; and ${parts.length - 5} more` : '';
    return { kind: 'invalid', reason: `${at}${type} event: ${parts.slice(0, 5).join('; ')}${more}` };
  }
  const event = result.data as SpoolEvent;
  const known = KNOWN_FIELDS[type]!;
  const unknownFields = Object.keys(event).filter((k) => !known.has(k));
  return { kind: 'event', event, unknownFields };
}
