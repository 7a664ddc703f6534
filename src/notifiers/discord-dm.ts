// Discord DMs from the hub's bot (docs/discord.md): `discord:dm` in a user's `to` ("DM me", resolved
// with the user's link, routing.ts) and `discord-dm://USER_ID`, what the outbox queues.
import { DeliveryError } from '../lib/errors.js';
import { hubChat } from './hub-chat.js';

export const DM_ALIAS = 'discord:dm';

const dm = hubChat({
  kind: 'discord-dm',
  alias: DM_ALIAS,
  resolvedBy: 'to the linked user',
  help: 'discord:dm (in your config: DM me, once linked with /link) — the hub queues discord-dm://USER_ID',
  id: /^\d{17,20}$/,
  idWords: 'a Discord user id (17-20 digits)',
  send: async (id, message, ctx) => {
    if (!ctx.discordBot) throw new DeliveryError('no Discord bot in this hub ([discord] in the hub config)', { retryable: false });
    await ctx.discordBot.sendDm(id, message, { key: ctx.idempotencyKey ?? '', refId: ctx.refId, maybeSent: ctx.maybeSent === true, timeoutMs: ctx.timeoutMs });
  },
});

export const discordDmNotifier = dm.notifier;
/** The DM destination URL for a Discord user id. */
export const dmUrl = dm.url;
