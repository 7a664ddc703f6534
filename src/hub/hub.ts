// The hub as one object: index, ingest loop, outbox sender, HTTP, hub.json heartbeat. Built from a
// resolved config by `flurm hub` (lab config file) and `flurm up` (embedded defaults).
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { openDb, type Db } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { OutboxStore, ProblemStore } from '../store/outbox.js';
import type { HubConfig } from '../config/schema.js';
import { loadPatterns } from '../diagnose/diagnose.js';
import type { Logger } from '../lib/logger.js';
import { hostName } from '../lib/host.js';
import { Enqueuer } from './enqueue.js';
import { Ingestor, type SpoolSource } from './ingest.js';
import { Deliverer } from './deliver.js';
import { Receipts } from './receipts.js';
import { createApp, listen } from './http/server.js';
import { expandHomes } from './sources.js';
import { NodeStore } from '../store/nodes.js';
import { NodeWatcher } from './nodes.js';
import { Lease, type Role } from './lease.js';
import { SlurmJobStore } from '../store/slurm-jobs.js';
import { SlurmPoller, findSlurm } from './slurm-poller.js';
import { withJobName } from '../model/job-name.js';
import { MuteStore, WhenFreeStore } from '../store/bot.js';
import { DiscordHub, readToken } from './discord.js';
import { SlackApp } from '../frontends/slack/app.js';
import { readSecret } from '../config/secret.js';
import { ConfigError, DeliveryError } from '../lib/errors.js';
import { SLACK_DM_ALIAS, slackDmUrl } from '../notifiers/slack-dm.js';
import { jobAction, jobButtons } from './job-actions.js';
import { DM_ALIAS, dmUrl } from '../notifiers/discord-dm.js';
import type { Message } from '../model/message.js';
import { createHubSource } from './source.js';
import type { DataSource } from '../commands/source.js';
import { COMMANDS } from '../commands/registry.js';
import { labCommands } from '../commands/lab.js';
import type { CommandDef } from '../commands/table.js';
import { labDestResolver } from './lab-dests.js';
import { Scheduler, checkScheduleCommands } from './schedule.js';
import { Ticker } from '../lib/ticker.js';
import { errorMessage } from '../lib/errors.js';
import type { HubApi } from './http/server.js';
import { LinkService, linkKeyFile } from './links.js';
import { HistoryStore, retentionOf } from '../store/history.js';
import { answerHistory } from './history.js';
import { AuthService, isLoopbackHost } from './http/auth.js';
import { viewApi } from './http/redact.js';
import { createHubMetrics, type HubMetrics } from './metrics.js';
import { EventBus } from './events-bus.js';

export interface HubOptions {
  config: HubConfig;
  /** Resolved index path (required: the caller picks the default). */
  indexPath: string;
  clusterDir: string | null;
  /** Extra spool sources beyond config.spools (flurm up: the user's own). */
  extraSources?: SpoolSource[];
  /** Destinations when nothing else applies (flurm up: console, desktop). */
  fallback?: string[];
  log: Logger;
  version: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** The host of an agent running in this process (`flurm up`). */
  inProcessAgentHost?: string;
  /** Don't start HTTP (hub --once). */
  noHttp?: boolean;
  /** Where the hub config is (relative token_file paths); default: the working directory. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
}

export class Hub {
  readonly db: Db;
  readonly jobs: JobStore;
  readonly outbox: OutboxStore;
  readonly problems: ProblemStore;
  readonly ingestor: Ingestor;
  readonly deliverer: Deliverer;
  readonly nodeStore: NodeStore;
  /** Reads nodes/*.json; null without a cluster dir. */
  readonly nodes: NodeWatcher | null = null;
  readonly slurmJobs: SlurmJobStore;
  /** Unix user ↔ Discord account links (hub/links.ts, docs/linking.md): the bot's /link and /unlink. */
  readonly links: LinkService;
  /** Sign-in for the web page and the API off loopback (hub/http/auth.ts, docs/access.md). */
  readonly auth: AuthService;
  /** The lab's history (store/history.ts): the charts, `flurm history`, `heatmap`, `report`. */
  readonly history: HistoryStore;
  /** The SLURM poller; null when SLURM is off (config, or auto with no squeue found). */
  readonly slurm: SlurmPoller | null = null;
  /** Why SLURM is off, for doctor. */
  private slurmOff: string | null = null;
  private lease: Lease | null = null;
  private server: Server | null = null;
  readonly mutes: MuteStore;
  readonly whenFree: WhenFreeStore;
  /** The Discord bot and DMs; null without [discord] in the config. */
  readonly discord: DiscordHub | null = null;
  /** The command table's data, in-process (POST /api/v1/commands, the bot). */
  private source: DataSource | null = null;
  /** The data as a chat asker (a linked unix user, or no one) may see it: hub/http/redact.ts. */
  private chatSource: ((user: string | null) => DataSource) | null = null;
  /** The lab's destinations as written → as queued (hub/lab-dests.ts): schedules, alerts, the Slack scopes check. */
  private readonly labDest: (url: string) => string;
  private whenFreeTicker: Ticker | null = null;
  /** The Slack app's tokens when [slack] is set (read at construction: a bad one stops start-up). */
  private readonly slackTokens: { bot: string; app?: string; signingSecret?: string } | null = null;
  /** The Slack app while this hub is active. */
  private slackApp: SlackApp | null = null;
  /** The table's commands and the lab's own ([[chat.commands]]): what every chat offers. */
  private readonly chatCommands: readonly CommandDef[];
  /** [[chat.schedule]] (hub/schedule.ts): runs with the front ends, on the active hub only; null without entries. */
  readonly scheduler: Scheduler | null = null;
  private readonly enqueuer: Enqueuer;
  url: string | null = null;
  /** "nodes / jobs / slurm changed" for the dashboard's stream (GET /api/v1/stream). */
  readonly events = new EventBus();
  private readonly startedMs = Date.now();

  constructor(private readonly o: HubOptions) {
    const cfg = o.config;
    // The chat front ends' commands: the table and the lab's own [[chat.commands]] (not the CLI's
    // nor POST /api/v1/commands). A clashing name or an unknown scheduled command stops start-up
    // (before the index is opened).
    const chatCommands: CommandDef[] = [...COMMANDS, ...labCommands(cfg.chat.commands)];
    this.chatCommands = chatCommands;
    checkScheduleCommands(cfg.chat.schedule, chatCommands);
    this.db = openDb(o.indexPath);
    this.jobs = new JobStore(this.db);
    this.outbox = new OutboxStore(this.db);
    this.problems = new ProblemStore(this.db);
    const now = o.now ?? Date.now;
    const receipts = new Receipts(o.clusterDir ? path.join(o.clusterDir, 'receipts') : null);
    this.mutes = new MuteStore(this.db);
    this.whenFree = new WhenFreeStore(this.db);
    this.links = new LinkService(this.db, { keyFile: linkKeyFile(o.indexPath, o.clusterDir), problems: this.problems, configUsers: cfg.users, log: o.log, now });
    this.auth = new AuthService(this.db, { now, log: o.log, sessionDays: cfg.http.session_days, tokenDays: cfg.http.token_days });
    this.deliverer = new Deliverer(this.outbox, receipts, o.log, {
      maxPerUserPerMinute: cfg.delivery.max_per_user_per_minute,
      timeoutSeconds: cfg.delivery.timeout_seconds,
      giveUpAfterHours: cfg.delivery.give_up_after_hours,
      backoffBaseSeconds: cfg.delivery.backoff_base_seconds,
      backoffMaxSeconds: cfg.delivery.backoff_max_seconds,
      fetch: o.fetch,
      now,
      // The bot exists once the config is read (below); DMs are only sent after start().
      discordBot: {
        sendDm: (id, m, x) => (this.discord ? this.discord.sendDm(id, m, x) : Promise.reject(new Error('no Discord bot in this hub'))),
        sendChannel: (id, m, x) => (this.discord ? this.discord.sendChannel(id, m, x) : Promise.reject(new Error('no Discord bot in this hub'))),
      },
      // The Slack app exists on the active hub (made before the outbox starts sending).
      slackBot: {
        sendDm: (id, m, x) => (this.slackApp ? this.slackApp.sendDm(id, m, x) : Promise.reject(new DeliveryError('the Slack app is not running on this hub', { retryable: true }))),
        sendChannel: (id, m, x) => (this.slackApp ? this.slackApp.sendChannel(id, m, x) : Promise.reject(new DeliveryError('the Slack app is not running on this hub', { retryable: true }))),
      },
    });
    const enqueuer = new Enqueuer(this.outbox, {
      routes: cfg.routes,
      patterns: loadPatterns(cfg.diagnose.patterns),
      fallback: o.fallback ?? [],
      maxPerUserPerMinute: cfg.delivery.max_per_user_per_minute,
      log: o.log,
      now,
      receipts,
      personal: (user) => {
        const slackId = cfg.slack ? this.links.accountOf(user, 'slack') : null;
        return new Map([
          [DM_ALIAS, this.discord?.dmOf(user) ?? null],
          [SLACK_DM_ALIAS, slackId ? slackDmUrl(slackId) : null],
        ]);
      },
      mutedNow: (user) => this.mutes.mutedUntil(user, now()) !== null,
    });
    this.enqueuer = enqueuer;
    // The lab's destinations (schedules, alerts): discord:channel, slack:channel, slack:#name, slack:C….
    const labDest = (this.labDest = labDestResolver(cfg));
    if (cfg.chat.schedule.length) {
      this.scheduler = new Scheduler({
        db: this.db,
        enqueuer,
        entries: cfg.chat.schedule,
        commands: chatCommands,
        // A channel is everyone's: scheduled answers show no one's commands, cwd or logs.
        source: () => this.chatSource?.(null) ?? this.source,
        // The config check made sure each alias comes with its [discord] / [slack] channel.
        resolveDest: labDest,
        log: o.log,
        now,
        onQueued: () => this.deliverer.wake(),
      });
    }
    if (cfg.discord) {
      this.discord = new DiscordHub({
        cfg: cfg.discord,
        token: readToken(cfg.discord, o.configDir ?? process.cwd(), o.env),
        db: this.db,
        jobs: this.jobs,
        links: this.links,
        mutes: this.mutes,
        whenFree: this.whenFree,
        problems: this.problems,
        enqueuer,
        commands: chatCommands,
        log: o.log,
        now,
        timeoutSeconds: cfg.delivery.timeout_seconds,
        wake: () => this.deliverer.wake(),
      });
    }
    if (cfg.slack) {
      for (const [alias, target] of Object.entries(cfg.slack.aliases)) {
        if (!chatCommands.some((c) => c.name === target)) throw new ConfigError(`slack.aliases.${alias}`, `"${target}" is not a flurm command (${chatCommands.map((c) => c.name).join(', ')})`);
        if (alias === 'flurm') throw new ConfigError(`slack.aliases.${alias}`, '/flurm is the app\'s own command');
      }
      const dir = o.configDir ?? process.cwd();
      this.slackTokens = {
        bot: readSecret({ field: '[slack] bot_token', file: cfg.slack.bot_token_file, env: cfg.slack.bot_token_env, what: 'the bot token' }, dir, o.env),
        ...(cfg.slack.signing_secret_file || cfg.slack.signing_secret_env
          ? { signingSecret: readSecret({ field: '[slack] signing_secret', file: cfg.slack.signing_secret_file, env: cfg.slack.signing_secret_env, what: 'the signing secret' }, dir, o.env) }
          : { app: readSecret({ field: '[slack] app_token', file: cfg.slack.app_token_file, env: cfg.slack.app_token_env, what: 'the app token' }, dir, o.env) }),
      };
    }
    // "Linked" as a DM in the chat the code came from, so the person sees there that `flurm link` worked.
    this.links.onLinked = (user, chat, account, info) => {
      if (info.silent) return;
      const dest = chat === 'discord' ? (this.discord ? dmUrl(account) : null) : cfg.slack ? slackDmUrl(account) : null;
      if (!dest) return;
      const t = now();
      const unlink = chat === 'discord' ? '/unlink' : '`/flurm unlink`';
      const message: Message = { title: `Linked to ${user}`, severity: 'success', summary: `Your jobs' ends as ${user} come here as DMs${info.movedFrom ? ` (no longer for ${info.movedFrom})` : ''}. ${unlink} ends it.` };
      // Keyed by the event: a standby that read the same event finds the receipt, not a second DM.
      if (enqueuer.direct(user, `link:${info.eventId}`, `link:${user}`, dest, message, t)) this.deliverer.wake();
    };
    const sources = (): SpoolSource[] => [
      ...(o.extraSources ?? []),
      ...cfg.spools.paths.map((dir) => ({ dir: path.resolve(dir) })),
      ...expandHomes(cfg.spools.homes).map((home) => ({
        dir: path.join(home, cfg.spools.dir_name),
        legacyFile: cfg.spools.legacy ? path.join(home, '.pingchilling') : undefined,
      })),
    ];
    this.nodeStore = new NodeStore(this.db);
    this.history = new HistoryStore(this.db);
    if (o.clusterDir) {
      const labDests = (cfg.alerts.to.length ? cfg.alerts.to : (o.fallback ?? [])).map(labDest);
      this.nodes = new NodeWatcher({
        history: this.history,
        clusterDir: o.clusterDir,
        nodes: cfg.nodes,
        alerts: cfg.alerts,
        db: this.db,
        store: this.nodeStore,
        jobs: this.jobs,
        log: o.log,
        now,
        isActive: () => this.role === 'active',
        inProcessHost: o.inProcessAgentHost,
        onChange: () => this.events.emit('nodes'),
        sink: {
          jobVanished: (job, reason) => {
            this.events.emit('jobs');
            if (enqueuer.jobVanished(job, reason, this.ingestor.userConfig(job.user), now())) this.deliverer.wake();
          },
          jobNodeDown: (job, message, keyBase) => {
            if (enqueuer.jobWarning(job, keyBase, message, this.ingestor.userConfig(job.user), now())) this.deliverer.wake();
          },
          labAlert: (keyBase, host, message) => {
            if (labDests.length === 0) o.log.once('no-alert-dest', 'warn', 'node alerts go only to this log: set alerts.to in the hub config to send them', {});
            if (enqueuer.labAlert(keyBase, host, message, labDests, now())) this.deliverer.wake();
          },
        },
      });
    }
    this.slurmJobs = new SlurmJobStore(this.db, this.jobs);
    const slurmCfg = cfg.slurm;
    const bins = slurmCfg.enabled === false ? null : findSlurm(slurmCfg);
    if (slurmCfg.enabled === false) this.slurmOff = 'off in the hub config ([slurm] enabled = false)';
    else if (!bins && slurmCfg.enabled === 'auto') this.slurmOff = slurmCfg.bin_dir ? `no squeue in ${slurmCfg.bin_dir}` : 'no squeue on the hub\'s PATH';
    else {
      const alertDests = (cfg.alerts.to.length ? cfg.alerts.to : (o.fallback ?? [])).map(labDest);
      this.slurm = new SlurmPoller(
        {
          db: this.db,
          store: this.slurmJobs,
          nodeStore: this.nodeStore,
          history: this.history,
          enqueuer,
          log: o.log,
          cfg: slurmCfg,
          isActive: () => this.role === 'active',
          userConfig: (user) => this.ingestor.userConfig(user),
          labDests: () => alertDests,
          onQueued: () => this.deliverer.wake(),
          onChange: (what) => this.events.emit(what),
          now,
        },
        bins ?? undefined,
      );
    }
    const poller = this.slurm;
    this.ingestor = new Ingestor(
      this.db,
      this.jobs,
      this.problems,
      enqueuer,
      o.log,
      {
        pollIntervalMs: cfg.ingest.poll_interval_seconds * 1000,
        rediscoverIntervalMs: cfg.ingest.rediscover_interval_seconds * 1000,
        maxBytesPerRead: cfg.ingest.max_bytes_per_read,
        maxIdleChecksPerSecond: cfg.ingest.max_idle_checks_per_second,
        backfillSeconds: cfg.ingest.backfill_seconds,
        sources,
        now,
        // Registered even while SLURM is off here: a hub with SLURM on (after a config change, or
        // the standby on a login node) picks the jobs up from the index.
        slurm: {
          store: this.slurmJobs,
          // A polling hub needs no nudge: its next squeue (at most one interval away) covers the job.
          onRegistered: () => {
            if (!poller) o.log.once('slurm-off-job', 'warn', `a SLURM job was registered but this hub does not poll SLURM (${this.slurmOff}); it will be followed once a hub with SLURM runs`, {});
          },
        },
        links: this.links,
        onJobsChanged: () => this.events.emit('jobs'),
        logins: this.auth,
      },
      () => this.deliverer.wake(),
    );
  }

  async start(): Promise<void> {
    // A restart is how an admin says "I fixed that webhook": destinations we gave up on get one
    // more try (a still-dead one is given up again after a single request).
    for (const d of this.outbox.disabledDests()) {
      this.outbox.enableDest(d.dest);
      this.o.log.info('retrying a destination given up on before the restart', { dest: d.dest_redacted });
    }
    this.ingestor.start();
    if (this.o.noHttp) {
      this.deliverer.start();
      return;
    }
    const api: HubApi = {
      ring: (user) => this.ingestor.ring(user),
      health: () => this.health(),
      // Each job with its `name` (commands/job-name.ts), the one its messages and `flurm jobs` show.
      jobs: (q) => this.jobs.list(q).map((j) => withJobName(j)),
      job: (id) => {
        const j = this.jobs.get(id);
        return j && withJobName(j);
      },
      problems: () => this.problems.list(),
      destinations: () => this.outbox.disabledDests().map((d) => ({ dest: d.dest_redacted, disabled_reason: d.disabled_reason, disabled_ms: d.disabled_ms })),
      nodes: (q) => ({ generated: new Date().toISOString(), nodes: this.nodes?.views(q) ?? [] }),
      nodeHistory: (host, q) => this.nodeStore.history(host, q),
      history: (q) =>
        answerHistory(
          {
            history: this.history,
            keep: retentionOf(this.o.config.nodes),
            now: this.o.now ?? Date.now,
            diagnose: (tail, exit, signal) => this.enqueuer.diagnose(tail, exit, signal),
          },
          q,
        ),
      slurm: () => this.slurm?.view() ?? null,
      events: this.events,
      metrics: () => this.metrics().scrape(),
      selfUrl: () => this.url ?? null,
      link: (user) => this.links.status(user),
      // A standby (or a hub without the app) answers 503: Slack retries, and the active hub answers.
      slackEvents: this.o.config.slack ? (req) => (this.slackApp ? this.slackApp.handleHttp(req) : Promise.resolve(new Response('standby hub: no Slack app here', { status: 503 }))) : undefined,
    };
    const http = this.o.config.http;
    const app = createApp(api, { auth: { service: this.auth, rules: { open: isLoopbackHost(http.host), publicView: http.public_view, shareDetails: http.share_job_details } } });
    this.source = createHubSource(api, () => this.url ?? null);
    // The chats ask as the person the asker is linked to (or as no one): the same rule as the API.
    const rules = { shareDetails: http.share_job_details };
    this.chatSource = (user) => createHubSource(viewApi(api, user ? { kind: 'user', user, via: 'chat' } : { kind: 'anonymous' }, rules), () => this.url ?? null);
    const { server, port, url } = await listen(app, this.o.config.http.host, this.o.config.http.port);
    this.server = server;
    const bindAll = this.o.config.http.host === '0.0.0.0' || this.o.config.http.host === '::';
    this.url = bindAll ? `http://${os.hostname()}:${port}` : url;
    if (this.o.clusterDir) {
      this.lease = new Lease({
        clusterDir: this.o.clusterDir,
        leaseSeconds: this.o.config.lease.lease_seconds,
        me: { host: hostName(), pid: process.pid, url: this.url, version: this.o.version },
        log: this.o.log,
        onActive: () => {
          this.startFrontEnds();
          this.deliverer.start();
        },
        onStandby: async () => {
          await this.stopFrontEnds();
          await this.deliverer.stop();
        },
      });
      await this.lease.start();
      this.nodes?.start();
    } else {
      this.startFrontEnds();
      this.deliverer.start();
    }
    this.slurm?.start();
  }

  /**
   * The chat front ends run on the active hub only: a standby's bot would answer every
   * interaction a second time. Connecting never waits for Discord.
   */
  private startFrontEnds(): void {
    const slack = this.o.config.slack;
    if (slack && this.slackTokens && this.source && !this.slackApp) {
      const userOf = (id: string) => this.links.userOfAccount('slack', id);
      const postsInChannels = [...this.o.config.alerts.to, ...this.o.config.chat.schedule.flatMap((e) => e.to)].some((u) => this.labDest(u).startsWith('slack-channel://'));
      this.slackApp = new SlackApp({ botToken: this.slackTokens.bot, appToken: this.slackTokens.app, signingSecret: this.slackTokens.signingSecret, api: slack.api, aliases: slack.aliases, source: this.source,
        ...(this.chatSource ? { sourceFor: this.chatSource } : {}),
        postsInChannels,
        commands: this.chatCommands,
        userOf,
        link: (id) => this.links.linkAnswer('slack', id),
        unlink: (id) => this.links.unlinkAnswer('slack', id),
        jobButtons: (ref) => jobButtons(this.jobs, ref),
        jobAction: (action, jobId, slackUser) => jobAction({ jobs: this.jobs, mutes: this.mutes, enqueuer: this.enqueuer, now: this.o.now ?? Date.now }, action, jobId, userOf(slackUser), slackUser, 'Run `/flurm link`'),
        log: this.o.log,
      });
      void this.slackApp.start().catch((err) => this.o.log.error('the Slack app did not start', { error: errorMessage(err) }));
    }
    this.scheduler?.start();
    const d = this.discord;
    if (!d || !this.source) return;
    void d.start(this.source, this.chatSource ?? undefined).catch((err) => this.o.log.error('the Discord bot did not start', { error: errorMessage(err) }));
    this.whenFreeTicker ??= new Ticker({
      run: () => d.checkWhenFree().then(() => undefined),
      onError: (err) => this.o.log.warn('/when-free check failed; will retry', { error: errorMessage(err) }),
      intervalMs: this.o.config.nodes.poll_interval_seconds * 1000,
      unref: true,
    });
    if (!this.whenFreeTicker.started) this.whenFreeTicker.start(0);
  }

  private async stopFrontEnds(): Promise<void> {
    const slack = this.slackApp;
    this.slackApp = null;
    await slack?.stop();
    await this.scheduler?.stop();
    await this.whenFreeTicker?.stop();
    await this.discord?.stop();
  }

  private metricsRegistry: HubMetrics | null = null;

  /** GET /metrics (hub/metrics.ts, docs/metrics.md): made on the first scrape, read at each. */
  metrics(): HubMetrics {
    this.metricsRegistry ??= createHubMetrics({
      version: this.o.version,
      role: () => this.role,
      startedMs: this.startedMs,
      nodes: () => this.nodes?.views({ busyLimit: 0 }) ?? null,
      slurm: this.slurm ? () => this.slurm?.view() ?? null : null,
      db: this.db,
      ingest: () => ({ ...this.ingestor.summary(), ...this.ingestor.stats }),
      userLabels: this.o.config.metrics.user_labels,
      now: this.o.now,
    });
    return this.metricsRegistry;
  }

  /** active: sends notifications and raises alerts; standby: ingests and watches only. */
  get role(): Role {
    return this.lease ? this.lease.role : 'active';
  }

  health(): Record<string, unknown> {
    return {
      version: this.o.version,
      host: hostName(),
      pid: process.pid,
      uptime_seconds: Math.round((Date.now() - this.startedMs) / 1000),
      ingest: { ...this.ingestor.summary(), ...this.ingestor.stats },
      outbox: this.outbox.counts(),
      disabled_destinations: this.outbox.disabledDests().length,
      role: this.role,
      nodes: this.nodes?.summary() ?? null,
      slurm: this.slurm ? this.slurm.health() : { enabled: false, reason: this.slurmOff },
      discord: this.discord ? this.discord.health() : null,
      slack: this.o.config.slack ? (this.slackApp?.health() ?? { state: 'standby' }) : null,
    };
  }

  async stop(): Promise<void> {
    // Every loop stops at once (no new round starts); rounds in progress finish before the index closes.
    const loops = [this.ingestor.stop(), this.nodes?.stop(), this.slurm?.stop(), this.lease?.stop(), this.stopFrontEnds()];
    this.events.close(); // open event streams end, or the server below would wait for them
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server?.closeAllConnections?.();
    await this.deliverer.stop();
    await Promise.all(loops);
    this.db.close();
  }
}
