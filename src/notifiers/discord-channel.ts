// Posts in a Discord channel through the hub's bot (docs/chat.md). Two forms:
//   discord:channel           what a schedule writes in `to`: "the lab channel" — the hub turns it
//                             into the next form with [discord] channel_id; alone it cannot be sent.
//   discord-channel://ID      a message in channel ID (a snowflake), what the outbox queues.
// Like discord-dm://, sending needs the bot's REST client, passed in SendContext.discordBot; each
// post carries a nonce from its outbox key with enforce_nonce, so a retry never posts twice.
import { DeliveryError } from '../lib/errors.js';
import type { Message } from '../model/message.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { configError, pathSegments, readQuery } from './url-helpers.js';

const KIND = 'discord-channel';
/** What a config writes for "the bot's lab channel". */
export const CHANNEL_ALIAS = 'discord:channel';
const SNOWFLAKE = /^\d{17,20}$/;

/** The destination URL for a Discord channel id. */
export function channelUrl(channelId: string): string {
  return `discord-channel://${channelId}`;
}

/** The alias on its own: valid in a config, resolved by the hub to the lab channel. */
export const channelAliasDestination: Destination = {
  kind: KIND,
  toUrl: () => CHANNEL_ALIAS,
  send: async () => {
    throw new DeliveryError('"discord:channel" is resolved by the hub to [discord] channel_id; it cannot be sent as is', { retryable: false });
  },
};

export const discordChannelNotifier: Notifier = {
  name: KIND,
  schemes: [KIND],
  help: 'discord:channel (the bot\'s lab channel, [discord] channel_id) — the hub queues discord-channel://CHANNEL_ID',
  parse(url: URL): Destination {
    const id = url.hostname;
    if (!SNOWFLAKE.test(id)) throw configError(KIND, `expected discord-channel://CHANNEL_ID with a Discord channel id (17-20 digits), got "${id.slice(0, 30)}"`);
    if (pathSegments(url).length || url.port || url.username) throw configError(KIND, 'expected discord-channel://CHANNEL_ID');
    readQuery(KIND, url, []);
    return {
      kind: KIND,
      toUrl: () => channelUrl(id),
      send: async (message: Message, ctx: SendContext) => {
        if (!ctx.discordBot) throw new DeliveryError('no Discord bot in this hub ([discord] in the hub config)', { retryable: false });
        await ctx.discordBot.sendChannel(id, message, { key: ctx.idempotencyKey ?? '', timeoutMs: ctx.timeoutMs });
      },
    };
  },
};
