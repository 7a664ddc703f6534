// Posts in a Discord channel through the hub's bot (docs/chat.md): `discord:channel` in a schedule's
// `to` (the lab channel, resolved with [discord] channel_id) and `discord-channel://CHANNEL_ID`,
// what the outbox queues. Each post carries a nonce from its outbox key with enforce_nonce.
import { DeliveryError } from '../lib/errors.js';
import { hubChat } from './hub-chat.js';

/** What a config writes for "the bot's lab channel". */
export const CHANNEL_ALIAS = 'discord:channel';

const channel = hubChat({
  kind: 'discord-channel',
  alias: CHANNEL_ALIAS,
  resolvedBy: 'to [discord] channel_id',
  help: 'discord:channel (the bot\'s lab channel, [discord] channel_id) — the hub queues discord-channel://CHANNEL_ID',
  id: /^\d{17,20}$/,
  idWords: 'a Discord channel id (17-20 digits)',
  send: async (id, message, ctx) => {
    if (!ctx.discordBot) throw new DeliveryError('no Discord bot in this hub ([discord] in the hub config)', { retryable: false });
    await ctx.discordBot.sendChannel(id, message, { key: ctx.idempotencyKey ?? '', maybeSent: ctx.maybeSent === true, timeoutMs: ctx.timeoutMs });
  },
});

export const discordChannelNotifier = channel.notifier;
/** The destination URL for a Discord channel id. */
export const channelUrl = channel.url;
