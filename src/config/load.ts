// Thin loading around the pure validators: read (bounded), parse TOML, validate, and check
// every destination URL and pattern at start-up so nothing fails at send time.
import fs from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { ConfigError, UserError } from '../lib/errors.js';
import { readSmallText } from '../lib/small-file.js';
import { findExecutable } from '../lib/exec.js';
import { expandHomePath } from '../lib/users.js';
import path from 'node:path';
import { Cron } from 'croner';
import { validateHubConfig, validateUserConfig, type HubConfig, type UserConfig } from './schema.js';
import { parseDestination } from '../notifiers/registry.js';
import { CHANNEL_ALIAS } from '../notifiers/discord-channel.js';
import { SLACK_CHANNEL_ALIAS, slackChannelOf } from '../notifiers/slack-channel.js';
import { loadPatterns } from '../diagnose/diagnose.js';

export const MAX_CONFIG_BYTES = 256 * 1024;

/** Read a small text file written by a user, refusing anything huge or not a regular file. */
export function readBoundedText(file: string, maxBytes = MAX_CONFIG_BYTES): string {
  try {
    return readSmallText(file, maxBytes);
  } catch (err) {
    throw new UserError((err as Error).message, { cause: err });
  }
}

export function parseTomlText(text: string, file: string): unknown {
  try {
    return parseToml(text);
  } catch (err) {
    const e = err as { message: string; line?: number; column?: number };
    throw new ConfigError('', `not valid TOML: ${e.message.split('\n')[0]}`, { file, cause: err });
  }
}

/** Check every destination URL in a list, naming the field path of a bad one. */
export function checkDestinations(urls: readonly string[], pathPrefix: string, file?: string): void {
  urls.forEach((u, i) => {
    try {
      parseDestination(u);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new ConfigError(`${pathPrefix}[${i}]`, msg, { file, cause: err });
    }
  });
}

export function loadHubConfig(file: string): HubConfig {
  let text: string;
  try {
    text = readBoundedText(file);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read hub config ${file}: ${(err as Error).message}`, { cause: err });
  }
  const cfg = validateHubConfig(parseTomlText(text, file), file);
  checkHubConfig(cfg, file);
  return cfg;
}

/**
 * The lab's destinations (a schedule's `to`, `alerts.to`): each parses, and each alias the hub
 * resolves (hub/lab-dests.ts) comes with what it needs — `discord:channel` with [discord]
 * channel_id, `slack:channel` with [slack] channel, any `slack:` channel with [slack].
 */
export function checkLabDests(cfg: HubConfig, urls: readonly string[], at: string, file?: string): void {
  urls.forEach((u, j) => {
    const word = u.trim().toLowerCase();
    const slack = word === SLACK_CHANNEL_ALIAS || slackChannelOf(u) !== null;
    if (word === CHANNEL_ALIAS && !cfg.discord?.channel_id) throw new ConfigError(`${at}[${j}]`, `"${CHANNEL_ALIAS}" needs [discord] channel_id (the bot's lab channel)`, { file });
    if (slack && !cfg.slack) throw new ConfigError(`${at}[${j}]`, `"${u.trim()}" needs [slack] (the hub's Slack app, docs/slack.md)`, { file });
    if (word === SLACK_CHANNEL_ALIAS && !cfg.slack?.channel) throw new ConfigError(`${at}[${j}]`, `"${SLACK_CHANNEL_ALIAS}" needs [slack] channel (the lab channel's id, C…)`, { file });
  });
  checkDestinations(urls, at, file);
}

/** Start-up checks beyond the schema: destination URLs parse, patterns compile. */
export function checkHubConfig(cfg: HubConfig, file?: string): void {
  cfg.routes.forEach((r, i) => checkDestinations(r.to, `routes[${i}].to`, file));
  checkLabDests(cfg, cfg.alerts.to, 'alerts.to', file);
  checkChat(cfg, file);
  try {
    loadPatterns(cfg.diagnose.patterns);
  } catch (err) {
    if (err instanceof ConfigError && file && !err.message.startsWith(file)) throw new ConfigError('', err.message, { file, cause: err });
    throw err;
  }
}

/** Load a user's config.toml; a missing file is the default config. */
export function loadUserConfig(file: string): UserConfig {
  if (!fs.existsSync(file)) return validateUserConfig({});
  const cfg = validateUserConfig(parseTomlText(readBoundedText(file), file), file);
  checkDestinations(cfg.to, 'to', file);
  return cfg;
}

/** The most a lab command's file may hold. */
export const MAX_LAB_FILE_BYTES = 256 * 1024;

/**
 * [chat]: each lab command's file readable (its path made absolute: `~/`, `~user/`, relative to
 * the config's folder) and its `run` command on the PATH; each schedule's cron and tz valid, its
 * destinations parse, and a lab channel alias only with its channel (checkLabDests). Names clashing with the
 * command table and unknown `command`s are checked by the hub, which has the table.
 */
export function checkChat(cfg: HubConfig, file?: string): void {
  const baseDir = file ? path.dirname(path.resolve(file)) : process.cwd();
  cfg.chat.commands.forEach((c, i) => {
    const at = `chat.commands[${i}]`;
    if (cfg.chat.commands.findIndex((o) => o.name === c.name) !== i) throw new ConfigError(`${at}.name`, `"${c.name}" is used by another lab command`, { file });
    if (c.file !== undefined) {
      let abs: string;
      try {
        abs = expandHomePath(c.file, baseDir);
        readSmallText(abs, MAX_LAB_FILE_BYTES);
      } catch (err) {
        throw new ConfigError(`${at}.file`, `cannot read ${c.file}: ${(err as Error).message}`, { file, cause: err });
      }
      c.file = abs;
    }
    if (c.run !== undefined) {
      const exe = findExecutable(c.run[0]!);
      if (!exe) throw new ConfigError(`${at}.run[0]`, `"${c.run[0]}" is not found on the hub's PATH`, { file });
    }
  });
  cfg.chat.schedule.forEach((e, i) => {
    const at = `chat.schedule[${i}]`;
    if (e.tz !== undefined && !validZone(e.tz)) throw new ConfigError(`${at}.tz`, `"${e.tz}" is not a known time zone (an IANA name such as "America/New_York")`, { file });
    try {
      const c = new Cron(e.cron, { timezone: e.tz, paused: true });
      if (!c.nextRun()) throw new Error('it never fires');
    } catch (err) {
      throw new ConfigError(`${at}.cron`, `"${e.cron}" is not a valid cron expression: ${(err as Error).message}`, { file, cause: err });
    }
    checkLabDests(cfg, e.to, `${at}.to`, file);
  });
}

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
