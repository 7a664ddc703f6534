// The lab's own destinations, as a hub config writes them in a schedule's `to` and in `alerts.to`,
// resolved to what the outbox queues: `discord:channel` → discord-channel://[discord] channel_id,
// `slack:channel` → slack-channel://[slack] channel, `slack:#name` and `slack:C…` → that channel.
// Anything else is returned as written. The config check (config/load.ts, checkLabDests) makes
// sure each alias comes with the config it needs; one left unresolved fails at send time, once.
import type { HubConfig } from '../config/schema.js';
import { CHANNEL_ALIAS, channelUrl } from '../notifiers/discord-channel.js';
import { SLACK_CHANNEL_ALIAS, slackChannelOf, slackChannelUrl } from '../notifiers/slack-channel.js';

export type LabDestConfig = { discord?: Pick<NonNullable<HubConfig['discord']>, 'channel_id'>; slack?: Pick<NonNullable<HubConfig['slack']>, 'channel'> };

/** A function from a lab destination as written to the one queued. */
export function labDestResolver(cfg: LabDestConfig): (url: string) => string {
  return (url) => {
    const word = url.trim().toLowerCase();
    if (word === CHANNEL_ALIAS) return cfg.discord?.channel_id ? channelUrl(cfg.discord.channel_id) : url;
    if (!cfg.slack) return url;
    if (word === SLACK_CHANNEL_ALIAS) return cfg.slack.channel ? slackChannelUrl(cfg.slack.channel) : url;
    const channel = slackChannelOf(url);
    return channel ? slackChannelUrl(channel) : url;
  };
}
