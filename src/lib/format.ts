// Small formatting helpers shared by the renderers: counted nouns, durations, byte sizes, and
// length cuts that never split a UTF-16 surrogate pair (an emoji cut in half renders as garbage or
// is rejected).

/** "1 job", "2 jobs", "0 jobs"; `many` for an irregular plural ("1 process", "3 processes"). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "45s", "5m 03s", "1h 02m", "3d 4h". Non-finite or negative input gives "?". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds > 0 && seconds < 1) return '<1s';
  const total = Math.round(seconds);
  if (total < 60) return `${total}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (total < 3600) return `${Math.floor(total / 60)}m ${pad(total % 60)}s`;
  if (total < 86_400) return `${Math.floor(total / 3600)}h ${pad(Math.floor((total % 3600) / 60))}m`;
  return `${Math.floor(total / 86_400)}d ${Math.floor((total % 86_400) / 3600)}h`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/** Binary units: "512 B", "1.5 KiB", "15.2 GiB", "152 GiB". Non-finite or negative gives "?". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1023.96 KiB would print as "1024.0 KiB": carry into the next unit instead.
  if (value >= 1023.95 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value < 100 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
  return `${text} ${BYTE_UNITS[unit]}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** The first `n` UTF-16 units of `s`, one fewer if that would split a surrogate pair. */
function headUnits(s: string, n: number): string {
  if (n <= 0) return '';
  if (n >= s.length) return s;
  return isHighSurrogate(s.charCodeAt(n - 1)) ? s.slice(0, n - 1) : s.slice(0, n);
}

/** The last `n` UTF-16 units of `s`, one fewer if that would split a surrogate pair. */
function tailUnits(s: string, n: number): string {
  if (n <= 0) return '';
  if (n >= s.length) return s;
  const start = s.length - n;
  return isLowSurrogate(s.charCodeAt(start)) ? s.slice(start + 1) : s.slice(start);
}

/**
 * `s` cut to at most `max` UTF-16 units (JavaScript `length`), ending with `marker` when cut.
 * Service limits (Discord, Slack) count characters; a UTF-16 length within the limit is always
 * within a code-point limit too.
 */
export function truncate(s: string, max: number, marker = '…'): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  if (marker.length >= max) return headUnits(marker, max);
  return headUnits(s, max - marker.length) + marker;
}

/** Like truncate, but keeps the END of `s` (the last log lines matter most): "…tail". */
export function truncateStart(s: string, max: number, marker = '…'): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  if (marker.length >= max) return headUnits(marker, max);
  return marker + tailUnits(s, max - marker.length);
}

/** UTF-8 size of a string in bytes. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** `s` cut to at most `maxBytes` bytes of UTF-8, ending with `marker` when cut. */
export function truncateUtf8(s: string, maxBytes: number, marker = '…'): string {
  if (utf8Bytes(s) <= maxBytes) return s;
  const markerBytes = utf8Bytes(marker);
  if (markerBytes > maxBytes) return '';
  const budget = maxBytes - markerBytes;
  // Walk code points; cheap enough for the few-KiB bodies this is used on.
  let used = 0;
  let end = 0;
  for (const ch of s) {
    const b = utf8Bytes(ch);
    if (used + b > budget) break;
    used += b;
    end += ch.length;
  }
  return s.slice(0, end) + marker;
}

/**
 * The last lines of `lines` whose total size, joined with "\n", is at most `budget` (in the unit
 * `measure` counts: UTF-16 length by default, or utf8Bytes). When not even the last line fits,
 * that line alone is kept, cut from its start ("…end of line"), so the very end always survives.
 * `omitted` counts the lines dropped from the top.
 */
export function keepLastLines(
  lines: readonly string[],
  budget: number,
  measure: (s: string) => number = (s) => s.length,
): { lines: string[]; omitted: number } {
  const kept: string[] = [];
  let used = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    const cost = measure(line) + (kept.length > 0 ? 1 : 0);
    if (used + cost > budget) break;
    kept.unshift(line);
    used += cost;
  }
  if (kept.length === 0 && lines.length > 0 && budget > 0) {
    kept.push(cutStartToFit(lines[lines.length - 1] ?? '', budget, measure));
  }
  return { lines: kept, omitted: lines.length - kept.length };
}

/** The longest `cut(s, n)` that `measure` says is within `budget` (binary search on n). */
function cutToFit(s: string, budget: number, measure: (s: string) => number, cut: (s: string, max: number) => string): string {
  if (measure(s) <= budget) return s;
  let lo = 0;
  let hi = Math.min(s.length, budget);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(cut(s, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return cut(s, lo);
}

/** `s` cut from its start until `measure` says it is within `budget`. */
export function cutStartToFit(s: string, budget: number, measure: (s: string) => number = (x) => x.length): string {
  return cutToFit(s, budget, measure, truncateStart);
}

/** `s` cut at its end until `measure` says it is within `budget`. */
export function cutEndToFit(s: string, budget: number, measure: (s: string) => number = (x) => x.length): string {
  return cutToFit(s, budget, measure, truncate);
}
