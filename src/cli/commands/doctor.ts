// `flurm doctor`: everything that can stop a message from reaching you, checked and explained:
// config, spool permissions, hub reachable, index on local disk, every destination (and with
// --send-test a real test message to each).
import fs from 'node:fs';
import path from 'node:path';
import { loadHubConfig, loadUserConfig } from '../../config/load.js';
import type { HubConfig, UserConfig } from '../../config/schema.js';
import { parseDestination } from '../../notifiers/registry.js';
import { networkFsOf } from '../../store/local-disk.js';
import { defaultIndexPath } from '../../hub/defaults.js';
import { hostName, spoolDir, userName } from '../../lib/host.js';
import { HttpError, errorMessage } from '../../lib/errors.js';
import { plural } from '../../lib/format.js';
import { formatLocalTime } from '../../lib/time.js';
import type { Message } from '../../model/message.js';
import { getJson, hubUrl, clusterDirFor } from '../hub-client.js';
import { checkAnswer, destinationsSchema, healthSchema, nodesResponseSchema, problemsSchema } from '../../model/api.js';

type Level = 'ok' | 'warn' | 'fail';
interface Check {
  level: Level;
  what: string;
  detail?: string;
}

const MARK: Record<Level, string> = { ok: '✓', warn: '!', fail: '✗' };

export async function run(opts: { sendTest?: boolean; config?: string }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const checks: Check[] = [];
  const add = (level: Level, what: string, detail?: string) => checks.push({ level, what, detail });
  const me = userName(env);

  // Spool.
  const spool = spoolDir(env);
  checkSpool(spool, add);

  // User config.
  let userCfg: UserConfig | null = null;
  const ucFile = path.join(spool, 'config.toml');
  try {
    userCfg = loadUserConfig(ucFile);
    add('ok', `your config ${fs.existsSync(ucFile) ? ucFile : '(none: defaults)'}`, userCfg.mute ? 'muted: you will get no messages' : undefined);
  } catch (err) {
    add('fail', `your config ${ucFile}`, errorMessage(err));
  }

  // Hub config and index.
  let hubCfg: HubConfig | null = null;
  if (opts.config) {
    try {
      hubCfg = loadHubConfig(opts.config);
      add('ok', `hub config ${opts.config}`, plural(hubCfg.routes.length, 'route'));
    } catch (err) {
      add('fail', `hub config ${opts.config}`, errorMessage(err));
    }
  }
  const index = hubCfg?.index ? path.resolve(path.dirname(opts.config!), hubCfg.index) : defaultIndexPath(env);
  const nfs = networkFsOf(index);
  add(nfs ? 'fail' : 'ok', `index ${index}`, nfs ? `on a network filesystem (${nfs}); SQLite needs local disk` : 'on local disk');

  // Hub.
  const url = await hubUrl(env);
  if (!url) add('warn', 'hub', `no hub.json in ${await clusterDirFor(env)}; start one with 'flurm up' (or set FLURM_HUB_URL / cluster in config.toml)`);
  else {
    try {
      const h = checkAnswer(healthSchema, await getJson(`${url}/healthz`, 3000), `${url}/healthz`);
      add('ok', `hub ${url}`, `flurm ${h.version} on ${h.host}; outbox: ${Object.entries(h.outbox).map(([k, v]) => `${v} ${k}`).join(', ')}`);
      // A hub bound off loopback wants a sign-in for the rest (docs/access.md): said once, not a failure.
      let d: { destinations: { dest: string; disabled_reason: string }[] } | null = null;
      try {
        d = checkAnswer(destinationsSchema, await getJson(`${url}/api/v1/destinations`, 3000), `${url}/api/v1/destinations`);
      } catch (err) {
        if (!(err instanceof HttpError && err.status === 401)) throw err;
        add('warn', 'hub sign-in', `the hub wants a sign-in for its problems and nodes: ${process.env.FLURM_TOKEN ? 'FLURM_TOKEN is not valid (expired or revoked)' : 'set FLURM_TOKEN'} — \`flurm dashboard --token\` makes one (docs/access.md)`);
      }
      if (d) {
        for (const x of d.destinations) add('fail', `destination ${x.dest}`, `the hub gave up on it: ${x.disabled_reason}`);
        const p = checkAnswer(problemsSchema, await getJson(`${url}/api/v1/problems`, 3000), `${url}/api/v1/problems`);
        for (const x of p.problems.filter((q) => q.user === me || q.user === null).slice(0, 10)) add('warn', 'hub reports', `${x.reason}${x.count > 1 ? ` (×${x.count})` : ''}`);
        // Nodes: what the hub sees, and this host in particular.
        await checkNodes(url);
      }
      checkSlurm(h.slurm as SlurmHealthAnswer | undefined, add);
      checkDiscord(h.discord as DiscordHealthAnswer | null | undefined, add);
      checkSlack(h.slack as SlackHealthAnswer | null | undefined, add);
    } catch (err) {
      add('fail', `hub ${url}`, `not reachable: ${errorMessage(err)} — jobs are still recorded in your spool; messages go out when a hub runs`);
    }
  }

  async function checkNodes(url: string): Promise<void> {
    let n: { nodes: { host: string; state: string; problem?: string }[] };
    try {
      n = checkAnswer(nodesResponseSchema, await getJson(`${url}/api/v1/nodes?busy=0`, 3000), `${url}/api/v1/nodes`);
    } catch (err) {
      add('warn', 'nodes', `the hub did not list its nodes: ${errorMessage(err)}`);
      return;
    }
    const here = hostName(env);
    const byState = (st: string) => n.nodes.filter((x) => x.state === st).map((x) => x.host);
    const down = byState('down');
    if (n.nodes.length === 0) add('warn', 'nodes', "the hub sees no node: run 'flurm agent' on each node (or 'flurm cron install --agent')");
    else add(down.length ? 'warn' : 'ok', 'nodes', `${n.nodes.length} seen: ${['fresh', 'stale', 'down', 'waiting'].map((st) => `${byState(st).length} ${st}`).join(', ')}${down.length ? ` (down: ${down.slice(0, 8).join(', ')})` : ''}`);
    const mine = n.nodes.find((x) => x.host === here);
    if (!mine) add('warn', `node ${here}`, "no agent reports this host: 'flurm agent' here (or 'flurm cron install --agent'), else status/best do not know it");
    else if (mine.state !== 'fresh' && mine.state !== 'waiting') add('warn', `node ${here}`, `${mine.state}: its agent stopped writing? ('flurm cron status')`);
    for (const x of n.nodes.filter((y) => y.problem).slice(0, 5)) add('warn', `node ${x.host}`, x.problem!);
  }

  // Destinations.
  const dests = new Map<string, string>();
  for (const u of userCfg?.to ?? []) dests.set(u, 'your config');
  for (const [i, r] of (hubCfg?.routes ?? []).entries()) for (const u of r.to) dests.set(u, `hub route ${i + 1} (${r.on.join(',')})`);
  if (dests.size === 0) add('warn', 'destinations', "none configured: messages only reach the hub's console (add to = [\"URL\"] to config.toml)");
  for (const [u, where] of dests) {
    let shown = u.slice(0, 40);
    try {
      const d = parseDestination(u);
      shown = d.toUrl({ redact: true });
      if (!opts.sendTest) {
        add('ok', `destination ${shown}`, `from ${where}`);
        continue;
      }
      await d.send(testMessage(me), { timeoutMs: 10_000 });
      add('ok', `destination ${shown}`, `test message sent (from ${where})`);
    } catch (err) {
      add('fail', `destination ${shown}`, `${errorMessage(err)} (from ${where})`);
    }
  }

  for (const c of checks) process.stdout.write(`${MARK[c.level]} ${c.what}${c.detail ? ` — ${c.detail}` : ''}\n`);
  const failed = checks.filter((c) => c.level === 'fail').length;
  const warned = checks.filter((c) => c.level === 'warn').length;
  process.stdout.write(`\n${failed ? plural(failed, 'problem') : 'no problems'}${warned ? `, ${plural(warned, 'warning')}` : ''}\n`);
  return failed ? 1 : 0;
}

/** What the hub's /healthz says of its Discord bot (hub/discord.ts health()). */
interface DiscordHealthAnswer {
  bot: { state: string; since?: string; last_error?: string | null; user?: string | null; guilds?: number; commands?: { error: string | null } };
  dm: { sent: number; resent: number; channel_fallbacks: number; cannot_dm: string[] };
  when_free: number;
}

function checkDiscord(d: DiscordHealthAnswer | null | undefined, add: (level: 'ok' | 'warn' | 'fail', what: string, detail?: string) => void): void {
  if (!d) return;
  const b = d.bot;
  const dms = `${plural(d.dm.sent, 'DM')} sent${d.dm.resent ? `, ${d.dm.resent} sent again after a lost answer (Discord keeps one, by nonce)` : ''}`;
  if (b.state === 'ready') add('ok', 'discord bot', `connected as ${b.user ?? '?'} in ${plural(b.guilds ?? 0, 'guild')}; ${dms}; ${plural(d.when_free, '/when-free request')} open`);
  else if (b.state === 'standby') add('ok', 'discord bot', 'this hub is standby: the active hub runs the bot');
  else add(b.state === 'down' ? 'fail' : 'warn', 'discord bot', `${b.state} since ${b.since ?? '?'}${b.last_error ? `: ${b.last_error}` : ''}`);
  if (b.commands?.error) add('warn', 'discord commands', `not registered: ${b.commands.error}`);
  if (d.dm.cannot_dm.length) add('warn', 'discord DMs', `Discord will not let the bot DM ${d.dm.cannot_dm.join(', ')} (their DMs from server members are off): ${d.dm.channel_fallbacks ? 'they are mentioned in the lab channel instead' : 'set [discord] channel_id to mention them there'}`);
}

/** What the hub's /healthz says of its Slack app (frontends/slack/app.ts health()). */
interface SlackHealthAnswer {
  state: string;
  since?: string;
  last_error?: string | null;
  team?: string | null;
  bot_user?: string | null;
  scopes?: string[];
  missing_scopes?: { scope: string; for: string }[];
  mode?: 'socket' | 'http';
  refused?: number;
}

function checkSlack(s: SlackHealthAnswer | null | undefined, add: (level: 'ok' | 'warn' | 'fail', what: string, detail?: string) => void): void {
  if (!s) return;
  if (s.state === 'standby') return add('ok', 'slack app', 'this hub is standby: the active hub runs the app');
  if (s.state !== 'ready') return add(s.state === 'down' ? 'fail' : 'warn', 'slack app', `${s.state} since ${s.since ?? '?'}${s.last_error ? `: ${s.last_error}` : ''}`);
  // The hub says which scopes it uses and lacks (frontends/slack/app.ts SLACK_SCOPE_USES).
  const missing = s.missing_scopes ?? [];
  const how = s.mode === 'http' ? `HTTP mode at the hub's /slack/events${s.refused ? `, ${s.refused} unsigned or badly signed request(s) refused` : ''}` : 'Socket Mode';
  const lacks = missing.length ? `; missing ${missing.map((m) => `${m.scope} (${m.for})`).join(', ')}: add them under OAuth & Permissions and reinstall the app` : '';
  add(missing.length ? 'warn' : 'ok', 'slack app', `connected as ${s.bot_user ?? '?'} in ${s.team ?? '?'} (${how}); scopes ${(s.scopes ?? []).join(', ') || 'none'}${lacks}`);
}

/** What the hub's /healthz says of its SLURM poller (hub/slurm-poller.ts SlurmHealth). */
interface SlurmHealthAnswer {
  enabled: boolean;
  reason?: string | null;
  mode?: 'sacct' | 'scontrol';
  watching?: number;
  problem?: string | null;
  failing_since?: string | null;
  consecutive_failures?: number;
  next_attempt_in_seconds?: number | null;
  commands_per_minute?: number;
  commands?: Record<string, { calls: number; failures: number; last_error: string | null; last_ms: number | null }>;
}

function checkSlurm(s: SlurmHealthAnswer | undefined, add: (l: Level, w: string, d?: string) => void): void {
  if (!s) return;
  if (!s.enabled) {
    // Only worth a line where SLURM exists: a workstation lab has no squeue and needs none.
    if (s.reason && !/no squeue/.test(s.reason)) add('ok', 'slurm', s.reason);
    return;
  }
  const calls = Object.entries(s.commands ?? {}).filter(([, c]) => c.calls > 0);
  const slow = calls.filter(([, c]) => (c.last_ms ?? 0) > 5000).map(([n, c]) => `${n} took ${((c.last_ms ?? 0) / 1000).toFixed(1)} s`);
  if (s.problem) {
    const since = s.failing_since ? ` since ${formatLocalTime(s.failing_since)}` : '';
    const retry = s.next_attempt_in_seconds != null ? `; next try in ${s.next_attempt_in_seconds} s` : '';
    add('fail', 'slurm', `${s.problem}${since} (${plural(s.consecutive_failures ?? 0, 'failed call')} in a row${retry}); watched jobs are judged once it answers`);
  } else {
    add('ok', 'slurm', `watching ${plural(s.watching ?? 0, 'job')}; ${s.commands_per_minute ?? 0} SLURM commands/min${s.mode === 'scontrol' ? '; accounting is off: final records from scontrol (no peak memory, CPU time)' : ''}`);
  }
  if (slow.length) add('warn', 'slurm commands slow', slow.join(', '));
  for (const [n, c] of calls) if (c.failures > 0 && c.last_error && c.last_error !== s.problem) add('warn', `slurm ${n}`, `${c.failures} of ${plural(c.calls, 'call')} failed; last: ${c.last_error}`);
}

function testMessage(user: string): Message {
  return {
    title: 'flurm test message',
    severity: 'info',
    summary: `If you can read this, flurm can reach you. Sent by 'flurm doctor --send-test' for ${user}.`,
    footer: 'flurm · doctor',
    timestamp: new Date().toISOString(),
  };
}

function checkSpool(spool: string, add: (l: Level, w: string, d?: string) => void): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(spool);
  } catch {
    add('warn', `spool ${spool}`, "does not exist yet; 'flurm run' creates it");
    return;
  }
  if (st.isSymbolicLink()) return add('fail', `spool ${spool}`, 'is a symlink; the hub refuses it — use the real path in FLURM_SPOOL');
  if (!st.isDirectory()) return add('fail', `spool ${spool}`, 'is not a directory');
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return add('fail', `spool ${spool}`, `is owned by uid ${st.uid}, not you (${uid})`);
  if (st.mode & 0o022) add('warn', `spool ${spool}`, `is writable by others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 700 ${spool}`);
  else add('ok', `spool ${spool}`);
  const ev = path.join(spool, 'events');
  let names: string[] = [];
  try {
    names = fs.readdirSync(ev);
  } catch {
    return;
  }
  for (const n of names.slice(0, 1000)) {
    const f = path.join(ev, n);
    try {
      const s = fs.lstatSync(f);
      if (s.isSymbolicLink()) add('fail', f, 'is a symlink; the hub refuses it');
      else if (!s.isFile()) add('fail', f, 'is not a regular file; the hub refuses it');
      else if (uid !== undefined && s.uid !== uid) add('fail', f, `is owned by uid ${s.uid}, not you; the hub refuses it`);
    } catch {
      /* vanished */
    }
  }
}
