// Times a person reads, in one form everywhere: "2026-12-01 14:03 CET" — the wall-clock time in
// the reader's time zone (TZ, else the system's), with the zone named (its abbreviation where one
// is in common use: CET, CEST, BST, EST, UTC; else the offset: GMT+9, GMT+5:30). `flurm jobs`,
// `inspect`, `status` and the text of messages use it; JSON (--json, the HTTP API, a message's
// `timestamp`) stays ISO-8601 UTC. A message is read in a zone the hub does not know: it is
// rendered in the hub's zone, named, and chat front ends localise the UTC timestamp themselves.

/** The time zone times are shown in: TZ, else the system's (IANA name, e.g. "Europe/Berlin"). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const wallClocks = new Map<string, Intl.DateTimeFormat>();
const zoneNames = new Map<string, Intl.DateTimeFormat>();

function cached(map: Map<string, Intl.DateTimeFormat>, key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let f = map.get(key);
  if (!f) {
    f = make();
    map.set(key, f);
  }
  return f;
}

/**
 * A cached wall-clock formatter for `timeZone` (year…minute, 24 h, and seconds when asked):
 * the one the display form and the legacy reader (zone → UTC) both use. Throws RangeError for
 * a zone this runtime does not know.
 */
export function wallClockFormatter(timeZone: string, opts: { seconds?: boolean } = {}): Intl.DateTimeFormat {
  if (wallClocks.size > 200) wallClocks.clear();
  return cached(wallClocks, `${opts.seconds ? 's' : 'm'} ${timeZone}`, () =>
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      ...(opts.seconds ? { second: '2-digit' as const } : {}),
    }),
  );
}

/** True when `tz` is an IANA zone this runtime knows (validate config with it at start-up). */
export function isValidTimeZone(tz: string): boolean {
  try {
    wallClockFormatter(tz);
    return true;
  } catch {
    return false;
  }
}

function validZone(timeZone: string): string {
  return isValidTimeZone(timeZone) ? timeZone : 'UTC';
}

function part(f: Intl.DateTimeFormat, date: Date, type: Intl.DateTimeFormatPartTypes): string {
  return f.formatToParts(date).find((p) => p.type === type)?.value ?? '';
}

/** The zone's name at that instant: "CET" / "CEST", "EST", "UTC", else its offset "GMT+9". */
export function timeZoneName(date: Date, timeZone: string = localTimeZone()): string {
  const zone = validZone(timeZone);
  const name = (locale: string) =>
    part(cached(zoneNames, `${locale} ${zone}`, () => new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' })), date, 'timeZoneName');
  const us = name('en-US');
  if (!/^GMT[+-]/.test(us)) return us;
  // en-US knows American abbreviations only; en-GB knows the European ones (CET, CEST, BST).
  const gb = name('en-GB');
  return /^[A-Z]{2,5}$/.test(gb) ? gb : us;
}

/**
 * "2026-12-01 14:03 CET": an instant (ISO string, epoch ms or Date) as a person reads it, in
 * `timeZone` (default: localTimeZone()). "?" when the time cannot be read.
 */
export function formatLocalTime(time: string | number | Date, opts: { timeZone?: string } = {}): string {
  const ms = time instanceof Date ? time.getTime() : typeof time === 'number' ? time : Date.parse(time);
  if (!Number.isFinite(ms)) return '?';
  const date = new Date(ms);
  const zone = validZone(opts.timeZone ?? localTimeZone());
  const f = wallClockFormatter(zone);
  const p = (type: Intl.DateTimeFormatPartTypes) => part(f, date, type);
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')} ${timeZoneName(date, zone)}`;
}
