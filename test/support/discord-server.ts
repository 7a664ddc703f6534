// A local Discord — gateway (WebSocket) and REST API v10 on one port — for tests and benches, so
// that a whole bot (the real @discordjs/core, ws and rest clients) runs offline, and so that this
// server refuses what Discord refuses.
//
//   const srv = await startDiscordServer({ heartbeatIntervalMs: 1000 });
//   const rest = new REST({ version: '10', api: `${srv.url}/api` }).setToken(srv.token);
//   const gateway = new WebSocketManager({ token: srv.token, intents: 0, rest });
//   const client = new Client({ rest, gateway });
//   gateway.on(WebSocketShardEvents.Error, () => {});       // fatal closes (4004, 4014) emit 'error'
//   await gateway.connect();  await srv.waitForReady();
//   await rest.put(Routes.applicationGuildCommands(srv.applicationId, srv.guildIds[0]), { body: cmds });
//   const h = srv.command('best', { cpus: 4 });               // INTERACTION_CREATE to the bot
//   const answer = await h.final();                           // answer.data.content, h.latencyMs
//   srv.messages(channelId); srv.dms(userId); srv.requests; srv.commands(guildId)
//   await gateway.destroy(); await srv.close();
//
// `url` is what a bot's config `api` takes (http://127.0.0.1:PORT); REST lives under
// `${url}/api/v10`, the gateway at ws://127.0.0.1:PORT (any path; ?v=10&encoding=json). Every id is
// a snowflake; every error is Discord's shape { code, message, errors? } with 50035 "Invalid Form
// Body" and nested `_errors` naming the field (the path @discordjs/rest prints, e.g.
// `0.options[1].name[APPLICATION_COMMAND_INVALID_NAME]`).
//
// REST routes (all under /api/v10; `Authorization: Bot <token>` or 401 {code:0,"401: Unauthorized"},
// except the interaction callback and the /webhooks/{application}/{interaction token} routes):
//   GET  /gateway, /gateway/bot (url, shards 1, session_start_limit counting identifies)
//   GET  /users/@me, /users/{id} (10013 Unknown User), /applications/@me, /oauth2/applications/@me
//   POST /users/@me/channels {recipient_id}         the user's DM channel, the same one each time
//   GET  /channels/{id}   GET|POST /channels/{id}/messages   GET|PATCH|DELETE …/messages/{mid}
//   GET  /guilds/{id}, /guilds/{id}/channels, /guilds/{id}/members/{uid}
//   GET|PUT|POST /applications/{app}/commands, GET|PATCH|DELETE …/commands/{cmd}
//   GET|PUT|POST /applications/{app}/guilds/{gid}/commands, GET|PATCH|DELETE …/commands/{cmd}
//   POST /interactions/{id}/{token}/callback[?with_response=true]
//   POST /webhooks/{app}/{token}   GET|PATCH|DELETE /webhooks/{app}/{token}/messages/{@original|mid}
//   Unknown route: 404 {code:0,"404: Not Found"}; known route, other method: 405.
//
// What is validated (400 50035 with the field named, unless said otherwise):
//   Messages (Create Message, interaction callbacks 4/7, @original edits, follow-ups): content ≤2000,
//   embeds via validateDiscordBody (≤10, title 256, description 4096, ≤25 fields 256/1024, footer
//   2048, author 256, 6000 in all), empty message → 50006; flags among SUPPRESS_EMBEDS(4),
//   SUPPRESS_NOTIFICATIONS(4096) and, where Discord takes it, EPHEMERAL(64) (IS_COMPONENTS_V2 is
//   refused: flurm does not use components v2); components: ≤5 action rows of ≤5 buttons or one
//   select, custom_id 1-100 and unique in the message, label ≤80, valid ButtonStyle, link buttons
//   with url and no custom_id; allowed_mentions (parse values, users/roles ≤100, parse "users" and
//   users exclusive); nonce integer or string ≤25 (Create Message); ≤10 attachments.
//   Files: multipart/form-data with files[n] parts and payload_json (attachments [{id: n, filename}]
//   matching the parts); a file over 10 MiB → 413 40005 "Request entity too large"; >10 files → 50035.
//   Create Message with nonce + enforce_nonce: true repeated in the channel within nonceWindowMs →
//   200 with the FIRST message, nothing created (the request is noted 'nonce-duplicate').
//   DM to a user in `undmable` → 403 50007 "Cannot send messages to this user"; a read-only channel →
//   403 50013; unknown channel → 404 10003.
//   Commands (bulk overwrite = RESTPutAPIApplicationCommandsJSONBody, or one create/edit): ≤100
//   CHAT_INPUT (+15 USER, 15 MESSAGE), unique names per type, name /^[-_'\p{L}\p{N}\p{sc=Deva}
//   \p{sc=Thai}]{1,32}$/u and lowercase, description 1-100 (empty for USER/MESSAGE), ≤25 options,
//   sub-command nesting, option names unique and valid, description 1-100, required before optional,
//   ≤25 choices (name 1-100, value of the option's type, strings ≤100), no autocomplete with choices,
//   min/max_value only INTEGER/NUMBER, min/max_length only STRING (0-6000), channel_types only
//   CHANNEL, localizations' locales, ≤4000 characters of names, descriptions and choices per command.
//   Answer: the stored commands (id kept for a name that stays, application_id, guild_id, version).
//   Daily creates: a name new to the scope counts; past commandCreatesPerDay (200) in 24 h →
//   400 30034 "Max number of daily application command creates has been reached (200)".
//   Interactions: callback within interactionDeadlineMs (3 s) of the dispatch, else 404 10062
//   "Unknown interaction"; a second callback → 400 40060 "Interaction has already been
//   acknowledged."; unknown id/token → 404 10062; type 8 only for autocomplete (≤25 choices, name
//   1-100, value of the focused option's type); 4/5/9 not for autocomplete; 6/7 only for components;
//   @original and follow-ups need a 4/5/6/7 callback (else 404 10015 Unknown Webhook), and die 15 min
//   after the dispatch (401 50027 Invalid Webhook Token). After a type 5, the first follow-up fills
//   the deferred message (its ephemerality is the defer's), as Discord does.
//   Rate limits (opt-in `rateLimits`): real buckets — Create Message per DM channel and per guild
//   channel (5 per 5 s), all the bot's authenticated requests (50 per s; interaction and webhook
//   routes exempt, as on Discord). Create Message answers carry X-RateLimit-Limit/Remaining/Reset/
//   Reset-After/Bucket; past a bucket: 429 {message, retry_after, global} with Retry-After (whole
//   seconds, rounded up) and X-RateLimit-Scope (and X-RateLimit-Global).
//
// Gateway: HELLO (heartbeat_interval), then IDENTIFY (wrong token → close 4004 "Authentication
// failed."; unknown intent bits → 4013; privileged GUILD_MEMBERS/GUILD_PRESENCES/MESSAGE_CONTENT
// not in `privilegedIntents` → 4014 "Disallowed intent(s)."; bad shard → 4010) → READY (v, user,
// unavailable guilds, session_id, resume_gateway_url, shard, application {id, flags}) and, with
// the GUILDS intent, GUILD_CREATE per guild of the shard. HEARTBEAT → HEARTBEAT_ACK; no heartbeat
// for 1.5 intervals + 1 s → close 4009. RESUME with a live session → the dispatches after `seq`
// replayed, then RESUMED; unknown/invalidated session → op 9 (d: false). Ops before auth → 4003, a
// second IDENTIFY → 4005, bad JSON or >4096 bytes → 4002, unknown op → 4001, >120 sends a minute →
// 4008. Sessions die with closes 1000/1001 from the client, with 4007/4009 and the fatal codes from
// the server; a dropped socket or any other code leaves them resumable. Transport compression is
// not offered (frames are text, which @discordjs/ws reads either way). Every dispatch has a seq.
// The bot's own messages come back as MESSAGE_CREATE/UPDATE/DELETE with GUILD_MESSAGES (guild
// channels) or DIRECT_MESSAGES (DMs); INTERACTION_CREATE needs no intent.
//
// Users: without the `users` option any snowflake is a known user (one "alice" is the default
// invoker); with it, only those (others are 10013 Unknown User / 50033 Invalid Recipient(s)).
//
// Fault injection: dropConnection() (socket destroyed, no close frame: the client resumes),
// closeWith(code, reason?), sendReconnect() (op 7), sendInvalidSession(resumable) (op 9),
// requestHeartbeat() (op 1 from the server), dispatch(event, data) (any dispatch, buffered for
// replay while the bot is away), failNext(method, path, replies) (scripted answers: {status: 429,
// retryAfter, global?}, {status: 500}, {status: 403, code: 50007}, {hang: true}; `commit: true`
// first performs the request — the message is created — then answers the script), and
// beforeRespond(predicate, hook): the hook is awaited after a request was accepted and its effect
// recorded but before the 2xx is written (return 'drop' to destroy the socket instead of answering).
//
// Interactions (INTERACTION_CREATE with complete APIInteraction objects) — command(name, options,
// ctx), autocomplete(name, options, focused, ctx), button(customId, ctx), select(customId, values,
// ctx) — return an InteractionHandle: `response` (the first callback), final() (the user-visible
// answer: the 4/7/8/9 data, or after 5/6 the first @original edit — or follow-up after 5),
// latencyMs, ephemeral, followUps, message. Options given as a plain object are typed with the
// registered command's definition; what real Discord would never send (unknown command or option,
// wrong type, a value outside choices/min/max, a missing required option) throws in the helper.
//
// Time: `atMs` fields are Date.now(). waitForReady() resolves as soon as READY or RESUMED was sent
// on a live connection, not waiting for the bot to have read it; waitForReady(ms, {acked: true})
// waits until a heartbeat of the bot carried that seq (it processed READY: up to one heartbeat
// interval). Destroying a @discordjs/ws shard that has not read READY yet makes it hang, so a test
// waits for the client's own ready (gateway.connect() resolving) before destroying it. waitFor()
// re-checks a condition on every change of state (request, frame, interaction) and every 20 ms (for
// conditions on the client's side), so tests wait on observable state instead of sleeping.
//
// Only node built-ins, `ws`, discord-api-types and ./fake-services.js, so esbuild can bundle it.
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ButtonStyle,
  ChannelType,
  ComponentType,
  GatewayDispatchEvents,
  GatewayIntentBits,
  GatewayOpcodes,
  InteractionContextType,
  InteractionResponseType,
  InteractionType,
  Locale,
  MessageFlags,
  MessageType,
  RESTJSONErrorCodes,
  type APIActionRowComponent,
  type APIApplication,
  type APIApplicationCommand,
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandOption,
  type APIApplicationCommandOptionChoice,
  type APIAttachment,
  type APIChatInputApplicationCommandInteraction,
  type APIComponentInMessageActionRow,
  type APIDMChannel,
  type APIGatewayBotInfo,
  type APIGuildMember,
  type APIInteraction,
  type APIInteractionDataResolved,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIMessageComponentButtonInteraction,
  type APIMessageComponentSelectMenuInteraction,
  type APIRole,
  type APITextChannel,
  type APIUser,
  type ApplicationFlags,
  type ChannelFlags,
  type GuildMemberFlags,
  type RoleFlags,
  type UserFlags,
  type GatewayGuildCreateDispatchData,
  type GatewayIdentifyData,
  type GatewayReadyDispatchData,
  type GatewayResumeData,
  type RESTPostAPIInteractionCallbackWithResponseResult,
} from 'discord-api-types/v10';
import { WebSocketServer, type WebSocket } from 'ws';
import { validateDiscordBody } from './fake-services.js';

// ---------------------------------------------------------------------------------------------
// Public types

/** A user Discord knows. Members of every guild, with these roles and permissions there. */
export interface DiscordUserSpec {
  id: string;
  username?: string;
  global_name?: string | null;
  bot?: boolean;
  /** Role ids in every guild (default none besides @everyone). */
  roles?: string[];
  /** Permission bitfield as a member (default a regular member's). */
  permissions?: string;
  locale?: Locale;
}

/** A guild text channel. */
export interface DiscordChannelSpec {
  id?: string;
  /** Default: the first guild. */
  guildId?: string;
  name?: string;
  /** The bot may not send here: Create Message answers 403 50013 Missing Permissions. */
  readOnly?: boolean;
}

export interface RateLimitSpec {
  limit: number;
  windowMs: number;
}

export interface DiscordRateLimits {
  /** Create Message per DM channel (default 5 per 5 s). */
  dmMessages?: RateLimitSpec;
  /** Create Message per guild channel (default 5 per 5 s). */
  channelMessages?: RateLimitSpec;
  /** All authenticated requests of the bot but interaction/webhook routes (default 50 per 1 s). */
  global?: RateLimitSpec;
}

export interface DiscordServerOptions {
  /** Bot token; default a fixed fake one (DEFAULT_DISCORD_TOKEN). */
  token?: string;
  applicationId?: string;
  /** Default: the application id (as for every modern bot). */
  botUserId?: string;
  botUsername?: string;
  /** HELLO's heartbeat_interval (default 41250). */
  heartbeatIntervalMs?: number;
  /** Guild ids (default one guild). */
  guilds?: string[];
  /** Guild text channels (default one "general" per guild). */
  channels?: DiscordChannelSpec[];
  /** Known users; when given, other ids are unknown (10013). Default: one user "alice", any id known. */
  users?: DiscordUserSpec[];
  /** Users whose DMs fail with 403 50007. */
  undmable?: string[];
  /** How long Create Message remembers a nonce for enforce_nonce (default 5 min). */
  nonceWindowMs?: number;
  /** Real rate-limit buckets; `true` for Discord's defaults. Off by default. */
  rateLimits?: DiscordRateLimits | true;
  /** Time to the first callback (default 3000). */
  interactionDeadlineMs?: number;
  /** Life of an interaction token for @original edits and follow-ups (default 15 min). */
  interactionTokenTtlMs?: number;
  /** Daily command creates per scope (default 200). */
  commandCreatesPerDay?: number;
  /** Privileged intent bits enabled "in the developer portal" (default none). */
  privilegedIntents?: number;
  /** Debug lines (frames, requests). */
  log?: (line: string) => void;
}

/** Multipart request bodies are recorded as this summary. */
export interface MultipartSummary {
  payload_json: unknown;
  files: Array<{ field: string; filename: string; contentType: string | undefined; size: number }>;
  fields: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  /** The path as requested, without the query, e.g. /api/v10/channels/1/messages */
  path: string;
  /** The path below /api/v10, percent-decoded ('' when outside it), e.g. /users/@me */
  route: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, a MultipartSummary, raw text, or undefined without a body. */
  body: unknown;
  /** Status answered; undefined while pending (a hang, a beforeRespond hook). */
  status: number | undefined;
  /** The JSON answered. */
  response: unknown;
  /** Date.now() at arrival and at answer. */
  atMs: number;
  answeredAtMs: number | undefined;
  /** Answered by failNext. */
  scripted: boolean;
  /** e.g. 'nonce-duplicate', 'rate-limited'. */
  note: string | undefined;
}

/** A scripted REST answer (failNext). `retryAfter` in seconds. */
export type ScriptedReply =
  | {
      status: number;
      retryAfter?: number;
      global?: boolean;
      /** Discord error code of the body (default per status). */
      code?: number;
      message?: string;
      /** Replaces the whole body. */
      body?: unknown;
      headers?: Record<string, string>;
      /** Perform the request first (its effect happens), then answer this. */
      commit?: boolean;
    }
  | { hang: true; commit?: boolean };

export interface GatewaySessionInfo {
  id: string;
  shard: [number, number];
  intents: number;
  /** Last sequence number sent. */
  seq: number;
  /** 'ready': a live connection has had READY or RESUMED. */
  state: 'ready' | 'resuming' | 'disconnected' | 'invalid';
  connected: boolean;
  identifiedAtMs: number;
  resumes: number;
  /** Seq of the last READY or RESUMED sent. */
  readySeq: number;
  /** The highest seq the bot's heartbeats have carried: it has processed dispatches up to there. */
  ackedSeq: number;
}

export interface GatewayCloseRecord {
  connection: number;
  code: number;
  reason: string;
  /** Who ended it: the server (closeWith, protocol errors), the client, or a drop (no close frame). */
  by: 'server' | 'client' | 'drop';
  atMs: number;
}

export interface GatewayFrame {
  connection: number;
  dir: 'in' | 'out';
  op: number;
  t?: string | null;
  s?: number | null;
  atMs: number;
}

/** The first callback of an interaction. */
export interface InteractionCallback {
  type: InteractionResponseType;
  data: Record<string, unknown> | undefined;
  atMs: number;
  /** Dispatch → callback. */
  latencyMs: number;
}

/** What the user ends up seeing. */
export interface FinalAnswer {
  via: 'callback' | 'edit-original' | 'follow-up';
  /** The first callback's type (4, 5, 6, 7, 8, 9). */
  callbackType: InteractionResponseType;
  /** The message data that made it visible: callback data (4/7/8/9), the PATCH body, the follow-up body. */
  data: Record<string, unknown>;
  /** The resulting message (undefined for 8 and 9). */
  message: APIMessage | undefined;
  ephemeral: boolean;
  /** Dispatch → this answer. */
  latencyMs: number;
}

export interface InteractionHandle {
  readonly id: string;
  readonly token: string;
  readonly interaction: APIInteraction;
  /** 'pending' (no callback), 'acknowledged' (deferred), 'answered', 'failed' (deadline passed). */
  readonly state: 'pending' | 'acknowledged' | 'answered' | 'failed';
  /** The first callback; rejects when the deadline passes without one. */
  readonly response: Promise<InteractionCallback>;
  /** The user-visible answer (see FinalAnswer); rejects on a missed deadline or after timeoutMs (10 s). */
  final(timeoutMs?: number): Promise<FinalAnswer>;
  /** Dispatch → final answer, once there is one. */
  readonly latencyMs: number | undefined;
  /** Whether the answer is ephemeral (undefined before a 4/5 callback). */
  readonly ephemeral: boolean | undefined;
  readonly followUps: readonly APIMessage[];
  /** The response message as it is now (the component's message for 6/7). */
  readonly message: APIMessage | undefined;
  /** Every @original edit body, in order. */
  readonly edits: readonly Record<string, unknown>[];
}

export interface InteractionContext {
  userId?: string;
  /** Default: the first guild (ignored with dm). */
  guildId?: string;
  /** Default: the guild's first channel, or the user's DM channel. */
  channelId?: string;
  /** From the user's DM with the bot (user instead of member, context BOT_DM). */
  dm?: boolean;
  locale?: Locale;
}

export interface ButtonContext extends Omit<InteractionContext, 'channelId' | 'dm' | 'guildId'> {
  /** The message carrying the component (an object the bot got back, or its id). */
  message: APIMessage | string;
}

/** Plain option values; a sub-command is `{ sub: { … } }` or part of the name ('jobs list'). */
export type CommandOptionValues = Record<string, unknown>;

export interface DiscordServer {
  /** http://127.0.0.1:PORT — a bot's `api`; REST at `${url}/api/v10`. */
  readonly url: string;
  readonly apiUrl: string;
  /** ws://127.0.0.1:PORT */
  readonly gatewayUrl: string;
  readonly port: number;
  readonly token: string;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly guildIds: readonly string[];
  /** The first known user (the default invoker). */
  readonly defaultUserId: string;
  channelIds(guildId?: string): string[];

  readonly requests: readonly RecordedRequest[];
  /** Messages created with Create Message in that channel (or all), oldest first; with includeInteractions, interaction answers and follow-ups too. */
  messages(channelId?: string, opts?: { includeInteractions?: boolean }): APIMessage[];
  /** Every message in the user's DM channel (Create Message and interaction answers). */
  dms(userId: string): APIMessage[];
  dmChannelId(userId: string): string | undefined;
  message(id: string): APIMessage | undefined;
  /** Registered commands (global without guildId). */
  commands(guildId?: string): APIApplicationCommand[];
  /** Bulk overwrites that were accepted. */
  readonly commandWrites: number;
  /** Creates counted toward the daily limit in the last 24 h (global without guildId). */
  commandCreates(guildId?: string): number;
  /** 401/403/429 answers (Discord bans at 10,000 in 10 minutes). */
  readonly invalidRequests: number;

  readonly identifies: number;
  readonly resumes: number;
  readonly connections: number;
  /** Heartbeats received (each one acked). */
  readonly heartbeats: number;
  readonly sessions: readonly GatewaySessionInfo[];
  readonly closes: readonly GatewayCloseRecord[];
  readonly frames: readonly GatewayFrame[];
  /**
   * Resolves when READY or RESUMED was sent on a live connection — immediately, not waiting for the
   * bot to have read it. With `acked`, only once a heartbeat of the bot carried that READY's seq
   * (it has processed it; up to one heartbeat interval later).
   */
  waitForReady(timeoutMs?: number, opts?: { acked?: boolean }): Promise<GatewaySessionInfo>;
  /** Resolves at the next heartbeat acked. */
  waitForHeartbeat(timeoutMs?: number): Promise<void>;
  /** Sends op 1 to the bot; resolves when its heartbeat came back (and was acked). */
  requestHeartbeat(timeoutMs?: number): Promise<void>;
  /** Sends (or buffers for replay) a dispatch; returns its seq. Not filtered by intents. */
  dispatch(event: GatewayDispatchEvents | string, data: unknown, opts?: { shard?: number }): number;
  /** Resolves with check()'s first truthy value, re-checked at every change of state (and every 20 ms, for client-side state). */
  waitFor<T>(check: () => T | false | null | undefined, timeoutMs?: number, what?: string): Promise<T>;

  dropConnection(): void;
  closeWith(code: number, reason?: string): void;
  sendReconnect(): void;
  sendInvalidSession(resumable: boolean): void;
  /** Scripted answers for the next requests of that method ('*' any) whose route (below /api/v10) starts with `path` or matches it. */
  failNext(method: string, path: string | RegExp, replies: ScriptedReply[]): void;
  /** Hook awaited after an accepted request's effect, before its 2xx is written; returns an unsubscribe. */
  beforeRespond(predicate: (r: RecordedRequest) => boolean, hook: (r: RecordedRequest) => unknown): () => void;

  command(name: string, options?: CommandOptionValues, ctx?: InteractionContext): InteractionHandle;
  /** An autocomplete interaction for `focused`; resolves the choices the bot answered. */
  autocomplete(name: string, options: CommandOptionValues, focused: string, ctx?: InteractionContext): Promise<APIApplicationCommandOptionChoice[]>;
  button(customId: string, ctx: ButtonContext): InteractionHandle;
  select(customId: string, values: string[], ctx: ButtonContext): InteractionHandle;
  /** Every interaction dispatched, oldest first. */
  readonly interactions: readonly InteractionHandle[];

  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Constants

export const DEFAULT_DISCORD_APPLICATION_ID = '1180000000000000001';
export const DEFAULT_DISCORD_GUILD_ID = '1180000000000000100';
export const DEFAULT_DISCORD_USER_ID = '1180000000000001001';
/** A fake token in the real format: base64(bot id) . timestamp . hmac. */
export const DEFAULT_DISCORD_TOKEN = `${Buffer.from(DEFAULT_DISCORD_APPLICATION_ID).toString('base64url')}.GfAkE0.flurm-test-token_0123456789abcdefghijklmn`;

const API_PREFIX = '/api/v10';
const MIB = 1024 * 1024;
const MAX_FILE_BYTES = 10 * MIB;
const MAX_FILES = 10;
const MAX_REQUEST_BYTES = MAX_FILES * MAX_FILE_BYTES + 4 * MIB;
const DISCORD_EPOCH = 1420070400000n;
const SNOWFLAKE_RE = /^\d{17,20}$/;
const COMMAND_NAME_RE = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
/** A regular member's permissions; the bot's (app_permissions) in channels it may send to. */
const MEMBER_PERMISSIONS = '1071698660929';
const BOT_PERMISSIONS = '2248473465835073';
const BOT_READONLY_PERMISSIONS = '66560'; // VIEW_CHANNEL | READ_MESSAGE_HISTORY
const PRIVILEGED_INTENTS = GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;
const ALL_INTENTS = Object.values(GatewayIntentBits).filter((v): v is number => typeof v === 'number').reduce((a, b) => a | b, 0);
const LOCALES = new Set<string>(Object.values(Locale));

const CLOSE_REASONS: Record<number, string> = {
  4000: 'Unknown error.',
  4001: 'Unknown opcode.',
  4002: 'Error while decoding payload.',
  4003: 'Not authenticated.',
  4004: 'Authentication failed.',
  4005: 'Already authenticated.',
  4007: 'Invalid seq.',
  4008: 'Rate limited.',
  4009: 'Session timed out.',
  4010: 'Invalid shard.',
  4011: 'Sharding required.',
  4012: 'Invalid API version.',
  4013: 'Invalid intent(s).',
  4014: 'Disallowed intent(s).',
};
/** Server closes after which the session cannot be resumed. */
const SESSION_ENDING_CLOSES = new Set([4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014]);

// ---------------------------------------------------------------------------------------------
// Small helpers

let snowflakeIncrement = 0n;
/** A fresh snowflake for now. */
function snowflake(): string {
  snowflakeIncrement = (snowflakeIncrement + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n) | snowflakeIncrement).toString();
}

/** Length as Discord counts it: code points. */
function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSnowflake = (v: unknown): v is string => typeof v === 'string' && SNOWFLAKE_RE.test(v);

function shardOf(guildId: string, count: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

type ErrorItem = { code: string; message: string };
type ErrorTree = { [k: string]: ErrorTree | ErrorItem[] };

/** Discord's nested `errors` of a 50035. */
class FormErrors {
  readonly tree: ErrorTree = {};
  count = 0;
  add(path: ReadonlyArray<string | number>, code: string, message: string): void {
    let node = this.tree;
    for (const p of path) node = (node[String(p)] ??= {}) as ErrorTree;
    ((node._errors ??= []) as ErrorItem[]).push({ code, message });
    this.count++;
  }
  /** Merges another error tree (e.g. validateDiscordBody's) under `prefix`. */
  merge(other: unknown, prefix: ReadonlyArray<string | number> = []): void {
    if (!isObject(other)) return;
    for (const [k, v] of Object.entries(other)) {
      if (k === '_errors' && Array.isArray(v)) for (const e of v as ErrorItem[]) this.add(prefix, e.code, e.message);
      else this.merge(v, [...prefix, k]);
    }
  }
  body(): Record<string, unknown> {
    return { code: RESTJSONErrorCodes.InvalidFormBodyOrContentType, errors: this.tree, message: 'Invalid Form Body' };
  }
}

function str(errs: FormErrors, path: ReadonlyArray<string | number>, v: unknown, opts: { min?: number; max: number; required?: boolean }): void {
  if (v === undefined || v === null) {
    if (opts.required) errs.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
    return;
  }
  if (typeof v !== 'string') return errs.add(path, 'BASE_TYPE_STRING', 'Must be a string.');
  const n = chars(v);
  if (n > opts.max || (opts.min !== undefined && n < opts.min)) {
    errs.add(path, 'BASE_TYPE_BAD_LENGTH', opts.min !== undefined ? `Must be between ${opts.min} and ${opts.max} in length.` : `Must be ${opts.max} or fewer in length.`);
  }
}

function bool(errs: FormErrors, path: ReadonlyArray<string | number>, v: unknown): void {
  if (v !== undefined && v !== null && typeof v !== 'boolean') errs.add(path, 'BASE_TYPE_BOOLEAN', 'Must be either true or false.');
}

/** A promise whose rejection nobody has to observe (no unhandled rejection), with its resolvers. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void; settled: () => boolean } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  let done = false;
  const promise = new Promise<T>((res, rej) => {
    resolve = (v) => {
      if (!done) (done = true), res(v);
    };
    reject = (e) => {
      if (!done) (done = true), rej(e);
    };
  });
  promise.catch(() => {});
  return { promise, resolve, reject, settled: () => done };
}

// ---------------------------------------------------------------------------------------------
// Multipart

interface UploadedFile {
  field: string;
  index: number;
  filename: string;
  contentType: string | undefined;
  data: Buffer;
}

interface ParsedPart {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  data: Buffer;
}

/** multipart/form-data (RFC 7578) as undici's FormData writes it. undefined when malformed. */
function parseMultipart(buf: Buffer, boundary: string): ParsedPart[] | undefined {
  const delim = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  const parts: ParsedPart[] = [];
  let pos = buf.indexOf(delim);
  if (pos < 0) return undefined;
  pos += delim.length;
  for (;;) {
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) return parts; // closing delimiter
    if (buf[pos] !== 0x0d || buf[pos + 1] !== 0x0a) return undefined;
    pos += 2;
    const headEnd = buf.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return undefined;
    const head = buf.subarray(pos, headEnd).toString('utf8');
    const end = buf.indexOf(next, headEnd + 4);
    if (end < 0) return undefined;
    const disposition = /^content-disposition:(.*)$/im.exec(head)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) return undefined;
    parts.push({
      name,
      filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1],
      contentType: /^content-type:\s*(.*)$/im.exec(head)?.[1]?.trim(),
      data: buf.subarray(headEnd + 4, end),
    });
    pos = end + next.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Message validation

type MessageKind = 'create' | 'reply' | 'defer' | 'update' | 'edit' | 'followup';

const ALLOWED_FLAGS: Record<MessageKind, number> = {
  create: MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications,
  reply: MessageFlags.Ephemeral | MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications,
  followup: MessageFlags.Ephemeral | MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications,
  defer: MessageFlags.Ephemeral,
  // An edit cannot change ephemerality: 64 is tolerated (as the libraries resend it) and ignored.
  update: MessageFlags.SuppressEmbeds | MessageFlags.Ephemeral,
  edit: MessageFlags.SuppressEmbeds | MessageFlags.Ephemeral,
};

function checkComponents(errs: FormErrors, path: Array<string | number>, comps: unknown): void {
  if (comps === undefined || comps === null) return;
  if (!Array.isArray(comps)) return errs.add(path, 'BASE_TYPE_ARRAY', 'Must be an array.');
  if (comps.length > 5) errs.add(path, 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  const ids = new Set<string>();
  const customId = (p: Array<string | number>, v: unknown) => {
    str(errs, p, v, { min: 1, max: 100, required: true });
    if (typeof v === 'string') {
      if (ids.has(v)) errs.add(p, 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
      ids.add(v);
    }
  };
  const minMax = (at: (...p: Array<string | number>) => Array<string | number>, c: Record<string, unknown>, options?: number) => {
    for (const [k, lo] of [['min_values', 0], ['max_values', 1]] as const) {
      const v = c[k];
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < lo || (v as number) > 25)) errs.add(at(k), 'NUMBER_TYPE_MAX', `Must be between ${lo} and 25.`);
    }
    if (options !== undefined && typeof c.max_values === 'number' && c.max_values > options) errs.add(at('max_values'), 'NUMBER_TYPE_MAX', `Must be ${options} or fewer (the number of options).`);
    str(errs, at('placeholder'), c.placeholder, { max: 150 });
  };
  comps.forEach((rawRow, i) => {
    const rowPath = [...path, i];
    if (!isObject(rawRow)) return errs.add(rowPath, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    if (rawRow.type !== ComponentType.ActionRow) {
      return errs.add([...rowPath, 'type'], 'COMPONENT_TYPE_INVALID', `Component type ${String(rawRow.type)} is invalid here: a message's top level takes action rows (type 1) without IS_COMPONENTS_V2.`);
    }
    const children = rawRow.components;
    if (!Array.isArray(children) || children.length === 0) return errs.add([...rowPath, 'components'], 'BASE_TYPE_MIN_LENGTH', 'Must be 1 or more in length.');
    if (children.length > 5) errs.add([...rowPath, 'components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
    const hasSelect = children.some((c) => isObject(c) && c.type !== ComponentType.Button);
    if (hasSelect && children.length > 1) errs.add([...rowPath, 'components'], 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'The specified component exceeds the maximum width');
    children.forEach((raw, j) => {
      const at = (...p: Array<string | number>) => [...rowPath, 'components', j, ...p];
      if (!isObject(raw)) return errs.add(at(), 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      const c = raw;
      switch (c.type) {
        case ComponentType.Button: {
          const style = c.style;
          if (!Object.values(ButtonStyle).includes(style as ButtonStyle)) {
            errs.add(at('style'), 'BASE_TYPE_CHOICES', `Value must be one of {${Object.values(ButtonStyle).filter((v) => typeof v === 'number').join(', ')}}.`);
          }
          str(errs, at('label'), c.label, { max: 80 });
          bool(errs, at('disabled'), c.disabled);
          if (style === ButtonStyle.Link) {
            if (typeof c.url !== 'string' || !/^(https?|discord):\/\/\S+$/.test(c.url)) errs.add(at('url'), 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
            if (c.custom_id !== undefined) errs.add(at('custom_id'), 'BUTTON_COMPONENT_CUSTOM_ID_WITH_URL', 'A link button cannot have a custom_id');
          } else if (style === ButtonStyle.Premium) {
            if (!isSnowflake(c.sku_id)) errs.add(at('sku_id'), 'BASE_TYPE_REQUIRED', 'This field is required');
            for (const k of ['custom_id', 'label', 'url', 'emoji']) if (c[k] !== undefined) errs.add(at(k), 'BUTTON_COMPONENT_INVALID_FIELD', `A premium button cannot have ${k}`);
          } else {
            customId(at('custom_id'), c.custom_id);
            if (c.url !== undefined) errs.add(at('url'), 'BUTTON_COMPONENT_URL_WITH_CUSTOM_ID', 'Only link buttons can have a url');
          }
          if (style !== ButtonStyle.Premium && (typeof c.label !== 'string' || c.label === '') && c.emoji === undefined) {
            errs.add(at('label'), 'BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED', 'A button needs a label or an emoji');
          }
          break;
        }
        case ComponentType.StringSelect: {
          customId(at('custom_id'), c.custom_id);
          const options = c.options;
          if (!Array.isArray(options) || options.length === 0 || options.length > 25) {
            errs.add(at('options'), 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 25 in length.');
          } else {
            const values = new Set<string>();
            options.forEach((o, k) => {
              const opt = isObject(o) ? o : {};
              str(errs, at('options', k, 'label'), opt.label, { min: 1, max: 100, required: true });
              str(errs, at('options', k, 'value'), opt.value, { min: 1, max: 100, required: true });
              str(errs, at('options', k, 'description'), opt.description, { max: 100 });
              if (typeof opt.value === 'string') {
                if (values.has(opt.value)) errs.add(at('options', k, 'value'), 'SELECT_COMPONENT_OPTION_VALUE_DUPLICATED', 'Select option values must be unique');
                values.add(opt.value);
              }
            });
          }
          minMax(at, c, Array.isArray(options) ? options.length : undefined);
          break;
        }
        case ComponentType.UserSelect:
        case ComponentType.RoleSelect:
        case ComponentType.MentionableSelect:
        case ComponentType.ChannelSelect:
          customId(at('custom_id'), c.custom_id);
          minMax(at, c);
          break;
        default:
          errs.add(at('type'), 'COMPONENT_TYPE_INVALID', `Component type ${String(c.type)} is not valid in a message action row`);
      }
    });
  });
}

function checkAllowedMentions(errs: FormErrors, path: Array<string | number>, am: unknown): void {
  if (am === undefined || am === null) return;
  if (!isObject(am)) return errs.add(path, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
  for (const k of ['users', 'roles'] as const) {
    const list = am[k];
    if (list === undefined) continue;
    if (!Array.isArray(list)) errs.add([...path, k], 'BASE_TYPE_ARRAY', 'Must be an array.');
    else {
      if (list.length > 100) errs.add([...path, k], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
      list.forEach((id, i) => {
        if (!isSnowflake(id)) errs.add([...path, k, i], 'NUMBER_TYPE_COERCE', `Value "${String(id)}" is not snowflake.`);
      });
      if (Array.isArray(am.parse) && am.parse.includes(k) && list.length > 0) {
        errs.add([...path, 'parse'], 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE', `parse:["${k}"] and ${k}: [ids] are mutually exclusive.`);
      }
    }
  }
  bool(errs, [...path, 'replied_user'], am.replied_user);
}

/**
 * Discord's validation of a message body (Create Message, interaction data, webhook edit/execute).
 * Returns [status, error body] or undefined. `files` are the multipart file parts.
 */
function validateMessage(body: unknown, kind: MessageKind, files: readonly UploadedFile[], prefix: Array<string | number> = []): [number, Record<string, unknown>] | undefined {
  if (!isObject(body)) return [400, { code: RESTJSONErrorCodes.RequestBodyContainsInvalidJSON, message: 'The request body contains invalid JSON.' }];
  const errs = new FormErrors();
  // Embeds, content, allowed_mentions.parse: the webhook validation of fake-services (username only
  // exists for webhook executes, which interaction follow-ups ignore).
  const { username: _username, ...forCheck } = body;
  const base = validateDiscordBody(kind === 'followup' ? body : forCheck);
  if (base && base.code === RESTJSONErrorCodes.InvalidFormBodyOrContentType) errs.merge(base.errors, prefix);
  const at = (...p: Array<string | number>) => [...prefix, ...p];
  if (body.flags !== undefined && body.flags !== null) {
    const flags = body.flags;
    if (!Number.isInteger(flags)) errs.add(at('flags'), 'NUMBER_TYPE_COERCE', `Value "${String(flags)}" is not int.`);
    else if (((flags as number) & MessageFlags.IsComponentsV2) !== 0) {
      errs.add(at('flags'), 'MESSAGE_FLAGS_UNSUPPORTED', 'IS_COMPONENTS_V2 (32768) is not supported by this server: flurm does not use components v2.');
    } else if (((flags as number) & ~ALLOWED_FLAGS[kind]) !== 0) {
      errs.add(at('flags'), 'MESSAGE_FLAGS_INVALID', `Invalid flags ${String(flags)} here: only ${ALLOWED_FLAGS[kind]} (a combination of ${flagNames(ALLOWED_FLAGS[kind])}) may be set.`);
    }
  }
  checkComponents(errs, at('components'), body.components);
  checkAllowedMentions(errs, at('allowed_mentions'), body.allowed_mentions);
  bool(errs, at('tts'), body.tts);
  if (kind === 'create') {
    const nonce = body.nonce;
    if (nonce !== undefined && nonce !== null) {
      if (typeof nonce === 'number') {
        if (!Number.isSafeInteger(nonce)) errs.add(at('nonce'), 'NUMBER_TYPE_COERCE', `Value "${nonce}" is not int.`);
      } else if (typeof nonce === 'string') {
        if (chars(nonce) > 25) errs.add(at('nonce'), 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      } else errs.add(at('nonce'), 'BASE_TYPE_CHOICES', 'Must be an integer or a string.');
    }
    bool(errs, at('enforce_nonce'), body.enforce_nonce);
    if (body.sticker_ids !== undefined && (!Array.isArray(body.sticker_ids) || body.sticker_ids.length > 3)) errs.add(at('sticker_ids'), 'BASE_TYPE_MAX_LENGTH', 'Must be 3 or fewer in length.');
  }
  if (files.length > MAX_FILES) errs.add(at('files'), 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_FILES} or fewer in length.`);
  const atts = body.attachments;
  if (atts !== undefined && atts !== null) {
    if (!Array.isArray(atts)) errs.add(at('attachments'), 'BASE_TYPE_ARRAY', 'Must be an array.');
    else {
      if (atts.length > MAX_FILES) errs.add(at('attachments'), 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_FILES} or fewer in length.`);
      atts.forEach((a, i) => {
        if (!isObject(a)) return errs.add(at('attachments', i), 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
        const id = String(a.id);
        // New uploads are referred to by the n of files[n]; kept ones by their snowflake (edits).
        const isUpload = files.some((f) => String(f.index) === id);
        if (!isUpload && !(kind === 'edit' || kind === 'update') ) {
          errs.add(at('attachments', i, 'id'), 'ATTACHMENT_NOT_FOUND', `Attachment ${id} matches no uploaded files[${id}] part.`);
        }
        str(errs, at('attachments', i, 'filename'), a.filename, { min: 1, max: 1024 });
        str(errs, at('attachments', i, 'description'), a.description, { max: 1024 });
      });
    }
  }
  if (errs.count) return [400, errs.body()];
  if (kind === 'create' || kind === 'reply' || kind === 'followup') {
    const hasContent = typeof body.content === 'string' && body.content.trim() !== '';
    const has = (k: string) => Array.isArray(body[k]) && (body[k] as unknown[]).length > 0;
    if (!hasContent && !has('embeds') && !has('components') && !has('sticker_ids') && files.length === 0 && body.poll === undefined) {
      return [400, { code: RESTJSONErrorCodes.CannotSendAnEmptyMessage, message: 'Cannot send an empty message' }];
    }
  }
  return undefined;
}

function flagNames(bits: number): string {
  return Object.entries(MessageFlags)
    .filter(([, v]) => typeof v === 'number' && (bits & v) !== 0)
    .map(([k, v]) => `${k}(${String(v)})`)
    .join(', ');
}

// ---------------------------------------------------------------------------------------------
// Command validation

const OPTION_TYPES = new Set(Object.values(ApplicationCommandOptionType).filter((v) => typeof v === 'number'));
const CHANNEL_TYPES = new Set(Object.values(ChannelType).filter((v) => typeof v === 'number'));
const CHOICE_TYPES = new Set([ApplicationCommandOptionType.String, ApplicationCommandOptionType.Integer, ApplicationCommandOptionType.Number]);
const MAX_SAFE = 2 ** 53;

function validName(name: unknown): boolean {
  return typeof name === 'string' && COMMAND_NAME_RE.test(name) && name === name.toLowerCase();
}

/** The longest of a value and its localizations (Discord counts that one toward 4000). */
function longest(v: unknown, localizations: unknown): number {
  let n = typeof v === 'string' ? chars(v) : 0;
  if (isObject(localizations)) for (const l of Object.values(localizations)) if (typeof l === 'string') n = Math.max(n, chars(l));
  return n;
}

function checkLocalizations(errs: FormErrors, path: Array<string | number>, map: unknown, check: (p: Array<string | number>, v: unknown) => void): void {
  if (map === undefined || map === null) return;
  if (!isObject(map)) return errs.add(path, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
  for (const [locale, v] of Object.entries(map)) {
    if (!LOCALES.has(locale)) errs.add([...path, locale], 'LOCALE_INVALID', `Invalid locale "${locale}".`);
    else if (v !== null) check([...path, locale], v);
  }
}

function checkCommandName(errs: FormErrors, path: Array<string | number>, v: unknown): void {
  if (typeof v !== 'string') return errs.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
  if (!validName(v)) errs.add(path, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
}

function checkDescription(errs: FormErrors, path: Array<string | number>, v: unknown): void {
  str(errs, path, v, { min: 1, max: 100, required: true });
}

/** Validates options at `path` (depth 0: the command's); returns their share of the 4000 characters. */
function checkOptions(errs: FormErrors, path: Array<string | number>, options: unknown, depth: 0 | 1 | 2): number {
  if (options === undefined || options === null) return 0;
  if (!Array.isArray(options)) {
    errs.add(path, 'BASE_TYPE_ARRAY', 'Must be an array.');
    return 0;
  }
  if (options.length > 25) errs.add(path, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  let size = 0;
  const names = new Set<string>();
  let seenOptional = false;
  const kinds = new Set<string>();
  options.forEach((raw, i) => {
    const at = (...p: Array<string | number>) => [...path, i, ...p];
    if (!isObject(raw)) return errs.add(at(), 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    const o = raw;
    const type = o.type as ApplicationCommandOptionType;
    if (!OPTION_TYPES.has(type)) return errs.add(at('type'), 'BASE_TYPE_CHOICES', `Value must be one of {${[...OPTION_TYPES].join(', ')}}.`);
    checkCommandName(errs, at('name'), o.name);
    checkLocalizations(errs, at('name_localizations'), o.name_localizations, (p, v) => checkCommandName(errs, p, v));
    checkDescription(errs, at('description'), o.description);
    checkLocalizations(errs, at('description_localizations'), o.description_localizations, (p, v) => checkDescription(errs, p, v));
    size += longest(o.name, o.name_localizations) + longest(o.description, o.description_localizations);
    if (typeof o.name === 'string') {
      if (names.has(o.name)) errs.add(at('name'), 'APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS', 'Option names must be unique');
      names.add(o.name);
    }
    const isSub = type === ApplicationCommandOptionType.Subcommand || type === ApplicationCommandOptionType.SubcommandGroup;
    kinds.add(isSub ? 'sub' : 'basic');
    if (type === ApplicationCommandOptionType.SubcommandGroup) {
      if (depth !== 0) errs.add(at('type'), 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', 'A sub-command group can only be at the top level');
      if (!Array.isArray(o.options) || o.options.length === 0) errs.add(at('options'), 'BASE_TYPE_MIN_LENGTH', 'Must be 1 or more in length.');
      else if (o.options.some((s) => !isObject(s) || s.type !== ApplicationCommandOptionType.Subcommand)) {
        errs.add(at('options'), 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', 'A sub-command group can only contain sub-commands');
      }
      size += checkOptions(errs, at('options'), o.options, 1);
    } else if (type === ApplicationCommandOptionType.Subcommand) {
      if (depth === 2) errs.add(at('type'), 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', 'A sub-command cannot contain sub-commands');
      if (Array.isArray(o.options) && o.options.some((s) => isObject(s) && (s.type === ApplicationCommandOptionType.Subcommand || s.type === ApplicationCommandOptionType.SubcommandGroup))) {
        errs.add(at('options'), 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', 'A sub-command cannot contain sub-commands');
      }
      size += checkOptions(errs, at('options'), o.options, 2);
    } else {
      if (o.options !== undefined) errs.add(at('options'), 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', 'Only sub-commands and groups have options');
      bool(errs, at('required'), o.required);
      if (o.required === true && seenOptional) errs.add(path, 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', 'Required options must be placed before non-required options');
      if (o.required !== true) seenOptional = true;
      size += checkBasicOption(errs, at, o, type);
    }
  });
  if (kinds.size > 1) errs.add(path, 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Sub-command and sub-command group option types are mutually exclusive to all other types');
  return size;
}

function checkBasicOption(errs: FormErrors, at: (...p: Array<string | number>) => Array<string | number>, o: Record<string, unknown>, type: ApplicationCommandOptionType): number {
  let size = 0;
  const isNum = type === ApplicationCommandOptionType.Integer || type === ApplicationCommandOptionType.Number;
  const numberOk = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_SAFE && (type !== ApplicationCommandOptionType.Integer || Number.isInteger(v));
  const choices = o.choices;
  if (choices !== undefined && choices !== null) {
    if (!CHOICE_TYPES.has(type)) errs.add(at('choices'), 'APPLICATION_COMMAND_OPTION_CHOICES_INVALID', 'Only STRING, INTEGER and NUMBER options can have choices');
    else if (!Array.isArray(choices)) errs.add(at('choices'), 'BASE_TYPE_ARRAY', 'Must be an array.');
    else {
      if (choices.length > 25) errs.add(at('choices'), 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      choices.forEach((c, k) => {
        const ch = isObject(c) ? c : {};
        str(errs, at('choices', k, 'name'), ch.name, { min: 1, max: 100, required: true });
        checkLocalizations(errs, at('choices', k, 'name_localizations'), ch.name_localizations, (p, v) => str(errs, p, v, { min: 1, max: 100, required: true }));
        size += longest(ch.name, ch.name_localizations);
        if (type === ApplicationCommandOptionType.String) {
          str(errs, at('choices', k, 'value'), ch.value, { min: 1, max: 100, required: true });
          if (typeof ch.value === 'string') size += chars(ch.value);
        } else {
          if (!numberOk(ch.value)) errs.add(at('choices', k, 'value'), 'NUMBER_TYPE_COERCE', `Value "${String(ch.value)}" is not ${type === ApplicationCommandOptionType.Integer ? 'int' : 'a number'}.`);
          else size += String(ch.value).length;
        }
      });
    }
  }
  if (o.autocomplete !== undefined) {
    bool(errs, at('autocomplete'), o.autocomplete);
    if (o.autocomplete === true && !CHOICE_TYPES.has(type)) errs.add(at('autocomplete'), 'APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_INVALID', 'Only STRING, INTEGER and NUMBER options can autocomplete');
    if (o.autocomplete === true && Array.isArray(choices) && choices.length > 0) errs.add(at('autocomplete'), 'APPLICATION_COMMAND_AUTOCOMPLETE_WITH_CHOICES', 'Autocomplete cannot be set for options with choices');
  }
  for (const k of ['min_value', 'max_value'] as const) {
    if (o[k] === undefined || o[k] === null) continue;
    if (!isNum) errs.add(at(k), 'APPLICATION_COMMAND_OPTION_MIN_MAX_INVALID', `${k} is only for INTEGER and NUMBER options`);
    else if (!numberOk(o[k])) errs.add(at(k), 'NUMBER_TYPE_COERCE', `Value "${String(o[k])}" is not ${type === ApplicationCommandOptionType.Integer ? 'int' : 'a number'}.`);
  }
  if (typeof o.min_value === 'number' && typeof o.max_value === 'number' && o.min_value > o.max_value) errs.add(at('max_value'), 'NUMBER_TYPE_MIN', `int value should be greater than or equal to ${o.min_value}.`);
  for (const [k, lo] of [['min_length', 0], ['max_length', 1]] as const) {
    if (o[k] === undefined || o[k] === null) continue;
    if (type !== ApplicationCommandOptionType.String) errs.add(at(k), 'APPLICATION_COMMAND_OPTION_LENGTH_INVALID', `${k} is only for STRING options`);
    else if (!Number.isInteger(o[k]) || (o[k] as number) < lo || (o[k] as number) > 6000) errs.add(at(k), 'NUMBER_TYPE_MAX', `Must be between ${lo} and 6000.`);
  }
  if (typeof o.min_length === 'number' && typeof o.max_length === 'number' && o.min_length > o.max_length) errs.add(at('max_length'), 'NUMBER_TYPE_MIN', `int value should be greater than or equal to ${o.min_length}.`);
  if (o.channel_types !== undefined) {
    if (type !== ApplicationCommandOptionType.Channel) errs.add(at('channel_types'), 'APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_INVALID', 'channel_types is only for CHANNEL options');
    else if (!Array.isArray(o.channel_types) || !o.channel_types.every((t) => CHANNEL_TYPES.has(t as ChannelType))) errs.add(at('channel_types'), 'BASE_TYPE_CHOICES', 'Invalid channel type.');
  }
  return size;
}

type CommandScope = 'global' | string;

/** One command of a bulk overwrite or create; returns its normalized form (without ids) or undefined. */
function checkCommand(errs: FormErrors, path: Array<string | number>, raw: unknown, scope: CommandScope): Omit<APIApplicationCommand, 'id' | 'application_id' | 'version'> | undefined {
  if (!isObject(raw)) {
    errs.add(path, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    return undefined;
  }
  const c = raw;
  const type = (c.type ?? ApplicationCommandType.ChatInput) as ApplicationCommandType;
  const at = (...p: Array<string | number>) => [...path, ...p];
  const before = errs.count;
  if (![ApplicationCommandType.ChatInput, ApplicationCommandType.User, ApplicationCommandType.Message].includes(type)) {
    errs.add(at('type'), 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2, 3}.');
    return undefined;
  }
  if (type === ApplicationCommandType.ChatInput) {
    checkCommandName(errs, at('name'), c.name);
    checkLocalizations(errs, at('name_localizations'), c.name_localizations, (p, v) => checkCommandName(errs, p, v));
    checkDescription(errs, at('description'), c.description);
    checkLocalizations(errs, at('description_localizations'), c.description_localizations, (p, v) => checkDescription(errs, p, v));
  } else {
    str(errs, at('name'), c.name, { min: 1, max: 32, required: true });
    if (c.description !== undefined && c.description !== '') errs.add(at('description'), 'APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION_INVALID', 'Context menu commands cannot have a description');
    if (c.options !== undefined) errs.add(at('options'), 'APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS_INVALID', 'Context menu commands cannot have options');
  }
  let size = longest(c.name, c.name_localizations) + longest(c.description, c.description_localizations);
  if (type === ApplicationCommandType.ChatInput) size += checkOptions(errs, at('options'), c.options, 0);
  if (size > 4000) errs.add(path, 'APPLICATION_COMMAND_TOO_LARGE', 'Command exceeds maximum size (4000)');
  const dmp = c.default_member_permissions;
  if (dmp !== undefined && dmp !== null && !(typeof dmp === 'string' && /^\d+$/.test(dmp))) errs.add(at('default_member_permissions'), 'NUMBER_TYPE_COERCE', `Value "${String(dmp)}" is not int.`);
  bool(errs, at('dm_permission'), c.dm_permission);
  bool(errs, at('nsfw'), c.nsfw);
  const enumList = (k: string, allowed: number[]) => {
    const v = c[k];
    if (v === undefined || v === null) return;
    if (!Array.isArray(v) || !v.every((x) => allowed.includes(x as number))) errs.add(at(k), 'BASE_TYPE_CHOICES', `Value must be a list of {${allowed.join(', ')}}.`);
  };
  enumList('contexts', [InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel]);
  enumList('integration_types', [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall]);
  if (errs.count > before) return undefined;
  const cmd = {
    type,
    name: c.name as string,
    ...(c.name_localizations ? { name_localizations: c.name_localizations as APIApplicationCommand['name_localizations'] } : {}),
    description: (c.description as string | undefined) ?? '',
    ...(c.description_localizations ? { description_localizations: c.description_localizations as APIApplicationCommand['description_localizations'] } : {}),
    ...(Array.isArray(c.options) && c.options.length ? { options: c.options as APIApplicationCommandOption[] } : {}),
    default_member_permissions: (dmp as string | null | undefined) ?? null,
    ...(scope === 'global' ? { dm_permission: (c.dm_permission as boolean | undefined) ?? true } : { guild_id: scope }),
    nsfw: (c.nsfw as boolean | undefined) ?? false,
    contexts: (c.contexts as InteractionContextType[] | null | undefined) ?? null,
    integration_types: (c.integration_types as ApplicationIntegrationType[] | undefined) ?? [ApplicationIntegrationType.GuildInstall],
  };
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// The server

interface UserRec {
  user: APIUser;
  roles: string[];
  permissions: string;
  locale: Locale;
}

interface ChannelRec {
  id: string;
  type: ChannelType.GuildText | ChannelType.DM;
  guildId: string | undefined;
  name: string;
  readOnly: boolean;
  recipientId: string | undefined;
  position: number;
  lastMessageId: string | null;
}

interface MessageRec {
  message: APIMessage;
  source: 'create' | 'interaction' | 'followup';
  /** String(nonce) with enforce_nonce, for deduplication. */
  enforcedNonce: string | undefined;
  atMs: number;
  deleted: boolean;
  ephemeral: boolean;
}

interface Conn {
  id: number;
  ws: WebSocket;
  session: SessionRec | undefined;
  authed: boolean;
  /** Set when the server ends the connection (or drops it). */
  ending: { by: 'server' | 'drop'; code: number; reason: string } | undefined;
  heartbeatTimer: NodeJS.Timeout | undefined;
  received: number[];
}

interface SessionRec {
  id: string;
  shard: [number, number];
  intents: number;
  seq: number;
  events: Array<{ op: GatewayOpcodes.Dispatch; t: string; s: number; d: unknown }>;
  conn: Conn | undefined;
  state: GatewaySessionInfo['state'];
  identifiedAtMs: number;
  resumes: number;
  readySeq: number;
  ackedSeq: number;
}

interface InteractionRec {
  id: string;
  token: string;
  interaction: APIInteraction;
  label: string;
  channel: ChannelRec;
  userId: string;
  startedAt: number;
  createdAtMs: number;
  deadline: NodeJS.Timeout | undefined;
  state: InteractionHandle['state'];
  callback: InteractionCallback | undefined;
  focusedType: ApplicationCommandOptionType | undefined;
  /** The response message (4/5), or the component's message (6/7). */
  original: MessageRec | undefined;
  /** A type 5 whose message has not been filled yet. */
  deferredPending: boolean;
  ephemeral: boolean | undefined;
  followUps: APIMessage[];
  edits: Record<string, unknown>[];
  final: FinalAnswer | undefined;
  responseD: ReturnType<typeof deferred<InteractionCallback>>;
  finalD: ReturnType<typeof deferred<FinalAnswer>>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

const fail = (status: number, code: number, message: string) => new HttpError(status, { code, message });

const ERROR_MESSAGES: Record<number, string> = {
  [RESTJSONErrorCodes.UnknownChannel]: 'Unknown Channel',
  [RESTJSONErrorCodes.UnknownGuild]: 'Unknown Guild',
  [RESTJSONErrorCodes.UnknownMessage]: 'Unknown Message',
  [RESTJSONErrorCodes.UnknownUser]: 'Unknown User',
  [RESTJSONErrorCodes.UnknownWebhook]: 'Unknown Webhook',
  [RESTJSONErrorCodes.UnknownInteraction]: 'Unknown interaction',
  [RESTJSONErrorCodes.UnknownApplicationCommand]: 'Unknown application command',
  [RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged]: 'Interaction has already been acknowledged.',
  [RESTJSONErrorCodes.MissingAccess]: 'Missing Access',
  [RESTJSONErrorCodes.MissingPermissions]: 'Missing Permissions',
  [RESTJSONErrorCodes.CannotSendMessagesToThisUser]: 'Cannot send messages to this user',
  [RESTJSONErrorCodes.InvalidWebhookToken]: 'Invalid Webhook Token',
  [RESTJSONErrorCodes.RequestEntityTooLarge]: 'Request entity too large',
  [RESTJSONErrorCodes.MaximumDailyApplicationCommandCreatesReached]: 'Max number of daily application command creates has been reached (200)',
};

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Payload Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** A fixed-window bucket, as Discord's behave from the client's side. */
class Window {
  resetAt = 0;
  remaining = 0;
  constructor(readonly spec: RateLimitSpec) {}
  take(now: number): boolean {
    if (now >= this.resetAt) {
      this.resetAt = now + this.spec.windowMs;
      this.remaining = this.spec.limit;
    }
    if (this.remaining <= 0) return false;
    this.remaining--;
    return true;
  }
  headers(now: number, hash: string): Record<string, string> {
    return {
      'x-ratelimit-limit': String(this.spec.limit),
      'x-ratelimit-remaining': String(this.remaining),
      'x-ratelimit-reset': (this.resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': (Math.max(0, this.resetAt - now) / 1000).toFixed(3),
      'x-ratelimit-bucket': hash,
    };
  }
}

interface RouteCtx {
  rec: RecordedRequest;
  params: Record<string, string>;
  /** The JSON body (or payload_json of a multipart body). */
  body: unknown;
  files: UploadedFile[];
  query: URLSearchParams;
}

interface RouteDef {
  method: string;
  re: RegExp;
  keys: string[];
  auth: boolean;
  /** The rate-limit bucket of a request, when rate limits are on. */
  bucket?: (p: Record<string, string>) => { key: string; spec: RateLimitSpec; hash: string } | undefined;
  handler: (ctx: RouteCtx) => Reply | Promise<Reply>;
}

const bucketHash = (route: string) => createHash('sha1').update(route).digest('hex').slice(0, 32);

class InteractionHandleImpl implements InteractionHandle {
  constructor(private readonly r: InteractionRec) {}
  get id() {
    return this.r.id;
  }
  get token() {
    return this.r.token;
  }
  get interaction() {
    return this.r.interaction;
  }
  get state() {
    return this.r.state;
  }
  get response() {
    return this.r.responseD.promise;
  }
  get latencyMs() {
    return this.r.final?.latencyMs;
  }
  get ephemeral() {
    return this.r.ephemeral;
  }
  get followUps() {
    return this.r.followUps;
  }
  get message() {
    return this.r.original?.message;
  }
  get edits() {
    return this.r.edits;
  }
  final(timeoutMs = 10_000): Promise<FinalAnswer> {
    if (this.r.finalD.settled()) return this.r.finalD.promise;
    return new Promise<FinalAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        const cb = this.r.callback ? `callback type ${this.r.callback.type}` : 'no callback';
        reject(new Error(`interaction ${this.r.label}: no user-visible answer within ${timeoutMs} ms (${cb}, state ${this.r.state})`));
      }, timeoutMs);
      this.r.finalD.promise.then(
        (v) => (clearTimeout(timer), resolve(v)),
        (e: Error) => (clearTimeout(timer), reject(e)),
      );
    });
  }
}

class DiscordServerImpl implements DiscordServer {
  url = '';
  apiUrl = '';
  gatewayUrl = '';
  port = 0;
  readonly token: string;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly guildIds: readonly string[];
  readonly defaultUserId: string;

  readonly requests: RecordedRequest[] = [];
  commandWrites = 0;
  invalidRequests = 0;
  identifies = 0;
  resumes = 0;
  connections = 0;
  heartbeats = 0;
  readonly closes: GatewayCloseRecord[] = [];
  readonly frames: GatewayFrame[] = [];

  private readonly opts: Required<Pick<DiscordServerOptions, 'heartbeatIntervalMs' | 'nonceWindowMs' | 'interactionDeadlineMs' | 'interactionTokenTtlMs' | 'commandCreatesPerDay' | 'privilegedIntents'>>;
  private readonly rateLimits: Required<DiscordRateLimits> | undefined;
  private readonly log: (line: string) => void;
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly changes = new EventEmitter();
  private readonly bot: APIUser;
  private readonly users = new Map<string, UserRec>();
  private readonly strictUsers: boolean;
  private readonly undmable: Set<string>;
  private readonly channels = new Map<string, ChannelRec>();
  private readonly dmByUser = new Map<string, string>();
  private readonly messageRecs: MessageRec[] = [];
  private readonly messageById = new Map<string, MessageRec>();
  private readonly commandsByScope = new Map<CommandScope, APIApplicationCommand[]>();
  private readonly createTimes = new Map<CommandScope, number[]>();
  private readonly sessionRecs: SessionRec[] = [];
  private readonly conns = new Set<Conn>();
  private connSeq = 0;
  private sessionStartsLeft = 1000;
  private readonly interactionRecs: InteractionRec[] = [];
  private readonly interactionById = new Map<string, InteractionRec>();
  private readonly interactionByToken = new Map<string, InteractionRec>();
  private readonly handles: InteractionHandle[] = [];
  private readonly scripts: Array<{ method: string; path: string | RegExp; queue: ScriptedReply[] }> = [];
  private readonly hooks: Array<{ predicate: (r: RecordedRequest) => boolean; hook: (r: RecordedRequest) => unknown }> = [];
  private readonly windows = new Map<string, Window>();
  private readonly routes: RouteDef[] = [];
  private closed = false;

  constructor(o: DiscordServerOptions) {
    this.token = o.token ?? DEFAULT_DISCORD_TOKEN;
    this.applicationId = o.applicationId ?? DEFAULT_DISCORD_APPLICATION_ID;
    this.botUserId = o.botUserId ?? this.applicationId;
    for (const [k, v] of Object.entries({ applicationId: this.applicationId, botUserId: this.botUserId })) {
      if (!isSnowflake(v)) throw new Error(`startDiscordServer: ${k} "${v}" is not a snowflake`);
    }
    this.opts = {
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? 41_250,
      nonceWindowMs: o.nonceWindowMs ?? 5 * 60_000,
      interactionDeadlineMs: o.interactionDeadlineMs ?? 3000,
      interactionTokenTtlMs: o.interactionTokenTtlMs ?? 15 * 60_000,
      commandCreatesPerDay: o.commandCreatesPerDay ?? 200,
      privilegedIntents: o.privilegedIntents ?? 0,
    };
    const rl = o.rateLimits === true ? {} : o.rateLimits;
    this.rateLimits = rl
      ? {
          dmMessages: rl.dmMessages ?? { limit: 5, windowMs: 5000 },
          channelMessages: rl.channelMessages ?? { limit: 5, windowMs: 5000 },
          global: rl.global ?? { limit: 50, windowMs: 1000 },
        }
      : undefined;
    this.log = o.log ?? (() => {});
    this.changes.setMaxListeners(0);
    this.bot = { id: this.botUserId, username: o.botUsername ?? 'flurm', discriminator: '0', global_name: null, avatar: null, bot: true, verified: true, mfa_enabled: false, flags: 0 as UserFlags, public_flags: 0 as UserFlags };

    this.guildIds = o.guilds?.length ? [...o.guilds] : [DEFAULT_DISCORD_GUILD_ID];
    for (const g of this.guildIds) if (!isSnowflake(g)) throw new Error(`startDiscordServer: guild "${g}" is not a snowflake`);
    const specs: DiscordChannelSpec[] = o.channels?.length ? o.channels : this.guildIds.map((guildId) => ({ guildId, name: 'general' }));
    specs.forEach((c, i) => {
      const guildId = c.guildId ?? this.guildIds[0]!;
      if (!this.guildIds.includes(guildId)) throw new Error(`startDiscordServer: channel ${c.name ?? i} is in unknown guild ${guildId}`);
      const id = c.id ?? snowflake();
      this.channels.set(id, { id, type: ChannelType.GuildText, guildId, name: c.name ?? `channel-${i}`, readOnly: !!c.readOnly, recipientId: undefined, position: i, lastMessageId: null });
    });

    this.strictUsers = o.users !== undefined;
    const users = o.users ?? [{ id: DEFAULT_DISCORD_USER_ID, username: 'alice' }];
    for (const u of users) this.addUser(u);
    this.defaultUserId = users[0]?.id ?? DEFAULT_DISCORD_USER_ID;
    this.undmable = new Set(o.undmable ?? []);

    this.defineRoutes();
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
    this.server.on('upgrade', (req, socket: Socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    this.apiUrl = `${this.url}${API_PREFIX}`;
    this.gatewayUrl = `ws://127.0.0.1:${this.port}`;
  }

  // -------------------------------------------------------------------------------------------
  // State, for tests

  channelIds(guildId?: string): string[] {
    return [...this.channels.values()].filter((c) => c.type === ChannelType.GuildText && (!guildId || c.guildId === guildId)).map((c) => c.id);
  }

  messages(channelId?: string, opts: { includeInteractions?: boolean } = {}): APIMessage[] {
    return this.messageRecs
      .filter((m) => !m.deleted && (!channelId || m.message.channel_id === channelId) && (opts.includeInteractions || m.source === 'create'))
      .map((m) => m.message);
  }

  dms(userId: string): APIMessage[] {
    const ch = this.dmByUser.get(userId);
    return ch ? this.messages(ch, { includeInteractions: true }) : [];
  }

  dmChannelId(userId: string): string | undefined {
    return this.dmByUser.get(userId);
  }

  message(id: string): APIMessage | undefined {
    const m = this.messageById.get(id);
    return m && !m.deleted ? m.message : undefined;
  }

  commands(guildId?: string): APIApplicationCommand[] {
    return [...(this.commandsByScope.get(guildId ?? 'global') ?? [])];
  }

  commandCreates(guildId?: string): number {
    const since = Date.now() - 86_400_000;
    return (this.createTimes.get(guildId ?? 'global') ?? []).filter((t) => t > since).length;
  }

  get sessions(): GatewaySessionInfo[] {
    return this.sessionRecs.map((s) => ({ id: s.id, shard: s.shard, intents: s.intents, seq: s.seq, state: s.state, connected: !!s.conn, identifiedAtMs: s.identifiedAtMs, resumes: s.resumes, readySeq: s.readySeq, ackedSeq: s.ackedSeq }));
  }

  get interactions(): InteractionHandle[] {
    return [...this.handles];
  }

  waitFor<T>(check: () => T | false | null | undefined, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.changes.off('change', test);
      };
      const test = () => {
        try {
          const v = check();
          if (v) {
            cleanup();
            resolve(v);
          }
        } catch (e) {
          cleanup();
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`discord server: ${what} not reached within ${timeoutMs} ms (${this.describe()})`));
      }, timeoutMs);
      this.changes.on('change', test);
      // Conditions on the client's side change without the server knowing: look again now and then.
      const poll = setInterval(test, 20);
      poll.unref();
      test();
    });
  }

  waitForReady(timeoutMs = 10_000, opts: { acked?: boolean } = {}): Promise<GatewaySessionInfo> {
    return this.waitFor(
      () => this.sessions.find((s) => s.state === 'ready' && s.connected && (!opts.acked || s.ackedSeq >= s.readySeq)),
      timeoutMs,
      opts.acked ? 'a ready gateway session whose READY the bot acknowledged' : 'a ready gateway session',
    );
  }

  waitForHeartbeat(timeoutMs = 10_000): Promise<void> {
    const n = this.heartbeats;
    return this.waitFor(() => this.heartbeats > n, timeoutMs, 'a heartbeat').then(() => undefined);
  }

  requestHeartbeat(timeoutMs = 5000): Promise<void> {
    const live = this.liveConns();
    if (!live.length) return Promise.reject(new Error('discord server: no bot connection to request a heartbeat from'));
    const wait = this.waitForHeartbeat(timeoutMs);
    for (const c of live) this.sendRaw(c, { op: GatewayOpcodes.Heartbeat, d: null });
    return wait;
  }

  private describe(): string {
    const s = this.sessionRecs.map((x) => `${x.id.slice(0, 6)}:${x.state}${x.conn ? '+conn' : ''}@${x.seq}`).join(',') || 'none';
    const reqs = this.requests.slice(-6).map((r) => `${r.method} ${r.route || r.path} → ${r.status ?? 'pending'}`).join('; ') || 'none';
    return `sessions ${s}; identifies ${this.identifies}, resumes ${this.resumes}, connections ${this.connections}; last requests: ${reqs}`;
  }

  private changed(): void {
    this.changes.emit('change');
  }

  // -------------------------------------------------------------------------------------------
  // Users, channels, messages

  private addUser(u: DiscordUserSpec): UserRec {
    if (!isSnowflake(u.id)) throw new Error(`startDiscordServer: user id "${u.id}" is not a snowflake`);
    const rec: UserRec = {
      user: { id: u.id, username: u.username ?? `user${u.id.slice(-4)}`, discriminator: '0', global_name: u.global_name ?? null, avatar: null, ...(u.bot ? { bot: true } : {}), public_flags: 0 as UserFlags, flags: 0 as UserFlags },
      roles: u.roles ?? [],
      permissions: u.permissions ?? MEMBER_PERMISSIONS,
      locale: u.locale ?? Locale.EnglishUS,
    };
    this.users.set(u.id, rec);
    return rec;
  }

  /** A known user; without a `users` option any snowflake is one. */
  private user(id: unknown): UserRec | undefined {
    if (!isSnowflake(id)) return undefined;
    if (id === this.botUserId) return { user: this.bot, roles: [], permissions: BOT_PERMISSIONS, locale: Locale.EnglishUS };
    return this.users.get(id) ?? (this.strictUsers ? undefined : this.addUser({ id }));
  }

  private member(u: UserRec, guildId: string): APIGuildMember {
    return { user: u.user, nick: null, avatar: null, banner: null, roles: u.roles, joined_at: new Date(Number((BigInt(guildId) >> 22n) + DISCORD_EPOCH)).toISOString(), premium_since: null, deaf: false, mute: false, flags: 0 as GuildMemberFlags, pending: false, communication_disabled_until: null };
  }

  private dmChannel(userId: string): ChannelRec {
    const existing = this.dmByUser.get(userId);
    if (existing) return this.channels.get(existing)!;
    const ch: ChannelRec = { id: snowflake(), type: ChannelType.DM, guildId: undefined, name: '', readOnly: false, recipientId: userId, position: 0, lastMessageId: null };
    this.channels.set(ch.id, ch);
    this.dmByUser.set(userId, ch.id);
    return ch;
  }

  private channelObject(ch: ChannelRec): APITextChannel | APIDMChannel {
    if (ch.type === ChannelType.DM) {
      return { id: ch.id, type: ChannelType.DM, last_message_id: ch.lastMessageId, flags: 0 as ChannelFlags, recipients: [this.user(ch.recipientId)!.user], name: null };
    }
    return {
      id: ch.id,
      type: ChannelType.GuildText,
      guild_id: ch.guildId!,
      name: ch.name,
      position: ch.position,
      permission_overwrites: [],
      parent_id: null,
      nsfw: false,
      topic: null,
      last_message_id: ch.lastMessageId,
      rate_limit_per_user: 0,
      default_auto_archive_duration: 1440 as const,
      default_thread_rate_limit_per_user: 0,
      last_pin_timestamp: null,
      flags: 0 as ChannelFlags,
    } satisfies APITextChannel;
  }

  private everyoneRole(guildId: string): APIRole {
    return { id: guildId, name: '@everyone', color: 0, colors: { primary_color: 0, secondary_color: null, tertiary_color: null }, hoist: false, icon: null, unicode_emoji: null, position: 0, permissions: MEMBER_PERMISSIONS, managed: false, mentionable: false, flags: 0 as RoleFlags };
  }

  private role(id: string): APIRole {
    return { ...this.everyoneRole(id), name: `role-${id.slice(-4)}`, position: 1, permissions: '0' };
  }

  private guildObject(guildId: string): GatewayGuildCreateDispatchData {
    const channels = [...this.channels.values()].filter((c) => c.guildId === guildId).map((c) => this.channelObject(c) as APITextChannel);
    const members = [this.member({ user: this.bot, roles: [], permissions: BOT_PERMISSIONS, locale: Locale.EnglishUS }, guildId)];
    return {
      id: guildId,
      name: `Lab ${guildId.slice(-4)}`,
      icon: null,
      splash: null,
      discovery_splash: null,
      owner_id: this.defaultUserId,
      region: 'deprecated',
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 1,
      explicit_content_filter: 0,
      roles: [this.everyoneRole(guildId)],
      emojis: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: channels[0]?.id ?? null,
      system_channel_flags: 0,
      rules_channel_id: null,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      preferred_locale: Locale.EnglishUS,
      public_updates_channel_id: null,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      hub_type: null,
      safety_alerts_channel_id: null,
      incidents_data: null,
      stickers: [],
      joined_at: new Date().toISOString(),
      large: false,
      unavailable: false,
      member_count: this.users.size + 1,
      voice_states: [],
      members,
      channels,
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    } as unknown as GatewayGuildCreateDispatchData;
  }

  private application(): APIApplication {
    return {
      id: this.applicationId,
      name: this.bot.username,
      icon: null,
      description: 'flurm test application',
      bot_public: false,
      bot_require_code_grant: false,
      bot: this.bot,
      summary: '',
      verify_key: createHash('sha256').update(this.applicationId).digest('hex'),
      team: null,
      flags: 0 as ApplicationFlags,
      flags_new: '0',
      approximate_guild_count: this.guildIds.length,
    } as APIApplication;
  }

  /** Message from the bot in `ch`, from a validated body. */
  private buildMessage(ch: ChannelRec, body: Record<string, unknown>, files: readonly UploadedFile[], extra: Partial<APIMessage> = {}): APIMessage {
    const content = typeof body.content === 'string' ? body.content : '';
    const am = isObject(body.allowed_mentions) ? body.allowed_mentions : undefined;
    const mayPing = (id: string) => !am || (Array.isArray(am.parse) && am.parse.includes('users')) || (Array.isArray(am.users) && am.users.includes(id));
    const mentioned = [...new Set([...content.matchAll(/<@!?(\d{17,20})>/g)].map((m) => m[1]!))].filter(mayPing);
    const mentions = mentioned.map((id) => this.user(id)?.user).filter((u): u is APIUser => !!u);
    const everyone = /@(everyone|here)/.test(content) && (!am || (Array.isArray(am.parse) && am.parse.includes('everyone')));
    return {
      id: snowflake(),
      channel_id: ch.id,
      author: this.bot,
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: body.tts === true,
      mention_everyone: everyone,
      mentions,
      mention_roles: [],
      attachments: this.attachmentsOf(ch, body, files, []),
      embeds: Array.isArray(body.embeds) ? (body.embeds as APIMessage['embeds']).map((e) => ({ type: 'rich' as never, ...e })) : [],
      pinned: false,
      type: MessageType.Default,
      flags: typeof body.flags === 'number' ? body.flags : 0,
      components: Array.isArray(body.components) ? (body.components as APIMessage['components']) : [],
      ...(body.nonce !== undefined && body.nonce !== null ? { nonce: body.nonce as string | number } : {}),
      ...extra,
    };
  }

  /** Attachments of a body: files[n] parts named by attachments [{id: n}], plus kept ones (edits). */
  private attachmentsOf(ch: ChannelRec, body: Record<string, unknown>, files: readonly UploadedFile[], existing: readonly APIAttachment[]): APIAttachment[] {
    const entries = Array.isArray(body.attachments) ? (body.attachments as Array<Record<string, unknown>>) : undefined;
    const upload = (f: UploadedFile, entry?: Record<string, unknown>): APIAttachment => {
      const id = snowflake();
      const filename = typeof entry?.filename === 'string' ? entry.filename : f.filename;
      return {
        id,
        filename,
        size: f.data.length,
        url: `https://cdn.discordapp.com/attachments/${ch.id}/${id}/${encodeURIComponent(filename)}`,
        proxy_url: `https://media.discordapp.net/attachments/${ch.id}/${id}/${encodeURIComponent(filename)}`,
        ...(f.contentType ? { content_type: f.contentType } : {}),
        ...(typeof entry?.description === 'string' ? { description: entry.description } : {}),
      };
    };
    if (!entries) return [...existing, ...files.map((f) => upload(f))];
    const out: APIAttachment[] = [];
    const used = new Set<UploadedFile>();
    for (const e of entries) {
      const f = files.find((x) => String(x.index) === String(e.id));
      if (f) {
        used.add(f);
        out.push(upload(f, e));
      } else {
        const kept = existing.find((a) => a.id === String(e.id));
        if (kept) out.push(kept);
      }
    }
    for (const f of files) if (!used.has(f)) out.push(upload(f));
    return out;
  }

  private store(message: APIMessage, source: MessageRec['source'], ephemeral: boolean, enforcedNonce?: string): MessageRec {
    const rec: MessageRec = { message, source, enforcedNonce, atMs: Date.now(), deleted: false, ephemeral };
    this.messageRecs.push(rec);
    this.messageById.set(message.id, rec);
    const ch = this.channels.get(message.channel_id);
    if (ch && !ephemeral) ch.lastMessageId = message.id;
    if (ch && !ephemeral) {
      const d = { ...message, ...(ch.guildId ? { guild_id: ch.guildId, member: this.memberPartial(ch.guildId) } : {}) };
      // Bots see their own messages in MESSAGE_CREATE, given the intent for that channel kind.
      for (const s of this.sessionRecs) {
        if (s.state === 'invalid') continue;
        const intent = ch.guildId ? GatewayIntentBits.GuildMessages : GatewayIntentBits.DirectMessages;
        if ((s.intents & intent) === 0) continue;
        if (ch.guildId && shardOf(ch.guildId, s.shard[1]) !== s.shard[0]) continue;
        if (!ch.guildId && s.shard[0] !== 0) continue;
        // The bot's own messages carry their content without the MESSAGE_CONTENT intent.
        this.sendDispatch(s, GatewayDispatchEvents.MessageCreate, d);
      }
    }
    return rec;
  }

  private memberPartial(guildId: string): Omit<APIGuildMember, 'user'> {
    const { user: _u, ...m } = this.member({ user: this.bot, roles: [], permissions: BOT_PERMISSIONS, locale: Locale.EnglishUS }, guildId);
    return m;
  }

  /** Applies an edit body to a stored message (validated already). */
  private applyEdit(rec: MessageRec, body: Record<string, unknown>, files: readonly UploadedFile[]): void {
    const m = rec.message;
    const ch = this.channels.get(m.channel_id)!;
    if (body.content !== undefined) m.content = (body.content as string | null) ?? '';
    if (body.embeds !== undefined) m.embeds = ((body.embeds as APIMessage['embeds'] | null) ?? []).map((e) => ({ type: 'rich' as never, ...e }));
    if (body.components !== undefined) m.components = (body.components as APIMessage['components'] | null) ?? [];
    if (typeof body.flags === 'number') m.flags = ((m.flags ?? 0) & ~MessageFlags.SuppressEmbeds) | (body.flags & MessageFlags.SuppressEmbeds);
    if (body.attachments !== undefined || files.length) m.attachments = this.attachmentsOf(ch, body.attachments === undefined ? { ...body, attachments: m.attachments.map((a) => ({ id: a.id })) } : body, files, m.attachments);
    m.edited_timestamp = new Date().toISOString();
    if (!rec.ephemeral) {
      for (const s of this.sessionRecs) {
        if (s.state === 'invalid' || (s.intents & (ch.guildId ? GatewayIntentBits.GuildMessages : GatewayIntentBits.DirectMessages)) === 0) continue;
        this.sendDispatch(s, GatewayDispatchEvents.MessageUpdate, { ...m, ...(ch.guildId ? { guild_id: ch.guildId } : {}) });
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // REST: the pipeline

  failNext(method: string, path: string | RegExp, replies: ScriptedReply[]): void {
    this.scripts.push({ method: method.toUpperCase(), path, queue: [...replies] });
  }

  beforeRespond(predicate: (r: RecordedRequest) => boolean, hook: (r: RecordedRequest) => unknown): () => void {
    const h = { predicate, hook };
    this.hooks.push(h);
    return () => {
      const i = this.hooks.indexOf(h);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  private takeScript(method: string, route: string, path: string): ScriptedReply | undefined {
    const s = this.scripts.find(
      (x) => x.queue.length > 0 && (x.method === '*' || x.method === method) && (typeof x.path === 'string' ? route.startsWith(x.path) || path.startsWith(x.path) : x.path.test(route)),
    );
    return s?.queue.shift();
  }

  private scriptedReply(s: Extract<ScriptedReply, { status: number }>, bucket: string): Reply {
    const headers: Record<string, string> = { ...s.headers };
    let body = s.body;
    if (s.status === 429) {
      const ra = s.retryAfter ?? 1;
      body ??= { message: 'You are being rate limited.', retry_after: ra, global: !!s.global, ...(s.code !== undefined ? { code: s.code } : {}) };
      headers['retry-after'] ??= String(Math.ceil(ra));
      if (s.global) {
        headers['x-ratelimit-global'] ??= 'true';
        headers['x-ratelimit-scope'] ??= 'global';
      } else {
        const now = Date.now();
        Object.assign(headers, {
          'x-ratelimit-limit': headers['x-ratelimit-limit'] ?? '5',
          'x-ratelimit-remaining': headers['x-ratelimit-remaining'] ?? '0',
          'x-ratelimit-reset': headers['x-ratelimit-reset'] ?? ((now + ra * 1000) / 1000).toFixed(3),
          'x-ratelimit-reset-after': headers['x-ratelimit-reset-after'] ?? ra.toFixed(3),
          'x-ratelimit-bucket': headers['x-ratelimit-bucket'] ?? bucketHash(bucket),
          'x-ratelimit-scope': headers['x-ratelimit-scope'] ?? 'user',
        });
      }
    } else {
      const code = s.code ?? 0;
      body ??= { message: s.message ?? ERROR_MESSAGES[code] ?? `${s.status}: ${STATUS_TEXT[s.status] ?? 'Scripted error'}`, code };
      if (s.retryAfter !== undefined) headers['retry-after'] ??= String(Math.ceil(s.retryAfter));
    }
    return { status: s.status, body, headers };
  }

  private async readBody(req: http.IncomingMessage): Promise<{ buf: Buffer; tooBig: boolean }> {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) tooBig = true;
      else chunks.push(c);
    }
    return { buf: Buffer.concat(chunks), tooBig };
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://discord.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = u.pathname;
    const raw = path === API_PREFIX || path.startsWith(`${API_PREFIX}/`) ? path.slice(API_PREFIX.length) || '/' : '';
    // Clients percent-encode segments (`%40me`); routes are matched on the decoded path.
    const route = raw.split('/').map((seg) => {
      try {
        return decodeURIComponent(seg);
      } catch {
        return seg;
      }
    }).join('/');
    const rec: RecordedRequest = {
      method,
      path,
      route,
      query: Object.fromEntries(u.searchParams),
      headers: req.headers,
      body: undefined,
      status: undefined,
      response: undefined,
      atMs: Date.now(),
      answeredAtMs: undefined,
      scripted: false,
      note: undefined,
    };
    this.requests.push(rec);
    let reply: Reply;
    let script: ScriptedReply | undefined;
    try {
      const { buf, tooBig } = await this.readBody(req);
      if (tooBig) throw fail(413, RESTJSONErrorCodes.RequestEntityTooLarge, 'Request entity too large');
      const { body, files } = this.parseBody(req, buf, rec);
      const match = this.matchRoute(method, route);
      script = this.takeScript(method, route, path);
      if (script && !script.commit) {
        rec.scripted = true;
        if ('hang' in script) return this.changed(); // never answered; close() ends the socket
        reply = this.scriptedReply(script, `${method} ${match?.def.re.source ?? route}`);
      } else {
        if (!match) throw new HttpError(404, { message: '404: Not Found', code: 0 });
        if (match.def.method !== method) throw new HttpError(405, { message: '405: Method Not Allowed', code: 0 });
        const { def, params } = match;
        if (def.auth && req.headers.authorization !== `Bot ${this.token}`) throw new HttpError(401, { message: '401: Unauthorized', code: 0 });
        const rl = this.rateLimit(def, params, rec);
        const rlHeaders = rl && !('status' in rl) ? (rl as Record<string, string>) : undefined;
        if (rl && 'status' in rl) reply = rl as Reply;
        else {
          try {
            reply = await def.handler({ rec, params, body, files, query: u.searchParams });
          } catch (e) {
            if (!(e instanceof HttpError)) throw e;
            reply = { status: e.status, body: e.body };
          }
          if (rlHeaders) reply.headers = { ...rlHeaders, ...reply.headers };
        }
        if (script) {
          // commit: the effect happened; the scripted answer replaces the real one.
          rec.scripted = true;
          if ('hang' in script) return this.changed();
          reply = this.scriptedReply(script, `${method} ${def.re.source}`);
        }
      }
    } catch (e) {
      if (e instanceof HttpError) reply = { status: e.status, body: e.body };
      else {
        this.log(`discord server: ${method} ${path} failed: ${e instanceof Error ? e.stack : String(e)}`);
        reply = { status: 500, body: { message: '500: Internal Server Error', code: 0 } };
      }
    }
    rec.response = reply.body;
    if (reply.status >= 200 && reply.status < 300) {
      for (const h of [...this.hooks]) {
        if (!h.predicate(rec)) continue;
        if ((await h.hook(rec)) === 'drop') {
          rec.note = 'dropped';
          req.socket.destroy();
          return this.changed();
        }
      }
    }
    if ([401, 403, 429].includes(reply.status)) this.invalidRequests++;
    rec.status = reply.status;
    rec.answeredAtMs = Date.now();
    this.log(`discord server: ${method} ${path} → ${reply.status}`);
    if (!res.destroyed) {
      const payload = reply.status === 204 || reply.body === undefined ? undefined : JSON.stringify(reply.body);
      res.writeHead(reply.status, { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...reply.headers });
      res.end(payload);
    }
    this.changed();
  }

  /** JSON, multipart (files[n] + payload_json) or nothing; the record gets the body (or a summary). */
  private parseBody(req: http.IncomingMessage, buf: Buffer, rec: RecordedRequest): { body: unknown; files: UploadedFile[] } {
    if (buf.length === 0) return { body: undefined, files: [] };
    const type = req.headers['content-type'] ?? '';
    if (/^multipart\/form-data/i.test(type)) {
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
      const parts = boundary ? parseMultipart(buf, (boundary[1] ?? boundary[2] ?? '').trim()) : undefined;
      if (!parts) throw new HttpError(400, { code: RESTJSONErrorCodes.InvalidFormBodyOrContentType, message: 'Invalid Form Body', errors: { _errors: [{ code: 'MULTIPART_INVALID', message: 'The multipart body could not be parsed.' }] } });
      const files: UploadedFile[] = [];
      const fields: Record<string, string> = {};
      let payload: unknown;
      for (const p of parts) {
        const m = /^files\[(\d+)\]$/.exec(p.name) ?? (p.filename !== undefined ? /^file(\d*)$/.exec(p.name) : null);
        if (m || p.filename !== undefined) {
          files.push({ field: p.name, index: m?.[1] ? Number(m[1]) : files.length, filename: p.filename ?? p.name, contentType: p.contentType, data: p.data });
        } else if (p.name === 'payload_json') {
          try {
            payload = JSON.parse(p.data.toString('utf8'));
          } catch {
            throw fail(400, RESTJSONErrorCodes.RequestBodyContainsInvalidJSON, 'The request body contains invalid JSON.');
          }
        } else fields[p.name] = p.data.toString('utf8');
      }
      const summary: MultipartSummary = { payload_json: payload, files: files.map((f) => ({ field: f.field, filename: f.filename, contentType: f.contentType, size: f.data.length })), fields };
      rec.body = summary;
      if (files.some((f) => f.data.length > MAX_FILE_BYTES)) throw fail(413, RESTJSONErrorCodes.RequestEntityTooLarge, 'Request entity too large');
      return { body: payload ?? (Object.keys(fields).length ? fields : undefined), files };
    }
    const text = buf.toString('utf8');
    if (/^application\/json/i.test(type)) {
      try {
        rec.body = JSON.parse(text);
      } catch {
        rec.body = text;
        throw fail(400, RESTJSONErrorCodes.RequestBodyContainsInvalidJSON, 'The request body contains invalid JSON.');
      }
      return { body: rec.body, files: [] };
    }
    rec.body = text;
    throw new HttpError(400, {
      code: RESTJSONErrorCodes.InvalidFormBodyOrContentType,
      message: 'Invalid Form Body',
      errors: { _errors: [{ code: 'CONTENT_TYPE_INVALID', message: `Expected "Content-Type" header to be one of {'application/json', 'multipart/form-data'}.` }] },
    });
  }

  private matchRoute(method: string, route: string): { def: RouteDef; params: Record<string, string> } | undefined {
    if (!route) return undefined;
    let other: { def: RouteDef; params: Record<string, string> } | undefined;
    for (const def of this.routes) {
      const m = def.re.exec(route);
      if (!m) continue;
      const params = Object.fromEntries(def.keys.map((k, i) => [k, m[i + 1]!]));
      if (def.method === method) return { def, params };
      other ??= { def, params };
    }
    return other;
  }

  /** Rate-limit headers for the request, a 429 reply, or undefined (off / no bucket). */
  private rateLimit(def: RouteDef, params: Record<string, string>, rec: RecordedRequest): Record<string, string> | Reply | undefined {
    if (!this.rateLimits) return undefined;
    const now = Date.now();
    const limited = (retryMs: number, global: boolean, headers: Record<string, string>): Reply => {
      rec.note = 'rate-limited';
      const retry_after = Math.round(retryMs) / 1000;
      return {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after, global },
        headers: { ...headers, 'retry-after': String(Math.max(1, Math.ceil(retry_after))), 'x-ratelimit-scope': global ? 'global' : 'user', ...(global ? { 'x-ratelimit-global': 'true' } : {}) },
      };
    };
    if (def.auth) {
      let g = this.windows.get('global');
      if (!g) this.windows.set('global', (g = new Window(this.rateLimits.global)));
      if (!g.take(now)) return limited(g.resetAt - now, true, {});
    }
    const b = def.bucket?.(params);
    if (!b) return undefined;
    let w = this.windows.get(b.key);
    if (!w) this.windows.set(b.key, (w = new Window(b.spec)));
    if (!w.take(now)) return limited(w.resetAt - now, false, w.headers(now, b.hash));
    return w.headers(now, b.hash);
  }

  // -------------------------------------------------------------------------------------------
  // REST: routes

  private route(method: string, template: string, handler: RouteDef['handler'], o: { auth?: boolean; bucket?: RouteDef['bucket'] } = {}): void {
    const keys: string[] = [];
    const re = new RegExp(
      '^' +
        template
          .split('/')
          .map((seg) => (seg.startsWith(':') ? (keys.push(seg.slice(1)), '([^/]+)') : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('/') +
        '/?$',
    );
    this.routes.push({ method, re, keys, auth: o.auth ?? true, bucket: o.bucket, handler });
  }

  private defineRoutes(): void {
    const ok = (body: unknown, status = 200): Reply => ({ status, body });
    const messageBucket = (p: Record<string, string>) => {
      const ch = this.channels.get(p.channel_id!);
      if (!ch || !this.rateLimits) return undefined;
      return { key: `messages:${ch.id}`, spec: ch.type === ChannelType.DM ? this.rateLimits.dmMessages : this.rateLimits.channelMessages, hash: bucketHash('POST /channels/{channel.id}/messages') };
    };

    this.route('GET', '/gateway', () => ok({ url: this.gatewayUrl }), { auth: false });
    this.route('GET', '/gateway/bot', () =>
      ok({ url: this.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: this.sessionStartsLeft, reset_after: 86_400_000, max_concurrency: 1 } } satisfies APIGatewayBotInfo),
    );
    this.route('GET', '/users/@me', () => ok(this.bot));
    this.route('GET', '/users/:user_id', ({ params }) => {
      const u = this.user(params.user_id);
      if (!u) throw fail(404, RESTJSONErrorCodes.UnknownUser, 'Unknown User');
      return ok(u.user);
    });
    this.route('GET', '/applications/@me', () => ok(this.application()));
    this.route('GET', '/oauth2/applications/@me', () => ok(this.application()));
    this.route('POST', '/users/@me/channels', ({ body }) => {
      const b = isObject(body) ? body : {};
      if (!isSnowflake(b.recipient_id)) {
        const errs = new FormErrors();
        errs.add(['recipient_id'], b.recipient_id === undefined ? 'BASE_TYPE_REQUIRED' : 'NUMBER_TYPE_COERCE', b.recipient_id === undefined ? 'This field is required' : `Value "${String(b.recipient_id)}" is not snowflake.`);
        throw new HttpError(400, errs.body());
      }
      if (!this.user(b.recipient_id) || b.recipient_id === this.botUserId) throw fail(400, RESTJSONErrorCodes.InvalidRecipients, 'Invalid Recipient(s)');
      return ok(this.channelObject(this.dmChannel(b.recipient_id)));
    });

    this.route('GET', '/channels/:channel_id', ({ params }) => ok(this.channelObject(this.channelOr404(params.channel_id!))));
    this.route('GET', '/channels/:channel_id/messages', ({ params, query }) => {
      const ch = this.channelOr404(params.channel_id!);
      const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 50) || 50));
      const list = this.messageRecs.filter((m) => !m.deleted && !m.ephemeral && m.message.channel_id === ch.id).map((m) => m.message);
      return ok(list.reverse().slice(0, limit));
    });
    this.route('POST', '/channels/:channel_id/messages', (ctx) => this.createMessage(ctx), { bucket: messageBucket });
    this.route('GET', '/channels/:channel_id/messages/:message_id', ({ params }) => ok(this.channelMessageOr404(params).message));
    this.route('PATCH', '/channels/:channel_id/messages/:message_id', ({ params, body, files }) => {
      const m = this.channelMessageOr404(params);
      if (m.message.author.id !== this.botUserId) throw fail(403, RESTJSONErrorCodes.CannotEditMessageAuthoredByAnotherUser, 'Cannot edit a message authored by another user');
      this.validOrThrow(body, 'edit', files);
      this.applyEdit(m, body as Record<string, unknown>, files);
      return ok(m.message);
    });
    this.route('DELETE', '/channels/:channel_id/messages/:message_id', ({ params }) => {
      this.deleteMessage(this.channelMessageOr404(params));
      return { status: 204 };
    });

    this.route('GET', '/guilds/:guild_id', ({ params }) => ok(this.guildObject(this.guildOr403(params.guild_id!))));
    this.route('GET', '/guilds/:guild_id/channels', ({ params }) => {
      const g = this.guildOr403(params.guild_id!);
      return ok([...this.channels.values()].filter((c) => c.guildId === g).map((c) => this.channelObject(c)));
    });
    this.route('GET', '/guilds/:guild_id/members/:user_id', ({ params }) => {
      const g = this.guildOr403(params.guild_id!);
      const u = this.user(params.user_id);
      if (!u) throw fail(404, RESTJSONErrorCodes.UnknownMember, 'Unknown Member');
      return ok(this.member(u, g));
    });

    for (const scoped of [false, true]) {
      const base = scoped ? '/applications/:application_id/guilds/:guild_id/commands' : '/applications/:application_id/commands';
      const scopeOf = (p: Record<string, string>): CommandScope => {
        if (p.application_id !== this.applicationId) throw fail(403, RESTJSONErrorCodes.NotAuthorizedToPerformThisActionOnThisApplication, 'You are not authorized to perform this action on this application');
        return scoped ? this.guildOr403(p.guild_id!) : 'global';
      };
      this.route('GET', base, ({ params }) => ok(this.commands(scopeOf(params) === 'global' ? undefined : params.guild_id)));
      this.route('PUT', base, ({ params, body }) => this.putCommands(scopeOf(params), body));
      this.route('POST', base, ({ params, body }) => this.upsertCommand(scopeOf(params), body));
      this.route('GET', `${base}/:command_id`, ({ params }) => ok(this.commandOr404(scopeOf(params), params.command_id!)));
      this.route('PATCH', `${base}/:command_id`, ({ params, body }) => this.patchCommand(scopeOf(params), params.command_id!, body));
      this.route('DELETE', `${base}/:command_id`, ({ params }) => {
        const scope = scopeOf(params);
        const cmd = this.commandOr404(scope, params.command_id!);
        this.commandsByScope.set(scope, (this.commandsByScope.get(scope) ?? []).filter((c) => c !== cmd));
        return { status: 204 };
      });
    }

    this.route('POST', '/interactions/:interaction_id/:interaction_token/callback', (ctx) => this.onCallback(ctx), { auth: false });
    this.route('POST', '/webhooks/:webhook_id/:webhook_token', (ctx) => this.onFollowUp(ctx), { auth: false });
    this.route('GET', '/webhooks/:webhook_id/:webhook_token/messages/:message_id', (ctx) => ok(this.webhookMessage(ctx).message), { auth: false });
    this.route('PATCH', '/webhooks/:webhook_id/:webhook_token/messages/:message_id', (ctx) => this.onWebhookEdit(ctx), { auth: false });
    this.route('DELETE', '/webhooks/:webhook_id/:webhook_token/messages/:message_id', (ctx) => {
      this.deleteMessage(this.webhookMessage(ctx));
      return { status: 204 };
    }, { auth: false });
  }

  private channelOr404(id: string): ChannelRec {
    const ch = this.channels.get(id);
    if (!ch) throw fail(404, RESTJSONErrorCodes.UnknownChannel, 'Unknown Channel');
    return ch;
  }

  private channelMessageOr404(p: Record<string, string>): MessageRec {
    const ch = this.channelOr404(p.channel_id!);
    const m = this.messageById.get(p.message_id!);
    if (!m || m.deleted || m.ephemeral || m.message.channel_id !== ch.id) throw fail(404, RESTJSONErrorCodes.UnknownMessage, 'Unknown Message');
    return m;
  }

  private guildOr403(id: string): string {
    if (!this.guildIds.includes(id)) throw fail(403, RESTJSONErrorCodes.MissingAccess, 'Missing Access');
    return id;
  }

  private deleteMessage(m: MessageRec): void {
    m.deleted = true;
    const ch = this.channels.get(m.message.channel_id);
    if (m.ephemeral || !ch) return;
    for (const s of this.sessionRecs) {
      if (s.state === 'invalid' || (s.intents & (ch.guildId ? GatewayIntentBits.GuildMessages : GatewayIntentBits.DirectMessages)) === 0) continue;
      this.sendDispatch(s, GatewayDispatchEvents.MessageDelete, { id: m.message.id, channel_id: ch.id, ...(ch.guildId ? { guild_id: ch.guildId } : {}) });
    }
  }

  private validOrThrow(body: unknown, kind: MessageKind, files: readonly UploadedFile[], prefix: Array<string | number> = []): asserts body is Record<string, unknown> {
    const err = validateMessage(body, kind, files, prefix);
    if (err) throw new HttpError(err[0], err[1]);
  }

  // -------------------------------------------------------------------------------------------
  // REST: messages

  private createMessage({ params, body, files, rec }: RouteCtx): Reply {
    const ch = this.channelOr404(params.channel_id!);
    if (ch.readOnly) throw fail(403, RESTJSONErrorCodes.MissingPermissions, 'Missing Permissions');
    this.validOrThrow(body, 'create', files);
    if (ch.type === ChannelType.DM && this.undmable.has(ch.recipientId!)) throw fail(403, RESTJSONErrorCodes.CannotSendMessagesToThisUser, 'Cannot send messages to this user');
    const nonce = body.enforce_nonce === true && body.nonce !== undefined && body.nonce !== null ? String(body.nonce) : undefined;
    if (nonce !== undefined) {
      const since = Date.now() - this.opts.nonceWindowMs;
      const first = this.messageRecs.find((m) => m.source === 'create' && m.enforcedNonce === nonce && m.message.channel_id === ch.id && m.atMs >= since);
      if (first) {
        rec.note = 'nonce-duplicate';
        return { status: 200, body: first.message };
      }
    }
    if (isObject(body.message_reference) && body.message_reference.message_id !== undefined) {
      const ref = this.messageById.get(String(body.message_reference.message_id));
      if ((!ref || ref.deleted) && body.message_reference.fail_if_not_exists !== false) {
        const errs = new FormErrors();
        errs.add(['message_reference'], 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
        throw new HttpError(400, errs.body());
      }
    }
    const message = this.buildMessage(ch, body, files, isObject(body.message_reference) ? { type: MessageType.Reply, message_reference: { type: 0, message_id: String(body.message_reference.message_id), channel_id: ch.id, ...(ch.guildId ? { guild_id: ch.guildId } : {}) } } : {});
    this.store(message, 'create', false, nonce);
    return { status: 200, body: message };
  }

  // -------------------------------------------------------------------------------------------
  // REST: commands

  private commandOr404(scope: CommandScope, id: string): APIApplicationCommand {
    const cmd = (this.commandsByScope.get(scope) ?? []).find((c) => c.id === id);
    if (!cmd) throw fail(404, RESTJSONErrorCodes.UnknownApplicationCommand, 'Unknown application command');
    return cmd;
  }

  /** Stores normalized commands, keeping the id (and version, when unchanged) of a name that stays. */
  private stored(n: Omit<APIApplicationCommand, 'id' | 'application_id' | 'version'>, old: APIApplicationCommand | undefined): APIApplicationCommand {
    const strip = (c: APIApplicationCommand) => {
      const { id: _i, application_id: _a, version: _v, ...rest } = c;
      return JSON.stringify(rest);
    };
    const cmd = { id: old?.id ?? snowflake(), application_id: this.applicationId, version: old?.version ?? snowflake(), ...n } as APIApplicationCommand;
    if (old && strip(old) !== strip(cmd)) cmd.version = snowflake();
    return cmd;
  }

  private checkDailyCreates(scope: CommandScope, creates: number): void {
    if (creates === 0) return;
    const limit = this.opts.commandCreatesPerDay;
    if (this.commandCreates(scope === 'global' ? undefined : scope) + creates > limit) {
      throw fail(400, RESTJSONErrorCodes.MaximumDailyApplicationCommandCreatesReached, `Max number of daily application command creates has been reached (${limit})`);
    }
    const times = this.createTimes.get(scope) ?? [];
    const now = Date.now();
    for (let i = 0; i < creates; i++) times.push(now);
    this.createTimes.set(scope, times);
  }

  private putCommands(scope: CommandScope, body: unknown): Reply {
    const errs = new FormErrors();
    if (!Array.isArray(body)) {
      errs.add([], 'BASE_TYPE_ARRAY', 'Must be an array.');
      throw new HttpError(400, errs.body());
    }
    const normalized = body.map((c, i) => checkCommand(errs, [i], c, scope));
    const seen = new Map<string, number>();
    const perType = new Map<ApplicationCommandType, number>();
    normalized.forEach((n, i) => {
      if (!n) return;
      const key = `${n.type}:${n.name}`;
      if (seen.has(key)) errs.add([i, 'name'], 'APPLICATION_COMMANDS_DUPLICATE_NAME', 'Application command names must be unique');
      seen.set(key, i);
      perType.set(n.type, (perType.get(n.type) ?? 0) + 1);
    });
    if (errs.count) throw new HttpError(400, errs.body());
    const chat = perType.get(ApplicationCommandType.ChatInput) ?? 0;
    if (chat > 100) throw fail(400, RESTJSONErrorCodes.MaximumNumberOfApplicationCommandsReached, 'Maximum number of application commands reached (100)');
    for (const t of [ApplicationCommandType.User, ApplicationCommandType.Message]) {
      if ((perType.get(t) ?? 0) > 15) throw fail(400, RESTJSONErrorCodes.MaximumNumberOfApplicationCommandsReached, 'Maximum number of context menu commands reached (15)');
    }
    const existing = this.commandsByScope.get(scope) ?? [];
    const find = (n: { type: ApplicationCommandType; name: string }) => existing.find((e) => e.type === n.type && e.name === n.name);
    const list = normalized as NonNullable<(typeof normalized)[number]>[];
    this.checkDailyCreates(scope, list.filter((n) => !find(n)).length);
    const cmds = list.map((n) => this.stored(n, find(n)));
    this.commandsByScope.set(scope, cmds);
    this.commandWrites++;
    return { status: 200, body: cmds };
  }

  private upsertCommand(scope: CommandScope, body: unknown): Reply {
    const errs = new FormErrors();
    const n = checkCommand(errs, [], body, scope);
    if (!n) throw new HttpError(400, errs.body());
    const list = this.commandsByScope.get(scope) ?? [];
    const old = list.find((e) => e.type === n.type && e.name === n.name);
    if (!old) {
      const max = n.type === ApplicationCommandType.ChatInput ? 100 : 15;
      if (list.filter((c) => c.type === n.type).length >= max) throw fail(400, RESTJSONErrorCodes.MaximumNumberOfApplicationCommandsReached, `Maximum number of application commands reached (${max})`);
      this.checkDailyCreates(scope, 1);
    }
    const cmd = this.stored(n, old);
    this.commandsByScope.set(scope, old ? list.map((c) => (c === old ? cmd : c)) : [...list, cmd]);
    return { status: old ? 200 : 201, body: cmd };
  }

  private patchCommand(scope: CommandScope, id: string, body: unknown): Reply {
    const old = this.commandOr404(scope, id);
    if (!isObject(body)) throw fail(400, RESTJSONErrorCodes.RequestBodyContainsInvalidJSON, 'The request body contains invalid JSON.');
    const errs = new FormErrors();
    const { id: _i, application_id: _a, version: _v, guild_id: _g, ...rest } = old;
    const n = checkCommand(errs, [], { ...rest, ...body, type: old.type }, scope);
    if (!n) throw new HttpError(400, errs.body());
    const list = this.commandsByScope.get(scope) ?? [];
    if (list.some((c) => c !== old && c.type === n.type && c.name === n.name)) {
      errs.add(['name'], 'APPLICATION_COMMANDS_DUPLICATE_NAME', 'Application command names must be unique');
      throw new HttpError(400, errs.body());
    }
    const cmd = this.stored(n, old);
    this.commandsByScope.set(scope, list.map((c) => (c === old ? cmd : c)));
    return { status: 200, body: cmd };
  }

  // -------------------------------------------------------------------------------------------
  // REST: interaction callbacks and the interaction webhook

  private interactionMessageExtra(r: InteractionRec, followUpOf?: string): Partial<APIMessage> {
    const i = r.interaction;
    const user = this.user(r.userId)!.user;
    const name = i.type === InteractionType.ApplicationCommand ? r.label.replace(/^\//, '') : '';
    const metadata = {
      id: i.id,
      type: i.type,
      user,
      authorizing_integration_owners: i.authorizing_integration_owners,
      ...(followUpOf ? { original_response_message_id: followUpOf } : {}),
      ...(i.type === InteractionType.MessageComponent && i.message ? { interacted_message_id: i.message.id } : {}),
    } as APIMessage['interaction_metadata'];
    return {
      type: i.type === InteractionType.ApplicationCommand && !followUpOf ? MessageType.ChatInputCommand : MessageType.Default,
      webhook_id: this.applicationId,
      application_id: this.applicationId,
      interaction_metadata: metadata,
      ...(name ? { interaction: { id: i.id, type: i.type, name, user } } : {}),
    };
  }

  private setFinal(r: InteractionRec, via: FinalAnswer['via'], data: Record<string, unknown>, message: APIMessage | undefined): void {
    if (r.final) return;
    r.state = 'answered';
    r.final = { via, callbackType: r.callback!.type, data, message, ephemeral: r.ephemeral ?? false, latencyMs: performance.now() - r.startedAt };
    r.finalD.resolve(r.final);
  }

  private onCallback({ params, body, files, query }: RouteCtx): Reply {
    const r = this.interactionById.get(params.interaction_id!);
    if (!r || r.token !== params.interaction_token) throw fail(404, RESTJSONErrorCodes.UnknownInteraction, 'Unknown interaction');
    if (r.callback) throw fail(400, RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged, 'Interaction has already been acknowledged.');
    if (r.state === 'failed' || performance.now() - r.startedAt > this.opts.interactionDeadlineMs) {
      this.expire(r);
      throw fail(404, RESTJSONErrorCodes.UnknownInteraction, 'Unknown interaction');
    }
    if (!isObject(body)) throw fail(400, RESTJSONErrorCodes.RequestBodyContainsInvalidJSON, 'The request body contains invalid JSON.');
    const type = body.type as InteractionResponseType;
    const data = body.data === undefined || body.data === null ? undefined : body.data;
    const kind = r.interaction.type;
    const typeError = (message: string) => {
      const errs = new FormErrors();
      errs.add(['type'], 'INTERACTION_RESPONSE_TYPE_INVALID', message);
      return new HttpError(400, errs.body());
    };
    if (!Object.values(InteractionResponseType).includes(type)) throw typeError(`Value must be one of {${Object.values(InteractionResponseType).filter((v) => typeof v === 'number').join(', ')}}.`);
    if (data !== undefined && !isObject(data)) {
      const errs = new FormErrors();
      errs.add(['data'], 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      throw new HttpError(400, errs.body());
    }
    const isAutocomplete = kind === InteractionType.ApplicationCommandAutocomplete;
    const isComponent = kind === InteractionType.MessageComponent || kind === InteractionType.ModalSubmit;
    switch (type) {
      case InteractionResponseType.Pong:
        throw typeError('PONG answers an HTTP PING only; gateway interactions need a real response.');
      case InteractionResponseType.ChannelMessageWithSource:
      case InteractionResponseType.DeferredChannelMessageWithSource:
      case InteractionResponseType.Modal:
        if (isAutocomplete) throw typeError(`Response type ${type} is not valid for an autocomplete interaction (only 8).`);
        break;
      case InteractionResponseType.DeferredMessageUpdate:
      case InteractionResponseType.UpdateMessage:
        if (!isComponent) throw typeError(`Response type ${type} only answers message components (the interaction is type ${kind}).`);
        break;
      case InteractionResponseType.ApplicationCommandAutocompleteResult:
        if (!isAutocomplete) throw typeError('Response type 8 only answers autocomplete interactions.');
        break;
      default:
        throw typeError(`Response type ${type} is not supported by this server.`);
    }
    if (type === InteractionResponseType.Modal && kind === InteractionType.ModalSubmit) throw typeError('A modal cannot answer a modal submit.');
    const d = (data ?? {}) as Record<string, unknown>;
    // Validate, then act.
    if (type === InteractionResponseType.ChannelMessageWithSource) this.validOrThrow(d, 'reply', files, ['data']);
    else if (type === InteractionResponseType.DeferredChannelMessageWithSource) this.validOrThrow(d, 'defer', files, ['data']);
    else if (type === InteractionResponseType.UpdateMessage) this.validOrThrow(d, 'update', files, ['data']);
    else if (type === InteractionResponseType.ApplicationCommandAutocompleteResult) this.checkChoices(d, r.focusedType);
    else if (type === InteractionResponseType.Modal) this.checkModal(d);

    r.callback = { type, data, atMs: Date.now(), latencyMs: performance.now() - r.startedAt };
    clearTimeout(r.deadline);
    r.state = 'acknowledged';
    const flags = typeof d.flags === 'number' ? d.flags : 0;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource: {
        r.ephemeral = (flags & MessageFlags.Ephemeral) !== 0;
        const message = this.buildMessage(r.channel, d, files, this.interactionMessageExtra(r));
        r.original = this.store(message, 'interaction', r.ephemeral);
        this.setFinal(r, 'callback', d, message);
        break;
      }
      case InteractionResponseType.DeferredChannelMessageWithSource: {
        r.ephemeral = (flags & MessageFlags.Ephemeral) !== 0;
        const message = this.buildMessage(r.channel, { flags: MessageFlags.Loading | (r.ephemeral ? MessageFlags.Ephemeral : 0) }, [], this.interactionMessageExtra(r));
        r.original = this.store(message, 'interaction', r.ephemeral);
        r.deferredPending = true;
        break;
      }
      case InteractionResponseType.DeferredMessageUpdate:
      case InteractionResponseType.UpdateMessage: {
        const msg = (r.interaction as APIMessageComponentButtonInteraction).message;
        r.original = this.messageById.get(msg.id);
        r.ephemeral = r.original?.ephemeral ?? false;
        if (type === InteractionResponseType.UpdateMessage && r.original) {
          this.applyEdit(r.original, d, files);
          r.edits.push(d);
          this.setFinal(r, 'callback', d, r.original.message);
        }
        break;
      }
      default:
        r.ephemeral = false;
        this.setFinal(r, 'callback', d, undefined);
    }
    r.responseD.resolve(r.callback);
    this.changed();
    if (query.get('with_response') !== 'true') return { status: 204 };
    const result: RESTPostAPIInteractionCallbackWithResponseResult = {
      interaction: {
        id: r.id,
        type: r.interaction.type,
        ...(r.original && type !== InteractionResponseType.DeferredMessageUpdate && type !== InteractionResponseType.UpdateMessage
          ? { response_message_id: r.original.message.id, response_message_loading: r.deferredPending, response_message_ephemeral: r.ephemeral ?? false }
          : {}),
      },
      resource: { type, ...(r.original && type !== InteractionResponseType.DeferredMessageUpdate ? { message: r.original.message } : {}) } as RESTPostAPIInteractionCallbackWithResponseResult['resource'],
    };
    return { status: 200, body: result };
  }

  private checkChoices(d: Record<string, unknown>, focused: ApplicationCommandOptionType | undefined): void {
    const errs = new FormErrors();
    const choices = d.choices;
    if (!Array.isArray(choices)) errs.add(['data', 'choices'], 'BASE_TYPE_REQUIRED', 'This field is required');
    else {
      if (choices.length > 25) errs.add(['data', 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      choices.forEach((c, i) => {
        const at = (...p: Array<string | number>) => ['data', 'choices', i, ...p];
        if (!isObject(c)) return errs.add(at(), 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
        str(errs, at('name'), c.name, { min: 1, max: 100, required: true });
        if (focused === ApplicationCommandOptionType.String) str(errs, at('value'), c.value, { min: 1, max: 100, required: true });
        else if (typeof c.value !== 'number' || !Number.isFinite(c.value) || (focused === ApplicationCommandOptionType.Integer && !Number.isInteger(c.value))) {
          errs.add(at('value'), 'NUMBER_TYPE_COERCE', `Value "${String(c.value)}" is not ${focused === ApplicationCommandOptionType.Integer ? 'int' : 'a number'} (the focused option's type).`);
        }
      });
    }
    if (errs.count) throw new HttpError(400, errs.body());
  }

  private checkModal(d: Record<string, unknown>): void {
    const errs = new FormErrors();
    str(errs, ['data', 'custom_id'], d.custom_id, { min: 1, max: 100, required: true });
    str(errs, ['data', 'title'], d.title, { min: 1, max: 45, required: true });
    if (!Array.isArray(d.components) || d.components.length === 0 || d.components.length > 5) errs.add(['data', 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
    if (errs.count) throw new HttpError(400, errs.body());
  }

  /** The interaction behind /webhooks/{app}/{token}, acknowledged and within its 15 minutes. */
  private webhookInteraction(params: Record<string, string>): InteractionRec {
    const r = this.interactionByToken.get(params.webhook_token!);
    if (params.webhook_id !== this.applicationId || !r) throw fail(404, RESTJSONErrorCodes.UnknownWebhook, 'Unknown Webhook');
    if (performance.now() - r.startedAt > this.opts.interactionTokenTtlMs) throw fail(401, RESTJSONErrorCodes.InvalidWebhookToken, 'Invalid Webhook Token');
    const t = r.callback?.type;
    if (t === undefined || t === InteractionResponseType.ApplicationCommandAutocompleteResult || t === InteractionResponseType.Modal) throw fail(404, RESTJSONErrorCodes.UnknownWebhook, 'Unknown Webhook');
    return r;
  }

  private webhookMessage({ params }: RouteCtx): MessageRec {
    const r = this.webhookInteraction(params);
    const id = params.message_id;
    const m = id === '@original' || id === r.original?.message.id ? r.original : r.followUps.some((f) => f.id === id) ? this.messageById.get(id!) : undefined;
    if (!m || m.deleted) throw fail(404, RESTJSONErrorCodes.UnknownMessage, 'Unknown Message');
    return m;
  }

  private onWebhookEdit(ctx: RouteCtx): Reply {
    const r = this.webhookInteraction(ctx.params);
    const m = this.webhookMessage(ctx);
    this.validOrThrow(ctx.body, 'edit', ctx.files);
    const body = ctx.body;
    const isOriginal = ctx.params.message_id === '@original';
    const filling = isOriginal && r.deferredPending;
    if (filling) {
      // The deferred "thinking…" message becomes the answer: it must not end up empty.
      const content = typeof body.content === 'string' ? body.content.trim() : '';
      const has = (k: string) => Array.isArray(body[k]) && (body[k] as unknown[]).length > 0;
      if (!content && !has('embeds') && !has('components') && !ctx.files.length) throw fail(400, RESTJSONErrorCodes.CannotSendAnEmptyMessage, 'Cannot send an empty message');
      m.message.flags = (m.message.flags ?? 0) & ~MessageFlags.Loading;
      r.deferredPending = false;
    }
    this.applyEdit(m, body, ctx.files);
    if (isOriginal) {
      r.edits.push(body);
      if (filling || r.callback?.type === InteractionResponseType.DeferredMessageUpdate) this.setFinal(r, 'edit-original', body, m.message);
    }
    this.changed();
    return { status: 200, body: m.message };
  }

  private onFollowUp(ctx: RouteCtx): Reply {
    const r = this.webhookInteraction(ctx.params);
    this.validOrThrow(ctx.body, 'followup', ctx.files);
    const body = ctx.body;
    if (r.deferredPending && r.original) {
      // After a type 5, the first follow-up fills the deferred message; the defer set its ephemerality.
      const m = r.original;
      m.message.flags = (m.message.flags ?? 0) & ~MessageFlags.Loading;
      r.deferredPending = false;
      this.applyEdit(m, body, ctx.files);
      this.setFinal(r, 'follow-up', body, m.message);
      this.changed();
      return { status: 200, body: m.message };
    }
    const flags = typeof body.flags === 'number' ? body.flags : 0;
    const ephemeral = (flags & MessageFlags.Ephemeral) !== 0;
    const message = this.buildMessage(r.channel, body, ctx.files, this.interactionMessageExtra(r, r.original?.message.id));
    this.store(message, 'followup', ephemeral);
    r.followUps.push(message);
    this.changed();
    return { status: 200, body: message };
  }

  // -------------------------------------------------------------------------------------------
  // Gateway

  private onConnection(ws: WebSocket, req: http.IncomingMessage): void {
    const conn: Conn = { id: ++this.connSeq, ws, session: undefined, authed: false, ending: undefined, heartbeatTimer: undefined, received: [] };
    this.conns.add(conn);
    this.connections++;
    ws.on('message', (data, isBinary) => this.onFrame(conn, Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data), isBinary));
    ws.on('close', (code, reason) => this.onClosed(conn, code, reason.toString('utf8')));
    ws.on('error', () => {});
    const q = new URL(req.url ?? '/', 'ws://discord.invalid').searchParams;
    if (this.closed) return void ws.terminate();
    if (q.has('v') && q.get('v') !== '10') return this.closeConn(conn, 4012);
    if (q.has('encoding') && q.get('encoding') !== 'json') return this.closeConn(conn, 4002, 'Only encoding=json is offered here.');
    this.sendRaw(conn, { op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.opts.heartbeatIntervalMs } });
    this.armHeartbeat(conn);
    this.changed();
  }

  private armHeartbeat(conn: Conn): void {
    clearTimeout(conn.heartbeatTimer);
    conn.heartbeatTimer = setTimeout(() => this.closeConn(conn, 4009), Math.round(this.opts.heartbeatIntervalMs * 1.5) + 1000);
    conn.heartbeatTimer.unref();
  }

  private sendRaw(conn: Conn, payload: { op: number; d?: unknown; t?: string | null; s?: number | null }): void {
    if (conn.ending || conn.ws.readyState !== conn.ws.OPEN) return;
    conn.ws.send(JSON.stringify(payload));
    this.frames.push({ connection: conn.id, dir: 'out', op: payload.op, t: payload.t, s: payload.s, atMs: Date.now() });
    if (this.frames.length > 10_000) this.frames.splice(0, 1000);
    this.log(`discord gateway #${conn.id} → op ${payload.op}${payload.t ? ` ${payload.t} s=${String(payload.s)}` : ''}`);
    this.changed();
  }

  /** Records a dispatch in the session (for resumes) and sends it when the session is live. */
  private sendDispatch(s: SessionRec, t: string, d: unknown): number {
    const ev = { op: GatewayOpcodes.Dispatch as const, t, s: ++s.seq, d };
    s.events.push(ev);
    if (s.events.length > 2000) s.events.splice(0, 500);
    if (s.conn && s.state === 'ready') this.sendRaw(s.conn, ev);
    return ev.s;
  }

  /** The session that gets events for a guild (or DMs: shard 0): the newest one that is not invalid. */
  private sessionFor(guildId: string | undefined, shard?: number): SessionRec | undefined {
    const candidates = this.sessionRecs.filter((s) => s.state !== 'invalid' && (shard !== undefined ? s.shard[0] === shard : guildId ? shardOf(guildId, s.shard[1]) === s.shard[0] : s.shard[0] === 0));
    return candidates.find((s) => s.conn) ?? candidates.at(-1);
  }

  dispatch(event: GatewayDispatchEvents | string, data: unknown, opts: { shard?: number } = {}): number {
    const guildId = isObject(data) && typeof data.guild_id === 'string' ? data.guild_id : undefined;
    const s = this.sessionFor(guildId, opts.shard);
    if (!s) throw new Error(`discord server: no gateway session to dispatch ${event} to (${this.describe()})`);
    return this.sendDispatch(s, event, data);
  }

  private closeConn(conn: Conn, code: number, reason = CLOSE_REASONS[code] ?? ''): void {
    if (conn.ending) return;
    conn.ending = { by: 'server', code, reason };
    clearTimeout(conn.heartbeatTimer);
    // Recorded now: the client may act on the close before the closing handshake ends here.
    this.closes.push({ connection: conn.id, code, reason, by: 'server', atMs: Date.now() });
    if (conn.session && SESSION_ENDING_CLOSES.has(code)) conn.session.state = 'invalid';
    this.detach(conn);
    this.log(`discord gateway #${conn.id} closing ${code} ${reason}`);
    conn.ws.close(code, reason);
  }

  private detach(conn: Conn): void {
    const s = conn.session;
    if (s && s.conn === conn) {
      s.conn = undefined;
      if (s.state !== 'invalid') s.state = 'disconnected';
    }
    conn.session = undefined;
    conn.authed = false;
  }

  private onClosed(conn: Conn, code: number, reason: string): void {
    clearTimeout(conn.heartbeatTimer);
    this.conns.delete(conn);
    const by = conn.ending?.by ?? 'client';
    if (by === 'client' && conn.session && (code === 1000 || code === 1001)) conn.session.state = 'invalid';
    this.detach(conn);
    if (by === 'client') this.closes.push({ connection: conn.id, code, reason, by, atMs: Date.now() });
    this.changed();
  }

  private onFrame(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (conn.ending) return;
    const now = Date.now();
    conn.received = conn.received.filter((t) => t > now - 60_000);
    conn.received.push(now);
    if (conn.received.length > 120) return this.closeConn(conn, 4008);
    if (data.length > 4096) return this.closeConn(conn, 4002, 'Payload over 4096 bytes.');
    let p: unknown;
    try {
      p = JSON.parse(data.toString('utf8'));
    } catch {
      return this.closeConn(conn, 4002);
    }
    void isBinary;
    if (!isObject(p) || typeof p.op !== 'number') return this.closeConn(conn, 4002);
    this.frames.push({ connection: conn.id, dir: 'in', op: p.op, atMs: now });
    this.log(`discord gateway #${conn.id} ← op ${p.op}`);
    switch (p.op) {
      case GatewayOpcodes.Heartbeat:
        this.armHeartbeat(conn);
        this.heartbeats++;
        if (conn.session && typeof p.d === 'number') conn.session.ackedSeq = Math.max(conn.session.ackedSeq, p.d);
        this.sendRaw(conn, { op: GatewayOpcodes.HeartbeatAck });
        break;
      case GatewayOpcodes.Identify:
        this.onIdentify(conn, p.d);
        break;
      case GatewayOpcodes.Resume:
        this.onResume(conn, p.d);
        break;
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
      case GatewayOpcodes.RequestGuildMembers:
      case GatewayOpcodes.RequestSoundboardSounds:
      case GatewayOpcodes.RequestChannelInfo:
        if (!conn.authed) return this.closeConn(conn, 4003);
        break;
      default:
        return this.closeConn(conn, 4001);
    }
    this.changed();
  }

  private onIdentify(conn: Conn, raw: unknown): void {
    if (conn.authed) return this.closeConn(conn, 4005);
    if (!isObject(raw) || !isObject(raw.properties)) return this.closeConn(conn, 4002);
    const d = raw as unknown as GatewayIdentifyData;
    if (d.token !== this.token) return this.closeConn(conn, 4004);
    if (typeof d.intents !== 'number' || !Number.isInteger(d.intents) || d.intents < 0 || (d.intents & ~ALL_INTENTS) !== 0) return this.closeConn(conn, 4013);
    if ((d.intents & PRIVILEGED_INTENTS & ~this.opts.privilegedIntents) !== 0) return this.closeConn(conn, 4014);
    const shard = d.shard ?? [0, 1];
    if (!Array.isArray(shard) || shard.length !== 2 || !shard.every(Number.isInteger) || shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1]) return this.closeConn(conn, 4010);
    this.sessionStartsLeft = Math.max(0, this.sessionStartsLeft - 1);
    const s: SessionRec = { id: randomBytes(16).toString('hex'), shard: [shard[0], shard[1]], intents: d.intents, seq: 0, events: [], conn, state: 'ready', identifiedAtMs: Date.now(), resumes: 0, readySeq: 1, ackedSeq: 0 };
    this.sessionRecs.push(s);
    conn.session = s;
    conn.authed = true;
    this.identifies++;
    const guilds = this.guildIds.filter((g) => shardOf(g, s.shard[1]) === s.shard[0]);
    const ready: GatewayReadyDispatchData = {
      v: 10,
      user: this.bot,
      guilds: guilds.map((id) => ({ id, unavailable: true })),
      session_id: s.id,
      resume_gateway_url: this.gatewayUrl,
      shard: s.shard,
      application: { id: this.applicationId, flags: 0 as ApplicationFlags, flags_new: '0' },
    };
    this.sendDispatch(s, GatewayDispatchEvents.Ready, ready);
    if ((s.intents & GatewayIntentBits.Guilds) !== 0) for (const g of guilds) this.sendDispatch(s, GatewayDispatchEvents.GuildCreate, this.guildObject(g));
  }

  private onResume(conn: Conn, raw: unknown): void {
    if (conn.authed) return this.closeConn(conn, 4005);
    if (!isObject(raw)) return this.closeConn(conn, 4002);
    const d = raw as unknown as GatewayResumeData;
    if (d.token !== this.token) return this.closeConn(conn, 4004);
    const s = this.sessionRecs.find((x) => x.id === d.session_id);
    if (!s || s.state === 'invalid') return this.sendRaw(conn, { op: GatewayOpcodes.InvalidSession, d: false });
    const seq = d.seq ?? 0;
    if (typeof seq !== 'number' || seq > s.seq) {
      conn.session = s;
      return this.closeConn(conn, 4007);
    }
    if (s.conn && s.conn !== conn) {
      // A resume takes the session over; the old connection goes.
      const old = s.conn;
      old.ending = { by: 'drop', code: 1006, reason: 'session resumed on another connection' };
      this.closes.push({ connection: old.id, code: 1006, reason: old.ending.reason, by: 'drop', atMs: Date.now() });
      this.detach(old);
      old.ws.terminate();
    }
    s.conn = conn;
    s.state = 'resuming';
    conn.session = s;
    conn.authed = true;
    for (const ev of s.events) if (ev.s > seq) this.sendRaw(conn, ev);
    s.state = 'ready';
    s.resumes++;
    this.resumes++;
    s.readySeq = this.sendDispatch(s, GatewayDispatchEvents.Resumed, {});
  }

  private liveConns(): Conn[] {
    const bound = [...this.conns].filter((c) => !c.ending && c.session);
    return bound.length ? bound : [...this.conns].filter((c) => !c.ending);
  }

  dropConnection(): void {
    for (const c of this.liveConns()) {
      c.ending = { by: 'drop', code: 1006, reason: 'dropped (no close frame)' };
      this.closes.push({ connection: c.id, code: 1006, reason: c.ending.reason, by: 'drop', atMs: Date.now() });
      clearTimeout(c.heartbeatTimer);
      this.detach(c);
      c.ws.terminate();
    }
    this.changed();
  }

  closeWith(code: number, reason?: string): void {
    for (const c of this.liveConns()) this.closeConn(c, code, reason);
    this.changed();
  }

  sendReconnect(): void {
    for (const c of this.liveConns()) this.sendRaw(c, { op: GatewayOpcodes.Reconnect, d: null });
  }

  sendInvalidSession(resumable: boolean): void {
    for (const c of this.liveConns()) {
      const s = c.session;
      this.sendRaw(c, { op: GatewayOpcodes.InvalidSession, d: resumable });
      if (s && !resumable) s.state = 'invalid';
      this.detach(c);
    }
    this.changed();
  }

  // -------------------------------------------------------------------------------------------
  // Interactions sent to the bot

  private expire(r: InteractionRec): void {
    if (r.callback || r.state === 'failed') return;
    r.state = 'failed';
    const err = new Error(`interaction ${r.label}: no callback within ${this.opts.interactionDeadlineMs} ms — Discord shows "The application did not respond"`);
    r.responseD.reject(err);
    r.finalD.reject(err);
    this.changed();
  }

  /** Where an interaction happens, and who does it. */
  private place(ctx: InteractionContext): { user: UserRec; channel: ChannelRec; guildId: string | undefined } {
    const userId = ctx.userId ?? this.defaultUserId;
    const user = this.user(userId);
    if (!user) throw new Error(`discord server: unknown user ${userId} (give it in the users option)`);
    if (ctx.dm) return { user, channel: this.dmChannel(userId), guildId: undefined };
    const guildId = ctx.guildId ?? (ctx.channelId ? this.channels.get(ctx.channelId)?.guildId : undefined) ?? this.guildIds[0]!;
    if (!this.guildIds.includes(guildId)) throw new Error(`discord server: unknown guild ${guildId}`);
    const channelId = ctx.channelId ?? this.channelIds(guildId)[0];
    const channel = channelId ? this.channels.get(channelId) : undefined;
    if (!channel || channel.guildId !== guildId) throw new Error(`discord server: no channel ${channelId ?? ''} in guild ${guildId}`);
    return { user, channel, guildId };
  }

  private baseInteraction(place: ReturnType<DiscordServerImpl['place']>, locale: Locale | undefined) {
    const { user, channel, guildId } = place;
    const id = snowflake();
    // Like Discord's: base64url of "interaction:<id>:<secret>".
    const token = Buffer.from(`interaction:${id}:${randomBytes(72).toString('base64url')}`).toString('base64url');
    const partialChannel = channel.type === ChannelType.DM
      ? { id: channel.id, type: ChannelType.DM as const, last_message_id: channel.lastMessageId, flags: 0, recipients: [user.user] }
      : { id: channel.id, type: ChannelType.GuildText as const, guild_id: guildId, name: channel.name, position: channel.position, parent_id: null, nsfw: false, topic: null, last_message_id: channel.lastMessageId, rate_limit_per_user: 0, flags: 0, permissions: user.permissions };
    const common = {
      id,
      application_id: this.applicationId,
      token,
      version: 1 as const,
      app_permissions: channel.readOnly ? BOT_READONLY_PERMISSIONS : BOT_PERMISSIONS,
      locale: locale ?? user.locale,
      entitlements: [],
      attachment_size_limit: MAX_FILE_BYTES,
      channel: partialChannel,
      channel_id: channel.id,
      authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: guildId ?? '0' },
      context: guildId ? InteractionContextType.Guild : InteractionContextType.BotDM,
    };
    if (!guildId) return { ...common, user: user.user };
    const member: APIInteractionGuildMember = { ...this.member(user, guildId), permissions: user.permissions };
    return { ...common, guild_id: guildId, guild: { id: guildId, locale: Locale.EnglishUS, features: [] }, guild_locale: Locale.EnglishUS, member };
  }

  private launch(interaction: APIInteraction, label: string, place: ReturnType<DiscordServerImpl['place']>, focusedType?: ApplicationCommandOptionType): InteractionHandle {
    const s = this.sessionFor(place.guildId);
    if (!s) throw new Error(`discord server: no bot session for ${label}: connect the bot first (waitForReady) — ${this.describe()}`);
    const r: InteractionRec = {
      id: interaction.id,
      token: interaction.token,
      interaction,
      label,
      channel: place.channel,
      userId: place.user.user.id,
      startedAt: performance.now(),
      createdAtMs: Date.now(),
      deadline: undefined,
      state: 'pending',
      callback: undefined,
      focusedType,
      original: undefined,
      deferredPending: false,
      ephemeral: undefined,
      followUps: [],
      edits: [],
      final: undefined,
      responseD: deferred<InteractionCallback>(),
      finalD: deferred<FinalAnswer>(),
    };
    r.deadline = setTimeout(() => this.expire(r), this.opts.interactionDeadlineMs);
    r.deadline.unref();
    this.interactionRecs.push(r);
    this.interactionById.set(r.id, r);
    this.interactionByToken.set(r.token, r);
    const handle = new InteractionHandleImpl(r);
    this.handles.push(handle);
    this.sendDispatch(s, GatewayDispatchEvents.InteractionCreate, interaction);
    this.changed();
    return handle;
  }

  /** The registered command: the guild's own first, then global ones (only global ones in DMs). */
  private findCommand(name: string, guildId: string | undefined, dm: boolean): APIApplicationCommand {
    const scoped = guildId ? (this.commandsByScope.get(guildId) ?? []) : [];
    const cmd = [...scoped, ...(this.commandsByScope.get('global') ?? [])].find((c) => c.type === ApplicationCommandType.ChatInput && c.name === name);
    if (!cmd) {
      const known = [...scoped, ...(this.commandsByScope.get('global') ?? [])].map((c) => c.name).join(', ') || 'none';
      throw new Error(`discord server: no command /${name} registered${dm ? ' globally (DMs only see global commands)' : guildId ? ` for guild ${guildId} or globally` : ''} (registered: ${known})`);
    }
    if (dm && (cmd.contexts ? !cmd.contexts.includes(InteractionContextType.BotDM) : cmd.dm_permission === false)) {
      throw new Error(`discord server: /${name} is not available in DMs (contexts/dm_permission)`);
    }
    return cmd;
  }

  /** Typed interaction options from plain values, as Discord builds them from the user's input. */
  private buildOptions(
    cmd: APIApplicationCommand,
    path: string[],
    values: CommandOptionValues,
    mode: 'command' | 'autocomplete',
    focused: string | undefined,
    resolved: APIInteractionDataResolved,
    guildId: string | undefined,
  ): { options: APIApplicationCommandInteractionDataOption[]; focusedType?: ApplicationCommandOptionType } {
    const label = `/${[cmd.name, ...path].join(' ')}`;
    let defs = cmd.options ?? [];
    const chain: APIApplicationCommandOption[] = [];
    const rest = [...path];
    const isSub = (d: APIApplicationCommandOption) => d.type === ApplicationCommandOptionType.Subcommand || d.type === ApplicationCommandOptionType.SubcommandGroup;
    while (defs.some(isSub)) {
      let sub = rest.shift();
      if (sub === undefined) {
        const keys = Object.keys(values).filter((k) => defs.some((d) => d.name === k && isSub(d)));
        if (keys.length !== 1 || !isObject(values[keys[0]!])) throw new Error(`discord server: ${label} needs a sub-command: one of ${defs.map((d) => d.name).join(', ')}`);
        sub = keys[0]!;
        values = values[sub] as CommandOptionValues;
      }
      const def = defs.find((d) => d.name === sub && isSub(d));
      if (!def) throw new Error(`discord server: ${label} has no sub-command "${sub}" (${defs.map((d) => d.name).join(', ')})`);
      chain.push(def);
      defs = ('options' in def ? def.options : undefined) ?? [];
    }
    if (rest.length) throw new Error(`discord server: ${label}: "${rest.join(' ')}" is not a sub-command`);
    let focusedType: ApplicationCommandOptionType | undefined;
    const leaf: APIApplicationCommandInteractionDataOption[] = [];
    for (const [name, v] of Object.entries(values)) {
      if (v === undefined) continue;
      const def = defs.find((d) => d.name === name);
      if (!def) throw new Error(`discord server: ${label} has no option "${name}" (options: ${defs.map((d) => d.name).join(', ') || 'none'})`);
      const isFocused = mode === 'autocomplete' && name === focused;
      const bad = (what: string) => new Error(`discord server: ${label} option "${name}": ${what} (got ${JSON.stringify(v)}) — Discord would never send that`);
      const o = def as APIApplicationCommandOption & { choices?: Array<{ value: unknown }>; min_value?: number; max_value?: number; min_length?: number; max_length?: number; channel_types?: ChannelType[]; autocomplete?: boolean };
      let value: unknown;
      switch (def.type) {
        case ApplicationCommandOptionType.String:
          if (isFocused) value = String(v);
          else {
            if (typeof v !== 'string') throw bad('expected a string');
            if (o.choices?.length && !o.choices.some((c) => c.value === v)) throw bad(`not one of the choices ${o.choices.map((c) => JSON.stringify(c.value)).join(', ')}`);
            if (o.min_length !== undefined && chars(v) < o.min_length) throw bad(`shorter than min_length ${o.min_length}`);
            if (o.max_length !== undefined && chars(v) > o.max_length) throw bad(`longer than max_length ${o.max_length}`);
            value = v;
          }
          break;
        case ApplicationCommandOptionType.Integer:
        case ApplicationCommandOptionType.Number:
          if (isFocused) value = String(v);
          else {
            const int = def.type === ApplicationCommandOptionType.Integer;
            if (typeof v !== 'number' || !Number.isFinite(v) || (int && !Number.isInteger(v))) throw bad(int ? 'expected an integer' : 'expected a number');
            if (Math.abs(v) > MAX_SAFE) throw bad('outside ±2^53');
            if (o.choices?.length && !o.choices.some((c) => c.value === v)) throw bad(`not one of the choices ${o.choices.map((c) => JSON.stringify(c.value)).join(', ')}`);
            if (o.min_value !== undefined && v < o.min_value) throw bad(`below min_value ${o.min_value}`);
            if (o.max_value !== undefined && v > o.max_value) throw bad(`above max_value ${o.max_value}`);
            // Autocomplete interactions carry every numeric option as the text typed so far.
            value = mode === 'autocomplete' ? String(v) : v;
          }
          break;
        case ApplicationCommandOptionType.Boolean:
          if (typeof v !== 'boolean') throw bad('expected a boolean');
          value = v;
          break;
        case ApplicationCommandOptionType.User:
        case ApplicationCommandOptionType.Mentionable: {
          const u = this.user(v);
          if (u) {
            (resolved.users ??= {})[u.user.id] = u.user;
            if (guildId) {
              const { user: _u, deaf: _d, mute: _m, ...m } = this.member(u, guildId);
              (resolved.members ??= {})[u.user.id] = { ...m, permissions: u.permissions };
            }
          } else if (def.type === ApplicationCommandOptionType.Mentionable && isSnowflake(v)) (resolved.roles ??= {})[v] = this.role(v);
          else throw bad('expected the id of a known user');
          value = v;
          break;
        }
        case ApplicationCommandOptionType.Channel: {
          const ch = typeof v === 'string' ? this.channels.get(v) : undefined;
          if (!ch) throw bad('expected the id of a known channel');
          if (o.channel_types?.length && !o.channel_types.includes(ch.type)) throw bad(`channel type ${ch.type} not in channel_types`);
          (resolved.channels ??= {})[ch.id] = { id: ch.id, type: ch.type, name: ch.name, permissions: BOT_PERMISSIONS } as NonNullable<APIInteractionDataResolved['channels']>[string];
          value = v;
          break;
        }
        case ApplicationCommandOptionType.Role:
          if (!isSnowflake(v)) throw bad('expected a role id');
          (resolved.roles ??= {})[v] = this.role(v);
          value = v;
          break;
        case ApplicationCommandOptionType.Attachment: {
          if (!isObject(v) || typeof v.filename !== 'string') throw bad('expected { filename, size?, content_type? }');
          const id = snowflake();
          (resolved.attachments ??= {})[id] = {
            id,
            filename: v.filename,
            size: typeof v.size === 'number' ? v.size : 0,
            url: `https://cdn.discordapp.com/ephemeral-attachments/${this.applicationId}/${id}/${encodeURIComponent(v.filename)}`,
            proxy_url: `https://media.discordapp.net/ephemeral-attachments/${this.applicationId}/${id}/${encodeURIComponent(v.filename)}`,
            ...(typeof v.content_type === 'string' ? { content_type: v.content_type } : {}),
            ephemeral: true,
          };
          value = id;
          break;
        }
        default:
          throw bad('sub-commands take an object');
      }
      if (isFocused) {
        if (!o.autocomplete) throw bad('this option has no autocomplete');
        focusedType = def.type;
      }
      leaf.push({ name, type: def.type, value, ...(isFocused ? { focused: true } : {}) } as APIApplicationCommandInteractionDataOption);
    }
    if (mode === 'command') {
      for (const d of defs) if ('required' in d && d.required && !(d.name in values)) throw new Error(`discord server: ${label} needs its required option "${d.name}"`);
    } else if (focusedType === undefined) throw new Error(`discord server: ${label}: the focused option "${String(focused)}" must be among the options given`);
    let options = leaf;
    for (const def of chain.reverse()) options = [{ name: def.name, type: def.type, options } as APIApplicationCommandInteractionDataOption];
    return { options, focusedType };
  }

  private commandInteraction(name: string, values: CommandOptionValues, ctx: InteractionContext, mode: 'command' | 'autocomplete', focused?: string): InteractionHandle {
    const [cmdName, ...path] = name.trim().replace(/^\//, '').split(/\s+/);
    const place = this.place(ctx);
    const cmd = this.findCommand(cmdName!, place.guildId, !!ctx.dm);
    const resolved: APIInteractionDataResolved = {};
    const { options, focusedType } = this.buildOptions(cmd, path, values, mode, focused, resolved, place.guildId);
    const data = {
      id: cmd.id,
      name: cmd.name,
      type: ApplicationCommandType.ChatInput as const,
      ...(options.length ? { options } : {}),
      ...(Object.keys(resolved).length ? { resolved } : {}),
      ...(cmd.guild_id ? { guild_id: cmd.guild_id } : {}),
    };
    const base = this.baseInteraction(place, ctx.locale);
    const type = mode === 'command' ? InteractionType.ApplicationCommand : InteractionType.ApplicationCommandAutocomplete;
    const interaction = { ...base, type, data } as unknown as APIChatInputApplicationCommandInteraction | APIApplicationCommandAutocompleteInteraction;
    return this.launch(interaction, `/${[cmd.name, ...path].join(' ')}`, place, focusedType);
  }

  command(name: string, options: CommandOptionValues = {}, ctx: InteractionContext = {}): InteractionHandle {
    return this.commandInteraction(name, options, ctx, 'command');
  }

  autocomplete(name: string, options: CommandOptionValues, focused: string, ctx: InteractionContext = {}): Promise<APIApplicationCommandOptionChoice[]> {
    const h = this.commandInteraction(name, options, ctx, 'autocomplete', focused);
    return h.response.then((r) => (r.data?.choices ?? []) as APIApplicationCommandOptionChoice[]);
  }

  private componentMessage(ref: APIMessage | string): MessageRec {
    const id = typeof ref === 'string' ? ref : ref.id;
    const m = this.messageById.get(id);
    if (!m || m.deleted) throw new Error(`discord server: no message ${id} (components live on messages the bot sent)`);
    if (m.message.author.id !== this.botUserId) throw new Error(`discord server: message ${id} is not the bot's`);
    return m;
  }

  private findComponent(m: MessageRec, customId: string): APIComponentInMessageActionRow {
    for (const row of (m.message.components ?? []) as APIActionRowComponent<APIComponentInMessageActionRow>[]) {
      for (const c of row.components ?? []) if ('custom_id' in c && c.custom_id === customId) return c;
    }
    throw new Error(`discord server: message ${m.message.id} has no component with custom_id "${customId}"`);
  }

  private componentInteraction(customId: string, ctx: ButtonContext, data: Record<string, unknown>, expect: (c: APIComponentInMessageActionRow) => void): InteractionHandle {
    const m = this.componentMessage(ctx.message);
    const c = this.findComponent(m, customId);
    if ('disabled' in c && c.disabled) throw new Error(`discord server: component "${customId}" is disabled`);
    expect(c);
    const ch = this.channels.get(m.message.channel_id)!;
    const place = this.place({ userId: ctx.userId, ...(ch.guildId ? { guildId: ch.guildId, channelId: ch.id } : { dm: true }) });
    if (!ch.guildId && place.channel.id !== ch.id) throw new Error(`discord server: user ${place.user.user.id} cannot see DM ${ch.id}`);
    const interaction = { ...this.baseInteraction(place, ctx.locale), type: InteractionType.MessageComponent, data: { custom_id: customId, component_type: c.type, ...data }, message: structuredClone(m.message) } as unknown as APIMessageComponentButtonInteraction;
    return this.launch(interaction, `component "${customId}"`, place);
  }

  button(customId: string, ctx: ButtonContext): InteractionHandle {
    return this.componentInteraction(customId, ctx, {}, (c) => {
      if (c.type !== ComponentType.Button) throw new Error(`discord server: component "${customId}" is not a button`);
    });
  }

  select(customId: string, values: string[], ctx: ButtonContext): InteractionHandle {
    const resolved: APIInteractionDataResolved = {};
    return this.componentInteraction(customId, ctx, { values, ...(Object.keys(resolved).length ? { resolved } : {}) }, (c) => {
      if (c.type === ComponentType.Button) throw new Error(`discord server: component "${customId}" is a button, not a select menu`);
      const min = 'min_values' in c && c.min_values !== undefined ? c.min_values : 1;
      const max = 'max_values' in c && c.max_values !== undefined ? c.max_values : 1;
      if (values.length < min || values.length > max) throw new Error(`discord server: select "${customId}" takes ${min}-${max} values, not ${values.length}`);
      if (c.type === ComponentType.StringSelect) {
        for (const v of values) if (!c.options.some((o) => o.value === v)) throw new Error(`discord server: select "${customId}" has no option "${v}"`);
      } else {
        for (const v of values) {
          const u = c.type !== ComponentType.ChannelSelect && c.type !== ComponentType.RoleSelect ? this.user(v) : undefined;
          if (u) (resolved.users ??= {})[v] = u.user;
          else if (c.type === ComponentType.ChannelSelect && this.channels.has(v)) {
            const ch = this.channels.get(v)!;
            (resolved.channels ??= {})[v] = { id: v, type: ch.type, name: ch.name, permissions: BOT_PERMISSIONS } as NonNullable<APIInteractionDataResolved['channels']>[string];
          } else if (c.type === ComponentType.RoleSelect || c.type === ComponentType.MentionableSelect) (resolved.roles ??= {})[v] = this.role(v);
          else throw new Error(`discord server: select "${customId}": "${v}" is not a known id`);
        }
      }
    }) as InteractionHandle & { interaction: APIMessageComponentSelectMenuInteraction };
  }

  // -------------------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.interactionRecs) clearTimeout(r.deadline);
    for (const c of this.conns) {
      clearTimeout(c.heartbeatTimer);
      c.ending ??= { by: 'server', code: 1001, reason: 'server closing' };
      c.ws.terminate();
    }
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Starts the local Discord on 127.0.0.1, a free port (HTTP and WebSocket on the same one). */
export async function startDiscordServer(opts: DiscordServerOptions = {}): Promise<DiscordServer> {
  const srv = new DiscordServerImpl(opts);
  await srv.listen();
  return srv;
}

/**
 * The hub config's `[discord]` section for a bot against `srv` (its token written to a 0600 file
 * under `dir`): what every hub test against the local Discord appends to its config.
 */
export function discordHubSection(srv: DiscordServer, dir: string): string {
  const tokenFile = `${dir}/discord-token`;
  fs.writeFileSync(tokenFile, `${srv.token}\n`, { mode: 0o600 });
  return `[discord]
token_file = "${tokenFile}"
guild_ids = ["${srv.guildIds[0]}"]
channel_id = "${srv.channelIds()[0]}"
api = "${srv.url}"
`;
}
