// Config schemas (zod) and a pure validate() that names the field path in every message.
// Two files: the hub's config (lab-wide, owned by the admin) and each user's
// <spool>/config.toml (their own destinations and filters). See docs/config.md.
import { BOT_COMMAND_NAMES } from '../model/chat-commands.js';
import { formatPath } from '../lib/field-path.js';
import { z } from 'zod';
import { ConfigError } from '../lib/errors.js';

export const OUTCOMES = ['success', 'failure', 'note', 'all'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const url = z.string().min(1, 'must be a destination URL');
/** The name of an environment variable holding a secret. */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
/** A Discord id (a snowflake): 17 to 20 digits, as a string. */
const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord id (17-20 digits, as a string)');

export const routeSchema = z.strictObject({
  /** Which events this route carries. */
  on: z.array(z.enum(OUTCOMES)).min(1).default(['all']),
  to: z.array(url).min(1, 'needs at least one destination URL'),
  /** Only for these users (default: everyone). */
  users: z.array(z.string()).optional(),
  /** Successes shorter than this are not sent on this route (failures always are). */
  min_minutes: z.number().nonnegative().default(0),
});
export type Route = z.infer<typeof routeSchema>;

/** The bot's own commands beside the table's (frontends/discord/bot.ts): a lab command may not take these names. */
export { BOT_COMMAND_NAMES };

/** `[[chat.commands]]`: a lab's own slash command; exactly one of file, reply, run. */
export const labCommandSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/, 'must be a Discord command name: 1-32 lowercase letters, digits, - or _')
      .refine((n) => !(BOT_COMMAND_NAMES as readonly string[]).includes(n), { message: `is one of the bot's own commands (${BOT_COMMAND_NAMES.join(', ')})` }),
    description: z.string().min(1).max(100, 'must be at most 100 characters (Discord\'s limit)').optional(),
    /** A file, one entry a line (blank lines and # comments skipped); `~/` and `~user/` expand. */
    file: z.string().min(1).optional(),
    /** With file: all lines (default), or one at random. */
    pick: z.enum(['all', 'random']).default('all'),
    /** A fixed answer. */
    reply: z.string().min(1).max(4000).optional(),
    /** A command (argv, no shell), run as the hub's user; its output is the answer. */
    run: z.array(z.string().min(1)).min(1, 'needs the command to run').optional(),
    timeout_seconds: z.number().positive().max(300).default(10),
  })
  .refine((c) => [c.file, c.reply, c.run].filter((x) => x !== undefined).length === 1, { message: 'needs exactly one of file, reply or run' });
export type LabCommandConfig = z.infer<typeof labCommandSchema>;

/** `[[chat.schedule]]`: a message (or a command's answer) sent on a cron schedule. */
export const scheduleSchema = z
  .strictObject({
    /** croner syntax (5 or 6 fields; seconds first when 6). */
    cron: z.string().min(1),
    /** IANA zone; default the hub's. */
    tz: z.string().min(1).optional(),
    to: z.array(url).min(1, 'needs at least one destination URL'),
    text: z.string().min(1).max(4000).optional(),
    /** A command's answer: one of the table's or a lab command. */
    command: z.string().min(1).optional(),
    /** An occurrence missed while no hub ran is sent late only within this. */
    catch_up_minutes: z.number().nonnegative().default(60),
  })
  .refine((e) => (e.text === undefined) !== (e.command === undefined), { message: 'needs exactly one of text or command' });
export type ScheduleConfig = z.infer<typeof scheduleSchema>;

export const hubConfigSchema = z.strictObject({
  /** SQLite index on LOCAL disk (refused on NFS). */
  index: z.string().min(1).optional(),
  /** Shared cluster dir: hub.json, receipts/, nodes/. */
  cluster_dir: z.string().min(1).optional(),
  spools: z
    .strictObject({
      /** Home directories to look in, globs allowed ("/home/*"); the spool is <home>/.flurm. */
      homes: z.array(z.string()).default([]),
      /** Explicit spool directories. */
      paths: z.array(z.string()).default([]),
      /** Name of the spool dir inside each home. */
      dir_name: z.string().default('.flurm'),
      /** Also read the legacy <home>/.pingchilling file. */
      legacy: z.boolean().default(true),
    })
    .prefault({}),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(7077),
      /**
       * Who may see what when `host` is not a loopback address (docs/access.md): without sign-in
       * nothing but /healthz, the doorbell, /login and Slack's /slack/events; `public_view = true`
       * adds nodes and charts (no process command lines, no jobs).
       */
      public_view: z.boolean().default(false),
      /** Signed-in users see other users' job commands, cwd, log tails and process command lines. */
      share_job_details: z.boolean().default(false),
      /** A browser session from `flurm dashboard` lasts this long. */
      session_days: z.number().positive().max(366).default(7),
      /** A bearer token from `flurm dashboard --token` lasts this long. */
      token_days: z.number().positive().max(3660).default(90),
    })
    .prefault({}),
  /** GET /metrics (docs/metrics.md). */
  metrics: z
    .strictObject({
      /** Label per-user series (jobs by user) with the unix user name; off by default. */
      user_labels: z.boolean().default(false),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      poll_interval_seconds: z.number().positive().max(60).default(1),
      rediscover_interval_seconds: z.number().positive().default(30),
      /** Per file per pass; passes repeat while there is work, round-robin over files. */
      max_bytes_per_read: z.number().int().min(4096).default(1024 * 1024),
      /** Stat budget that spreads idle files over several ticks in a large lab. */
      max_idle_checks_per_second: z.number().int().positive().default(2000),
      /** On a brand-new index, events older than this are recorded without notifying. */
      backfill_seconds: z.number().nonnegative().default(3600),
    })
    .prefault({}),
  delivery: z
    .strictObject({
      timeout_seconds: z.number().positive().default(10),
      /** Stop retrying a message after this long (it is marked failed, visible in doctor). */
      give_up_after_hours: z.number().positive().default(24),
      backoff_base_seconds: z.number().positive().default(1),
      backoff_max_seconds: z.number().positive().default(300),
      /** Notifications per user per minute; beyond it, that minute's messages go out as one digest per destination. */
      max_per_user_per_minute: z.number().int().positive().default(30),
    })
    .prefault({}),
  nodes: z
    .strictObject({
      /** How often the hub reads <cluster dir>/nodes/*.json. */
      poll_interval_seconds: z.number().positive().max(300).default(5),
      /** A node whose seq has not changed for this many of its own intervals is stale... */
      stale_after_intervals: z.number().positive().default(3),
      /** ...and down after this many (but never sooner than min_down_after_seconds). */
      down_after_intervals: z.number().positive().default(8),
      min_down_after_seconds: z.number().nonnegative().default(60),
      /** A running job whose (pid, start) is missing from this many successive snapshots... */
      vanish_after_snapshots: z.number().int().min(1).default(2),
      /** ...and stays missing this long (so an `end` still in flight wins) is reported vanished. */
      vanish_grace_seconds: z.number().nonnegative().default(30),
      /** History: 1-minute samples kept this many days, 1-hour samples this many. */
      minute_samples_days: z.number().positive().default(2),
      /** 10-minute samples (a day's or a week's chart) are kept this many days. */
      ten_minute_samples_days: z.number().positive().default(14),
      hour_samples_days: z.number().positive().default(400),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      /** Lab destinations for node alerts (node down/back, load, memory, idle GPU memory). */
      to: z.array(url).default([]),
      node_down: z.boolean().default(true),
      /** Load above this × cores for load_minutes (cleared below 80 % of it). 0 disables. */
      load_per_core: z.number().nonnegative().default(1.5),
      load_minutes: z.number().nonnegative().default(10),
      /** Available memory below this % for memory_minutes (cleared above it + 5). 0 disables. */
      memory_available_pct: z.number().min(0).max(100).default(5),
      memory_minutes: z.number().nonnegative().default(2),
      /** GPU memory held while utilisation stays under gpu_idle_util_pct for gpu_idle_minutes. 0 disables. */
      gpu_idle_util_pct: z.number().min(0).max(100).default(5),
      gpu_idle_minutes: z.number().nonnegative().default(60),
      /** The same alert on the same node is not sent again within this many minutes. */
      cooldown_minutes: z.number().nonnegative().default(60),
    })
    .prefault({}),
  lease: z
    .strictObject({
      /** Active hub heartbeats hub.json every lease/3; a standby takes over after a lease with no change. */
      lease_seconds: z.number().positive().max(600).default(15),
    })
    .prefault({}),
  slurm: z
    .strictObject({
      /** "auto": on when `squeue` is on the hub's PATH (or at `bin_dir`); true: on (doctor says if SLURM is missing); false: off. */
      enabled: z.union([z.boolean(), z.literal('auto')]).default('auto'),
      /** Directory holding squeue, sacct, scontrol, sinfo (default: PATH). */
      bin_dir: z.string().min(1).optional(),
      /** One squeue call per interval for every watched job. */
      poll_interval_seconds: z.number().min(1).max(600).default(30),
      /** sinfo (nodes and partitions, for status/best/queue) every this many seconds. 0: never. */
      sinfo_interval_seconds: z.number().min(0).max(3600).default(60),
      /** Each SLURM command is killed after this long (counts as a failure, retried with backoff). */
      command_timeout_seconds: z.number().positive().max(300).default(20),
      /** A job gone from squeue whose sacct record has not appeared is asked again for this long; then its end is sent with what is known. */
      final_record_timeout_seconds: z.number().positive().default(600),
      /** Failed array tasks get at most this many messages of their own; the array's summary always comes. */
      max_task_messages: z.number().int().min(0).default(5),
      /** slurmctld unreachable for this long raises one lab alert (and one "back" when it answers). */
      down_alert_after_seconds: z.number().nonnegative().default(120),
    })
    .prefault({}),
  routes: z.array(routeSchema).default([]),
  /**
   * The Discord bot (docs/discord.md): the active hub connects over the gateway and answers slash
   * commands; linked users get their job ends as DMs. Absent: no bot.
   */
  discord: z
    .strictObject({
      /** A file holding the bot token (read at start; never logged). */
      token_file: z.string().min(1).optional(),
      /** Or the name of an environment variable holding it. */
      token_env: envName.optional(),
      /** Guilds to register the commands in (instant); none: global commands. */
      guild_ids: z.array(snowflake).default([]),
      /** The lab channel: DM fallback (a mention) for users who cannot be DMed. */
      channel_id: snowflake.optional(),
      /** Discord's base URL; tests and local servers point it elsewhere. */
      api: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://discord.com'),
    })
    .refine((d) => (d.token_file === undefined) !== (d.token_env === undefined), { message: 'needs exactly one of token_file or token_env' })
    .optional(),
  /**
   * The Slack app (docs/slack.md): over Socket Mode (the active hub connects out with the app
   * token), or in HTTP mode (Slack POSTs to the hub's /slack/events, checked with the signing
   * secret); it answers `/flurm …` and the aliases. Absent: no Slack app.
   */
  slack: z
    .strictObject({
      /** The bot token (xoxb-…), from a file or an environment variable. */
      bot_token_file: z.string().min(1).optional(),
      bot_token_env: envName.optional(),
      /** The app-level token (xapp-…, connections:write) for Socket Mode. */
      app_token_file: z.string().min(1).optional(),
      app_token_env: envName.optional(),
      /** HTTP mode instead of Socket Mode: Slack POSTs to the hub's /slack/events, signed with this. */
      signing_secret_file: z.string().min(1).optional(),
      signing_secret_env: envName.optional(),
      /** The lab channel (C…), for alerts. */
      channel: z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id (C…)').optional(),
      /** Slack's Web API base; tests and local servers point it elsewhere. */
      api: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://slack.com/api/'),
      /** More slash commands, each answering one command: `sciencecluster = "best"`. */
      aliases: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be a slash command name (lowercase, up to 32)'), z.string().min(1)).default({}),
    })
    .refine((d) => (d.bot_token_file === undefined) !== (d.bot_token_env === undefined), { message: 'needs exactly one of bot_token_file or bot_token_env' })
    .refine((d) => [d.app_token_file, d.app_token_env, d.signing_secret_file, d.signing_secret_env].filter((x) => x !== undefined).length === 1, {
      message: 'needs exactly one of app_token_file or app_token_env (Socket Mode), or signing_secret_file or signing_secret_env (HTTP mode)',
    })
    .optional(),
  /** The lab's own chat commands and scheduled messages (docs/chat.md). */
  chat: z
    .strictObject({
      commands: z.array(labCommandSchema).default([]),
      schedule: z.array(scheduleSchema).default([]),
    })
    .prefault({}),
  /** Per-user settings the admin owns: `[users.alice] discord = "…"` links alice to a Discord user. */
  users: z.record(z.string().regex(/^[a-z_][a-z0-9_.-]*\$?$/i, 'must be a unix user name'), z.strictObject({ discord: snowflake.optional(), slack: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id (U…)').optional() })).default({}),
  diagnose: z.strictObject({ patterns: z.array(z.unknown()).default([]) }).prefault({}),
});
export type HubConfig = z.infer<typeof hubConfigSchema>;

export const userConfigSchema = z.strictObject({
  /** The user's own destinations. */
  to: z.array(url).default([]),
  /** Only tell me about failures. */
  only_failures: z.boolean().default(false),
  /** Only jobs longer than N minutes (failures always). */
  min_minutes: z.number().nonnegative().default(0),
  /** No messages about my jobs at all (explicit `flurm run --to` still works). */
  mute: z.boolean().default(false),
  /** Where the lab's hub keeps hub.json (read by `flurm run` to ring the doorbell). */
  cluster: z.string().optional(),
});
export type UserConfig = z.infer<typeof userConfigSchema>;

/** Turn zod issues into one ConfigError naming the first field path. */
function fail(err: z.ZodError, file?: string): never {
  const issues = err.issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${i.message}`);
  const first = err.issues[0];
  const msg = issues.length === 1 ? (first?.message ?? 'invalid') : issues.join('; ');
  throw new ConfigError(issues.length === 1 && first ? formatPath(first.path) : '', msg, { file });
}


export function validateHubConfig(raw: unknown, file?: string): HubConfig {
  const r = hubConfigSchema.safeParse(raw ?? {});
  if (!r.success) fail(r.error, file);
  return r.data;
}

export function validateUserConfig(raw: unknown, file?: string): UserConfig {
  const r = userConfigSchema.safeParse(raw ?? {});
  if (!r.success) fail(r.error, file);
  return r.data;
}
