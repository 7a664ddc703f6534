// The static notifier registry (DESIGN style 1): one line per notifier below. Registering throws
// on a duplicate name or scheme. parseDestination() turns a destination URL into a Destination,
// or throws a ConfigError that names what is wrong (never echoing a secret).
import { ConfigError } from '../lib/errors.js';
import { consoleNotifier } from './console.js';
import { desktopNotifier } from './desktop.js';
import { discordNotifier } from './discord.js';
import { discordDmNotifier } from './discord-dm.js';
import { slackDmNotifier } from './slack-dm.js';
import { slackChannelNotifier } from './slack-channel.js';
import { discordChannelNotifier } from './discord-channel.js';
import { emailNotifier } from './email.js';
import { jsonNotifier } from './json.js';
import { ntfyNotifier } from './ntfy.js';
import { slackNotifier } from './slack.js';
import type { Destination, Notifier } from './types.js';

export const NOTIFIERS: readonly Notifier[] = [
  discordNotifier,
  discordDmNotifier,
  discordChannelNotifier,
  slackNotifier,
  slackDmNotifier,
  slackChannelNotifier,
  ntfyNotifier,
  emailNotifier,
  jsonNotifier,
  consoleNotifier,
  desktopNotifier,
];

export interface NotifierRegistry {
  /** Parse a destination URL (see docs/notifiers.md); throws ConfigError. */
  parseDestination(urlString: string): Destination;
  list(): readonly Notifier[];
  get(name: string): Notifier | undefined;
}

/** A registry of the given notifiers; throws on a duplicate name or scheme. */
export function createRegistry(notifiers: readonly Notifier[]): NotifierRegistry {
  const byName = new Map<string, Notifier>();
  const byScheme = new Map<string, Notifier>();
  for (const n of notifiers) {
    if (byName.has(n.name)) throw new Error(`notifier "${n.name}" is registered twice`);
    byName.set(n.name, n);
    for (const s of n.schemes) {
      const scheme = s.toLowerCase();
      const owner = byScheme.get(scheme);
      if (owner) throw new Error(`URL scheme "${scheme}" is claimed by both "${owner.name}" and "${n.name}"`);
      byScheme.set(scheme, n);
    }
  }
  const aliases = new Map<string, Destination>();
  for (const n of notifiers) {
    for (const [word, d] of Object.entries(n.aliases ?? {})) {
      if (aliases.has(word)) throw new Error(`destination alias "${word}" is claimed twice`);
      aliases.set(word, d);
    }
  }
  const known = () => [...byScheme.keys()].map((s) => `${s}://`).join(', ');

  const parseDestination = (urlString: string): Destination => {
    const text = String(urlString ?? '').trim();
    if (!text) throw new ConfigError('', 'empty destination URL');
    const alias = aliases.get(text.toLowerCase());
    if (alias) return alias;
    for (const n of byName.values()) {
      const shaped = n.aliasOf?.(text);
      if (shaped) return shaped;
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch (err) {
      // Do not echo the string: it may hold a token. Its scheme is enough to find the entry.
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
      const hint = scheme ? `a "${scheme}:" URL that does not parse` : 'no scheme';
      throw new ConfigError('', `not a valid destination URL (${hint}); expected e.g. discord://ID/TOKEN, ntfy://TOPIC or smtp://HOST?from=…&to=… (known: ${known()})`, { cause: err });
    }
    const scheme = url.protocol.slice(0, -1).toLowerCase();
    const direct = byScheme.get(scheme);
    if (direct) return direct.parse(url);
    for (const n of byName.values()) if (n.matches?.(url)) return n.parse(url);
    if (scheme === 'http' || scheme === 'https') {
      throw new ConfigError(
        '',
        `${scheme}://${url.host}/… is not a Discord, Slack or ntfy.sh webhook URL; for another JSON webhook write it as ${scheme === 'https' ? 'jsons' : 'json'}://${url.host}/…`,
      );
    }
    throw new ConfigError('', `unknown destination kind "${scheme}://" (known: ${known()})`);
  };

  return { parseDestination, list: () => [...byName.values()], get: (name) => byName.get(name) };
}

const registry = createRegistry(NOTIFIERS);

/** Parse a destination URL with the built-in notifiers; throws ConfigError naming the problem. */
export function parseDestination(urlString: string): Destination {
  return registry.parseDestination(urlString);
}

/** The built-in notifiers, in registry order. */
export function listNotifiers(): readonly Notifier[] {
  return registry.list();
}
