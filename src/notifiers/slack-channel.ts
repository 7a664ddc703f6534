// Posts in a Slack channel through the hub's Slack app (docs/slack.md, docs/chat.md). What a config
// writes, in a schedule's `to` or in `alerts.to` (resolved by the hub, hub/lab-dests.ts):
//   slack:channel     the lab channel, [slack] channel
//   slack:#general    a public channel by name (looked up with conversations.list when sent)
//   slack:C0123ABCD   a channel by id (a private one: the app must be in it)
// and what the outbox queues: slack-channel://c0123abcd (the id lower-cased, as URL hosts are) or
// slack-channel://%23general (a name: "#" percent-encoded, so the URL keeps it as its host). A
// name is queued as a name, not resolved at queue time: the hub's config check needs no Slack,
// and a renamed channel is found again when the message is sent. Like a DM, a post carries its
// outbox key in `metadata`, and a send that may be a repeat looks in the channel's history first.
import { DeliveryError } from '../lib/errors.js';
import { hubChat } from './hub-chat.js';

/** What a config writes for "the lab channel" ([slack] channel). */
export const SLACK_CHANNEL_ALIAS = 'slack:channel';

/** A queued channel: an id, or a name as Slack writes names (lower case, digits, - _ .). */
const QUEUED = /^(?:[CG][A-Z0-9]{2,20}|#[a-z0-9][a-z0-9_.-]{0,79})$/;
/** A config's word for a channel (the name in any case: Slack's names are lower case). */
const WORD = /^slack:(#[A-Za-z0-9][A-Za-z0-9_.-]{0,79}|[CG][A-Z0-9]{2,20})$/;
const FORMS = 'slack:channel, slack:#NAME (a public channel) or slack:C… (a channel id)';

const channel = hubChat({
  kind: 'slack-channel',
  alias: SLACK_CHANNEL_ALIAS,
  aliasPattern: { prefix: 'slack:', re: WORD, forms: FORMS },
  resolvedBy: 'to [slack] channel, or the channel written',
  help: `${FORMS} (the hub's Slack app posts there) — the hub queues slack-channel://CHANNEL_ID or slack-channel://%23NAME`,
  id: QUEUED,
  idWords: 'a Slack channel id (C…) or %23NAME',
  fromUrl: (host) => {
    if (!host.startsWith('%23')) return host.toUpperCase();
    try {
      return `#${decodeURIComponent(host.slice(3)).toLowerCase()}`;
    } catch {
      return host;
    }
  },
  toUrl: (id) => (id.startsWith('#') ? `%23${id.slice(1)}` : id.toLowerCase()),
  send: async (id, message, ctx) => {
    if (!ctx.slackBot) throw new DeliveryError('no Slack app in this hub ([slack] in the hub config)', { retryable: false });
    await ctx.slackBot.sendChannel(id, message, { key: ctx.idempotencyKey ?? '', maybeSent: ctx.maybeSent === true, timeoutMs: ctx.timeoutMs, ...(ctx.refId ? { refId: ctx.refId } : {}) });
  },
});

export const slackChannelNotifier = channel.notifier;
/** The queued URL for a channel id (C…) or `#name`. */
export const slackChannelUrl = channel.url;

/**
 * The channel a `slack:#name` or `slack:C…` word names (`#name` lower-cased, or the id), or null
 * for any other text (`slack:channel` included: that one needs the config).
 */
export function slackChannelOf(text: string): string | null {
  const t = text.trim();
  const m = WORD.exec(`slack:${t.slice('slack:'.length)}`);
  if (!m || t.slice(0, 'slack:'.length).toLowerCase() !== 'slack:') return null;
  return m[1]!.startsWith('#') ? m[1]!.toLowerCase() : m[1]!;
}
