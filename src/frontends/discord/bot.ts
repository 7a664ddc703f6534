// The Discord bot: a front end of the command table that the ACTIVE hub runs (docs/discord.md).
// It connects over the gateway (@discordjs/ws: heartbeats, resume after a dropped connection,
// reconnects), needs no privileged intent and no inbound port: interactions arrive over the
// gateway and are answered over REST (@discordjs/rest: rate-limit buckets, Retry-After).
//
// - Slash commands: one per command table entry, plus the bot's own /help, /link, /unlink and
//   /when-free; registered on READY with one bulk overwrite, only when the definitions' hash
//   changed (Discord allows 200 creates a day).
// - An answer comes within Discord's 3 s: if the command has not answered after DEFER_AFTER_MS
//   the bot defers (type 5) and edits the original when it has.
// - Personal answers (/jobs, /link, /unlink, /when-free, buttons) are ephemeral.
// - Autocomplete for node names, from the live cluster.
// - Buttons under a failure DM: Log, Mute 1 h, Diagnosis — only the job's owner may press them.
//
// The bot decides nothing about the cluster: every answer is commands/invoke.ts on the hub's
// DataSource; the hub injects what is not a query (links, mutes, when-free, jobs) as BotServices.
// The Discord libraries are imported when the bot starts, never by `flurm run`.
import type { REST } from '@discordjs/rest';
import type { WebSocketManager } from '@discordjs/ws';
import type { API, Client } from '@discordjs/core';
import type {
  APIApplicationCommandAutocompleteInteraction,
  APIApplicationCommandInteractionDataBasicOption,
  APIChatInputApplicationCommandInteraction,
  APIInteraction,
  APIMessageComponentInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { CommandDef, CommandContext } from '../../commands/table.js';
import { errorAnswer, invoke } from '../../commands/invoke.js';
import type { DataSource } from '../../commands/source.js';
import { errorMessage, UserError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Message } from '../../model/message.js';
import { argsFromOptions, definitionHash, discordCommands } from './commands.js';
import { answerBodies, noticeBody, parseButtonId, withPicture, type BotBody } from './answer.js';
import { chartPicture } from '../chart-picture.js';

/** Defer when a command has not answered by then (Discord closes the interaction at 3 s). */
export const DEFER_AFTER_MS = 1500;
const EPHEMERAL = 64;
/** The bot's own commands whose answers are about the person asking (table entries say so themselves). */
const PERSONAL = new Set(['link', 'unlink', 'when-free', 'help']);

export type BotState = 'off' | 'connecting' | 'ready' | 'resuming' | 'reconnecting' | 'down' | 'stopped';

export interface BotHealth {
  state: BotState;
  since: string;
  last_error: string | null;
  user: string | null;
  application_id: string | null;
  guilds: number;
  /** Gateway heartbeat round trip (ms), last one. */
  latency_ms: number | null;
  commands: { hash: string | null; registered: string | null; error: string | null };
  interactions: { answered: number; deferred: number; failed: number };
  resumes: number;
  reconnects: number;
}

/** What the hub gives the bot: the data, and the few actions that are not queries. */
export interface BotServices {
  source: DataSource;
  /**
   * The data as `user` may see it (the unix user the asker is linked to; null: not linked):
   * other users' commands, cwd and logs left out unless the lab shares them (hub/http/redact.ts).
   */
  sourceFor?(user: string | null): DataSource;
  commands: readonly CommandDef[];
  log: Logger;
  /** The unix user linked to a Discord user, or null. */
  userOf(discordId: string): string | null;
  /** /link: the answer with a one-time code (hub/links.ts linkAnswer; throws UserError when rate-limited). */
  link(discordId: string): Message;
  /** /unlink: the answer, the link ended. */
  unlink(discordId: string): Message;
  /** The definition hash last registered (meta table), and recording a new one. */
  registeredHash(scope: string): string | null;
  recordHash(scope: string, hash: string): void;
  /** A button press, already checked against the job's owner by the hub. */
  button(action: 'log' | 'mute' | 'diag' | 'wf-cancel', ref: string, discordId: string, user: string | null): Promise<{ title: string; text: string; severity?: Message['severity'] } | { messages: Message[] }>;
  /** /when-free: add a watch (or say a node fits now), or list them. */
  whenFree(discordId: string, user: string | null, args: Record<string, unknown>): Promise<{ messages: Message[] }>;
}

export interface BotOptions {
  token: string;
  /** Discord's base URL ("https://discord.com"); REST is `${api}/api/v10`. */
  api: string;
  guildIds: readonly string[];
  services: BotServices;
  /** The REST client, shared with the DM destination (one rate-limit state per token). */
  rest: REST;
  now?: () => number;
}

/** The bot's own commands beside the table's. `when-free` takes `best`'s requirements. */
function ownCommands(defs: readonly CommandDef[]): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const best = defs.find((d) => d.name === 'best');
  const bestOpts = best ? (discordCommands([best])[0]!.options ?? []) : [];
  return [
    { type: 1, name: 'help', description: 'what flurm can tell you here' },
    { type: 1, name: 'link', description: 'link your Discord account to your unix user (for DMs when your jobs end)' },
    { type: 1, name: 'unlink', description: 'stop linking your Discord account to a unix user' },
    {
      type: 1,
      name: 'when-free',
      description: 'DM me once when a node fits these needs (none given: list and cancel my requests)',
      options: [
        ...bestOpts.filter((o) => o.name !== 'slurm'),
        { type: 3, name: 'cancel', description: 'cancel request N (from the list), or "all"', max_length: 8 },
      ] as RESTPostAPIChatInputApplicationCommandsJSONBody['options'],
    },
  ];
}

/** Every command the bot registers: the table's, then its own. */
export function botCommands(defs: readonly CommandDef[]): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return [...discordCommands(defs), ...ownCommands(defs)];
}

/** /help: each command with its one line. */
function helpMessage(defs: readonly CommandDef[]): Message {
  const own = ownCommands(defs);
  return {
    title: 'flurm',
    severity: 'info',
    summary: 'Ask the lab\'s cluster from here. Job ends come as DMs once you have run /link.',
    fields: [...defs.map((d) => ({ name: `/${d.name}`, value: d.description })), ...own.map((c) => ({ name: `/${c.name}`, value: c.description }))].map((f) => ({ ...f, inline: false })),
  };
}

function discordUserOf(i: APIInteraction): string | null {
  return i.member?.user.id ?? i.user?.id ?? null;
}

export class DiscordBot {
  private gateway: WebSocketManager | null = null;
  private client: Client | null = null;
  private api: API | null = null;
  private stopping = false;
  private connectLoop: Promise<void> | null = null;
  private wakeRetry: (() => void) | null = null;
  private readonly now: () => number;
  private readonly h: BotHealth;
  private readonly body: RESTPostAPIChatInputApplicationCommandsJSONBody[];
  /** Outstanding interaction handlers, so stop() can let them finish. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: BotOptions) {
    this.now = o.now ?? Date.now;
    this.body = botCommands(o.services.commands);
    this.h = {
      state: 'off',
      since: new Date(this.now()).toISOString(),
      last_error: null,
      user: null,
      application_id: null,
      guilds: 0,
      latency_ms: null,
      commands: { hash: definitionHash(this.body), registered: null, error: null },
      interactions: { answered: 0, deferred: 0, failed: 0 },
      resumes: 0,
      reconnects: 0,
    };
  }

  health(): BotHealth {
    return { ...this.h, commands: { ...this.h.commands }, interactions: { ...this.h.interactions } };
  }

  private setState(s: BotState, error?: string): void {
    if (this.h.state !== s) {
      this.h.state = s;
      this.h.since = new Date(this.now()).toISOString();
      this.o.services.log.info('discord bot', { state: s, ...(error ? { error } : {}) });
    }
    if (error !== undefined) this.h.last_error = error;
  }

  /** Connect in the background (never blocks the hub); retries with backoff until stop(). */
  start(): void {
    if (this.connectLoop) return;
    this.stopping = false;
    this.connectLoop = this.run().finally(() => (this.connectLoop = null));
  }

  private async run(): Promise<void> {
    const [{ WebSocketManager, WebSocketShardEvents }, { Client, GatewayDispatchEvents }] = await Promise.all([import('@discordjs/ws'), import('@discordjs/core')]);
    let attempt = 0;
    while (!this.stopping) {
      this.setState('connecting');
      const gateway = new WebSocketManager({ token: this.o.token, intents: 0, rest: this.o.rest });
      const client = new Client({ rest: this.o.rest, gateway });
      this.gateway = gateway;
      this.client = client;
      this.api = client.api;
      let fatal: string | null = null;
      gateway.on(WebSocketShardEvents.Resumed, () => {
        this.h.resumes++;
        this.setState('ready');
      });
      gateway.on(WebSocketShardEvents.HeartbeatComplete, (stats) => {
        this.h.latency_ms = stats.latency;
      });
      gateway.on(WebSocketShardEvents.Closed, (code) => {
        if (this.stopping) return;
        // 4004 bad token, 4010-4014 bad shard/version/intents: @discordjs/ws will not come back.
        if (code === 4004 || (code >= 4010 && code <= 4014)) {
          fatal = code === 4004 ? 'Discord rejected the bot token (gateway close 4004)' : `Discord closed the gateway with ${code}`;
          this.setState('down', fatal);
          this.wakeRetry?.();
        } else {
          this.h.reconnects++;
          this.setState('resuming', `gateway closed (${code}); resuming`);
        }
      });
      gateway.on(WebSocketShardEvents.Error, (err) => {
        this.o.services.log.warn('discord gateway error', { error: errorMessage(err) });
        this.h.last_error = errorMessage(err);
      });
      client.on(GatewayDispatchEvents.Ready, ({ data }) => {
        this.h.user = `${data.user.username}`;
        this.h.application_id = data.application.id;
        this.h.guilds = data.guilds.length;
        attempt = 0;
        this.setState('ready');
        void this.register(data.application.id);
      });
      client.on(GatewayDispatchEvents.InteractionCreate, ({ data }) => {
        const p = this.onInteraction(data).catch((err) => {
          this.h.interactions.failed++;
          this.o.services.log.warn('discord interaction failed', { error: errorMessage(err) });
        });
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      });
      try {
        await gateway.connect();
        // Connected: stay here until stop(), or until the gateway says it will not come back.
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          if (this.stopping || fatal) resolve();
        });
      } catch (err) {
        this.setState('down', `cannot connect to Discord: ${errorMessage(err)}`);
      }
      this.wakeRetry = null;
      await Promise.resolve(gateway.destroy()).catch(() => undefined);
      if (this.stopping) break;
      // Back off 1 s, 2 s, … 60 s (with jitter), so a Discord outage is not a request storm.
      attempt++;
      const waitMs = Math.round(Math.min(60_000, 1000 * 2 ** Math.min(attempt - 1, 6)) * (0.5 + Math.random() / 2));
      this.h.reconnects++;
      this.setState('reconnecting');
      await new Promise<void>((r) => {
        const t = setTimeout(r, waitMs);
        this.wakeRetry = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wakeRetry = null;
    }
    this.setState('stopped');
  }

  /** Disconnect (a standby hub must not answer). Resolves when answers in progress are done. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeRetry?.();
    await Promise.allSettled([...this.inFlight]);
    // The connect loop destroys its own gateway (twice at once can hang @discordjs/ws).
    await this.connectLoop;
    this.gateway = null;
    this.client = null;
  }

  /** One bulk overwrite per scope (each guild, or global), only when the definitions changed. */
  private async register(applicationId: string): Promise<void> {
    const api = this.api!;
    const hash = definitionHash(this.body);
    const scopes = this.o.guildIds.length ? this.o.guildIds.map((g) => `guild:${g}`) : ['global'];
    try {
      for (const scope of scopes) {
        const key = `${applicationId}:${scope}`;
        if (this.o.services.registeredHash(key) === hash) continue;
        if (scope === 'global') await api.applicationCommands.bulkOverwriteGlobalCommands(applicationId, this.body);
        else await api.applicationCommands.bulkOverwriteGuildCommands(applicationId, scope.slice('guild:'.length), this.body);
        this.o.services.recordHash(key, hash);
        this.o.services.log.info('registered the Discord commands', { scope, commands: this.body.length });
      }
      this.h.commands.registered = new Date(this.now()).toISOString();
      this.h.commands.error = null;
    } catch (err) {
      this.h.commands.error = errorMessage(err);
      this.o.services.log.warn('could not register the Discord commands', { error: errorMessage(err) });
    }
  }

  private async onInteraction(i: APIInteraction): Promise<void> {
    if (i.type === 2 && i.data.type === 1) return this.onCommand(i as APIChatInputApplicationCommandInteraction);
    if (i.type === 4) return this.onAutocomplete(i as APIApplicationCommandAutocompleteInteraction);
    if (i.type === 3) return this.onButton(i as APIMessageComponentInteraction);
  }

  /**
   * Answer `work()` in time: reply directly when it is quick, else defer and edit the original.
   * Further bodies go as follow-ups (a long /status with many partitions).
   */
  private async answer(i: APIInteraction, ephemeral: boolean, work: () => Promise<BotBody[]>): Promise<void> {
    const api = this.api!;
    const flags = ephemeral ? EPHEMERAL : 0;
    const withFlags = (b: BotBody) => (flags ? { ...b, flags } : b);
    let deferred: Promise<unknown> | null = null;
    const timer = setTimeout(() => {
      deferred = api.interactions.defer(i.id, i.token, flags ? { flags } : {}).then(() => this.h.interactions.deferred++);
    }, DEFER_AFTER_MS);
    let bodies: BotBody[];
    try {
      bodies = await work();
    } catch (err) {
      bodies = answerBodies([errorAnswer(err, (c) => `/${c}`)]);
    } finally {
      clearTimeout(timer);
    }
    const [first, ...rest] = bodies;
    if (deferred) {
      await deferred;
      await api.interactions.editReply(i.application_id, i.token, first!);
    } else {
      await api.interactions.reply(i.id, i.token, withFlags(first!));
    }
    for (const b of rest) await api.interactions.followUp(i.application_id, i.token, withFlags(b));
    this.h.interactions.answered++;
  }

  private async onCommand(i: APIChatInputApplicationCommandInteraction): Promise<void> {
    const name = i.data.name;
    const discordId = discordUserOf(i);
    const user = discordId ? this.o.services.userOf(discordId) : null;
    const opts = (i.data.options ?? []) as APIApplicationCommandInteractionDataBasicOption[];
    const s = this.o.services;
    const personal = PERSONAL.has(name) || s.commands.some((d) => d.name === name && d.personal === true);
    return this.answer(i, personal, async () => {
      if (name === 'help') return answerBodies([helpMessage(s.commands)]);
      if (name === 'link') {
        if (!discordId) throw new UserError('Discord did not say who you are');
        const m = s.link(discordId);
        return [noticeBody(m.title, m.summary ?? '', m.severity)];
      }
      if (name === 'unlink') {
        if (!discordId) throw new UserError('Discord did not say who you are');
        const m = s.unlink(discordId);
        return [noticeBody(m.title, m.summary ?? '', m.severity)];
      }
      if (name === 'when-free') {
        if (!discordId) throw new UserError('Discord did not say who you are');
        return answerBodies((await s.whenFree(discordId, user, argsFromOptions(opts))).messages);
      }
      const def = s.commands.find((d) => d.name === name);
      if (!def) return [noticeBody('Unknown command', `flurm has no /${name} (any more). /help lists what it has.`, 'warning')];
      const ctx: CommandContext = { user, warn: () => undefined };
      const a = await invoke(def, argsFromOptions(opts), s.sourceFor?.(user) ?? s.source, ctx, { frontEnd: 'other' });
      return this.withChart(answerBodies(a.messages), a.messages);
    });
  }

  /**
   * A chart in the answer (history, heatmap) goes with it as a PNG (charts/render.ts, twice the
   * pixels for phones), shown as its embed's image. When it cannot be drawn the text stands alone.
   */
  private async withChart(bodies: BotBody[], messages: readonly Message[]): Promise<BotBody[]> {
    const m = messages.find((x) => x.chart);
    if (!bodies[0] || !m?.chart) return bodies;
    try {
      const p = await chartPicture(m.chart);
      return [withPicture(bodies[0], p.png, p.name, m.title, p.description), ...bodies.slice(1)];
    } catch (err) {
      this.o.services.log.warn('could not draw the chart for Discord; answered without it', { error: errorMessage(err) });
      return bodies;
    }
  }

  private async onAutocomplete(i: APIApplicationCommandAutocompleteInteraction): Promise<void> {
    const opts = (i.data.options ?? []) as (APIApplicationCommandInteractionDataBasicOption & { focused?: boolean })[];
    const focused = opts.find((o) => o.focused);
    const typed = String(focused?.value ?? '').toLowerCase();
    let names: string[] = [];
    try {
      const [nodes, slurm] = await Promise.all([this.o.services.source.nodes({ busy: 0 }), this.o.services.source.slurm('fallback')]);
      if (nodes.ok) names.push(...nodes.nodes.map((n) => n.host));
      if (slurm.ok) names.push(...slurm.slurm.view.nodes.map((n) => n.name));
    } catch (err) {
      this.o.services.log.warn('autocomplete could not list nodes', { error: errorMessage(err) });
    }
    names = [...new Set(names)].sort();
    const starts = names.filter((n) => n.toLowerCase().startsWith(typed));
    const contains = names.filter((n) => !n.toLowerCase().startsWith(typed) && n.toLowerCase().includes(typed));
    const choices = [...starts, ...contains].slice(0, 25).map((n) => ({ name: n.slice(0, 100), value: n.slice(0, 100) }));
    await this.api!.interactions.createAutocompleteResponse(i.id, i.token, { choices });
    this.h.interactions.answered++;
  }

  private async onButton(i: APIMessageComponentInteraction): Promise<void> {
    const b = parseButtonId(i.data.custom_id);
    if (!b) return;
    const discordId = discordUserOf(i);
    const user = discordId ? this.o.services.userOf(discordId) : null;
    return this.answer(i, true, async () => {
      if (!discordId) throw new UserError('Discord did not say who you are');
      const r = await this.o.services.button(b.action, b.ref, discordId, user);
      return 'messages' in r ? answerBodies(r.messages) : [noticeBody(r.title, r.text, r.severity)];
    });
  }
}
