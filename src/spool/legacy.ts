// The legacy ~/.pingchilling format, read so a lab can switch to flurm without changing habits:
//   PID@host: Started [title] YYYY-MM-DD HH:MM:SS
//   PID@host: Finished [exit] YYYY-MM-DD HH:MM:SS
// (any run of blanks between the fields). The brackets are literal; a title may contain spaces and brackets (the last "] " before the date
// closes it); exit is an integer. Times are the WRITER's local wall-clock time with no offset.
// Assumption (documented in the report/docs): the writer's zone is `opts.timeZone` (an IANA name,
// from hub config) or else the hub's own zone (TZ env / system), i.e. the lab's nodes share one
// zone. DST: an ambiguous time (the repeated hour in autumn) is taken as its first occurrence; a
// time that does not exist (the skipped hour in spring) is read with the offset in force before
// the jump (02:30 → 03:30 summer time), which is what JavaScript's Date does for local times.
// Pairing a Finished with its Started is the hub's job; legacyJobId() gives the pair a stable id.
import { createHash } from 'node:crypto';
import { clip, TITLE_MAX_CHARS } from './events.js';
import { isValidTimeZone, localTimeZone, wallClockFormatter } from '../lib/time.js';

/** Longest legacy line accepted (characters). */
export const LEGACY_LINE_MAX_CHARS = 4096;

export type LegacyLine =
  | { kind: 'start'; pid: number; host: string; title: string; ts: string }
  | { kind: 'finish'; pid: number; host: string; exit: number; ts: string }
  | { kind: 'invalid'; reason: string };

// Fields are separated by any run of blanks (spaces, tabs): the pingch function labs have in their
// ~/.bashrc writes "Started  [" with two spaces (test/fixtures/spools/pingch.bash). Blanks and a
// CR at the line's end are trimmed before matching.
const LINE_RE = /^(\d{1,10})@([A-Za-z0-9._-]{1,255}):[ \t]+(Started|Finished)[ \t]+\[(.*)\][ \t]+(\d{4})-(\d{2})-(\d{2})[ \t]+(\d{2}):(\d{2}):(\d{2})$/s;

/** Offset of `timeZone` from UTC at instant `utcMs` (ms; local = utc + offset). */
function offsetMs(utcMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of wallClockFormatter(timeZone, { seconds: true }).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const local = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return local - Math.floor(utcMs / 1000) * 1000;
}

/**
 * The UTC instant (ms) of a wall-clock time in `timeZone`; see the module comment for DST.
 * `wallAsUtcMs` is the wall-clock fields read as if they were UTC.
 */
export function zonedWallTimeToUtcMs(wallAsUtcMs: number, timeZone: string): number {
  // At most one transition lies within a day: the offsets 12 h either side are the candidates.
  const before = offsetMs(wallAsUtcMs - 12 * 3600_000, timeZone);
  const after = offsetMs(wallAsUtcMs + 12 * 3600_000, timeZone);
  const c1 = wallAsUtcMs - before;
  const c2 = wallAsUtcMs - after;
  const ok1 = offsetMs(c1, timeZone) === before;
  const ok2 = offsetMs(c2, timeZone) === after;
  if (ok1 && ok2) return Math.min(c1, c2); // ambiguous (or no transition): first occurrence
  if (ok1) return c1;
  if (ok2) return c2;
  return c1; // in the gap: offset in force before the jump
}

/** Parse one ~/.pingchilling line. Never throws. */
export function parseLegacyLine(line: string, opts: { timeZone?: string } = {}): LegacyLine {
  if (line.length > LEGACY_LINE_MAX_CHARS) return { kind: 'invalid', reason: `legacy line longer than ${LEGACY_LINE_MAX_CHARS} characters` };
  const text = line.replace(/\r?\n?$/, '').trim();
  const m = LINE_RE.exec(text);
  if (!m) {
    return {
      kind: 'invalid',
      reason: `not a legacy line (expected "PID@host: Started [title] YYYY-MM-DD HH:MM:SS" or "PID@host: Finished [exit] YYYY-MM-DD HH:MM:SS"): ${JSON.stringify(text.slice(0, 80))}`,
    };
  }
  const [, pidS, host, verb, inner, y, mo, d, h, mi, s] = m as unknown as [string, string, string, string, string, string, string, string, string, string, string];
  const pid = Number(pidS);
  if (pid < 1 || pid > 2 ** 31 - 1) return { kind: 'invalid', reason: `legacy line: pid ${pidS} out of range` };
  const [Y, M, D, H, MI, S] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(Y, M - 1, D, H, MI, S);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== Y || check.getUTCMonth() !== M - 1 || check.getUTCDate() !== D || H > 23 || MI > 59 || S > 59) {
    return { kind: 'invalid', reason: `legacy line: no such date/time ${y}-${mo}-${d} ${h}:${mi}:${s}` };
  }
  const timeZone = opts.timeZone ?? localTimeZone(); // none configured: TZ env or the system zone
  if (!isValidTimeZone(timeZone)) return { kind: 'invalid', reason: `legacy line: unknown time zone ${JSON.stringify(timeZone)}` };
  const ts = new Date(zonedWallTimeToUtcMs(wall, timeZone)).toISOString();
  if (verb === 'Started') {
    // eslint-disable-next-line no-control-regex
    const title = clip(inner.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ''), TITLE_MAX_CHARS);
    return { kind: 'start', pid, host, title, ts };
  }
  if (!/^-?\d{1,10}$/.test(inner)) return { kind: 'invalid', reason: `legacy line: exit status must be an integer, got [${inner.slice(0, 40)}]` };
  const exit = Number(inner);
  if (exit < -(2 ** 31) || exit > 2 ** 32 - 1) return { kind: 'invalid', reason: `legacy line: exit status ${inner} out of range` };
  return { kind: 'finish', pid, host, exit, ts };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A deterministic, ULID-shaped job id for a legacy job: 10 characters of time (the start, ms) and
 * 16 from a SHA-256 of (host, pid, start time). Re-ingesting the same file yields the same ids;
 * they sort by start time like real ULIDs.
 */
export function legacyJobId(host: string, pid: number, startTsIso: string): string {
  const ms = Date.parse(startTsIso);
  if (!Number.isFinite(ms) || ms < 0 || ms >= 2 ** 48) throw new RangeError(`legacyJobId: bad start time ${JSON.stringify(startTsIso)}`);
  let time = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const digest = createHash('sha256').update(`legacy\0${host}\0${pid}\0${new Date(ms).toISOString()}`).digest();
  // 80 bits = 16 × 5 bits from the first 10 bytes.
  let bits = 0n;
  for (let i = 0; i < 10; i++) bits = (bits << 8n) | BigInt(digest[i]!);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    rand = CROCKFORD[Number(bits & 31n)]! + rand;
    bits >>= 5n;
  }
  return time + rand;
}
