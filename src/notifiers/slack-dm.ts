// Slack DMs from the hub's Slack app (docs/slack.md). Two forms, as for Discord:
//   slack:dm             what a user writes in `to`: "DM me in Slack" — the hub turns it into
//                        the next form with the user's Slack id ([users.NAME] slack = "U…").
//   slack-dm://USER_ID   a DM to that Slack user, what the outbox queues.
// Slack takes no idempotency key: the message carries its key in `metadata`, and a send that may
// be a repeat (SendContext.maybeSent) looks in the DM's history first (hub-side transport).
import { DeliveryError } from '../lib/errors.js';
import type { Message } from '../model/message.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { configError, pathSegments, readQuery } from './url-helpers.js';

const KIND = 'slack-dm';
export const SLACK_DM_ALIAS = 'slack:dm';
const USER_ID = /^[UW][A-Z0-9]{2,20}$/;

export function slackDmUrl(userId: string): string {
  return `slack-dm://${userId.toLowerCase()}`;
}

export const slackDmAliasDestination: Destination = {
  kind: KIND,
  toUrl: () => SLACK_DM_ALIAS,
  send: async () => {
    throw new DeliveryError('"slack:dm" is resolved by the hub to the user\'s Slack id; it cannot be sent as is', { retryable: false });
  },
};

export const slackDmNotifier: Notifier = {
  name: KIND,
  schemes: [KIND],
  help: 'slack:dm (in your config: DM me in Slack; the admin maps [users.NAME] slack = "U…") — the hub queues slack-dm://USER_ID',
  parse(url: URL): Destination {
    // URL hosts are lower-cased; Slack ids are upper case.
    const id = url.hostname.toUpperCase();
    if (!USER_ID.test(id)) throw configError(KIND, `expected slack-dm://USER_ID with a Slack user id (U…), got "${url.hostname.slice(0, 30)}"`);
    if (pathSegments(url).length || url.port || url.username) throw configError(KIND, 'expected slack-dm://USER_ID');
    readQuery(KIND, url, []);
    return {
      kind: KIND,
      toUrl: () => slackDmUrl(id),
      send: async (message: Message, ctx: SendContext) => {
        if (!ctx.slackBot) throw new DeliveryError('no Slack app in this hub ([slack] in the hub config)', { retryable: false });
        await ctx.slackBot.sendDm(id, message, { key: ctx.idempotencyKey ?? '', maybeSent: ctx.maybeSent === true, timeoutMs: ctx.timeoutMs, ...(ctx.refId ? { refId: ctx.refId } : {}) });
      },
    };
  },
};
