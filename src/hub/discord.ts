// The hub's Discord front end (docs/discord.md): the token, one REST client (its rate-limit state
// shared by answers and DMs), the bot (frontends/discord/bot.ts) that only the ACTIVE hub
// connects, the DM transport the outbox sends discord-dm:// rows through, the buttons under a
// failure DM, and /when-free.
//
// DMs are exactly once: each carries a nonce derived from its outbox key with enforce_nonce, so a
// message re-sent after a crash between Discord's 2xx and the "sent" write is answered by
// Discord with the message it already made, not a second one. A user who cannot be DMed (50007)
// is mentioned in the lab channel instead, and named in /healthz and `flurm doctor`.
import crypto from 'node:crypto';
import type { REST } from '@discordjs/rest';
import type { HubConfig } from '../config/schema.js';
import { readSecret } from '../config/secret.js';
import type { DataSource } from '../commands/source.js';
import { invoke } from '../commands/invoke.js';
import type { CommandDef } from '../commands/table.js';
import { describeRequirements } from '../commands/node-best.js';
import { bytesOf } from '../commands/args.js';
import { DeliveryError, errorMessage, UserError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { formatLocalTime } from '../lib/time.js';
import { plural } from '../lib/format.js';
import type { Message } from '../model/message.js';
import type { DiscordDmTransport } from '../notifiers/types.js';
import { dmUrl } from '../notifiers/discord-dm.js';
import { getMeta, setMeta, type Db } from '../store/db.js';
import type { JobStore } from '../store/jobs.js';
import type { ProblemStore } from '../store/outbox.js';
import type { MuteStore, WhenFreeStore } from '../store/bot.js';
import { DiscordBot, type BotHealth, type BotServices } from '../frontends/discord/bot.js';
import { dmBody, failureButtons, withPicture, type BotBody } from '../frontends/discord/answer.js';
import { chartPicture } from '../frontends/chart-picture.js';
import type { Enqueuer } from './enqueue.js';
import { jobAction, jobButtons } from './job-actions.js';

export type DiscordConfig = NonNullable<HubConfig['discord']>;

/** What the bot needs of account links (hub/links.ts). */
export interface LinkLookup {
  discordOf(user: string): string | null;
  userOf(discordId: string): string | null;
  linkAnswer(chat: 'discord', discordId: string, nowMs: number): Message;
  unlinkAnswer(chat: 'discord', discordId: string): Message;
}

/** REST waits out a rate limit this short itself; longer ones go back to the outbox. */
const RATE_LIMIT_WAIT_MS = 1000;
/** REST waits this much beyond a bucket's reset (clock slack); not part of what Discord asked. */
const REST_OFFSET_MS = 50;
export const WHEN_FREE_TTL_MS = 24 * 3_600_000;
/** One person may wait for this many fits at once. */
export const WHEN_FREE_MAX = 5;
/** Requirement options of /when-free: `best`'s, without `slurm`. */
const REQUIREMENTS = ['cpus', 'mem', 'gpus', 'gpu_mem', 'partition'] as const;

/** Discord nonces are at most 25 characters: 25 hex digits of the outbox key's hash. */
export function dmNonce(key: string): string {
  return crypto.createHash('sha256').update(`dm:${key}`).digest('hex').slice(0, 25);
}

/** The bot token, from the file or the variable the config names (never logged). */
export function readToken(cfg: DiscordConfig, configDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return readSecret({ field: '[discord] token', file: cfg.token_file, env: cfg.token_env, what: 'the bot token' }, configDir, env);
}

export interface DiscordHubDeps {
  cfg: DiscordConfig;
  token: string;
  db: Db;
  jobs: JobStore;
  links: LinkLookup;
  mutes: MuteStore;
  whenFree: WhenFreeStore;
  problems: ProblemStore;
  enqueuer: Enqueuer;
  commands: readonly CommandDef[];
  log: Logger;
  now: () => number;
  /** Delivery timeout (s): also REST's request timeout. */
  timeoutSeconds: number;
  /** Something was queued: let the outbox look. */
  wake: () => void;
}

export interface DmHealth {
  /** DMs and channel posts Discord accepted. */
  sent: number;
  /** Of those, sends of a message whose earlier attempt's outcome was lost (the hub died mid-send): its nonce makes Discord answer with the first one. */
  resent: number;
  channel_fallbacks: number;
  /** Linked users Discord will not let the bot DM (50007), by unix user or Discord id. */
  cannot_dm: string[];
}

export class DiscordHub implements DiscordDmTransport {
  private rest: REST | null = null;
  private bot: DiscordBot | null = null;
  private source: DataSource | null = null;
  /** The data as one asker may see it (hub/http/redact.ts); absent: the whole source. */
  private sourceFor: ((user: string | null) => DataSource) | null = null;
  private readonly dmChannels = new Map<string, string>();
  private readonly dm: DmHealth = { sent: 0, resent: 0, channel_fallbacks: 0, cannot_dm: [] };
  private active = false;

  constructor(private readonly d: DiscordHubDeps) {}

  /** REST is made on first use, so the Discord libraries load only in a hub with a bot. */
  private async restClient(): Promise<REST> {
    if (!this.rest) {
      const { REST } = await import('@discordjs/rest');
      this.rest = new REST({
        version: '10',
        api: `${this.d.cfg.api.replace(/\/+$/, '')}/api`,
        timeout: this.d.timeoutSeconds * 1000,
        offset: REST_OFFSET_MS,
        // Short waits (a bucket's next second, the global 50/s) REST sits out itself; a longer
        // Retry-After comes back as an error, and the outbox reschedules that queue's head.
        rejectOnRateLimit: (r) => r.retryAfter > RATE_LIMIT_WAIT_MS,
      }).setToken(this.d.token);
    }
    return this.rest;
  }

  /** Connect the bot (the hub became active). Never waits for Discord. */
  /** The command table's data (the hub's in-process source), for answers and /when-free checks. */
  attach(source: DataSource, sourceFor?: (user: string | null) => DataSource): void {
    this.source = source;
    if (sourceFor) this.sourceFor = sourceFor;
  }

  async start(source: DataSource, sourceFor?: (user: string | null) => DataSource): Promise<void> {
    this.attach(source, sourceFor);
    this.active = true;
    const rest = await this.restClient();
    if (!this.active) return;
    this.bot ??= new DiscordBot({ token: this.d.token, api: this.d.cfg.api, guildIds: this.d.cfg.guild_ids, rest, services: this.services(), now: this.d.now });
    this.bot.start();
  }

  /** Disconnect (standby, or the hub stops). */
  async stop(): Promise<void> {
    this.active = false;
    const bot = this.bot;
    this.bot = null;
    await bot?.stop();
  }

  health(): { bot: BotHealth | { state: 'standby' }; dm: DmHealth; when_free: number } {
    return { bot: this.bot?.health() ?? { state: 'standby' }, dm: { ...this.dm, cannot_dm: [...this.dm.cannot_dm] }, when_free: this.d.whenFree.open().length };
  }

  // ---- DMs (the outbox's transport) ------------------------------------------------------------

  async sendDm(discordId: string, message: Message, opts: { key: string; refId?: string; maybeSent: boolean; timeoutMs: number }): Promise<void> {
    const nonce = dmNonce(opts.key);
    const b = jobButtons(this.d.jobs, opts.refId);
    const buttons = b ? failureButtons(b.jobId, { diagnosis: b.diagnosis }) : undefined;
    await this.post(opts, async (rest, signal, Routes) => {
      let channel = this.dmChannels.get(discordId);
      if (!channel) {
        const c = (await rest.post(Routes.userChannels(), { body: { recipient_id: discordId }, signal })) as { id: string };
        channel = c.id;
        this.dmChannels.set(discordId, channel);
      }
      await rest.post(Routes.channelMessages(channel), { body: dmBody(message, { nonce, buttons }), signal });
    }, (err, signal) => this.fallback(discordId, message, nonce, signal, err, buttons));
  }

  /** A post in a channel (a schedule's discord-channel:// row): nonce from the key, enforce_nonce, no mentions. */
  async sendChannel(channelId: string, message: Message, opts: { key: string; maybeSent: boolean; timeoutMs: number }): Promise<void> {
    const nonce = dmNonce(`channel:${opts.key}`);
    const body = dmBody(message, { nonce });
    // A scheduled history or heatmap carries its chart: posted with the PNG as its embed's image.
    let picture: { png: Buffer; name: string; description: string } | null = null;
    if (message.chart) {
      try {
        picture = await chartPicture(message.chart);
      } catch (err) {
        this.d.log.warn('could not draw the chart of a channel post; posting its text alone', { error: errorMessage(err) });
      }
    }
    if (!picture) return this.post(opts, (rest, signal, Routes) => rest.post(Routes.channelMessages(channelId), { body, signal }));
    const { files, ...json } = withPicture(body as BotBody, picture.png, picture.name, message.title, picture.description);
    await this.post(opts, (rest, signal, Routes) => rest.post(Routes.channelMessages(channelId), { body: json, files: files ?? [], signal }));
  }

  /**
   * One send through REST within the outbox's timeout, its failure as the outbox's DeliveryError.
   * `cannotDm` takes error 50007. A send that may repeat one whose outcome was lost is counted:
   * its nonce makes Discord answer with the message it already made, if it did.
   */
  private async post(
    opts: { maybeSent: boolean; timeoutMs: number },
    send: (rest: REST, signal: AbortSignal, routes: typeof import('discord-api-types/v10').Routes) => Promise<unknown>,
    cannotDm?: (err: Error, signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const rest = await this.restClient();
    const { DiscordAPIError, RateLimitError } = await import('@discordjs/rest');
    const { Routes } = await import('discord-api-types/v10');
    const signal = AbortSignal.timeout(opts.timeoutMs);
    try {
      await send(rest, signal, Routes);
      this.dm.sent++;
      if (opts.maybeSent) this.dm.resent++;
    } catch (err) {
      if (cannotDm && err instanceof DiscordAPIError && err.code === 50007) return cannotDm(err, signal);
      if (err instanceof RateLimitError) throw new DeliveryError(`Discord rate limit (${err.scope}, ${err.route})`, { status: 429, retryable: true, retryAfterSeconds: Math.max(0, err.retryAfter - REST_OFFSET_MS) / 1000, cause: err });
      if (signal.aborted) throw new DeliveryError(`Discord did not answer within ${opts.timeoutMs} ms`, { retryable: true, cause: err });
      throw toDeliveryError(err, DiscordAPIError);
    }
  }

  /** 50007: this person does not take DMs from the bot. Mention them in the lab channel instead. */
  private async fallback(discordId: string, message: Message, nonce: string, signal: AbortSignal, cause: Error, buttons: ReturnType<typeof failureButtons> | undefined): Promise<void> {
    const who = this.d.links.userOf(discordId) ?? discordId;
    if (!this.dm.cannot_dm.includes(who)) this.dm.cannot_dm.push(who);
    this.d.problems.report(`discord-cannot-dm:${discordId}`, `Discord will not let the bot DM ${who} (error 50007: DMs from server members are off); ${this.d.cfg.channel_id ? 'they are mentioned in the lab channel instead' : 'set [discord] channel_id to mention them in the lab channel instead'}`, { nowMs: this.d.now() });
    const channel = this.d.cfg.channel_id;
    if (!channel) throw new DeliveryError(`cannot DM ${who} (Discord error 50007) and no lab channel is set`, { retryable: false, cause });
    const rest = await this.restClient();
    const { Routes } = await import('discord-api-types/v10');
    const body = dmBody(message, { nonce: dmNonce(`lab:${nonce}`), mention: discordId, note: 'I could not DM you (your DMs from server members are off):', buttons });
    await rest.post(Routes.channelMessages(channel), { body, signal });
    this.dm.channel_fallbacks++;
  }

  // ---- What the bot asks of the hub ------------------------------------------------------------

  private services(): BotServices {
    const d = this.d;
    return {
      source: this.source!,
      ...(this.sourceFor ? { sourceFor: this.sourceFor } : {}),
      commands: d.commands,
      log: d.log,
      userOf: (id) => d.links.userOf(id),
      link: (id) => d.links.linkAnswer('discord', id, d.now()),
      unlink: (id) => d.links.unlinkAnswer('discord', id),
      registeredHash: (scope) => getMeta(d.db, `discord.commands:${scope}`) ?? null,
      recordHash: (scope, hash) => setMeta(d.db, `discord.commands:${scope}`, hash),
      button: (action, ref, discordId, user) => this.button(action, ref, discordId, user),
      whenFree: (discordId, user, args) => this.askWhenFree(discordId, user, args),
    };
  }

  private async button(action: 'log' | 'mute' | 'diag' | 'wf-cancel', ref: string, discordId: string, user: string | null): Promise<{ title: string; text: string; severity?: Message['severity'] } | { messages: Message[] }> {
    const d = this.d;
    if (action === 'wf-cancel') {
      const n = d.whenFree.cancel(discordId, Number(ref), d.now());
      return { title: '/when-free', text: n ? 'Cancelled.' : 'That request was already answered, cancelled or expired.' };
    }
    return { messages: jobAction({ jobs: d.jobs, mutes: d.mutes, enqueuer: d.enqueuer, now: d.now }, action, ref, user, discordId, 'Run /link') };
  }

  private requirementsOf(args: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of REQUIREMENTS) if (args[k] !== undefined) out[k] = args[k];
    return out;
  }

  private best(): CommandDef {
    const def = this.d.commands.find((c) => c.name === 'best');
    if (!def) throw new Error('no best command in the table');
    return def;
  }

  /** /when-free: with needs, answer now if a node fits, else remember; with none, list (and cancel). */
  private async askWhenFree(discordId: string, user: string | null, args: Record<string, unknown>): Promise<{ messages: Message[] }> {
    const d = this.d;
    const req = this.requirementsOf(args);
    const cancel = typeof args.cancel === 'string' ? args.cancel : undefined;
    if (cancel !== undefined) {
      const id = cancel === 'all' ? null : Number(cancel.replace(/^#/, ''));
      if (id !== null && !Number.isInteger(id)) throw new UserError(`cancel: "${cancel}" is not a request number (or "all")`);
      const n = d.whenFree.cancel(discordId, id, d.now());
      return { messages: [{ title: '/when-free', severity: 'info', summary: n ? `Cancelled ${plural(n, 'request')}.` : 'Nothing to cancel.' }] };
    }
    if (Object.keys(req).length === 0) {
      const open = d.whenFree.open(discordId);
      if (!open.length) return { messages: [{ title: '/when-free', severity: 'info', summary: 'You are waiting for nothing. `/when-free gpus:1 mem:32G` DMs you once when a node fits.' }] };
      return {
        messages: [
          {
            title: '/when-free: waiting for',
            severity: 'info',
            table: { columns: ['#', 'NEEDS', 'UNTIL'], rows: open.map((w) => [String(w.id), describeArgs(w.args), formatLocalTime(new Date(w.expires_ms).toISOString())]) },
            footer: 'cancel one with /when-free cancel:N, or cancel:all',
          },
        ],
      };
    }
    // Checked like the CLI's `flurm best`: the same entry, so the same arguments and errors.
    const a = await invoke(this.best(), req, this.source!, { user, warn: () => undefined }, { frontEnd: 'other' });
    if (a.exitCode === 0) return { messages: [{ ...a.messages[0]!, title: `Fits now: ${a.messages[0]!.title}` }, ...a.messages.slice(1)] };
    if (d.whenFree.open(discordId).length >= WHEN_FREE_MAX) throw new UserError(`you are already waiting for ${WHEN_FREE_MAX} fits; cancel one first (/when-free lists them)`);
    const w = d.whenFree.add(discordId, user, req, d.now(), WHEN_FREE_TTL_MS);
    return {
      messages: [{ title: '/when-free', severity: 'info', summary: `Nothing fits ${describeArgs(req)} now. I will DM you once when a node does (request #${w.id}, until ${formatLocalTime(new Date(w.expires_ms).toISOString())}).` }],
    };
  }

  /** One round: every open request asked of `best`; a fit is one DM through the outbox, once. */
  async checkWhenFree(): Promise<number> {
    const d = this.d;
    if (!this.source) return 0;
    let fired = 0;
    for (const w of d.whenFree.open()) {
      const now = d.now();
      if (w.expires_ms <= now) {
        d.whenFree.close(w.id, 'expired', now);
        continue;
      }
      let a;
      try {
        a = await invoke(this.best(), w.args, this.source, { user: w.user, warn: () => undefined }, { frontEnd: 'other' });
      } catch (err) {
        d.log.warn('a /when-free request cannot be checked; dropped', { id: w.id, error: errorMessage(err) });
        d.whenFree.close(w.id, 'cancelled', now);
        continue;
      }
      if (a.exitCode !== 0) continue;
      const m = a.messages[0]!;
      const message: Message = { ...m, title: `A node fits: ${m.title}`, footer: `your /when-free request #${w.id} (${describeArgs(w.args)})` };
      // Closing the request and queueing its DM commit together: it fires once.
      const queued = d.db.transaction(() => (d.whenFree.close(w.id, 'fired', now) ? d.enqueuer.direct(w.user ?? `discord:${w.discord_id}`, `when-free:${w.id}`, `when-free:${w.id}`, dmUrl(w.discord_id), message, now) : 0))();
      if (queued) fired++;
    }
    if (fired) d.wake();
    return fired;
  }

  /** The DM destination of a linked user (routing's dmOf). */
  dmOf(user: string): string | null {
    const id = this.d.links.discordOf(user);
    return id ? dmUrl(id) : null;
  }
}

/** "2 GPUs, 32 GiB memory" from /when-free's options. */
function describeArgs(args: Record<string, unknown>): string {
  try {
    const size = (v: unknown) => (v === undefined ? undefined : bytesOf(String(v)));
    return describeRequirements({
      ...(args.cpus !== undefined ? { cpus: Number(args.cpus) } : {}),
      ...(args.mem !== undefined ? { mem_bytes: size(args.mem) } : {}),
      ...(args.gpus !== undefined ? { gpus: Number(args.gpus) } : {}),
      ...(args.gpu_mem !== undefined ? { gpu_mem_bytes: size(args.gpu_mem) } : {}),
      ...(typeof args.partition === 'string' ? { partition: args.partition } : {}),
    });
  } catch {
    return JSON.stringify(args);
  }
}

/** A REST failure as the outbox's DeliveryError: 4xx are permanent (for this message), the rest retried. */
function toDeliveryError(err: unknown, DiscordAPIError: abstract new (...a: never[]) => { status: number; code: number | string; message: string }): DeliveryError {
  if (err instanceof DiscordAPIError) {
    const e = err as unknown as { status: number; code: number | string; message: string };
    const retryable = e.status >= 500 || e.status === 429;
    // No `status` on a 4xx: that refuses this message, not every DM to this person.
    return new DeliveryError(`Discord said ${e.status} (code ${e.code}): ${e.message}`, { retryable, ...(retryable ? { status: e.status } : {}), cause: err });
  }
  const status = (err as { status?: number }).status;
  if (typeof status === 'number' && status >= 500) return new DeliveryError(`Discord answered ${status}`, { retryable: true, cause: err });
  return new DeliveryError(`cannot reach Discord: ${errorMessage(err)}`, { retryable: true, cause: err });
}
