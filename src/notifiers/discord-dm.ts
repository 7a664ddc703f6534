// Discord DMs from the hub's bot (docs/discord.md). Two forms:
//   discord:dm            what a user writes in `to`: "DM me" — the hub turns it into the next
//                         form with the user's link (routing.ts); alone it cannot be sent.
//   discord-dm://ID       a DM to Discord user ID (a snowflake), what the outbox queues.
// Sending needs the bot's REST client, which only the hub has: the outbox passes it in
// SendContext.discordBot. Without a bot the message fails at once, never retried forever.
import { DeliveryError } from '../lib/errors.js';
import type { Message } from '../model/message.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { configError, pathSegments, readQuery } from './url-helpers.js';

const KIND = 'discord-dm';
/** What a user writes for "DM me through the lab's bot". */
export const DM_ALIAS = 'discord:dm';
const SNOWFLAKE = /^\d{17,20}$/;

/** The DM destination URL for a Discord user id. */
export function dmUrl(discordId: string): string {
  return `discord-dm://${discordId}`;
}

/** The alias on its own: valid in a config, resolved by the hub per user. */
export const dmAliasDestination: Destination = {
  kind: KIND,
  toUrl: () => DM_ALIAS,
  send: async () => {
    throw new DeliveryError('"discord:dm" is resolved by the hub to the linked user; it cannot be sent as is', { retryable: false });
  },
};

export const discordDmNotifier: Notifier = {
  name: KIND,
  schemes: [KIND],
  help: 'discord:dm (in your config: DM me, once linked with /link) — the hub queues discord-dm://USER_ID',
  parse(url: URL): Destination {
    const id = url.hostname;
    if (!SNOWFLAKE.test(id)) throw configError(KIND, `expected discord-dm://USER_ID with a Discord user id (17-20 digits), got "${id.slice(0, 30)}"`);
    if (pathSegments(url).length || url.port || url.username) throw configError(KIND, 'expected discord-dm://USER_ID');
    readQuery(KIND, url, []);
    return {
      kind: KIND,
      toUrl: () => dmUrl(id),
      send: async (message: Message, ctx: SendContext) => {
        if (!ctx.discordBot) throw new DeliveryError('no Discord bot in this hub ([discord] in the hub config)', { retryable: false });
        await ctx.discordBot.sendDm(id, message, { key: ctx.idempotencyKey ?? '', refId: ctx.refId, timeoutMs: ctx.timeoutMs });
      },
    };
  },
};
