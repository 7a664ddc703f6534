// Destinations only the hub can send to, through its chat front ends (the Discord bot, the Slack
// app): a DM to a person, a post in a channel. Each has two forms:
//   ALIAS            what a config writes ("discord:dm": DM me; "discord:channel": the lab
//                    channel) — resolved by the hub (routing.ts, schedule.ts) to the next form;
//                    alone it parses (so configs check) but cannot be sent.
//                    A kind may also take words by shape (`slack:#general`, `slack:C…`): the
//                    same kind of alias, matched by `aliasPattern`.
//   KIND://ID        one person or channel, what the outbox queues.
// The transport (the bot's REST client, the Slack app) is the hub's: the outbox passes it in
// SendContext; without it a message fails at once, never retried forever.
import { DeliveryError } from '../lib/errors.js';
import type { Message } from '../model/message.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { configError, pathSegments, readQuery } from './url-helpers.js';

export interface HubChatSpec {
  /** The URL scheme and notifier name, e.g. "discord-dm". */
  kind: string;
  /** What a config writes, e.g. "discord:dm". */
  alias: string;
  /**
   * More words a config may write, by shape (`slack:#general`): each parses (the config checks)
   * and is resolved by the hub like `alias`. Text that starts with `aliasPrefix` but does not
   * match is a ConfigError saying the forms (not another notifier's puzzling one).
   */
  aliasPattern?: { prefix: string; re: RegExp; forms: string };
  /** What the hub resolves the alias with, for the error when it is sent as is. */
  resolvedBy: string;
  help: string;
  /** A valid id, after `fromUrl`; and the words for it in an error. */
  id: RegExp;
  idWords: string;
  /** URL hosts are lower case: ids that are not (Slack's) are mapped both ways. */
  fromUrl?: (host: string) => string;
  toUrl?: (id: string) => string;
  /** Send through the hub's transport in `ctx` (throw a non-retryable DeliveryError without it). */
  send(id: string, message: Message, ctx: SendContext): Promise<void>;
}

export interface HubChat {
  notifier: Notifier;
  /** The queued URL for an id. */
  url(id: string): string;
}

export function hubChat(spec: HubChatSpec): HubChat {
  const url = (id: string) => `${spec.kind}://${spec.toUrl ? spec.toUrl(id) : id}`;
  const aliasDestination = (word: string): Destination => ({
    kind: spec.kind,
    toUrl: () => word,
    send: async () => {
      throw new DeliveryError(`"${word}" is resolved by the hub (${spec.resolvedBy}); it cannot be sent as is`, { retryable: false });
    },
  });
  const pattern = spec.aliasPattern;
  const notifier: Notifier = {
    name: spec.kind,
    schemes: [spec.kind],
    help: spec.help,
    aliases: { [spec.alias]: aliasDestination(spec.alias) },
    ...(pattern
      ? {
          aliasOf: (text: string): Destination | undefined => {
            if (!text.toLowerCase().startsWith(pattern.prefix) || text.includes('//')) return undefined;
            if (!pattern.re.test(pattern.prefix + text.slice(pattern.prefix.length))) throw configError(spec.kind, `expected ${pattern.forms}, got "${text.slice(0, 40)}"`);
            return aliasDestination(text);
          },
        }
      : {}),
    parse(u: URL): Destination {
      const id = spec.fromUrl ? spec.fromUrl(u.hostname) : u.hostname;
      if (!spec.id.test(id)) throw configError(spec.kind, `expected ${spec.kind}://ID with ${spec.idWords}, got "${u.hostname.slice(0, 30)}"`);
      if (pathSegments(u).length || u.port || u.username) throw configError(spec.kind, `expected ${spec.kind}://ID`);
      readQuery(spec.kind, u, []);
      return { kind: spec.kind, toUrl: () => url(id), send: (message, ctx) => spec.send(id, message, ctx) };
    },
  };
  return { notifier, url };
}
