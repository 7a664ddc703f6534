// The Slack app (issue 12, first part): a front end of the command table that the ACTIVE hub runs
// over Socket Mode (@slack/bolt 5: no inbound port). `/flurm NAME [args]` and the lab's aliases
// (`[slack.aliases] sciencecluster = "best"`) are parsed by command-text.ts, acknowledged at once
// (Slack's 3 s), and answered through response_url in Block Kit within Slack's limits (50 blocks
// a message; a long table split across messages). Bolt is imported when the app starts.
import type { KnownBlock } from '@slack/types';
import type { CommandContext, CommandDef } from '../../commands/table.js';
import { errorAnswer, invoke } from '../../commands/invoke.js';
import type { DataSource } from '../../commands/source.js';
import { DeliveryError, errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Message } from '../../model/message.js';
import type { Chart } from '../../model/chart.js';
import { chartPicture } from '../chart-picture.js';
import { splitTable } from '../text/render.js';
import { parseCommandText, usageOf } from './command-text.js';
import { logTailFits, renderSlack, SLACK_LIMITS } from './render.js';
import { plural } from '../../lib/format.js';

/** A table part per section block (3000 characters, less the code fence). */
const SLACK_TABLE_PART_CHARS = 2900;
/** A home view holds 100 blocks. */
const HOME_BLOCKS = 100;
/** How long a Log file's upload may take. */
const UPLOAD_TIMEOUT_MS = 30_000;
/** Slack lets a response_url be used 5 times. */
const RESPONSES_MAX = 5;

/** Log, Mute 1 h, Diagnosis under a failure DM; the job id rides in each action_id. */
export function jobButtonsBlock(jobId: string, diagnosis: boolean): KnownBlock {
  const button = (action: string, label: string) => ({ type: 'button' as const, text: { type: 'plain_text' as const, text: label }, action_id: `flurm:${action}:${jobId}`, value: jobId });
  return { type: 'actions', elements: [button('log', 'Log'), button('mute', 'Mute 1 h'), ...(diagnosis ? [button('diag', 'Diagnosis')] : [])] };
}

/** What sends and uploads need of the Web API. */
type SlackWebClient = {
  conversations: { open(a: object): Promise<unknown>; history(a: object): Promise<unknown>; list(a: object): Promise<unknown> };
  chat: { postMessage(a: object): Promise<unknown> };
  filesUploadV2(a: object): Promise<unknown>;
};
type SendOpts = { key: string; maybeSent: boolean; timeoutMs: number; refId?: string };
/** How many recent DM messages a possible repeat is looked for in. */
const DM_HISTORY_LOOKBACK = 50;
/** A channel is busier than a DM: look further back (Slack's page holds up to 999). */
const CHANNEL_HISTORY_LOOKBACK = 200;
/** conversations.list pages (1000 channels each) looked through for a `#name`. */
const CHANNEL_LIST_PAGES = 10;
/** The metadata event type of flurm's DMs and channel posts. */
const DM_METADATA_EVENT = 'flurm_message';

/** Slack's answers for a channel the app cannot post in (not a member, or private and not invited). */
const NOT_IN_CHANNEL = ['not_in_channel', 'channel_not_found'];

/** A Web API failure as the outbox's DeliveryError; `invite`: what to do when the app is not in the channel. */
function slackDeliveryError(err: unknown, invite?: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = err as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string; needed?: string } };
  if (e.code === 'slack_webapi_rate_limited_error') return new DeliveryError('Slack rate limit', { status: 429, retryable: true, retryAfterSeconds: e.retryAfter ?? 1, cause: err });
  if (e.code === 'slack_webapi_platform_error') {
    const code = e.data?.error ?? 'error';
    if (invite && NOT_IN_CHANNEL.includes(code)) return new DeliveryError(`Slack said ${code}: ${invite}`, { retryable: false, cause: err });
    // A bad token is the destination's end (disabled until restart); a bad user or channel is this message's.
    if (['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'missing_scope'].includes(code)) return new DeliveryError(`Slack said ${code}${e.data?.needed ? ` (the app needs the ${e.data.needed} scope)` : ''}`, { status: 401, retryable: false, cause: err });
    if (['user_not_found', 'channel_not_found', 'not_in_channel', 'is_archived', 'cannot_dm_bot', 'user_disabled', 'invalid_blocks', 'msg_too_long', 'no_text'].includes(code)) return new DeliveryError(`Slack said ${code}`, { retryable: false, cause: err });
    return new DeliveryError(`Slack said ${code}`, { retryable: true, cause: err });
  }
  if (e.code === 'slack_webapi_http_error') return new DeliveryError(`Slack answered HTTP ${e.statusCode}`, { retryable: (e.statusCode ?? 500) >= 500, cause: err });
  return new DeliveryError(`cannot reach Slack: ${errorMessage(err)}`, { retryable: true, cause: err });
}

/** What the receiver needs of Bolt's App. */
interface BoltApp {
  processEvent(event: { body: Record<string, unknown>; ack: (response?: unknown) => Promise<void> }): Promise<void>;
}
/** Slack's payloads are small; anything larger is not Slack. */
const HTTP_BODY_MAX_BYTES = 1024 * 1024;
/** Slack gives up after 3 s: answer 200 by then whatever the handler does. */
const ACK_WAIT_MS = 2500;

export type SlackState = 'off' | 'connecting' | 'ready' | 'down' | 'stopped';

/** The bot scopes the app uses, and what for (slack/manifest.json grants them all). */
export const SLACK_SCOPE_USES: Readonly<Record<string, string>> = {
  commands: '/flurm and its aliases',
  'chat:write': 'answers, DMs and channel posts',
  'im:write': 'DMs (job ends, "linked")',
  'im:history': 'a DM exactly once after a crash',
  'files:write': 'a long log as a file',
};
/** Needed only when the config posts in channels (slack:channel, slack:#name, slack:C…). */
export const SLACK_CHANNEL_SCOPE_USES: Readonly<Record<string, string>> = {
  'channels:read': 'slack:#name destinations',
  'channels:history': 'a channel post exactly once after a crash',
};

export interface SlackHealth {
  state: SlackState;
  since: string;
  last_error: string | null;
  team: string | null;
  bot_user: string | null;
  /** The bot token's scopes (auth.test's x-oauth-scopes). */
  scopes: string[];
  /** Scopes the app uses that the token lacks, with what they are for (once connected). */
  missing_scopes: { scope: string; for: string }[];
  mode: 'socket' | 'http';
  /** HTTP mode: requests refused for a missing, wrong or stale signature. */
  refused: number;
  commands: { answered: number; failed: number };
  /** Chart pictures uploaded (history, heatmap). */
  charts?: number;
  /** DMs sent, and repeats avoided because the message was already in the DM's history. */
  dm?: { sent: number; found_in_history: number };
  /** Channel posts (slack:channel, slack:#name), the same two counts. */
  channel?: { sent: number; found_in_history: number };
}

export interface SlackAppOptions {
  botToken: string;
  /** Socket Mode (the default): the app-level token. HTTP mode: the signing secret instead. */
  appToken?: string;
  signingSecret?: string;
  /** Slack's Web API base ("https://slack.com/api/"). */
  api: string;
  /** Extra slash commands → the table entry each answers ("sciencecluster" → "best"). */
  aliases: Readonly<Record<string, string>>;
  source: DataSource;
  /** The data as `user` may see it (null: not linked): other users' details left out (hub/http/redact.ts). */
  sourceFor?(user: string | null): DataSource;
  commands: readonly CommandDef[];
  /** The config posts in Slack channels: the channel scopes are needed too. */
  postsInChannels?: boolean;
  /** The unix user linked to a Slack user id, or null. */
  userOf(slackUserId: string): string | null;
  /** /flurm link: the answer with a one-time code (hub/links.ts linkAnswer; throws a UserError to show). */
  link?(slackUserId: string): Message;
  /** /flurm unlink: the answer, the link ended. */
  unlink?(slackUserId: string): Message;
  /** Whether a DM about job `refId` gets the Log / Mute 1 h / Diagnosis buttons (hub/job-actions.ts). */
  jobButtons?(refId: string | undefined): { jobId: string; diagnosis: boolean } | null;
  /** A press of one of them, by Slack user `slackUserId`. */
  jobAction?(action: 'log' | 'mute' | 'diag', jobId: string, slackUserId: string): Message[];
  log: Logger;
  now?: () => number;
}

export interface SlackBody {
  text: string;
  blocks: KnownBlock[];
}

/** A command's messages as response bodies: ≤ 50 blocks each, a plain text fallback. */
export function slackBodies(messages: readonly Message[]): SlackBody[] {
  const parts = messages.flatMap((m) => splitTable(m, SLACK_TABLE_PART_CHARS)).map((m) => ({ m, r: renderSlack(m) }));
  const bodies: SlackBody[] = [];
  let cur: SlackBody | null = null;
  for (const { r } of parts) {
    if (!cur || cur.blocks.length + r.blocks.length > SLACK_LIMITS.blocks) {
      cur = { text: r.text, blocks: [] };
      bodies.push(cur);
    }
    cur.blocks.push(...r.blocks.slice(0, SLACK_LIMITS.blocks));
  }
  return bodies.length ? bodies : [{ text: 'Nothing to show.', blocks: [] }];
}

/** /flurm help: every command with how to ask it. */
export function slackHelp(defs: readonly CommandDef[], aliases: Readonly<Record<string, string>>): Message {
  const alias = Object.entries(aliases);
  return {
    title: 'flurm',
    severity: 'info',
    summary: 'Ask the lab\'s cluster: `/flurm NAME key=value …` (or `--key value`).',
    fields: [
      ...defs.map((d) => ({ name: usageOf(d), value: d.description, inline: false })),
      { name: '/flurm link', value: 'link your Slack account to your unix user (then job ends come as DMs)', inline: false },
      { name: '/flurm unlink', value: 'end that link', inline: false },
      ...alias.map(([a, c]) => ({ name: `/${a}`, value: `the same as /flurm ${c}`, inline: false })),
    ],
  };
}

export class SlackApp {
  private app: { start(): Promise<unknown>; stop(): Promise<unknown> } | null = null;
  /** The Bolt app, as its receiver sees it (HTTP mode). */
  private boltApp: BoltApp | null = null;
  private webClient: SlackWebClient | null = null;
  private readonly dmChannels = new Map<string, string>();
  /** `#name` → channel id, from conversations.list. */
  private readonly channelIds = new Map<string, string>();
  private readonly dm = { sent: 0, found_in_history: 0 };
  private readonly channel = { sent: 0, found_in_history: 0 };
  private readonly now: () => number;
  private readonly h: SlackHealth;

  constructor(private readonly o: SlackAppOptions) {
    this.now = o.now ?? Date.now;
    this.h = { state: 'off', since: new Date(this.now()).toISOString(), last_error: null, team: null, bot_user: null, scopes: [], missing_scopes: [], mode: o.appToken ? 'socket' : 'http', refused: 0, commands: { answered: 0, failed: 0 } };
  }

  health(): SlackHealth {
    return { ...this.h, scopes: [...this.h.scopes], missing_scopes: this.h.missing_scopes.map((m) => ({ ...m })), commands: { ...this.h.commands }, dm: { ...this.dm }, channel: { ...this.channel } };
  }

  private setState(s: SlackState, error?: string): void {
    if (this.h.state !== s) {
      this.h.state = s;
      this.h.since = new Date(this.now()).toISOString();
      this.o.log.info('slack app', { state: s, ...(error ? { error } : {}) });
    }
    if (error !== undefined) this.h.last_error = error;
  }

  /** What `/flurm TEXT` (or `/ALIAS TEXT`) answers, and whether only the asker sees it. */
  async answer(command: string, text: string, slackUserId: string): Promise<{ bodies: SlackBody[]; ephemeral: boolean; charts?: Chart[] }> {
    const name = command.replace(/^\//, '');
    const fixed = name === 'flurm' ? undefined : this.o.aliases[name];
    const word = text.trim().split(/\s+/)[0]!.toLowerCase();
    if (fixed === undefined && (word === 'link' || word === 'unlink')) {
      try {
        const m = word === 'link' ? this.o.link?.(slackUserId) : this.o.unlink?.(slackUserId);
        return { bodies: slackBodies([m ?? { title: 'Linking is off', severity: 'warning', summary: 'This hub links no Slack accounts.' }]), ephemeral: true };
      } catch (err) {
        return { bodies: slackBodies([errorAnswer(err, (c) => `/flurm ${c}`)]), ephemeral: true };
      }
    }
    const parsed = parseCommandText(text, this.o.commands, fixed ? { fixed } : {});
    if (!parsed.ok) {
      if (parsed.help) return { bodies: slackBodies([slackHelp(this.o.commands, this.o.aliases)]), ephemeral: true };
      return { bodies: slackBodies([{ title: 'Usage', severity: 'warning', summary: parsed.usage }]), ephemeral: true };
    }
    const ctx: CommandContext = { user: this.o.userOf(slackUserId), warn: () => undefined };
    try {
      const a = await invoke(parsed.def, parsed.args, this.o.sourceFor?.(ctx.user) ?? this.o.source, ctx, { frontEnd: 'other' });
      // An alias answers in the channel, as the lab's own command always did.
      const charts = a.messages.flatMap((m) => (m.chart ? [m.chart] : []));
      return { bodies: slackBodies(a.messages), ephemeral: fixed === undefined && parsed.def.personal === true, ...(charts.length ? { charts } : {}) };
    } catch (err) {
      return { bodies: slackBodies([errorAnswer(err, (c) => `/flurm ${c}`)]), ephemeral: true };
    }
  }

  /** The App Home view for a Slack user: their running jobs, then their recent ones. */
  async homeView(slackUserId: string): Promise<{ type: 'home'; blocks: KnownBlock[] }> {
    const user = this.o.userOf(slackUserId);
    const jobs = this.o.commands.find((d) => d.name === 'jobs');
    if (!user || !jobs) {
      return { type: 'home', blocks: renderSlack({ title: 'flurm', severity: 'info', summary: 'Ask the lab\'s cluster with `/flurm help`. Your jobs show here once your Slack account is linked to your unix user: `/flurm link` shows how.' }).blocks };
    }
    const ctx: CommandContext = { user, warn: () => undefined };
    const source = this.o.sourceFor?.(user) ?? this.o.source;
    const running = await invoke(jobs, { user, running: true, limit: 20 }, source, ctx, { frontEnd: 'other' });
    const recent = await invoke(jobs, { user, limit: 20 }, source, ctx, { frontEnd: 'other' });
    const titled = (m: Message, title: string): Message => ({ ...m, title });
    const blocks = [...running.messages.map((m) => titled(m, `${user}: running`)), ...recent.messages.map((m) => titled(m, `${user}: recent jobs`))]
      .flatMap((m) => splitTable(m, SLACK_TABLE_PART_CHARS))
      .flatMap((m) => renderSlack(m).blocks);
    return { type: 'home', blocks: blocks.slice(0, HOME_BLOCKS) };
  }

  /** Connect over Socket Mode in the background; Bolt reconnects by itself once connected. */
  async start(): Promise<void> {
    if (this.app) return;
    this.setState('connecting');
    const { App, LogLevel } = await import('@slack/bolt');
    // Bolt's own lines go to the hub's log (a reconnect is a warning, not a stack on stderr).
    const logger = this.boltLogger(LogLevel.WARN);
    const clientOptions = { slackApiUrl: this.o.api, logger };
    const http = !this.o.appToken;
    // HTTP mode: this object is Bolt's receiver, fed by the hub's own HTTP server (handleHttp).
    const receiver = { init: (a: unknown) => void (this.boltApp = a as BoltApp), start: async () => undefined, stop: async () => undefined };
    const app = new App({
      token: this.o.botToken,
      ...(http ? { receiver } : { appToken: this.o.appToken, socketMode: true, installerOptions: { clientOptions } }),
      logger,
      clientOptions,
    });
    for (const c of ['flurm', ...Object.keys(this.o.aliases)]) {
      app.command(`/${c}`, async ({ command, ack, respond }) => {
        await ack();
        try {
          const { bodies, ephemeral, charts } = await this.answer(command.command, command.text ?? '', command.user_id);
          // Slack takes 5 answers per command: past that, the last one says what is left out.
          const shown = bodies.length > RESPONSES_MAX ? [...bodies.slice(0, RESPONSES_MAX - 1), slackBodies([{ title: '', severity: 'info', summary: `${bodies.length - RESPONSES_MAX + 1} more messages not shown (Slack allows ${RESPONSES_MAX} answers to a command); \`flurm ${command.text ?? ''}\` in a terminal shows all.` }])[0]!] : bodies;
          for (const b of shown) await respond({ response_type: ephemeral ? 'ephemeral' : 'in_channel', text: b.text, blocks: b.blocks });
          // A chart (history, heatmap) follows as a picture in the same conversation.
          for (const chart of charts ?? []) {
            const why = await this.uploadChart(chart, command.channel_id);
            if (why) await respond({ response_type: 'ephemeral', text: `The chart could not be attached: ${why}` });
          }
          this.h.commands.answered++;
        } catch (err) {
          this.h.commands.failed++;
          this.o.log.warn('slack command failed', { command: command.command, error: errorMessage(err) });
        }
      });
    }
    // The buttons under a failure DM: answered to the presser only.
    app.action(/^flurm:(log|mute|diag):/, async ({ ack, body, action, respond }) => {
      await ack();
      const id = (action as { action_id?: string }).action_id ?? '';
      const m = /^flurm:(log|mute|diag):(.+)$/.exec(id);
      if (!m || !this.o.jobAction) return;
      try {
        let messages = this.o.jobAction(m[1] as 'log' | 'mute' | 'diag', m[2]!, body.user.id);
        if (m[1] === 'log') messages = await this.logAsFile(messages, (body as { channel?: { id?: string } }).channel?.id);
        for (const x of slackBodies(messages).slice(0, RESPONSES_MAX)) await respond({ response_type: 'ephemeral', replace_original: false, text: x.text, blocks: x.blocks });
      } catch (err) {
        this.o.log.warn('slack button failed', { action: id, error: errorMessage(err) });
      }
    });
    // The App Home tab: the person's running and recent jobs, from the same `jobs` entry.
    app.event('app_home_opened', async ({ event, client }) => {
      try {
        const view = await this.homeView(event.user);
        await client.views.publish({ user_id: event.user, view: view as never });
      } catch (err) {
        this.o.log.warn('slack home tab failed', { error: errorMessage(err) });
      }
    });
    this.app = app;
    try {
      const auth = (await app.client.auth.test()) as { team?: string; user?: string; response_metadata?: { scopes?: string[] } };
      this.h.team = auth.team ?? null;
      this.h.bot_user = auth.user ?? null;
      this.h.scopes = auth.response_metadata?.scopes ?? [];
      const uses = { ...SLACK_SCOPE_USES, ...(this.o.postsInChannels ? SLACK_CHANNEL_SCOPE_USES : {}) };
      this.h.missing_scopes = Object.entries(uses)
        .filter(([scope]) => !this.h.scopes.includes(scope))
        .map(([scope, what]) => ({ scope, for: what }));
      await app.start();
      this.setState('ready');
    } catch (err) {
      this.boltApp = null;
      this.setState('down', `cannot connect to Slack: ${errorMessage(err)}`);
    }
  }

  /**
   * The Log button's answer when the tail does not fit in one section (Slack's 3000 characters):
   * the whole tail uploaded as NAME.log into the DM where the button was pressed
   * (files.getUploadURLExternal, the upload, files.completeUploadExternal: filesUploadV2), and a
   * short answer saying so. Only in a DM: a file in a channel would show the owner's log to all.
   * A failed upload leaves the cut answer, and a warning in the log.
   */
  private async logAsFile(messages: Message[], channel: string | undefined): Promise<Message[]> {
    return Promise.all(
      messages.map(async (msg): Promise<Message> => {
        const tail = msg.logTail;
        if (!tail?.length || logTailFits(tail) || !channel?.startsWith('D')) return msg;
        const name = typeof msg.data?.job_name === 'string' && msg.data.job_name ? msg.data.job_name : 'job';
        const filename = `${name.replace(/[^\w.-]+/g, '-').replace(/^[.-]+/, '').slice(0, 100) || 'job'}.log`;
        try {
          const client = await this.webApi(UPLOAD_TIMEOUT_MS);
          await client.filesUploadV2({ channel_id: channel, filename, title: filename, content: `${tail.map((l) => l.replace(/\r?\n$/, '')).join('\n')}\n`, initial_comment: `Log of ${name}: the last ${plural(tail.length, 'line')}` });
          return { title: `Log of ${name}`, severity: 'info', summary: `Last ${plural(tail.length, 'line')} of ${name}: uploaded as ${filename}` };
        } catch (err) {
          this.o.log.warn('slack log upload failed; answered with the cut tail', { error: errorMessage(err), file: filename });
          return msg;
        }
      }),
    );
  }

  /**
   * A chart as a PNG (charts/render.ts, twice the pixels for phones) uploaded into the
   * conversation (filesUploadV2: files.getUploadURLExternal, the upload, completeUploadExternal).
   * Returns null, or why it could not (said to the asker; the answer's text stands without it).
   */
  private async uploadChart(chart: Chart, channel: string): Promise<string | null> {
    const name = `${chart.title.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80).toLowerCase() || 'chart'}.png`;
    try {
      const p = await chartPicture(chart);
      const client = await this.webApi(UPLOAD_TIMEOUT_MS);
      await client.filesUploadV2({ channel_id: channel, file: p.png, filename: name, title: p.description });
      this.h.charts = (this.h.charts ?? 0) + 1;
      return null;
    } catch (err) {
      const said = errorMessage(err);
      this.o.log.warn('slack chart upload failed', { error: said, file: name });
      if (/not_in_channel|channel_not_found/.test(said)) return 'the app is not in this channel: /invite @flurm, then ask again';
      if (/missing_scope/.test(said)) return 'the app lacks the files:write scope (flurm doctor says what to add)';
      return said;
    }
  }

  /** Slack's libraries log through this into the hub's log. */
  private boltLogger(level?: unknown) {
    const log = this.o.log;
    const said = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    return {
      debug: () => undefined,
      info: () => undefined,
      warn: (...a: unknown[]) => log.warn('slack', { said: said(a) }),
      error: (...a: unknown[]) => log.warn('slack', { said: said(a) }),
      setLevel: () => undefined,
      getLevel: () => level as never,
      setName: () => undefined,
    };
  }

  /**
   * HTTP mode: one request Slack POSTed to the hub's /slack/events. Verified with the signing
   * secret and Slack's 5-minute window first (Bolt's verifySlackRequest); a missing, wrong or
   * stale signature is 401 and a log line, and never reaches a command.
   */
  async handleHttp(req: Request): Promise<Response> {
    const app = this.boltApp;
    if (!app || !this.o.signingSecret) return new Response('the Slack app is not running here', { status: 503 });
    const length = Number(req.headers.get('content-length') ?? 0);
    if (length > HTTP_BODY_MAX_BYTES) return new Response('too large', { status: 413 });
    const body = await req.text();
    if (body.length > HTTP_BODY_MAX_BYTES) return new Response('too large', { status: 413 });
    const signature = req.headers.get('x-slack-signature');
    const ts = Number(req.headers.get('x-slack-request-timestamp'));
    const { verifySlackRequest } = await import('@slack/bolt');
    try {
      if (!signature || !Number.isFinite(ts)) throw new Error('no Slack signature headers');
      verifySlackRequest({ signingSecret: this.o.signingSecret, body, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts }, nowMilliseconds: this.now() });
    } catch (err) {
      this.h.refused++;
      this.o.log.warn('refused a request to /slack/events', { reason: errorMessage(err) });
      return new Response('invalid signature', { status: 401 });
    }
    let parsed: Record<string, unknown>;
    try {
      if ((req.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(body) as Record<string, unknown>;
      else {
        const form = Object.fromEntries(new URLSearchParams(body));
        parsed = typeof form.payload === 'string' ? (JSON.parse(form.payload) as Record<string, unknown>) : form;
      }
    } catch {
      return new Response('not a Slack request body', { status: 400 });
    }
    if (parsed.type === 'url_verification') return Response.json({ challenge: parsed.challenge });
    // The answer Slack waits for is the ack: resolve the HTTP response with it.
    let answer: (r: Response) => void = () => undefined;
    const acked = new Promise<Response>((r) => (answer = r));
    const ack = async (response?: unknown) => answer(response === undefined || response === '' ? new Response(null, { status: 200 }) : typeof response === 'string' ? new Response(response, { status: 200 }) : Response.json(response));
    void app.processEvent({ body: parsed, ack }).catch((err: unknown) => {
      this.o.log.warn('slack request failed', { error: errorMessage(err) });
      answer(new Response('failed', { status: 500 }));
    });
    return Promise.race([acked, new Promise<Response>((r) => setTimeout(() => r(new Response(null, { status: 200 })), ACK_WAIT_MS).unref())]);
  }

  /**
   * One DM (the outbox's slack-dm:// transport). Slack has no idempotency key, so the message
   * carries its outbox key in `metadata`; when the outbox says an earlier request may have landed
   * (the hub died mid-send), the DM's recent history is searched for that key first, and a
   * message found there is the one already sent.
   */
  async sendDm(userId: string, message: Message, opts: SendOpts): Promise<void> {
    await this.sendOnce(message, opts, { count: this.dm, lookback: DM_HISTORY_LOOKBACK, buttons: true }, async (client) => {
      const known = this.dmChannels.get(userId);
      if (known) return known;
      const open = (await client.conversations.open({ users: userId })) as { channel?: { id?: string } };
      const channel = open.channel?.id;
      if (!channel) throw new DeliveryError(`Slack opened no DM with ${userId}`, { retryable: true });
      this.dmChannels.set(userId, channel);
      return channel;
    });
  }

  /**
   * One post in a channel (the outbox's slack-channel:// transport): `channel` is an id (C…/G…)
   * or `#name`, a public channel found with conversations.list (channels:read; cached). Exactly
   * once by the same rule as sendDm. The app must be in the channel: Slack's not_in_channel (and
   * channel_not_found) come back as a non-retryable error saying to /invite it.
   */
  async sendChannel(channel: string, message: Message, opts: SendOpts): Promise<void> {
    const invite = `invite the app to ${channel.startsWith('#') ? channel : `channel ${channel}`}: /invite @${this.h.bot_user ?? 'flurm'}`;
    try {
      await this.sendOnce(message, opts, { count: this.channel, lookback: CHANNEL_HISTORY_LOOKBACK, buttons: false, invite }, (client) => this.channelId(client, channel));
    } catch (err) {
      // A renamed or deleted channel: look its name up again next time.
      if (channel.startsWith('#')) this.channelIds.delete(channel);
      throw err;
    }
  }

  /** A channel's id: as given, or a `#name` looked up among the public channels. */
  private async channelId(client: SlackWebClient, channel: string): Promise<string> {
    if (!channel.startsWith('#')) return channel;
    const known = this.channelIds.get(channel);
    if (known) return known;
    let cursor: string | undefined;
    for (let page = 0; page < CHANNEL_LIST_PAGES; page++) {
      const r = (await client.conversations.list({ types: 'public_channel', exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) })) as { channels?: { id?: string; name?: string }[]; response_metadata?: { next_cursor?: string } };
      for (const c of r.channels ?? []) if (c.id && c.name) this.channelIds.set(`#${c.name}`, c.id);
      const found = this.channelIds.get(channel);
      if (found) return found;
      cursor = r.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    throw new DeliveryError(`Slack has no public channel ${channel} (for a private channel, write its id: slack:C…, and /invite @${this.h.bot_user ?? 'flurm'} there)`, { retryable: false });
  }

  /**
   * The part DMs and channel posts share: a deadline, the history check when the message may be
   * there already (its key in metadata), the post (with the job buttons in a DM: they answer the
   * job's owner only), Slack's errors as the outbox's DeliveryError.
   */
  private async sendOnce(
    message: Message,
    opts: SendOpts,
    how: { count: { sent: number; found_in_history: number }; lookback: number; buttons: boolean; invite?: string },
    open: (client: SlackWebClient) => Promise<string>,
  ): Promise<void> {
    const { count, lookback } = how;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeliveryError(`Slack did not answer within ${opts.timeoutMs} ms`, { retryable: true })), opts.timeoutMs);
    });
    const send = async () => {
      const client = await this.webApi(opts.timeoutMs);
      try {
        const channel = await open(client);
        if (opts.maybeSent && opts.key) {
          const h = (await client.conversations.history({ channel, limit: lookback, include_all_metadata: true })) as { messages?: { metadata?: { event_payload?: { key?: unknown } } }[] };
          if ((h.messages ?? []).some((m) => m.metadata?.event_payload?.key === opts.key)) {
            count.found_in_history++;
            return;
          }
        }
        const [body] = slackBodies([message]);
        const b = how.buttons ? (this.o.jobButtons?.(opts.refId) ?? null) : null;
        const blocks = b ? [...body!.blocks.slice(0, SLACK_LIMITS.blocks - 1), jobButtonsBlock(b.jobId, b.diagnosis)] : body!.blocks;
        await client.chat.postMessage({
          channel,
          text: body!.text,
          blocks,
          unfurl_links: false,
          unfurl_media: false,
          ...(opts.key ? { metadata: { event_type: DM_METADATA_EVENT, event_payload: { key: opts.key } } } : {}),
        });
        count.sent++;
        // A scheduled history or heatmap: its picture follows, best effort (the message is posted:
        // a failed upload must not make the outbox post it again). Not after a repeat found above.
        if (message.chart) await this.uploadChart(message.chart, channel);
      } catch (err) {
        throw slackDeliveryError(err, how.invite);
      }
    };
    try {
      await Promise.race([send(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The Web API client for sends and uploads: no retries of its own (the outbox retries), rate limits back to it. */
  private async webApi(timeoutMs: number): Promise<SlackWebClient> {
    if (!this.webClient) {
      const { WebClient } = await import('@slack/web-api');
      this.webClient = new WebClient(this.o.botToken, { slackApiUrl: this.o.api, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: timeoutMs, logger: this.boltLogger() as never }) as unknown as SlackWebClient;
    }
    return this.webClient;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = null;
    if (app) await app.stop().catch(() => undefined);
    this.setState('stopped');
  }
}
