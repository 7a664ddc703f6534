// A local Slack — Web API, Socket Mode (WebSocket) and response_url endpoints on one port — for
// tests and benches, so that a whole Slack app (the real @slack/bolt, @slack/web-api and
// @slack/socket-mode clients) runs offline, and so that this server refuses what Slack refuses.
//
//   const srv = await startSlackServer({ scopes: ['chat:write', 'commands', 'im:write'] });
//   const clientOptions = { slackApiUrl: srv.apiUrl };
//   const app = new App({ token: srv.botToken, appToken: srv.appToken, socketMode: true,
//                         clientOptions, installerOptions: { clientOptions } });
//   app.command('/flurm', async ({ ack, respond }) => { await ack(); await respond('hi'); });
//   await app.start();  await srv.waitForConnection();
//   const h = srv.slashCommand('/flurm', 'status');            // envelope over the socket
//   (await h.ack).latencyMs;  (await h.final()).text;          // the ack, the response_url answer
//   srv.messages(channelId); srv.requests; srv.envelopes; srv.files
//   await app.stop(); await srv.close();
//
// `apiUrl` (http://127.0.0.1:PORT/api/) is what WebClient's `slackApiUrl` takes; Bolt needs it in
// `clientOptions` and, for Socket Mode, in `installerOptions.clientOptions` (App copies its
// clientOptions there when installerOptions has none; SocketModeReceiver hands them to the
// SocketModeClient that calls apps.connections.open with the app token).
//
// Routes (one port):
//   POST|GET /api/<method>   Web API: form (`application/x-www-form-urlencoded`, object values as
//                            JSON strings, as WebClient sends them) or JSON bodies; the token from
//                            `Authorization: Bearer …` or a `token` field. Answers are HTTP 200
//                            {ok:false, error} for errors, as Slack does (429 only for ratelimited).
//   POST /upload/<file id>   the upload_url of files.getUploadURLExternal (raw bytes or multipart,
//                            WebClient sends multipart with one part)
//   POST /respond/<id>       the response_url of every dispatched command and interaction
//   ws   /link/?ticket=…     Socket Mode (the URL apps.connections.open gives; a ticket is single use)
//
// Web API methods: auth.test (bot token; `x-oauth-scopes` header), apps.connections.open (app token
// only, else not_allowed_token_type), chat.postMessage, chat.postEphemeral, chat.update,
// conversations.open (users → the user's DM channel, the same each time), conversations.history
// (newest first; limit, oldest, latest, inclusive; metadata only with include_all_metadata),
// conversations.list (channels:read; the public channels, with is_member; one page),
// views.publish (home tab), files.getUploadURLExternal, files.completeUploadExternal, users.info.
// Unknown method → unknown_method; no token → not_authed; a wrong token → invalid_auth; an app token
// on a bot method (or the reverse) → not_allowed_token_type; a method whose scope was not granted →
// missing_scope with `needed` and `provided`; channel by id (C…/D…), by name (general, #general)
// or a user id (the user's DM, as chat.postMessage does) else channel_not_found; a channel whose
// spec says `member: false` → not_in_channel for chat.postMessage and conversations.history.
//
// What is validated (chat.*, views.publish blocks, response_url answers): no text and no blocks →
// no_text; text > 40000 → msg_too_long; blocks through fake-services' validateSlackBody (header
// plain_text ≤150, section text 1-3000, ≤10 fields of ≤2000, context ≤10 elements, divider) plus
// here: ≤50 blocks (≤100 for views), actions (1-25 elements; buttons: text plain_text ≤75,
// action_id ≤255 and unique in the message, value ≤2000, url ≤3000; style primary|danger), image
// (image_url, alt_text), section accessories (a button is checked as in actions). Any other block
// type → invalid_blocks. invalid_blocks answers carry `errors` naming the json-pointer, like Slack.
// metadata must be {event_type: string, event_payload: object} (else invalid_metadata_format).
//
// response_url: up to 5 uses within 30 minutes of the dispatch (Slack's documented limit). The 6th
// use → HTTP 404 text `used_url`; after 30 minutes → 404 `expired_url`; unknown id → 404
// `no_service`; a bad body → 400 `invalid_payload` / `no_text` / `invalid_blocks`; success → 200
// {ok:true}. response_type in_channel posts a message in the channel; replace_original (for an
// interaction on a message) replaces that message; delete_original deletes it.
//
// Socket Mode: on connect `{type:'hello', num_connections, debug_info, connection_info:{app_id}}`;
// pings every pingIntervalMs (undici answers pongs). Envelopes `{envelope_id, type, payload,
// accepts_response_payload, retry_attempt, retry_reason}` go to the newest open connection; the
// client acks with `{envelope_id, payload?}`. An ack after ackDeadlineMs (3 s) is recorded `late`;
// none at all leaves `acked:false` (on real Slack the user sees "failed with the error
// operation_timeout"). Dispatching with no open connection resolves the ack with
// `{acked:false, undelivered:true}` (Slack: dispatch_failed).
//
// HTTP mode: deliverHttp(url, kind, payload, {sign}) POSTs as Slack does: slash commands as form
// fields, interactivity as form `payload=<json>`, events as JSON, with `x-slack-request-timestamp`
// and `x-slack-signature: v0=HMAC-SHA256(signingSecret, "v0:TS:BODY")`; sign 'none' (no headers),
// 'tampered' (signature of another body), 'stale' (a correct signature of a 6-minute-old
// timestamp). A 200 within ackDeadlineMs is the ack; its body (JSON if it parses) is the ack payload.
//
// Fault injection: failNext(method, replies): {error, retryAfter?} (ratelimited → HTTP 429 with
// Retry-After; other errors → 200 {ok:false,error}), {status: 500, body?}, {hang: true} (never
// answered until close); nothing is performed. beforeRespond(predicate, hook): awaited after a
// call's effect (the message is stored) and before the answer is written; 'drop' destroys the
// socket instead. disconnect(reason) sends {type:'disconnect', reason} ('refresh_requested' |
// 'warning' | 'link_disabled'); dropConnection() destroys the sockets without a close frame.
// Rate limits (opt-in `rateLimits: true` or a table): chat.postMessage 1 per second per channel,
// Tier 3 (50/min) and Tier 2 (20/min) for the others (see DEFAULT_SLACK_RATE_LIMITS); past them:
// HTTP 429, Retry-After (whole seconds), {ok:false, error:'ratelimited'}.
//
// State: messages() lists what the bot posted (chat.*, files shared, in_channel and ephemeral
// response_url answers), oldest first, ephemeral ones with `ephemeralTo` (history never shows them);
// homeView(user) the last published home tab; files the uploads; envelopes every dispatch with its
// ack; connectionsLog every Socket Mode connection (connections counts them, openConnections the
// live ones). The response_url error bodies (used_url, expired_url) are this server's choice of
// wording: Slack documents the 5-uses/30-minutes limit, not the exact error text.
//
// Time: `atMs` fields are Date.now(). waitFor() re-checks on every change of state and every 20 ms.
//
// Known gaps: link_disabled does not stop later apps.connections.open calls; no OAuth (oauth.v2.access), no Events API url_verification challenge, no modals
// (views.open/update/push, view_submission), no threads listing (conversations.replies), no
// pagination cursors (has_more is always false), no mrkdwn parsing, no rich_text/input blocks,
// Block Kit checks only what is listed above, no enterprise grid. Socket Mode retries of unacked
// events (retry_attempt > 0) are not sent.
//
// Only node built-ins, `ws`, @slack/types (types) and ./fake-services.js, so esbuild can bundle it.
import { createHmac, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AppHomeOpenedEvent, KnownBlock } from '@slack/types';
import { WebSocketServer, type WebSocket } from 'ws';
import { validateSlackBody } from './fake-services.js';

// ---------------------------------------------------------------------------------------------
// Public types

export interface SlackUserSpec {
  id: string;
  name: string;
  realName?: string;
  tz?: string;
}

export interface SlackChannelSpec {
  id: string;
  name: string;
  /** Whether the bot is in it (default true): posting or reading history outside it is not_in_channel. */
  member?: boolean;
  /** A private channel: not listed by conversations.list (types public_channel). */
  private?: boolean;
}

export interface SlackRateLimit {
  limit: number;
  windowMs: number;
  /** Counted per channel (chat.postMessage's 1/s per channel) instead of per workspace. */
  perChannel?: boolean;
}

export interface SlackServerOptions {
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  botName?: string;
  users?: SlackUserSpec[];
  channels?: SlackChannelSpec[];
  /** Scopes granted to the bot token (x-oauth-scopes, missing_scope). */
  scopes?: string[];
  /** `true`: DEFAULT_SLACK_RATE_LIMITS; a table: those methods only. Off by default. */
  rateLimits?: boolean | Record<string, SlackRateLimit>;
  ackDeadlineMs?: number;
  pingIntervalMs?: number;
  log?: (line: string) => void;
}

export interface SlackRecordedRequest {
  method: string;
  path: string;
  body: Record<string, unknown>;
  /** The token used (header or field); undefined when none. */
  token?: string;
  /** HTTP status answered; undefined while pending (hang, beforeRespond). */
  status?: number;
  response?: unknown;
  atMs: number;
  scripted?: boolean;
  rateLimited?: boolean;
}

export type SlackScriptedReply =
  | { error: string; retryAfter?: number; extra?: Record<string, unknown> }
  | { status: number; body?: string }
  | { hang: true };

export interface SlackMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  thread_ts?: string;
  user: string;
  bot_id?: string;
  files?: { id: string; name: string; title: string }[];
  /** Set for chat.postEphemeral / ephemeral response_url answers: who sees it. */
  ephemeralTo?: string;
  edited?: { ts: string };
  deleted?: boolean;
  via: string;
  atMs: number;
}

export interface SlackFile {
  id: string;
  filename: string;
  length: number;
  title?: string;
  bytes?: Buffer;
  uploadedAtMs?: number;
  completedAtMs?: number;
  channel?: string;
}

export interface AckRecord {
  acked: boolean;
  atMs?: number;
  latencyMs?: number;
  payload?: unknown;
  late: boolean;
  /** HTTP mode: the status the app answered (0: no answer). */
  status?: number;
  body?: string;
  undelivered?: boolean;
}

export interface SlackEnvelope {
  envelope_id: string;
  type: 'slash_commands' | 'interactive' | 'events_api';
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  sentAtMs: number;
  via: 'socket' | 'http';
  ack?: AckRecord;
}

export interface ResponseUrlAnswer {
  atMs: number;
  body: Record<string, unknown>;
  text?: string;
  blocks?: unknown[];
  ephemeral: boolean;
  replace_original?: boolean;
  delete_original?: boolean;
}

export interface FinalAnswer {
  source: 'ack' | 'response_url';
  text?: string;
  blocks?: unknown[];
  ephemeral: boolean;
  atMs: number;
}

export interface DispatchHandle {
  envelopeId: string;
  payload: Record<string, unknown>;
  ack: Promise<AckRecord>;
  responses: ResponseUrlAnswer[];
  responseUrl?: string;
  /** The first response_url answer, or an ack payload carrying a message (text or blocks). */
  final(timeoutMs?: number): Promise<FinalAnswer>;
}

export type HttpSign = 'valid' | 'none' | 'tampered' | 'stale';
export type DispatchVia = 'socket' | { httpUrl: string; sign?: HttpSign };

export interface DispatchOptions {
  userId?: string;
  channelId?: string;
  via?: DispatchVia;
}

export interface HttpDelivery {
  status: number;
  body: string;
  latencyMs: number;
  late: boolean;
}

export interface SocketConnectionRecord {
  id: number;
  openedAtMs: number;
  closedAtMs?: number;
  closeCode?: number;
}

export interface SlackServer {
  url: string;
  apiUrl: string;
  port: number;
  botToken: string;
  appToken: string;
  signingSecret: string;
  teamId: string;
  appId: string;
  botUserId: string;
  botId: string;
  users: SlackUserSpec[];
  channels: SlackChannelSpec[];
  requests: SlackRecordedRequest[];
  envelopes: SlackEnvelope[];
  files: SlackFile[];
  connectionsLog: SocketConnectionRecord[];
  /** Socket Mode connections accepted so far (each reconnect counts). */
  readonly connections: number;
  /** Socket Mode connections open now. */
  readonly openConnections: number;
  /** Messages (not deleted), oldest first; with a channel: of that channel (id, name or user id). */
  messages(channel?: string): SlackMessage[];
  homeView(userId: string): Record<string, unknown> | undefined;
  dmChannel(userId: string): string;
  waitFor<T>(check: () => T | false | null | undefined, timeoutMs?: number, what?: string): Promise<T>;
  waitForConnection(count?: number, timeoutMs?: number): Promise<void>;
  failNext(method: string, replies: SlackScriptedReply[]): void;
  beforeRespond(predicate: (r: SlackRecordedRequest) => boolean, hook: (r: SlackRecordedRequest) => unknown): () => void;
  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled'): void;
  dropConnection(): void;
  dispatch(type: SlackEnvelope['type'], payload: Record<string, unknown>, via?: DispatchVia): DispatchHandle;
  deliverHttp(url: string, kind: SlackEnvelope['type'], payload: Record<string, unknown>, opts?: { sign?: HttpSign }): Promise<HttpDelivery>;
  slashCommand(command: string, text?: string, opts?: DispatchOptions): DispatchHandle;
  blockAction(actionId: string, value?: string, opts?: DispatchOptions & { message?: SlackMessage | string }): DispatchHandle;
  appHomeOpened(userId?: string, opts?: { via?: DispatchVia }): DispatchHandle;
  event(event: Record<string, unknown>, opts?: { via?: DispatchVia }): DispatchHandle;
  close(): Promise<void>;
}

export const DEFAULT_SLACK_BOT_TOKEN = 'xoxb-1000000001-2000000002-FlurmFakeBotToken0000000';
export const DEFAULT_SLACK_APP_TOKEN = 'xapp-1-A0FLURM001-3000000003-flurmfakeapptoken000000000000000000';
export const DEFAULT_SLACK_SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const DEFAULT_SLACK_SCOPES = ['chat:write', 'commands', 'im:write', 'im:history', 'channels:history', 'channels:read', 'files:write', 'users:read'];
export const DEFAULT_SLACK_USERS: SlackUserSpec[] = [
  { id: 'U0ALICE001', name: 'alice', realName: 'Alice Liddell', tz: 'Europe/Paris' },
  { id: 'U0BOB00002', name: 'bob', realName: 'Bob Marley', tz: 'America/New_York' },
];
export const DEFAULT_SLACK_CHANNELS: SlackChannelSpec[] = [{ id: 'C0GENERAL1', name: 'general' }];
export const DEFAULT_SLACK_RATE_LIMITS: Record<string, SlackRateLimit> = {
  'chat.postMessage': { limit: 1, windowMs: 1000, perChannel: true },
  'chat.postEphemeral': { limit: 100, windowMs: 60_000 },
  'chat.update': { limit: 50, windowMs: 60_000 },
  'conversations.open': { limit: 50, windowMs: 60_000 },
  'conversations.history': { limit: 50, windowMs: 60_000 },
  'conversations.list': { limit: 20, windowMs: 60_000 },
  'views.publish': { limit: 100, windowMs: 60_000 },
  'files.getUploadURLExternal': { limit: 20, windowMs: 60_000 },
  'files.completeUploadExternal': { limit: 20, windowMs: 60_000 },
  'users.info': { limit: 100, windowMs: 60_000 },
  'auth.test': { limit: 100, windowMs: 60_000 },
};

const RESPONSE_URL_MAX_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

// ---------------------------------------------------------------------------------------------
// Block Kit

/** undefined when valid, else [error, details]. maxBlocks 50 for messages, 100 for views. */
export function validateSlackMessage(body: Record<string, unknown>, maxBlocks = 50): [string, string[]] | undefined {
  const text = body.text;
  const blocks = body.blocks;
  const hasText = typeof text === 'string' && text.length > 0;
  if (!hasText && blocks === undefined && body.attachments === undefined) return ['no_text', []];
  if (typeof text === 'string' && text.length > 40_000) return ['msg_too_long', []];
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return ['invalid_blocks_format', ['blocks must be an array']];
  if (blocks.length > maxBlocks) return ['invalid_blocks', [`no more than ${maxBlocks} items allowed [json-pointer:/blocks]`]];
  const actionIds = new Set<string>();
  const checkButton = (el: Record<string, unknown>, ptr: string): string | undefined => {
    const t = el.text as Record<string, unknown> | undefined;
    if (!t || t.type !== 'plain_text' || typeof t.text !== 'string' || t.text.length < 1 || t.text.length > 75) return `must be plain_text of 1-75 characters [json-pointer:${ptr}/text]`;
    if (el.url !== undefined && (typeof el.url !== 'string' || el.url.length > 3000)) return `must be less than 3001 characters [json-pointer:${ptr}/url]`;
    if (el.value !== undefined && (typeof el.value !== 'string' || el.value.length > 2000)) return `must be less than 2001 characters [json-pointer:${ptr}/value]`;
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') return `must be a valid enum value [json-pointer:${ptr}/style]`;
    return undefined;
  };
  const checkActionId = (el: Record<string, unknown>, ptr: string): string | undefined => {
    if (el.action_id === undefined) return undefined;
    if (typeof el.action_id !== 'string' || el.action_id.length < 1 || el.action_id.length > 255) return `must be 1-255 characters [json-pointer:${ptr}/action_id]`;
    if (actionIds.has(el.action_id)) return `action_id already exists [json-pointer:${ptr}/action_id]`;
    actionIds.add(el.action_id);
    return undefined;
  };
  for (let i = 0; i < blocks.length; i++) {
    const blk = (blocks[i] ?? {}) as Record<string, unknown>;
    const ptr = `/blocks/${i}`;
    if (blk.block_id !== undefined && (typeof blk.block_id !== 'string' || blk.block_id.length > 255)) return ['invalid_blocks', [`must be less than 256 characters [json-pointer:${ptr}/block_id]`]];
    if (blk.type === 'actions') {
      const els = blk.elements;
      if (!Array.isArray(els) || els.length < 1 || els.length > 25) return ['invalid_blocks', [`must have 1-25 items [json-pointer:${ptr}/elements]`]];
      for (let j = 0; j < els.length; j++) {
        const el = (els[j] ?? {}) as Record<string, unknown>;
        const ep = `${ptr}/elements/${j}`;
        if (typeof el.type !== 'string') return ['invalid_blocks', [`missing required field: type [json-pointer:${ep}]`]];
        const err = (el.type === 'button' ? checkButton(el, ep) : undefined) ?? checkActionId(el, ep);
        if (err) return ['invalid_blocks', [err]];
      }
      continue;
    }
    if (blk.type === 'image') {
      if (typeof blk.image_url !== 'string' && blk.slack_file === undefined) return ['invalid_blocks', [`missing required field: image_url [json-pointer:${ptr}]`]];
      if (typeof blk.alt_text !== 'string' || blk.alt_text.length > 2000) return ['invalid_blocks', [`missing required field: alt_text [json-pointer:${ptr}]`]];
      continue;
    }
    if (blk.type === 'section' && blk.accessory !== undefined) {
      const acc = blk.accessory as Record<string, unknown>;
      const err = (acc.type === 'button' ? checkButton(acc, `${ptr}/accessory`) : undefined) ?? checkActionId(acc, `${ptr}/accessory`);
      if (err) return ['invalid_blocks', [err]];
    }
    // header, section, context, divider: fake-services' checks (one block at a time, so views may have 100).
    const bad = validateSlackBody({ text: 'x', blocks: [blk] });
    if (bad) return ['invalid_blocks', [`invalid ${String(blk.type ?? 'block')} block (type, text lengths, fields or elements) [json-pointer:${ptr}]`]];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Implementation

interface ResponseUrlState {
  id: string;
  createdAtMs: number;
  uses: number;
  channel?: string;
  userId?: string;
  messageTs?: string;
  handle: DispatchHandleImpl;
}

interface DispatchHandleImpl extends DispatchHandle {
  resolveAck(a: AckRecord): void;
  acked: boolean;
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'view', 'files', 'users', 'unfurl']);

function parseApiBody(raw: string, contentType: string, query: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of query) out[k] = v;
  if (!raw) return out;
  if (contentType.includes('application/json')) {
    try {
      const j = JSON.parse(raw) as unknown;
      if (j && typeof j === 'object' && !Array.isArray(j)) Object.assign(out, j);
    } catch {
      out.__invalid_json = true;
    }
    return out;
  }
  for (const [k, v] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(k) && (v.startsWith('[') || v.startsWith('{'))) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        /* keep the string: the method answers invalid_arguments */
      }
    }
    out[k] = v;
  }
  return out;
}

function multipartFirstPart(buf: Buffer, contentType: string): Buffer | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return undefined;
  const delim = Buffer.from(`--${boundary}`);
  const start = buf.indexOf(delim);
  if (start < 0) return undefined;
  const headEnd = buf.indexOf('\r\n\r\n', start);
  if (headEnd < 0) return undefined;
  const next = buf.indexOf(Buffer.from(`\r\n--${boundary}`), headEnd + 4);
  return buf.subarray(headEnd + 4, next < 0 ? buf.length : next);
}

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

class SlackServerImpl extends EventEmitter implements SlackServer {
  url = '';
  apiUrl = '';
  port = 0;
  botToken: string;
  appToken: string;
  signingSecret: string;
  teamId: string;
  teamDomain: string;
  appId: string;
  botUserId: string;
  botId: string;
  botName: string;
  users: SlackUserSpec[];
  channels: SlackChannelSpec[];
  scopes: string[];
  requests: SlackRecordedRequest[] = [];
  envelopes: SlackEnvelope[] = [];
  files: SlackFile[] = [];
  connectionsLog: SocketConnectionRecord[] = [];
  msgs: SlackMessage[] = [];
  private dms = new Map<string, string>();
  openedDms = new Set<string>();
  homeViews = new Map<string, Record<string, unknown>>();
  private tickets = new Set<string>();
  private sockets: { ws: WebSocket; rec: SocketConnectionRecord }[] = [];
  private scripts = new Map<string, SlackScriptedReply[]>();
  private hooks: { predicate: (r: SlackRecordedRequest) => boolean; hook: (r: SlackRecordedRequest) => unknown }[] = [];
  private responseUrls = new Map<string, ResponseUrlState>();
  private pending = new Map<string, { env: SlackEnvelope; handle: DispatchHandleImpl; timer: NodeJS.Timeout }>();
  private rateTable: Record<string, SlackRateLimit>;
  private rateHits = new Map<string, number[]>();
  private hung = new Set<http.ServerResponse>();
  private liveSockets = new Set<Socket>();
  private seq = 0;
  private tsSeq = 0;
  private ackDeadlineMs: number;
  private pingIntervalMs: number;
  private pingTimer?: NodeJS.Timeout;
  private log: (line: string) => void;
  server: http.Server;
  wss: WebSocketServer;
  private closed = false;

  constructor(opts: SlackServerOptions) {
    super();
    this.setMaxListeners(0);
    this.botToken = opts.botToken ?? DEFAULT_SLACK_BOT_TOKEN;
    this.appToken = opts.appToken ?? DEFAULT_SLACK_APP_TOKEN;
    this.signingSecret = opts.signingSecret ?? DEFAULT_SLACK_SIGNING_SECRET;
    this.teamId = opts.teamId ?? 'T0FLURM001';
    this.teamDomain = opts.teamDomain ?? 'flurm-lab';
    this.appId = opts.appId ?? 'A0FLURM001';
    this.botUserId = opts.botUserId ?? 'U0FLURMBOT';
    this.botId = opts.botId ?? 'B0FLURMBOT';
    this.botName = opts.botName ?? 'flurm';
    this.users = opts.users ?? DEFAULT_SLACK_USERS;
    this.channels = [...(opts.channels ?? DEFAULT_SLACK_CHANNELS)];
    this.scopes = opts.scopes ?? DEFAULT_SLACK_SCOPES;
    this.rateTable = opts.rateLimits === true ? DEFAULT_SLACK_RATE_LIMITS : opts.rateLimits || {};
    this.ackDeadlineMs = opts.ackDeadlineMs ?? 3000;
    this.pingIntervalMs = opts.pingIntervalMs ?? 5000;
    this.log = opts.log ?? (() => {});
    this.server = http.createServer((req, res) => this.onHttp(req, res));
    this.server.on('connection', (s: Socket) => {
      this.liveSockets.add(s);
      s.on('close', () => this.liveSockets.delete(s));
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
  }

  get connections(): number {
    return this.connectionsLog.length;
  }
  get openConnections(): number {
    return this.sockets.length;
  }

  private changed(): void {
    this.emit('change');
  }

  private newId(prefix: string, len = 9): string {
    const n = (++this.seq).toString(36).toUpperCase();
    return prefix + n.padStart(len - prefix.length, '0');
  }

  nextTs(): string {
    this.tsSeq++;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsSeq).padStart(6, '0')}`;
  }

  // ------------------------------------------------------------------ state accessors

  dmChannel(userId: string): string {
    let id = this.dms.get(userId);
    if (!id) {
      const taken = new Set(this.dms.values());
      id = `D0${userId.replace(/^[UW]0?/, '').slice(0, 8).padStart(8, '0')}`;
      for (let n = 1; taken.has(id); n++) id = `D0${String(n).padStart(8, '0')}`;
      this.dms.set(userId, id);
    }
    return id;
  }

  resolveChannel(ref: unknown): string | undefined {
    if (typeof ref !== 'string' || !ref) return undefined;
    const name = ref.replace(/^#/, '');
    const ch = this.channels.find((c) => c.id === ref || c.name === name);
    if (ch) return ch.id;
    if ([...this.dms.values()].includes(ref)) return ref;
    if (this.users.some((u) => u.id === ref)) return this.dmChannel(ref);
    return undefined;
  }

  messages(channel?: string): SlackMessage[] {
    const id = channel === undefined ? undefined : (this.resolveChannel(channel) ?? channel);
    return this.msgs.filter((m) => !m.deleted && (id === undefined || m.channel === id));
  }

  homeView(userId: string): Record<string, unknown> | undefined {
    return this.homeViews.get(userId);
  }

  waitFor<T>(check: () => T | false | null | undefined, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const test = () => {
        let v: T | false | null | undefined;
        try {
          v = check();
        } catch (e) {
          done();
          reject(e as Error);
          return;
        }
        if (v !== false && v !== null && v !== undefined) {
          done();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`slack server: timed out after ${timeoutMs} ms waiting for ${what} — ${this.describe()}`));
      }, timeoutMs);
      const iv = setInterval(test, 20);
      const done = () => {
        clearTimeout(timer);
        clearInterval(iv);
        this.off('change', test);
      };
      this.on('change', test);
      test();
    });
  }

  waitForConnection(count = 1, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.connections >= count && this.openConnections > 0, timeoutMs, `${count} Socket Mode connection(s)`).then(() => undefined);
  }

  private describe(): string {
    const last = this.requests.slice(-5).map((r) => `${r.method}→${r.status ?? 'pending'}`);
    return `connections ${this.connections} (open ${this.openConnections}), requests [${last.join(', ')}], envelopes ${this.envelopes.length}, messages ${this.msgs.length}`;
  }

  failNext(method: string, replies: SlackScriptedReply[]): void {
    this.scripts.set(method, [...(this.scripts.get(method) ?? []), ...replies]);
  }

  beforeRespond(predicate: (r: SlackRecordedRequest) => boolean, hook: (r: SlackRecordedRequest) => unknown): () => void {
    const h = { predicate, hook };
    this.hooks.push(h);
    return () => {
      this.hooks = this.hooks.filter((x) => x !== h);
    };
  }

  // ------------------------------------------------------------------ HTTP

  private onHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const buf = Buffer.concat(chunks);
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const ct = String(req.headers['content-type'] ?? '');
      const path = u.pathname;
      if (path.startsWith('/api/')) {
        void this.onApi(path.slice(5), buf.toString('utf8'), ct, u.searchParams, req, res);
      } else if (path.startsWith('/upload/') && req.method === 'POST') {
        this.onUpload(path.slice(8), buf, ct, res);
      } else if (path.startsWith('/respond/') && req.method === 'POST') {
        this.onRespond(path.slice(9), buf.toString('utf8'), ct, res);
      } else {
        res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/plain' }).end(path === '/' ? 'flurm fake slack' : 'not found');
      }
    });
  }

  private async onApi(method: string, raw: string, ct: string, query: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = parseApiBody(raw, ct, query);
    const auth = /^Bearer\s+(\S+)/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = auth ?? (typeof body.token === 'string' ? body.token : undefined);
    delete body.token;
    const rec: SlackRecordedRequest = { method, path: `/api/${method}`, body, token, atMs: Date.now() };
    this.requests.push(rec);
    this.log(`slack ← ${method} ${JSON.stringify(body).slice(0, 200)}`);
    this.changed();
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    const answer = async (status: number, payload: unknown, extraHeaders: Record<string, string> = {}, runHooks = false) => {
      rec.response = payload;
      if (runHooks) {
        for (const h of this.hooks.filter((x) => x.predicate(rec))) {
          if ((await h.hook(rec)) === 'drop') {
            rec.status = 0;
            req.socket.destroy();
            this.changed();
            return;
          }
        }
      }
      rec.status = status;
      if (!res.destroyed) res.writeHead(status, { ...headers, ...extraHeaders }).end(typeof payload === 'string' ? payload : JSON.stringify(payload));
      this.changed();
    };
    // Scripted replies first.
    const script = this.scripts.get(method);
    if (script && script.length) {
      const r = script.shift()!;
      if (!script.length) this.scripts.delete(method);
      rec.scripted = true;
      if ('hang' in r) {
        this.hung.add(res);
        this.changed();
        return;
      }
      if ('error' in r) {
        if (r.error === 'ratelimited' || r.error === 'rate_limited') {
          rec.rateLimited = true;
          return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(r.retryAfter ?? 1) });
        }
        return answer(200, { ok: false, error: r.error, ...(r.extra ?? {}) });
      }
      return answer(r.status, r.body ?? `<html>${r.status}</html>`, { 'content-type': 'text/html' });
    }
    const known = METHODS[method];
    if (!known) return answer(200, { ok: false, error: 'unknown_method', req_method: method });
    if (body.__invalid_json) return answer(200, { ok: false, error: 'invalid_json' });
    if (!token) return answer(200, { ok: false, error: 'not_authed' });
    const isApp = token === this.appToken;
    const isBot = token === this.botToken;
    if (!isApp && !isBot) return answer(200, { ok: false, error: 'invalid_auth' });
    if (known.app !== isApp) return answer(200, { ok: false, error: 'not_allowed_token_type' });
    const needed = typeof known.scope === 'function' ? known.scope(body, this) : known.scope;
    if (needed && isBot && !this.scopes.includes(needed)) {
      return answer(200, { ok: false, error: 'missing_scope', needed, provided: this.scopes.join(',') });
    }
    const limited = this.rateLimit(method, body);
    if (limited) {
      rec.rateLimited = true;
      return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limited) });
    }
    const [payload, extra] = known.run(this, body);
    const ok = (payload as { ok?: boolean }).ok === true;
    if (method === 'auth.test') extra['x-oauth-scopes'] = this.scopes.join(',');
    return answer(200, payload, extra, ok);
  }

  private rateLimit(method: string, body: Record<string, unknown>): number | undefined {
    const rl = this.rateTable[method];
    if (!rl) return undefined;
    const key = rl.perChannel ? `${method}:${String(this.resolveChannel(body.channel) ?? body.channel)}` : method;
    const now = Date.now();
    const hits = (this.rateHits.get(key) ?? []).filter((t) => t > now - rl.windowMs);
    if (hits.length >= rl.limit) {
      this.rateHits.set(key, hits);
      return Math.max(1, Math.ceil((hits[0]! + rl.windowMs - now) / 1000));
    }
    hits.push(now);
    this.rateHits.set(key, hits);
    return undefined;
  }

  private onUpload(fileId: string, buf: Buffer, ct: string, res: http.ServerResponse): void {
    const f = this.files.find((x) => x.id === fileId);
    const rec: SlackRecordedRequest = { method: 'upload', path: `/upload/${fileId}`, body: { bytes: buf.length }, atMs: Date.now() };
    this.requests.push(rec);
    if (!f) {
      rec.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } else {
      f.bytes = ct.startsWith('multipart/form-data') ? (multipartFirstPart(buf, ct) ?? buf) : buf;
      f.uploadedAtMs = Date.now();
      rec.status = 200;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${f.bytes.length}`);
    }
    this.changed();
  }

  private onRespond(id: string, raw: string, ct: string, res: http.ServerResponse): void {
    const st = this.responseUrls.get(id);
    const rec: SlackRecordedRequest = { method: 'response_url', path: `/respond/${id}`, body: {}, atMs: Date.now() };
    this.requests.push(rec);
    const send = (status: number, payload: string, type = 'text/plain') => {
      rec.status = status;
      rec.response = payload;
      res.writeHead(status, { 'content-type': type }).end(payload);
      this.changed();
    };
    if (!st) return send(404, 'no_service');
    if (Date.now() - st.createdAtMs > RESPONSE_URL_TTL_MS) return send(404, 'expired_url');
    if (st.uses >= RESPONSE_URL_MAX_USES) return send(404, 'used_url');
    let body: Record<string, unknown>;
    try {
      body = ct.includes('application/x-www-form-urlencoded')
        ? (JSON.parse(new URLSearchParams(raw).get('payload') ?? '') as Record<string, unknown>)
        : (JSON.parse(raw) as Record<string, unknown>);
    } catch {
      return send(400, 'invalid_payload');
    }
    rec.body = body;
    if (!body || typeof body !== 'object') return send(400, 'invalid_payload');
    if (!bool(body.delete_original)) {
      const bad = validateSlackMessage(body);
      if (bad) return send(400, bad[0]);
    }
    st.uses++;
    const ephemeral = body.response_type !== 'in_channel';
    const ans: ResponseUrlAnswer = {
      atMs: Date.now(),
      body,
      text: typeof body.text === 'string' ? body.text : undefined,
      blocks: Array.isArray(body.blocks) ? body.blocks : undefined,
      ephemeral,
      replace_original: body.replace_original === undefined ? undefined : bool(body.replace_original),
      delete_original: body.delete_original === undefined ? undefined : bool(body.delete_original),
    };
    st.handle.responses.push(ans);
    const orig = st.messageTs ? this.msgs.find((m) => m.ts === st.messageTs && m.channel === st.channel) : undefined;
    if (ans.delete_original && orig) orig.deleted = true;
    else if (ans.replace_original && orig) {
      orig.text = ans.text;
      orig.blocks = ans.blocks;
      orig.edited = { ts: this.nextTs() };
    } else if (st.channel) {
      this.msgs.push({
        channel: st.channel,
        ts: this.nextTs(),
        text: ans.text,
        blocks: ans.blocks,
        user: this.botUserId,
        bot_id: this.botId,
        ephemeralTo: ephemeral ? st.userId : undefined,
        thread_ts: typeof body.thread_ts === 'string' ? body.thread_ts : undefined,
        via: 'response_url',
        atMs: Date.now(),
      });
    }
    send(200, JSON.stringify({ ok: true }), 'application/json');
  }

  // ------------------------------------------------------------------ Web API effects

  postMessage(body: Record<string, unknown>, via: string): [Record<string, unknown>, Record<string, string>] {
    const channel = this.resolveChannel(body.channel);
    if (body.channel === undefined || body.channel === '') return [{ ok: false, error: 'channel_not_found' }, {}];
    if (!channel) return [{ ok: false, error: 'channel_not_found' }, {}];
    if (this.channels.find((c) => c.id === channel)?.member === false) return [{ ok: false, error: 'not_in_channel' }, {}];
    const bad = validateSlackMessage(body);
    if (bad) return [{ ok: false, error: bad[0], ...(bad[1].length ? { errors: bad[1], response_metadata: { messages: bad[1].map((m) => `[ERROR] ${m}`) } } : {}) }, {}];
    let metadata: SlackMessage['metadata'];
    if (body.metadata !== undefined) {
      const md = body.metadata as Record<string, unknown>;
      if (!md || typeof md !== 'object' || typeof md.event_type !== 'string' || typeof md.event_payload !== 'object' || md.event_payload === null) {
        return [{ ok: false, error: 'invalid_metadata_format' }, {}];
      }
      metadata = { event_type: md.event_type, event_payload: md.event_payload as Record<string, unknown> };
    }
    let ephemeralTo: string | undefined;
    if (via === 'chat.postEphemeral') {
      if (!this.users.some((u) => u.id === body.user)) return [{ ok: false, error: 'user_not_in_channel' }, {}];
      ephemeralTo = body.user as string;
    }
    const thread_ts = typeof body.thread_ts === 'string' && body.thread_ts ? body.thread_ts : undefined;
    if (thread_ts && !this.msgs.some((m) => m.channel === channel && m.ts === thread_ts)) return [{ ok: false, error: 'thread_not_found' }, {}];
    const m: SlackMessage = {
      channel,
      ts: this.nextTs(),
      text: typeof body.text === 'string' ? body.text : undefined,
      blocks: Array.isArray(body.blocks) ? body.blocks : undefined,
      metadata,
      thread_ts,
      user: this.botUserId,
      bot_id: this.botId,
      ephemeralTo,
      via,
      atMs: Date.now(),
    };
    this.msgs.push(m);
    if (ephemeralTo) return [{ ok: true, message_ts: m.ts }, {}];
    return [{ ok: true, channel, ts: m.ts, message: this.historyMessage(m, !!metadata) }, {}];
  }

  historyMessage(m: SlackMessage, withMetadata: boolean): Record<string, unknown> {
    return {
      type: 'message',
      user: m.user,
      bot_id: m.bot_id,
      app_id: this.appId,
      text: m.text ?? '',
      ts: m.ts,
      team: this.teamId,
      ...(m.blocks ? { blocks: m.blocks } : {}),
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      ...(m.files ? { files: m.files } : {}),
      ...(m.edited ? { edited: { user: m.user, ts: m.edited.ts } } : {}),
      ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
    };
  }

  // ------------------------------------------------------------------ Socket Mode

  openTicket(): string {
    const t = randomBytes(12).toString('hex');
    this.tickets.add(t);
    return `ws://127.0.0.1:${this.port}/link/?ticket=${t}&app_id=${this.appId}`;
  }

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = u.searchParams.get('ticket') ?? '';
    if (!u.pathname.startsWith('/link') || !this.tickets.has(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.tickets.delete(ticket);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const rec: SocketConnectionRecord = { id: this.connectionsLog.length + 1, openedAtMs: Date.now() };
      this.connectionsLog.push(rec);
      const entry = { ws, rec };
      this.sockets.push(entry);
      ws.on('message', (data) => this.onSocketMessage(data.toString()));
      ws.on('close', (code) => {
        rec.closedAtMs = Date.now();
        rec.closeCode = code;
        this.sockets = this.sockets.filter((s) => s !== entry);
        this.changed();
      });
      ws.on('error', () => {});
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: this.sockets.length,
          debug_info: { host: 'applink-flurm-fake', build_number: 1, approximate_connection_time: 18060 },
          connection_info: { app_id: this.appId },
        }),
      );
      this.log(`slack socket #${rec.id} open`);
      this.changed();
    });
  }

  private onSocketMessage(raw: string): void {
    let msg: { envelope_id?: string; payload?: unknown };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      return;
    }
    const id = msg.envelope_id;
    if (!id) return;
    const env = this.envelopes.find((e) => e.envelope_id === id);
    if (!env) return;
    const now = Date.now();
    const ackRec: AckRecord = { acked: true, atMs: now, latencyMs: now - env.sentAtMs, payload: msg.payload, late: now - env.sentAtMs > this.ackDeadlineMs };
    env.ack = ackRec;
    const p = this.pending.get(id);
    if (p) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.handle.resolveAck(ackRec);
    }
    this.changed();
  }

  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled'): void {
    for (const s of this.sockets) s.ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-flurm-fake' } }));
  }

  dropConnection(): void {
    for (const s of [...this.sockets]) s.ws.terminate();
  }

  // ------------------------------------------------------------------ dispatch

  private makeHandle(envelopeId: string, payload: Record<string, unknown>): DispatchHandleImpl {
    let resolveAck!: (a: AckRecord) => void;
    const ack = new Promise<AckRecord>((r) => (resolveAck = r));
    const h: DispatchHandleImpl = {
      envelopeId,
      payload,
      ack,
      responses: [],
      acked: false,
      resolveAck: (a) => {
        if (h.acked) return;
        h.acked = true;
        resolveAck(a);
      },
      final: (timeoutMs = 5000) =>
        this.waitFor(
          () => {
            const r = h.responses[0];
            if (r) return { source: 'response_url', text: r.text, blocks: r.blocks, ephemeral: r.ephemeral, atMs: r.atMs } as FinalAnswer;
            const env = this.envelopes.find((e) => e.envelope_id === envelopeId);
            const p = env?.ack?.payload as Record<string, unknown> | undefined;
            if (p && (typeof p.text === 'string' || Array.isArray(p.blocks))) {
              return { source: 'ack', text: p.text as string | undefined, blocks: p.blocks as unknown[] | undefined, ephemeral: p.response_type !== 'in_channel', atMs: env!.ack!.atMs! } as FinalAnswer;
            }
            return undefined;
          },
          timeoutMs,
          `the answer to envelope ${envelopeId}`,
        ),
    };
    return h;
  }

  private registerResponseUrl(h: DispatchHandleImpl, channel?: string, userId?: string, messageTs?: string): string {
    const id = `${this.teamId}/${Date.now()}${this.seq++}/${randomBytes(8).toString('hex')}`;
    this.responseUrls.set(id, { id, createdAtMs: Date.now(), uses: 0, channel, userId, messageTs, handle: h });
    return `${this.url}/respond/${id}`;
  }

  dispatch(type: SlackEnvelope['type'], payload: Record<string, unknown>, via: DispatchVia = 'socket', h?: DispatchHandleImpl): DispatchHandle {
    const envelopeId = h?.envelopeId ?? `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(6).toString('hex')}`;
    const handle = h ?? this.makeHandle(envelopeId, payload);
    const env: SlackEnvelope = { envelope_id: envelopeId, type, payload, accepts_response_payload: type === 'slash_commands', sentAtMs: Date.now(), via: via === 'socket' ? 'socket' : 'http' };
    this.envelopes.push(env);
    if (via === 'socket') {
      const s = this.sockets[this.sockets.length - 1];
      if (!s) {
        env.ack = { acked: false, late: false, undelivered: true };
        handle.resolveAck(env.ack);
      } else {
        s.ws.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: env.accepts_response_payload, retry_attempt: 0, retry_reason: '' }));
        const timer = setTimeout(() => {
          this.pending.delete(envelopeId);
          if (!env.ack) env.ack = { acked: false, late: true };
          handle.resolveAck(env.ack);
          this.changed();
        }, this.ackDeadlineMs);
        this.pending.set(envelopeId, { env, handle, timer });
      }
    } else {
      void this.deliverHttp(via.httpUrl, type, payload, { sign: via.sign ?? 'valid' }).then((d) => {
        let p: unknown;
        try {
          p = d.body ? JSON.parse(d.body) : undefined;
        } catch {
          p = d.body ? { text: d.body } : undefined;
        }
        env.ack = { acked: d.status === 200 && !d.late, atMs: env.sentAtMs + d.latencyMs, latencyMs: d.latencyMs, payload: p, late: d.late, status: d.status, body: d.body };
        handle.resolveAck(env.ack);
        this.changed();
      });
    }
    this.changed();
    return handle;
  }

  async deliverHttp(url: string, kind: SlackEnvelope['type'], payload: Record<string, unknown>, opts: { sign?: HttpSign } = {}): Promise<HttpDelivery> {
    const sign = opts.sign ?? 'valid';
    let body: string;
    let ct: string;
    if (kind === 'slash_commands') {
      body = new URLSearchParams(Object.entries(payload).map(([k, v]) => [k, String(v)])).toString();
      ct = 'application/x-www-form-urlencoded';
    } else if (kind === 'interactive') {
      body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      ct = 'application/x-www-form-urlencoded';
    } else {
      body = JSON.stringify(payload);
      ct = 'application/json';
    }
    const headers: Record<string, string> = { 'content-type': ct, 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' };
    if (sign !== 'none') {
      const ts = Math.floor(Date.now() / 1000) - (sign === 'stale' ? 360 : 0);
      const signed = sign === 'tampered' ? `${body}&tampered=1` : body;
      headers['x-slack-request-timestamp'] = String(ts);
      headers['x-slack-signature'] = `v0=${createHmac('sha256', this.signingSecret).update(`v0:${ts}:${signed}`).digest('hex')}`;
    }
    const t0 = Date.now();
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(Math.max(10_000, this.ackDeadlineMs * 3)) });
      const text = await res.text();
      const latencyMs = Date.now() - t0;
      return { status: res.status, body: text, latencyMs, late: latencyMs > this.ackDeadlineMs };
    } catch {
      const latencyMs = Date.now() - t0;
      return { status: 0, body: '', latencyMs, late: true };
    }
  }

  private user(userId?: string): SlackUserSpec {
    const u = userId === undefined ? this.users[0] : this.users.find((x) => x.id === userId);
    if (!u) throw new Error(`slack server: unknown user ${userId} (known: ${this.users.map((x) => x.id).join(', ')})`);
    return u;
  }

  private channelInfo(channelId: string | undefined, user: SlackUserSpec): { id: string; name: string } {
    if (channelId === undefined) return this.channels[0] ?? { id: this.dmChannel(user.id), name: 'directmessage' };
    const id = this.resolveChannel(channelId);
    if (!id) throw new Error(`slack server: unknown channel ${channelId}`);
    return { id, name: this.channels.find((c) => c.id === id)?.name ?? 'directmessage' };
  }

  slashCommand(command: string, text = '', opts: DispatchOptions = {}): DispatchHandle {
    if (!command.startsWith('/')) throw new Error(`slack server: a slash command starts with "/" (${command})`);
    const user = this.user(opts.userId);
    const ch = this.channelInfo(opts.channelId, user);
    const envelopeId = randomBytes(16).toString('hex');
    const payload: Record<string, unknown> = {};
    const h = this.makeHandle(envelopeId, payload);
    Object.assign(payload, {
      token: 'fakeVerificationToken0000',
      team_id: this.teamId,
      team_domain: this.teamDomain,
      channel_id: ch.id,
      channel_name: ch.name,
      user_id: user.id,
      user_name: user.name,
      command,
      text,
      api_app_id: this.appId,
      is_enterprise_install: 'false',
      response_url: this.registerResponseUrl(h, ch.id, user.id),
      trigger_id: `${Date.now()}.${this.teamId}.${randomBytes(8).toString('hex')}`,
    });
    h.responseUrl = payload.response_url as string;
    return this.dispatch('slash_commands', payload, opts.via, h);
  }

  blockAction(actionId: string, value?: string, opts: DispatchOptions & { message?: SlackMessage | string } = {}): DispatchHandle {
    const user = this.user(opts.userId);
    const hasAction = (m: SlackMessage) => findAction(m.blocks, actionId) !== undefined;
    const msg =
      typeof opts.message === 'string'
        ? this.msgs.find((m) => m.ts === opts.message)
        : (opts.message ?? [...this.msgs].reverse().find((m) => !m.deleted && hasAction(m)));
    if (!msg) throw new Error(`slack server: no message with a button "${actionId}" to click`);
    const found = findAction(msg.blocks, actionId);
    if (!found) throw new Error(`slack server: message ${msg.ts} has no element with action_id "${actionId}"`);
    const envelopeId = randomBytes(16).toString('hex');
    const payload: Record<string, unknown> = {};
    const h = this.makeHandle(envelopeId, payload);
    const chName = this.channels.find((c) => c.id === msg.channel)?.name ?? 'directmessage';
    const responseUrl = this.registerResponseUrl(h, msg.channel, user.id, msg.ts);
    h.responseUrl = responseUrl;
    Object.assign(payload, {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: this.teamId },
      api_app_id: this.appId,
      token: 'fakeVerificationToken0000',
      container: { type: 'message', message_ts: msg.ts, channel_id: msg.channel, is_ephemeral: !!msg.ephemeralTo },
      trigger_id: `${Date.now()}.${this.teamId}.${randomBytes(8).toString('hex')}`,
      team: { id: this.teamId, domain: this.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: msg.channel, name: chName },
      message: this.historyMessage(msg, false),
      state: { values: {} },
      response_url: responseUrl,
      actions: [
        {
          action_id: actionId,
          block_id: found.blockId,
          text: found.el.text,
          value: value ?? found.el.value,
          type: found.el.type ?? 'button',
          action_ts: `${(Date.now() / 1000).toFixed(6)}`,
        },
      ],
    });
    return this.dispatch('interactive', payload, opts.via, h);
  }

  event(event: Record<string, unknown>, opts: { via?: DispatchVia } = {}): DispatchHandle {
    const payload: Record<string, unknown> = {
      token: 'fakeVerificationToken0000',
      team_id: this.teamId,
      context_team_id: this.teamId,
      api_app_id: this.appId,
      event,
      type: 'event_callback',
      event_id: this.newId('Ev0', 11),
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: this.teamId, user_id: this.botUserId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: `4-${randomBytes(12).toString('hex')}`,
    };
    return this.dispatch('events_api', payload, opts.via);
  }

  appHomeOpened(userId?: string, opts: { via?: DispatchVia } = {}): DispatchHandle {
    const user = this.user(userId);
    const view = this.homeViews.get(user.id);
    const ev: AppHomeOpenedEvent = {
      type: 'app_home_opened',
      user: user.id,
      channel: this.dmChannel(user.id),
      tab: 'home',
      event_ts: `${(Date.now() / 1000).toFixed(6)}`,
      ...(view ? { view: view as unknown as NonNullable<AppHomeOpenedEvent['view']> } : {}),
    };
    return this.event(ev as unknown as Record<string, unknown>, opts);
  }

  // ------------------------------------------------------------------ lifecycle

  startPings(): void {
    this.pingTimer = setInterval(() => {
      for (const s of this.sockets) s.ws.ping();
    }, this.pingIntervalMs);
    this.pingTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const p of this.pending.values()) clearTimeout(p.timer);
    // A close frame first (clients see 1001), then whatever is left is cut.
    for (const s of this.sockets) s.ws.close(1001, 'server closing');
    if (this.sockets.length) await this.waitFor(() => this.sockets.length === 0, 500, 'sockets to close').catch(() => {});
    for (const s of this.sockets) s.ws.terminate();
    for (const r of this.hung) r.destroy();
    await new Promise<void>((r) => this.wss.close(() => r()));
    for (const s of this.liveSockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function findAction(blocks: unknown[] | undefined, actionId: string): { blockId: string; el: Record<string, unknown> } | undefined {
  for (const [i, raw] of (blocks ?? []).entries()) {
    const b = raw as KnownBlock & Record<string, unknown>;
    const blockId = typeof b.block_id === 'string' ? b.block_id : `b${i}`;
    const els = (b.type === 'actions' ? (b.elements as unknown[]) : b.accessory ? [b.accessory] : []) as Record<string, unknown>[];
    const el = els.find((e) => e.action_id === actionId);
    if (el) return { blockId, el };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Methods

type Run = (s: SlackServerImpl, b: Record<string, unknown>) => [Record<string, unknown>, Record<string, string>];
interface MethodSpec {
  app: boolean;
  scope?: string | ((b: Record<string, unknown>, s: SlackServerImpl) => string | undefined);
  run: Run;
}

const METHODS: Record<string, MethodSpec> = {
  'auth.test': {
    app: false,
    run: (s) => [
      { ok: true, url: `https://${s.teamDomain}.slack.com/`, team: 'Flurm Lab', user: s.botName, team_id: s.teamId, user_id: s.botUserId, bot_id: s.botId, is_enterprise_install: false },
      {},
    ],
  },
  'apps.connections.open': { app: true, run: (s) => [{ ok: true, url: s.openTicket() }, {}] },
  'chat.postMessage': { app: false, scope: 'chat:write', run: (s, b) => s.postMessage(b, 'chat.postMessage') },
  'chat.postEphemeral': { app: false, scope: 'chat:write', run: (s, b) => s.postMessage(b, 'chat.postEphemeral') },
  'chat.update': {
    app: false,
    scope: 'chat:write',
    run: (s, b) => {
      const channel = s.resolveChannel(b.channel);
      if (!channel) return [{ ok: false, error: 'channel_not_found' }, {}];
      const m = s.messages(channel).find((x) => x.ts === b.ts && !x.ephemeralTo);
      if (!m) return [{ ok: false, error: 'message_not_found' }, {}];
      if (m.user !== s.botUserId) return [{ ok: false, error: 'cant_update_message' }, {}];
      const bad = validateSlackMessage({ text: b.text ?? m.text, blocks: b.blocks ?? m.blocks });
      if (bad) return [{ ok: false, error: bad[0], ...(bad[1].length ? { errors: bad[1] } : {}) }, {}];
      if (typeof b.text === 'string') m.text = b.text;
      if (Array.isArray(b.blocks)) m.blocks = b.blocks;
      m.edited = { ts: s.nextTs() };
      return [{ ok: true, channel, ts: m.ts, text: m.text ?? '', message: s.historyMessage(m, false) }, {}];
    },
  },
  'conversations.open': {
    app: false,
    scope: 'im:write',
    run: (s, b) => {
      const ids = typeof b.users === 'string' ? b.users.split(',').map((x) => x.trim()).filter(Boolean) : [];
      if (typeof b.channel === 'string') return [{ ok: true, channel: { id: b.channel } }, {}];
      if (ids.length === 0) return [{ ok: false, error: 'users_list_not_supplied' }, {}];
      if (ids.length > 1) return [{ ok: false, error: 'not_implemented', detail: 'multi-person DMs are not simulated' }, {}];
      const u = s.users.find((x) => x.id === ids[0]);
      if (!u) return [{ ok: false, error: 'user_not_found' }, {}];
      const had = s.openedDms.has(u.id);
      s.openedDms.add(u.id);
      const id = s.dmChannel(u.id);
      return [{ ok: true, ...(had ? { no_op: true, already_open: true } : {}), channel: { id, created: 1700000000, is_im: true, is_org_shared: false, user: u.id, last_read: '0000000000.000000', latest: null, unread_count: 0, unread_count_display: 0, is_open: true, priority: 0 } }, {}];
    },
  },
  'conversations.history': {
    app: false,
    scope: (b) => (typeof b.channel === 'string' && b.channel.startsWith('D') ? 'im:history' : 'channels:history'),
    run: (s, b) => {
      const channel = s.resolveChannel(b.channel);
      if (!channel || b.channel !== channel) return [{ ok: false, error: 'channel_not_found' }, {}];
      if (s.channels.find((c) => c.id === channel)?.member === false) return [{ ok: false, error: 'not_in_channel' }, {}];
      const limit = Math.min(999, Math.max(1, Number(b.limit ?? 100) || 100));
      const inclusive = bool(b.inclusive);
      const oldest = b.oldest === undefined ? undefined : Number(b.oldest);
      const latest = b.latest === undefined ? undefined : Number(b.latest);
      const withMd = bool(b.include_all_metadata);
      const all = s
        .messages(channel)
        .filter((m) => !m.ephemeralTo)
        .filter((m) => oldest === undefined || (inclusive ? Number(m.ts) >= oldest : Number(m.ts) > oldest))
        .filter((m) => latest === undefined || (inclusive ? Number(m.ts) <= latest : Number(m.ts) < latest))
        .sort((a, z) => (a.ts < z.ts ? 1 : -1));
      return [{ ok: true, messages: all.slice(0, limit).map((m) => s.historyMessage(m, withMd)), has_more: false, pin_count: 0, channel_actions_ts: null, channel_actions_count: 0, response_metadata: { next_cursor: '' } }, {}];
    },
  },
  'conversations.list': {
    app: false,
    scope: 'channels:read',
    run: (s, b) => {
      const types = typeof b.types === 'string' ? b.types.split(',').map((t) => t.trim()) : ['public_channel'];
      if (types.some((t) => t !== 'public_channel')) return [{ ok: false, error: 'not_implemented', detail: 'only types=public_channel is simulated' }, {}];
      const channels = s.channels.filter((c) => !c.private).map((c) => ({ id: c.id, name: c.name, is_channel: true, is_private: false, is_archived: false, is_member: c.member !== false, created: 1700000000 }));
      return [{ ok: true, channels, response_metadata: { next_cursor: '' } }, {}];
    },
  },
  'views.publish': {
    app: false,
    run: (s, b) => {
      const user = s.users.find((u) => u.id === b.user_id);
      if (!b.user_id) return [{ ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: user_id'] } }, {}];
      if (!user) return [{ ok: false, error: 'user_not_found' }, {}];
      const view = b.view as Record<string, unknown> | undefined;
      if (!view || typeof view !== 'object') return [{ ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: view'] } }, {}];
      if (view.type !== 'home') return [{ ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] must be home [json-pointer:/view/type]'] } }, {}];
      const blocks = view.blocks;
      if (!Array.isArray(blocks)) return [{ ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: blocks [json-pointer:/view]'] } }, {}];
      const bad = blocks.length ? validateSlackMessage({ blocks }, 100) : undefined;
      if (bad) return [{ ok: false, error: bad[0], ...(bad[1].length ? { errors: bad[1] } : {}) }, {}];
      const prev = s.homeView(user.id);
      const stored = { id: (prev?.id as string) ?? `V0${Date.now().toString(36).toUpperCase()}`, team_id: s.teamId, type: 'home', blocks, private_metadata: view.private_metadata ?? '', callback_id: view.callback_id ?? '', external_id: view.external_id ?? '', hash: randomBytes(6).toString('hex'), app_id: s.appId, bot_id: s.botId, state: { values: {} } };
      s.homeViews.set(user.id, stored);
      return [{ ok: true, view: stored }, {}];
    },
  },
  'files.getUploadURLExternal': {
    app: false,
    scope: 'files:write',
    run: (s, b) => {
      const length = Number(b.length);
      if (typeof b.filename !== 'string' || !b.filename) return [{ ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: filename'] } }, {}];
      if (!Number.isInteger(length) || length < 1) return [{ ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: length'] } }, {}];
      const id = `F0${String(s.files.length + 1).padStart(8, '0')}`;
      s.files.push({ id, filename: b.filename, length });
      return [{ ok: true, upload_url: `${s.url}/upload/${id}`, file_id: id }, {}];
    },
  },
  'files.completeUploadExternal': {
    app: false,
    scope: 'files:write',
    run: (s, b) => {
      const list = b.files;
      if (!Array.isArray(list) || list.length === 0) return [{ ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: files'] } }, {}];
      const resolve = (c: unknown) => s.resolveChannel(c);
      const channel = b.channel_id === undefined ? undefined : resolve(b.channel_id);
      if (b.channel_id !== undefined && !channel) return [{ ok: false, error: 'channel_not_found' }, {}];
      const done: SlackFile[] = [];
      for (const item of list as { id?: string; title?: string }[]) {
        const f = s.files.find((x) => x.id === item.id);
        if (!f || !f.bytes) return [{ ok: false, error: 'file_not_found' }, {}];
        if (f.completedAtMs) return [{ ok: false, error: 'file_upload_already_completed' }, {}];
        done.push(f);
      }
      for (const [i, f] of done.entries()) {
        f.title = (list as { title?: string }[])[i]?.title ?? f.filename;
        f.completedAtMs = Date.now();
        f.channel = channel;
      }
      const shared = done.map((f) => ({ id: f.id, name: f.filename, title: f.title! }));
      if (channel) {
        s.msgs.push({
          channel,
          ts: s.nextTs(),
          text: typeof b.initial_comment === 'string' ? b.initial_comment : '',
          files: shared,
          thread_ts: typeof b.thread_ts === 'string' ? b.thread_ts : undefined,
          user: s.botUserId,
          bot_id: s.botId,
          via: 'files.completeUploadExternal',
          atMs: Date.now(),
        });
      }
      return [{ ok: true, files: done.map((f) => ({ id: f.id, name: f.filename, title: f.title, size: f.bytes!.length, mimetype: 'application/octet-stream', permalink: `https://${s.teamDomain}.slack.com/files/${s.botUserId}/${f.id}/${f.filename}` })) }, {}];
    },
  },
  'users.info': {
    app: false,
    scope: 'users:read',
    run: (s, b) => {
      const u = s.users.find((x) => x.id === b.user);
      if (!u) return [{ ok: false, error: 'user_not_found' }, {}];
      return [{ ok: true, user: { id: u.id, team_id: s.teamId, name: u.name, real_name: u.realName ?? u.name, tz: u.tz ?? 'UTC', is_bot: false, deleted: false, profile: { real_name: u.realName ?? u.name, display_name: u.name } } }, {}];
    },
  },
};

export async function startSlackServer(opts: SlackServerOptions = {}): Promise<SlackServer> {
  const s = new SlackServerImpl(opts);
  await new Promise<void>((resolve, reject) => {
    s.server.once('error', reject);
    s.server.listen(0, '127.0.0.1', () => resolve());
  });
  s.port = (s.server.address() as AddressInfo).port;
  s.url = `http://127.0.0.1:${s.port}`;
  s.apiUrl = `${s.url}/api/`;
  s.startPings();
  return s;
}
