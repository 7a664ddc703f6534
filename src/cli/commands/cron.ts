// `flurm cron install|status|remove`: keep `flurm agent` / `flurm hub` alive without root. install
// adds a crontab line per kind that fires every minute and starts the process only when its
// `flock -n /tmp/flurm-<user>-<kind>.lock` is free (the lock is in the node's local /tmp, so the
// same line on several nodes that share the NFS home keeps one process per node); status tells
// whether each is installed and running (the lock is held); remove takes flurm's lines out.
// `install --print-systemd` prints a systemd --user unit instead and touches nothing.
// The crontab is read and written only with `crontab -l` / `crontab -` (binary: $FLURM_CRONTAB).
// The text logic is lib/crontab.ts; docs/keep-alive.md is the user's guide.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI_ENTRY } from '../../lib/cli-entry.js';
import { ExecError, UserError } from '../../lib/errors.js';
import { execCommand } from '../../lib/exec.js';
import { homeDir, userName } from '../../lib/host.js';
import {
  CARRIED_ENV,
  KEEP_ALIVE_KINDS,
  LOG_MAX_BYTES,
  findFlurmLines,
  installLine,
  lockPath,
  removeLines,
  renderCronLine,
  type KeepAliveKind,
} from '../../lib/crontab.js';
import { renderSystemdUnit } from '../../lib/systemd-unit.js';

export interface CronOptions {
  action: 'install' | 'status' | 'remove';
  agent?: boolean;
  hub?: boolean;
  config?: string;
  printSystemd?: boolean;
}

export interface CronDeps {
  env?: NodeJS.ProcessEnv;
  /** stdout */
  write?: (s: string) => void;
  /** stderr: notes and warnings */
  warn?: (s: string) => void;
  /** Absolute node binary (default: this process's). */
  node?: string;
  /** Absolute flurm executable (default: dist/cli/flurm.cjs). */
  cli?: string;
  user?: string;
  /** This node's name, for the log file shown (the line itself uses `uname -n`). */
  nodeName?: string;
  /** Is a cron daemon visible on this node? Default: scan /proc. */
  cronDaemonRunning?: () => boolean;
}

const CRONTAB_TIMEOUT_MS = 10_000;
const CRONTAB_MAX_BYTES = 4 << 20;

interface Ctx {
  env: NodeJS.ProcessEnv;
  write: (s: string) => void;
  warn: (s: string) => void;
  crontab: string;
  user: string;
  nodeName: string;
}

export async function run(opts: CronOptions, deps: CronDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const ctx: Ctx = {
    env,
    write: deps.write ?? ((s) => process.stdout.write(s)),
    warn: deps.warn ?? ((s) => process.stderr.write(s)),
    crontab: env.FLURM_CRONTAB?.trim() || 'crontab',
    user: deps.user ?? userName(env),
    nodeName: deps.nodeName ?? os.hostname(),
  };
  switch (opts.action) {
    case 'install':
      return install(opts, deps, ctx);
    case 'status':
      return status(ctx);
    case 'remove':
      return remove(ctx);
    default:
      throw new UserError(`unknown cron action "${String(opts.action)}": use install, status or remove`);
  }
}

/** ~/.local/state/flurm (or $XDG_STATE_HOME/flurm): the logs, on the shared home, one file per node. */
export function logDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_STATE_HOME?.trim();
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(homeDir(env), '.local', 'state'), 'flurm');
}

function carriedEnv(kind: KeepAliveKind, env: NodeJS.ProcessEnv, config: string | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of CARRIED_ENV[kind]) {
    const v = name === 'FLURM_CONFIG' ? config : env[name]?.trim();
    // Paths are made absolute now: cron starts the command in $HOME, not here.
    if (v) out.push([name, path.resolve(v)]);
  }
  return out;
}

async function install(opts: CronOptions, deps: CronDeps, ctx: Ctx): Promise<number> {
  const kinds: KeepAliveKind[] = [];
  if (opts.agent) kinds.push('agent');
  if (opts.hub) kinds.push('hub');
  if (kinds.length === 0) {
    kinds.push('agent');
    ctx.warn('flurm: neither --agent nor --hub given: keeping the agent alive (add --hub for the hub)\n');
  }

  let config: string | undefined;
  if (kinds.includes('hub')) {
    const given = opts.config?.trim() || ctx.env.FLURM_CONFIG?.trim();
    if (!given) throw new UserError('--hub needs the hub\'s config file: give -c/--config FILE or set FLURM_CONFIG');
    config = path.resolve(given);
    let st: fs.Stats;
    try {
      st = fs.statSync(config);
    } catch {
      throw new UserError(`--hub: the hub config file ${config} does not exist (give -c/--config FILE)`);
    }
    if (!st.isFile()) throw new UserError(`--hub: the hub config ${config} is not a file`);
  }

  const node = deps.node ?? process.execPath;
  const cli = deps.cli ?? CLI_ENTRY;
  if (!fs.existsSync(cli)) {
    throw new UserError(`cannot find flurm's executable at ${cli} (run \`npm run build\`, or reinstall flurm)`, { exitCode: 1 });
  }

  if (opts.printSystemd) {
    const units = kinds.map((kind) => renderSystemdUnit({ kind, node, cli, env: carriedEnv(kind, ctx.env, config), config }));
    ctx.write(units.join('\n'));
    ctx.write('\n# Printed only: nothing was installed and the crontab was not touched.\n');
    return 0;
  }

  const dir = logDir(ctx.env);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UserError(`cannot create the log directory ${dir}: ${(err as Error).message}`, { cause: err, exitCode: 1 });
  }

  const before = await readCrontab(ctx);
  let text = before;
  const added: Array<{ kind: KeepAliveKind; line: string; replaced: string[] }> = [];
  for (const kind of kinds) {
    const line = renderCronLine({ kind, node, cli, user: ctx.user, logDir: dir, env: carriedEnv(kind, ctx.env, config), config });
    const r = installLine(text, kind, line);
    text = r.text;
    added.push({ kind, line, replaced: r.replaced });
  }

  const w = ctx.write;
  if (text === before) {
    w(`Already installed, unchanged, in ${ctx.user}'s crontab on ${ctx.nodeName}:\n`);
    for (const a of added) w(`  ${a.line}\n`);
  } else {
    await writeCrontab(ctx, text);
    w(`Added to ${ctx.user}'s crontab on ${ctx.nodeName}:\n`);
    for (const a of added) {
      w(`  ${a.line}\n`);
      if (a.replaced.length > 0) w(`  (replaces the previous ${a.kind} line${a.replaced.length > 1 ? `s (${a.replaced.length})` : ''})\n`);
    }
  }
  w(
    [
      '',
      `Cron runs ${added.length > 1 ? 'these lines' : 'this line'} every minute: within a minute it starts ${kinds.map((k) => `\`flurm ${k}\``).join(' and ')}, and again`,
      'whenever it is not running (a flock in /tmp keeps one per node). Nothing was started now.',
      ...kinds.map((k) => `Log:    ${path.join(dir, `${k}-${ctx.nodeName}.log`)} (one per node; over ${LOG_MAX_BYTES >> 20} MB it moves to .1)`),
      'Check:  flurm cron status   (or crontab -l)',
      'Remove: flurm cron remove',
      `The crontab belongs to this node (${ctx.nodeName}): run \`flurm cron install\` on every node that should run ${kinds.includes('agent') ? 'an agent' : 'a hub'}.`,
      '',
    ].join('\n'),
  );
  warnAboutCron(ctx, deps);
  return 0;
}

function warnAboutCron(ctx: Ctx, deps: CronDeps): void {
  if (!['/usr/bin/flock', '/bin/flock'].some((p) => fs.existsSync(p))) {
    ctx.warn('flurm: warning: flock (util-linux) is not in /usr/bin or /bin, where cron looks: the line will fail; use --print-systemd instead\n');
  }
  const running = (deps.cronDaemonRunning ?? cronDaemonVisible)();
  if (!running) {
    ctx.warn(`flurm: note: no cron daemon is visible on ${ctx.nodeName}; if none runs, the line never fires (ask an admin, or use --print-systemd)\n`);
  }
}

/** A process named cron/crond in /proc (processes hidden from us count as absent: a note only). */
function cronDaemonVisible(): boolean {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return true; // no /proc: cannot tell, say nothing
  }
  for (const pid of pids) {
    try {
      const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm === 'cron' || comm === 'crond' || comm === 'cronie') return true;
    } catch {
      /* gone */
    }
  }
  return false;
}

async function status(ctx: Ctx): Promise<number> {
  const lines = findFlurmLines(await readCrontab(ctx));
  const w = ctx.write;
  w(`flurm keep-alive lines in ${ctx.user}'s crontab on ${ctx.nodeName}:\n`);
  for (const kind of KEEP_ALIVE_KINDS) {
    const mine = lines.filter((l) => l.kind === kind);
    if (mine.length === 0) {
      const lock = lockPath(ctx.user, kind);
      const held = await lockHeld(lock);
      w(`  ${kind.padEnd(5)}  not installed${held === true ? ` (but running: ${lock} is held)` : ''}\n`);
      continue;
    }
    for (const l of mine) {
      const held = l.lock ? await lockHeld(l.lock) : undefined;
      const state =
        held === true
          ? `installed, running (${l.lock} is held)`
          : held === false
            ? 'installed, not running (cron starts it within a minute, if a cron daemon runs)'
            : `installed, running unknown (${l.lock ? `cannot test ${l.lock}` : 'no flock lock in the line'})`;
      w(`  ${kind.padEnd(5)}  ${state}\n`);
      w(`         ${l.schedule} ${l.command}\n`);
    }
  }
  if (lines.length > 0) w(`Logs: ${logDir(ctx.env)}/<kind>-${ctx.nodeName}.log\n`);
  return 0;
}

/** `flock -n <lock> true`: 0 → free (not running), 1 → held (running), else unknown. */
async function lockHeld(lock: string): Promise<boolean | undefined> {
  try {
    const r = await execCommand('flock', ['-n', lock, 'true'], { timeoutMs: 5000, maxOutputBytes: 64 << 10, okExitCodes: [0, 1] });
    return r.exitCode === 1;
  } catch {
    return undefined;
  }
}

async function remove(ctx: Ctx): Promise<number> {
  const before = await readCrontab(ctx);
  const { text, removed } = removeLines(before);
  const w = ctx.write;
  if (removed.length === 0) {
    w(`No flurm lines in ${ctx.user}'s crontab on ${ctx.nodeName}: nothing to remove.\n`);
    return 0;
  }
  await writeCrontab(ctx, text);
  w(`Removed from ${ctx.user}'s crontab on ${ctx.nodeName}:\n`);
  for (const l of removed) w(`  ${l.raw}\n`);
  for (const l of removed) {
    if (l.lock && (await lockHeld(l.lock)) === true) {
      w(`\`flurm ${l.kind}\` is still running (${l.lock} is held) and stays up until stopped: find it with pgrep -af 'flurm.cjs ${l.kind}'\n`);
    }
  }
  return 0;
}

function crontabMissing(ctx: Ctx, err: unknown): UserError {
  return new UserError(
    `cannot run "${ctx.crontab}": crontab is not installed on this node. Use \`flurm cron install --print-systemd\` for a systemd --user unit instead, or ask an admin for cron`,
    { cause: err, exitCode: 1 },
  );
}

function isEnoent(err: unknown): boolean {
  return err instanceof ExecError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** The current crontab text; "no crontab for <user>" is an empty one. */
async function readCrontab(ctx: Ctx): Promise<string> {
  let r;
  try {
    r = await execCommand(ctx.crontab, ['-l'], { timeoutMs: CRONTAB_TIMEOUT_MS, maxOutputBytes: CRONTAB_MAX_BYTES, okExitCodes: [0, 1], env: ctx.env });
  } catch (err) {
    if (isEnoent(err)) throw crontabMissing(ctx, err);
    throw new UserError(`cannot read the crontab: ${(err as Error).message}`, { cause: err, exitCode: 1 });
  }
  if (r.exitCode === 0) return r.stdout;
  if (/no crontab for/i.test(r.stderr)) return '';
  throw new UserError(
    `cannot read the crontab (${ctx.crontab} -l exited with 1): ${r.stderr.trim().slice(0, 300) || 'no message'}; if cron is not allowed for you, use --print-systemd`,
    { exitCode: 1 },
  );
}

/** Replace the crontab with `text` (`crontab -`); an empty text removes it (`crontab -r`). */
async function writeCrontab(ctx: Ctx, text: string): Promise<void> {
  const base = { timeoutMs: CRONTAB_TIMEOUT_MS, maxOutputBytes: CRONTAB_MAX_BYTES, env: ctx.env };
  try {
    if (text === '') await execCommand(ctx.crontab, ['-r'], base);
    else await execCommand(ctx.crontab, ['-'], { ...base, input: text });
  } catch (err) {
    if (isEnoent(err)) throw crontabMissing(ctx, err);
    throw new UserError(`cannot write the crontab: ${(err as Error).message}`, { cause: err, exitCode: 1 });
  }
}
