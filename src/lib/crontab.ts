// flurm's keep-alive lines in a user's crontab, as pure text functions: render a line, find
// flurm's lines, install one (replacing the previous line of that kind) and remove them. A line
// is flurm's when it ends with the marker comment `# flurm:<kind>`; every other line (jobs,
// MAILTO=, comments, blank lines) is kept byte for byte. I/O (`crontab -l`, `crontab -`) lives
// in cli/commands/cron.ts.
//
// A line runs every minute and starts the process only when it is not running: `flock -n` on a
// lock in the node's LOCAL /tmp (never the NFS home, where flock is unreliable and shared by all
// nodes), so the same line on several nodes keeps one process per node.

export const KEEP_ALIVE_KINDS = ['agent', 'hub'] as const;
export type KeepAliveKind = (typeof KEEP_ALIVE_KINDS)[number];

/** A log above this size is moved to `<log>.1` (replacing it) by the next minute's line. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;

/** The env vars a line carries from the install-time environment, per kind (never FLURM_HOST). */
export const CARRIED_ENV: Record<KeepAliveKind, readonly string[]> = {
  agent: ['FLURM_SPOOL', 'FLURM_CLUSTER'],
  hub: ['FLURM_SPOOL', 'FLURM_CLUSTER', 'FLURM_CONFIG'],
};

export function marker(kind: KeepAliveKind): string {
  return `# flurm:${kind}`;
}

/** `/tmp/flurm-<user>-<kind>.lock`: local to the node, one per user and kind. */
export function lockPath(user: string, kind: KeepAliveKind): string {
  const safe = user.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'user';
  return `/tmp/flurm-${safe}-${kind}.lock`;
}

/** Quote one word for /bin/sh: bare when it is plainly safe, else single quotes. */
export function shQuote(s: string): string {
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** cron turns an unescaped `%` into a newline (the rest becomes stdin): escape each one. */
export function escapeCronPercent(command: string): string {
  return command.replace(/%/g, '\\%');
}

/**
 * What cron hands to /bin/sh for a crontab command field: `\%` becomes `%`, and an unescaped `%`
 * ends the command (cron feeds the rest to its stdin, which we drop). Mirrors cron's own loop.
 */
export function cronCommandToShell(field: string): string {
  let out = '';
  let escaped = false;
  for (const ch of field) {
    if (escaped) {
      out += ch === '%' ? '%' : '\\' + ch;
      escaped = false;
      continue;
    }
    if (ch === '\\') {
      escaped = true;
      continue;
    }
    if (ch === '%') break;
    out += ch;
  }
  if (escaped) out += '\\';
  return out;
}

export interface KeepAliveSpec {
  kind: KeepAliveKind;
  /** Absolute path of the node binary (cron's PATH is minimal). */
  node: string;
  /** Absolute path of flurm's executable (dist/cli/flurm.cjs). */
  cli: string;
  /** Whose lock: the user name. */
  user: string;
  /** Absolute directory for the logs, `<dir>/<kind>-<node name>.log`. */
  logDir: string;
  /** `VAR=value` prefixes, in this order. */
  env: ReadonlyArray<readonly [string, string]>;
  /** The hub's config file (absolute), for kind 'hub'. */
  config?: string;
}

/** The flurm arguments a kind runs with. */
export function flurmArgs(spec: Pick<KeepAliveSpec, 'kind' | 'config'>): string[] {
  if (spec.kind === 'hub') {
    if (!spec.config) throw new Error('a hub keep-alive line needs the config file');
    return ['hub', '--config', spec.config];
  }
  return ['agent'];
}

/**
 * The shell command of a line (what /bin/sh runs, before cron's `%` escaping):
 *   L=<log>; <rotate L when over 10 MB>; VAR=value... flock -n <lock> <node> <cli> <kind> >>"$L" 2>&1
 * The log is per node (`$(uname -n)`): two nodes never append to one NFS file. The rotation runs
 * every minute, so a long-running process's log is bounded too (it writes with O_APPEND, so after
 * the truncation its next line lands at the new end).
 */
export function renderCommand(spec: KeepAliveSpec): string {
  const log = `L=${shQuote(`${spec.logDir.replace(/\/+$/, '')}/${spec.kind}-`)}"$(uname -n)".log`;
  const rotate = `[ -z "$(find "$L" -size +${LOG_MAX_BYTES / 1024}k 2>/dev/null)" ] || { cp -f "$L" "$L.1"; : >"$L"; }`;
  const env = spec.env.map(([k, v]) => `${k}=${shQuote(v)}`);
  const run = [...env, 'flock', '-n', shQuote(lockPath(spec.user, spec.kind)), shQuote(spec.node), shQuote(spec.cli), ...flurmArgs(spec).map(shQuote)];
  return `${log}; ${rotate}; ${run.join(' ')} >>"$L" 2>&1`;
}

/** The whole crontab line: every minute, the command, the marker. */
export function renderCronLine(spec: KeepAliveSpec): string {
  return `* * * * * ${escapeCronPercent(renderCommand(spec))} ${marker(spec.kind)}`;
}

export interface FlurmCronLine {
  kind: KeepAliveKind;
  /** 0-based line number in the crontab text. */
  index: number;
  /** The line as it is in the crontab (without its newline). */
  raw: string;
  /** "* * * * *" or "@reboot"... */
  schedule: string;
  /** The command field as written in the crontab (between the schedule and the marker). */
  field: string;
  /** What /bin/sh runs (cron's `%` handling applied). */
  command: string;
  /** The `flock -n` lock file named in the command, when there is one. */
  lock: string | undefined;
}

const MARKER_RE = /\s#\s?flurm:(agent|hub)[ \t]*\r?$/;
const LINE_RE = /^\s*(@\w+|(?:\S+\s+){4}\S+)\s+(.*?)\s+#\s?flurm:(agent|hub)[ \t]*\r?$/;

/** The crontab's lines, without the trailing newline's empty last piece. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Lines back to crontab text; always ends with a newline (cron ignores a last line without one). */
export function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

function isComment(line: string): boolean {
  return /^\s*#/.test(line);
}

/** One parsed flurm line, or undefined for any other line (a commented-out flurm line included). */
export function parseFlurmLine(raw: string, index = 0): FlurmCronLine | undefined {
  if (isComment(raw) || !MARKER_RE.test(raw)) return undefined;
  const m = LINE_RE.exec(raw);
  if (!m) return undefined;
  const field = m[2]!;
  const command = cronCommandToShell(field);
  const lm = /\bflock\s+(?:-\w+\s+)*('[^']*'|"[^"]*"|\S+)/.exec(command);
  const lock = lm ? lm[1]!.replace(/^(['"])(.*)\1$/, '$2') : undefined;
  return { kind: m[3] as KeepAliveKind, index, raw, schedule: m[1]!, field, command, lock };
}

/** flurm's lines in a crontab text, in order. */
export function findFlurmLines(text: string): FlurmCronLine[] {
  const out: FlurmCronLine[] = [];
  splitLines(text).forEach((raw, i) => {
    const l = parseFlurmLine(raw, i);
    if (l) out.push(l);
  });
  return out;
}

function isFlurmLineOf(raw: string, kinds: ReadonlySet<KeepAliveKind>): boolean {
  const parsed = parseFlurmLine(raw);
  return !!parsed && kinds.has(parsed.kind);
}

/**
 * Put `line` (a rendered flurm line of `kind`) into the crontab text: in place of the first
 * existing line of that kind (further ones are dropped), else at the end. Every other line is kept
 * exactly; a missing final newline is added. `replaced` holds the old lines of that kind.
 */
export function installLine(text: string, kind: KeepAliveKind, line: string): { text: string; replaced: string[] } {
  const kinds = new Set([kind]);
  const out: string[] = [];
  const replaced: string[] = [];
  let placed = false;
  for (const raw of splitLines(text)) {
    if (isFlurmLineOf(raw, kinds)) {
      replaced.push(raw);
      if (!placed) {
        out.push(line);
        placed = true;
      }
      continue;
    }
    out.push(raw);
  }
  if (!placed) out.push(line);
  return { text: joinLines(out), replaced };
}

/** Remove flurm's lines (of `kinds`, default all); every other line is kept exactly. */
export function removeLines(text: string, kinds: readonly KeepAliveKind[] = KEEP_ALIVE_KINDS): { text: string; removed: FlurmCronLine[] } {
  const set = new Set(kinds);
  const out: string[] = [];
  const removed: FlurmCronLine[] = [];
  splitLines(text).forEach((raw, i) => {
    const parsed = parseFlurmLine(raw, i);
    if (parsed && set.has(parsed.kind)) removed.push(parsed);
    else out.push(raw);
  });
  if (removed.length === 0) return { text, removed };
  return { text: joinLines(out), removed };
}
