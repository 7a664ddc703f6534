// The notifier contract. One destination kind per file (notifiers/<name>.ts), registered by one
// line in notifiers/registry.ts. A destination is written as a URL; parse() and toUrl() round-trip.
import type { Message } from '../model/message.js';

export interface SendContext {
  /** Abort after this many milliseconds (the outbox sets it). */
  timeoutMs: number;
  /** Injected fetch, so tests and proxies can replace it. Defaults to global fetch. */
  fetch?: typeof fetch;
  /**
   * A stable key for this notification (the same across retries, restarts and hubs; free of
   * secrets), for services that de-duplicate: a header, a body field, a Message-ID.
   */
  idempotencyKey?: string;
  /** The job or note the message is about (absent for a digest of several). */
  refId?: string;
  /** The hub's Discord bot, for discord-dm:// destinations (absent elsewhere). */
  discordBot?: DiscordDmTransport;
  /** The hub's Slack app, for slack-dm:// and slack-channel:// destinations (absent elsewhere). */
  slackBot?: SlackDmTransport;
  /**
   * An earlier request for this message went out and its outcome was never recorded (the hub
   * died mid-request): the service may have it already. A destination that can look (Slack:
   * the DM's history, by the key in the message metadata) looks before sending again.
   */
  maybeSent?: boolean;
}

/** What a Slack DM or channel post needs from the app: send to Slack user `userId` (or a channel), once per key. */
export interface SlackDmTransport {
  sendDm(userId: string, message: Message, opts: { key: string; maybeSent: boolean; timeoutMs: number; refId?: string }): Promise<void>;
  /** `channel`: a channel id (C…/G…) or `#name` (a public channel, looked up by the app). */
  sendChannel(channel: string, message: Message, opts: { key: string; maybeSent: boolean; timeoutMs: number; refId?: string }): Promise<void>;
}

/** What a DM or a channel post needs from the bot: send `message` to Discord user `discordId` (or channel), exactly once per key. */
export interface DiscordDmTransport {
  sendDm(discordId: string, message: Message, opts: { key: string; refId?: string; maybeSent: boolean; timeoutMs: number }): Promise<void>;
  sendChannel(channelId: string, message: Message, opts: { key: string; maybeSent: boolean; timeoutMs: number }): Promise<void>;
}

/** A parsed destination of one notifier kind. */
export interface Destination {
  /** Notifier name, e.g. "discord". */
  readonly kind: string;
  /**
   * The canonical URL form. With redact, secrets (tokens, passwords, webhook keys) are replaced by
   * "***" so the result is safe to log or show in `flurm config`.
   */
  toUrl(opts?: { redact?: boolean }): string;
  /**
   * Deliver the message. Resolves on success; throws DeliveryError otherwise, with `retryable`
   * false for permanent failures (401/403/404, bad address) and `retryAfterSeconds` on 429.
   */
  send(message: Message, ctx: SendContext): Promise<void>;
}

export interface Notifier {
  /** Registry name, e.g. "discord". */
  readonly name: string;
  /** URL schemes this notifier claims, e.g. ["discord"]. */
  readonly schemes: readonly string[];
  /** One line for `flurm doctor` and docs: the URL forms it accepts. */
  readonly help: string;
  /**
   * Optional: claim URLs of other schemes by shape (e.g. https://discord.com/api/webhooks/...).
   * Return true to have parse() called with it.
   */
  matches?(url: URL): boolean;
  /** Parse a URL of this kind; throw ConfigError naming what is wrong. */
  parse(url: URL): Destination;
  /**
   * Words a config may write instead of a URL (`discord:dm`), each a destination that parses (so
   * the config checks) and that the hub resolves before queueing.
   */
  readonly aliases?: Readonly<Record<string, Destination>>;
  /**
   * Optional: alias words by shape (`slack:#general`): a Destination for text this notifier
   * claims, undefined for text it does not; throws ConfigError for its own prefix misspelt.
   */
  aliasOf?(text: string): Destination | undefined;
}
