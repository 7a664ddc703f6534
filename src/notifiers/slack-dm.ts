// Slack DMs from the hub's Slack app (docs/slack.md): `slack:dm` in a user's `to` (resolved with
// [users.NAME] slack, routing.ts) and `slack-dm://USER_ID`, what the outbox queues. Slack takes no
// idempotency key: the message carries its key in `metadata`, and a send that may be a repeat
// (SendContext.maybeSent) looks in the DM's history first (frontends/slack/app.ts).
import { DeliveryError } from '../lib/errors.js';
import { hubChat } from './hub-chat.js';

export const SLACK_DM_ALIAS = 'slack:dm';

const dm = hubChat({
  kind: 'slack-dm',
  alias: SLACK_DM_ALIAS,
  resolvedBy: 'to the user\'s Slack id',
  help: 'slack:dm (in your config: DM me in Slack; the admin maps [users.NAME] slack = "U…") — the hub queues slack-dm://USER_ID',
  id: /^[UW][A-Z0-9]{2,20}$/,
  idWords: 'a Slack user id (U…)',
  // Slack ids are upper case; URL hosts are not.
  fromUrl: (host) => host.toUpperCase(),
  toUrl: (id) => id.toLowerCase(),
  send: async (id, message, ctx) => {
    if (!ctx.slackBot) throw new DeliveryError('no Slack app in this hub ([slack] in the hub config)', { retryable: false });
    await ctx.slackBot.sendDm(id, message, { key: ctx.idempotencyKey ?? '', maybeSent: ctx.maybeSent === true, timeoutMs: ctx.timeoutMs, ...(ctx.refId ? { refId: ctx.refId } : {}) });
  },
});

export const slackDmNotifier = dm.notifier;
export const slackDmUrl = dm.url;
