// The shared table-driven test (DESIGN style 7): every registered notifier, against a local
// service that speaks its protocol, through success, 429 with Retry-After, 500, 404, a hang, and
// the URL round-trip with and without redaction. Where a scenario has no meaning for a kind
// (SMTP has no Retry-After; the console has no server) the row is skipped with the reason in its
// name, and its nearest analogue is run instead (SMTP 451 / 550, notify-send exit 1, no session).
import { mkdtemp, readFile, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DeliveryError } from '../lib/errors.js';
import type { Message } from '../model/message.js';
import { startFakeServices, type FakeServices } from '../../test/support/fake-services.js';
import { startSmtpSink, type SmtpSink } from '../../test/support/smtp-sink.js';
import { normalMessage } from '../../test/support/stress-message.js';
import { createConsoleNotifier } from './console.js';
import { createDesktopNotifier } from './desktop.js';
import { listNotifiers, parseDestination } from './registry.js';
import type { Destination } from './types.js';
import { startDiscordServer, type DiscordServer } from '../../test/support/discord-server.js';
import { startSlackServer, type SlackServer } from '../../test/support/slack-server.js';
import { SlackApp } from '../frontends/slack/app.js';
import { DiscordHub } from '../hub/discord.js';
import { openDb } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { OutboxStore, ProblemStore } from '../store/outbox.js';
import { LinkService } from '../hub/links.js';
import { MuteStore, WhenFreeStore } from '../store/bot.js';
import { Enqueuer } from '../hub/enqueue.js';
import { createLogger } from '../lib/logger.js';
import { COMMANDS } from '../commands/registry.js';

type Scenario = 'success' | 'rate-limited' | 'server-error' | 'not-found' | 'hang';

interface UrlExample {
  input: string;
  canonical: string;
  redacted: string;
  /** Strings that must never appear in the redacted form. */
  secrets: string[];
}

interface Case {
  name: string;
  destination(): Destination;
  /** Arrange the next send to meet `scenario` (success: nothing to arrange). */
  arrange(scenario: Scenario): Promise<void> | void;
  /** Check what the service received after a successful send. */
  delivered(m: Message): Promise<void>;
  /** Scenarios that do not exist for this kind, with the reason. */
  notApplicable?: Partial<Record<Scenario, string>>;
  urls(): UrlExample[];
}

const message = normalMessage();
const SEND_TIMEOUT_MS = 5000;
const HANG_TIMEOUT_MS = 400;

let fake: FakeServices;
/** The local Discord, and the hub's DM transport against it (discord-dm:// needs the bot's REST client). */
let discord: DiscordServer;
let dmHub: DiscordHub;
const DM_USER = '1180000000000001001';
/** The local Slack, and the Slack app's DM transport against it. */
let slack: SlackServer;
let slackApp: SlackApp;
const SLACK_USER = 'U0ALICE001';
/** Which guild channel the discord-channel row posts in (one per scenario). */
let channelIndex = 0;
let sink: SmtpSink;
let tmp: string;
let notifySend: string;
let consoleOut = '';
const capture = new Writable({
  write(chunk: Buffer, _enc, cb) {
    consoleOut += chunk.toString('utf8');
    cb();
  },
});
const broken = new Writable({
  write(_chunk, _enc, cb) {
    cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  },
});

beforeAll(async () => {
  fake = await startFakeServices();
  discord = await startDiscordServer();
  slack = await startSlackServer();
  // One guild channel per discord-channel scenario: a 429's bucket state stays with its channel.
  discord = await startDiscordServer({ channels: ['general', 'rate-limited', 'server-error', 'not-found', 'hang'].map((name) => ({ name })) });
  const db = openDb(':memory:');
  const log = createLogger({ level: 'error', write: () => undefined });
  const problems = new ProblemStore(db);
  dmHub = new DiscordHub({
    cfg: { api: discord.url, guild_ids: [], token_env: 'X' },
    token: discord.token,
    db,
    jobs: new JobStore(db),
    links: new LinkService(db, { keyFile: null, problems: new ProblemStore(db) }),
    mutes: new MuteStore(db),
    whenFree: new WhenFreeStore(db),
    problems,
    enqueuer: new Enqueuer(new OutboxStore(db), { routes: [], patterns: [], fallback: [], maxPerUserPerMinute: 30, log, now: Date.now }),
    commands: COMMANDS,
    log,
    now: Date.now,
    timeoutSeconds: 5,
    wake: () => undefined,
  });
  slackApp = new SlackApp({
    botToken: slack.botToken,
    appToken: slack.appToken,
    api: slack.apiUrl,
    aliases: {},
    source: {} as never,
    commands: COMMANDS,
    userOf: () => null,
    log: createLogger({ level: 'error', write: () => undefined }),
  });
  sink = await startSmtpSink();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flurm-notifiers-'));
  notifySend = path.join(tmp, 'notify-send');
  // A stand-in for notify-send: records its argv (NUL-separated, one file per call) and behaves
  // as the "mode" file says: ok, fail (exit 1 like a missing notification daemon) or hang.
  await writeFile(
    notifySend,
    [
      '#!/bin/sh',
      'dir=$(dirname "$0")',
      'mode=$(cat "$dir/mode" 2>/dev/null || echo ok)',
      'f=$(mktemp "$dir/call.XXXXXX")',
      'printf "%s\\0" "$@" > "$f"',
      'case "$mode" in',
      '  fail) echo "GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: no notification server" >&2; exit 1 ;;',
      '  hang) sleep 30 ;;',
      'esac',
      'exit 0',
      '',
    ].join('\n'),
  );
  await chmod(notifySend, 0o755);
});

afterAll(async () => {
  await fake.close();
  await discord.close();
  await slack.close();
  await sink.close();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.reset();
  consoleOut = '';
  await writeFile(path.join(tmp, 'mode'), 'ok');
  await desktopCalls();
});

async function desktopCalls(): Promise<string[][]> {
  const files = (await readdir(tmp)).filter((f) => f.startsWith('call.'));
  const calls = await Promise.all(files.map(async (f) => (await readFile(path.join(tmp, f), 'utf8')).split('\0').slice(0, -1)));
  await Promise.all(files.map((f) => rm(path.join(tmp, f))));
  return calls;
}

/** The failure scripts every HTTP notifier shares; `prefix` is the path its requests go to. */
function httpArrange(prefix: string) {
  return (scenario: Scenario) => {
    if (scenario === 'rate-limited') fake.failNext(prefix, [{ status: 429, retryAfter: 1.5 }]);
    if (scenario === 'server-error') fake.failNext(prefix, [{ status: 500 }]);
    if (scenario === 'not-found') fake.failNext(prefix, [{ status: 404 }]);
    if (scenario === 'hang') fake.failNext(prefix, [{ hang: true }]);
  };
}

const DISCORD_TOKEN = 'Tok3n_abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab';

const cases: Case[] = [
  {
    name: 'discord',
    destination: () => parseDestination(fake.discordUrl('112233445566778899', DISCORD_TOKEN)),
    arrange: httpArrange('/api/webhooks/'),
    async delivered(m) {
      const r = await fake.waitFor((x) => x.service === 'discord', 1000);
      expect(r.path).toBe(`/api/webhooks/112233445566778899/${DISCORD_TOKEN}`);
      expect(r.query.wait).toBe('true');
      const body = r.body as { embeds: Array<{ title: string }>; allowed_mentions: unknown };
      expect(body.embeds[0]?.title).toBe(m.title);
      expect(body.allowed_mentions).toEqual({ parse: [] });
    },
    urls: () => [
      {
        input: `https://discord.com/api/webhooks/112233445566778899/${DISCORD_TOKEN}`,
        canonical: `discord://112233445566778899/${DISCORD_TOKEN}`,
        redacted: 'discord://112233445566778899/***',
        secrets: [DISCORD_TOKEN],
      },
      {
        input: `discord://112233445566778899/${DISCORD_TOKEN}?thread_id=99&username=lab%20bot&api=http://127.0.0.1:9/`,
        canonical: `discord://112233445566778899/${DISCORD_TOKEN}?thread_id=99&username=lab%20bot&api=http://127.0.0.1:9`,
        redacted: 'discord://112233445566778899/***?thread_id=99&username=lab%20bot&api=http://127.0.0.1:9',
        secrets: [DISCORD_TOKEN],
      },
    ],
  },
  {
    name: 'slack',
    destination: () => parseDestination(fake.slackUrl('T0LAB', 'B0FLURM', 'Secr3tSecr3tSecr3tSecr3t')),
    arrange: httpArrange('/services/'),
    async delivered(m) {
      const r = await fake.waitFor((x) => x.service === 'slack', 1000);
      expect(r.path).toBe('/services/T0LAB/B0FLURM/Secr3tSecr3tSecr3tSecr3t');
      const body = r.body as { text: string; blocks: Array<{ type: string; text?: { text: string } }> };
      expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: m.title, emoji: true } });
      expect(body.text).toContain(m.title);
    },
    urls: () => [
      {
        input: 'https://hooks.slack.com/services/T0LAB/B0FLURM/Secr3tSecr3tSecr3tSecr3t',
        canonical: 'slack://T0LAB/B0FLURM/Secr3tSecr3tSecr3tSecr3t',
        redacted: 'slack://T0LAB/B0FLURM/***',
        secrets: ['Secr3tSecr3tSecr3tSecr3t'],
      },
      {
        input: 'https://hooks.slack-gov.com/services/T0LAB/B0FLURM/Secr3tSecr3tSecr3tSecr3t',
        canonical: 'slack://T0LAB/B0FLURM/Secr3tSecr3tSecr3tSecr3t?api=https://hooks.slack-gov.com',
        redacted: 'slack://T0LAB/B0FLURM/***?api=https://hooks.slack-gov.com',
        secrets: ['Secr3tSecr3tSecr3tSecr3t'],
      },
    ],
  },
  {
    name: 'ntfy',
    destination: () => parseDestination(`${fake.ntfyUrl('lab-jobs')}?token=tk_secrettoken`),
    arrange: httpArrange('/'),
    async delivered(m) {
      const r = await fake.waitFor((x) => x.service === 'ntfy', 1000);
      expect(r.path).toBe('/');
      expect(r.headers.authorization).toBe('Bearer tk_secrettoken');
      expect(r.body).toMatchObject({ topic: 'lab-jobs', title: m.title, priority: 4, tags: ['flurm', 'failure'] });
      expect((r.body as { message: string }).message).toContain('RuntimeError: CUDA out of memory');
    },
    urls: () => [
      { input: 'ntfy://lab-jobs', canonical: 'ntfy://lab-jobs', redacted: 'ntfy://lab-jobs', secrets: [] },
      { input: 'https://ntfy.sh/lab-jobs', canonical: 'ntfy://lab-jobs', redacted: 'ntfy://lab-jobs', secrets: [] },
      {
        input: 'ntfy://alice:pa%3Ass@ntfy.lab.example:8443/alerts',
        canonical: 'ntfy://alice:pa%3Ass@ntfy.lab.example:8443/alerts',
        redacted: 'ntfy://alice:***@ntfy.lab.example:8443/alerts',
        secrets: ['pa%3Ass', 'pa:ss'],
      },
      {
        input: 'ntfy+http://127.0.0.1:8080/lab-jobs?token=tk_secrettoken',
        canonical: 'ntfy+http://127.0.0.1:8080/lab-jobs?token=tk_secrettoken',
        redacted: 'ntfy+http://127.0.0.1:8080/lab-jobs?token=***',
        secrets: ['tk_secrettoken'],
      },
    ],
  },
  {
    name: 'email',
    destination: () => parseDestination(sink.url({ to: 'alice@lab.example,bob@lab.example' })),
    arrange(scenario) {
      if (scenario === 'server-error') sink.rejectNext({ code: 451, message: 'Temporary local problem', stage: 'mail' });
      if (scenario === 'not-found') sink.rejectNext({ code: 550, message: 'No such user' }, 2);
      if (scenario === 'hang') sink.hangNext();
    },
    notApplicable: { 'rate-limited': 'SMTP has no Retry-After; a 4xx deferral is the server-error row (451)' },
    async delivered(m) {
      const mail = await sink.waitFor((x) => x.subject === m.title, 2000);
      expect(mail.to).toEqual(['alice@lab.example', 'bob@lab.example']);
      expect(mail.from).toBe('flurm@lab.example');
      expect(mail.text).toContain('exit 3 after 1h 02m');
      expect(mail.html).toContain('<h2');
    },
    urls: () => [
      {
        input: 'smtp://alice%40lab.example:s3cret@mail.lab.example:587?to=alice@lab.example',
        canonical: 'smtp://alice%40lab.example:s3cret@mail.lab.example:587?from=alice@lab.example&to=alice@lab.example',
        redacted: 'smtp://alice%40lab.example:***@mail.lab.example:587?from=alice@lab.example&to=alice@lab.example',
        secrets: ['s3cret'],
      },
      {
        input: 'smtps://mail.lab.example?from=flurm@lab.example&to=a@x.example,b@y.example',
        canonical: 'smtps://mail.lab.example?from=flurm@lab.example&to=a@x.example,b@y.example',
        redacted: 'smtps://mail.lab.example?from=flurm@lab.example&to=a@x.example,b@y.example',
        secrets: [],
      },
    ],
  },
  {
    name: 'json',
    destination: () => parseDestination(fake.jsonUrl('/hooks/flurm')),
    arrange: httpArrange('/hooks/'),
    async delivered(m) {
      const r = await fake.waitFor((x) => x.service === 'json', 1000);
      expect(r.path).toBe('/hooks/flurm');
      expect(r.headers['idempotency-key']).toBe('outbox-42');
      expect(r.body).toMatchObject({ version: 1, title: m.title, severity: 'failure', summary: m.summary, message: m });
      expect((r.body as { text: string }).text).toContain(m.title);
    },
    urls: () => [
      {
        input: 'jsons://bot:pw@hooks.lab.example/flurm?channel=gpu&token=abc123',
        canonical: 'jsons://bot:pw@hooks.lab.example/flurm?channel=gpu&token=abc123',
        redacted: 'jsons://bot:***@hooks.lab.example/flurm?channel=gpu&token=***',
        secrets: [':pw@', 'abc123'],
      },
      { input: 'json://10.0.0.5:8080/notify', canonical: 'json://10.0.0.5:8080/notify', redacted: 'json://10.0.0.5:8080/notify', secrets: [] },
    ],
  },
  {
    name: 'discord-dm',
    // The outbox hands the hub's bot to the destination; the row does the same.
    destination: () => {
      const d = parseDestination(`discord-dm://${DM_USER}`);
      return { ...d, send: (m, ctx) => d.send(m, { ...ctx, discordBot: dmHub }) };
    },
    arrange(scenario) {
      const msgs = /^\/channels\/\d+\/messages$/;
      if (scenario === 'rate-limited') discord.failNext('POST', msgs, [{ status: 429, retryAfter: 1.5 }]);
      // @discordjs/rest retries a 5xx 3 times itself before giving up.
      if (scenario === 'server-error') discord.failNext('POST', msgs, [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]);
      if (scenario === 'not-found') discord.failNext('POST', msgs, [{ status: 404, code: 10003 }]);
      if (scenario === 'hang') discord.failNext('POST', msgs, [{ hang: true }]);
    },
    async delivered(m) {
      const got = await discord.waitFor(() => discord.dms(DM_USER).find((x) => JSON.stringify(x.embeds).includes(m.title)), 2000, 'the DM');
      expect(got.nonce).toHaveLength(25);
    },
    urls: () => [
      { input: `discord-dm://${DM_USER}`, canonical: `discord-dm://${DM_USER}`, redacted: `discord-dm://${DM_USER}`, secrets: [] },
      { input: 'discord:dm', canonical: 'discord:dm', redacted: 'discord:dm', secrets: [] },
    ],
  },
  {
    name: 'slack-dm',
    destination: () => {
      const d = parseDestination(`slack-dm://${SLACK_USER}`);
      return { ...d, send: (m, ctx) => d.send(m, { ...ctx, slackBot: slackApp }) };
    },
    arrange(scenario) {
      // Slack's Retry-After is whole seconds.
      if (scenario === 'rate-limited') slack.failNext('chat.postMessage', [{ error: 'ratelimited', retryAfter: 2 }]);
      if (scenario === 'server-error') slack.failNext('chat.postMessage', [{ status: 500 }]);
      if (scenario === 'not-found') slack.failNext('chat.postMessage', [{ error: 'user_not_found' }]);
      if (scenario === 'hang') slack.failNext('chat.postMessage', [{ hang: true }]);
    },
    async delivered(m) {
      const got = await slack.waitFor(() => slack.messages(slack.dmChannel(SLACK_USER)).find((x) => JSON.stringify(x.blocks).includes(m.title)), 2000, 'the DM');
      expect(got.metadata).toMatchObject({ event_payload: { key: 'outbox-42' } });
    },
    urls: () => [
      { input: `slack-dm://${SLACK_USER}`, canonical: `slack-dm://${SLACK_USER.toLowerCase()}`, redacted: `slack-dm://${SLACK_USER.toLowerCase()}`, secrets: [] },
      { input: 'slack:dm', canonical: 'slack:dm', redacted: 'slack:dm', secrets: [] },
    ],
  },
  {
    name: 'slack-channel',
    // Like slack-dm: the Slack app posts in a channel, here the local Slack's #general by name.
    destination: () => {
      const d = parseDestination('slack-channel://%23general');
      return { ...d, send: (m, ctx) => d.send(m, { ...ctx, slackBot: slackApp }) };
    },
    arrange(scenario) {
      if (scenario === 'rate-limited') slack.failNext('chat.postMessage', [{ error: 'ratelimited', retryAfter: 2 }]);
      if (scenario === 'server-error') slack.failNext('chat.postMessage', [{ status: 500 }]);
      if (scenario === 'not-found') slack.failNext('chat.postMessage', [{ error: 'channel_not_found' }]);
      if (scenario === 'hang') slack.failNext('chat.postMessage', [{ hang: true }]);
    },
    async delivered(m) {
      const got = await slack.waitFor(() => slack.messages('C0GENERAL1').find((x) => JSON.stringify(x.blocks).includes(m.title)), 2000, 'the channel post');
      expect(got.metadata).toMatchObject({ event_payload: { key: 'outbox-42' } });
    },
    urls: () => [
      { input: 'slack-channel://C0GENERAL1', canonical: 'slack-channel://c0general1', redacted: 'slack-channel://c0general1', secrets: [] },
      { input: 'slack-channel://%23general', canonical: 'slack-channel://%23general', redacted: 'slack-channel://%23general', secrets: [] },
      { input: 'slack:channel', canonical: 'slack:channel', redacted: 'slack:channel', secrets: [] },
      { input: 'slack:#general', canonical: 'slack:#general', redacted: 'slack:#general', secrets: [] },
      { input: 'slack:C0123ABCD', canonical: 'slack:C0123ABCD', redacted: 'slack:C0123ABCD', secrets: [] },
    ],
  },
  {
    name: 'discord-channel',
    // Like discord-dm: the outbox hands the hub's bot to the destination; a post in the lab channel.
    destination: () => {
      const d = parseDestination(`discord-channel://${discord.channelIds()[channelIndex]}`);
      return { ...d, send: (m, ctx) => d.send(m, { ...ctx, discordBot: dmHub }) };
    },
    arrange(scenario) {
      channelIndex = Math.max(0, ['success', 'rate-limited', 'server-error', 'not-found', 'hang'].indexOf(scenario));
      const msgs = new RegExp(`^/channels/${discord.channelIds()[channelIndex]}/messages$`);
      if (scenario === 'rate-limited') discord.failNext('POST', msgs, [{ status: 429, retryAfter: 1.5 }]);
      if (scenario === 'server-error') discord.failNext('POST', msgs, [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]);
      if (scenario === 'not-found') discord.failNext('POST', msgs, [{ status: 404, code: 10003 }]);
      if (scenario === 'hang') discord.failNext('POST', msgs, [{ hang: true }]);
    },
    async delivered(m) {
      const got = await discord.waitFor(() => discord.messages(discord.channelIds()[0]).find((x) => JSON.stringify(x.embeds).includes(m.title)), 2000, 'the channel post');
      expect(got.nonce).toHaveLength(25);
    },
    urls: () => [
      { input: 'discord-channel://1180000000000000200', canonical: 'discord-channel://1180000000000000200', redacted: 'discord-channel://1180000000000000200', secrets: [] },
      { input: 'discord:channel', canonical: 'discord:channel', redacted: 'discord:channel', secrets: [] },
    ],
  },
  {
    name: 'console',
    destination: () => createConsoleNotifier({ stdout: capture }).parse(new URL('console://')),
    arrange() {},
    notApplicable: {
      'rate-limited': 'no server',
      'server-error': 'no server',
      hang: 'no server',
      'not-found': 'no server; see "console: a broken stream is permanent"',
    },
    async delivered(m) {
      expect(consoleOut).toContain(m.title);
      expect(consoleOut).toContain('RuntimeError: CUDA out of memory');
    },
    urls: () => [
      { input: 'console://', canonical: 'console://', redacted: 'console://', secrets: [] },
      { input: 'console://stdout', canonical: 'console://', redacted: 'console://', secrets: [] },
      { input: 'console://stderr', canonical: 'console://stderr', redacted: 'console://stderr', secrets: [] },
    ],
  },
  {
    name: 'desktop',
    destination: () => createDesktopNotifier({ notifySend, env: { DISPLAY: ':99', PATH: process.env.PATH } }).parse(new URL('desktop://')),
    async arrange(scenario) {
      if (scenario === 'server-error') await writeFile(path.join(tmp, 'mode'), 'fail');
      if (scenario === 'hang') await writeFile(path.join(tmp, 'mode'), 'hang');
    },
    notApplicable: {
      'rate-limited': 'notify-send has no rate limit',
      'not-found': 'no server; the permanent analogue is "desktop: no session" below',
    },
    async delivered(m) {
      const calls = await desktopCalls();
      expect(calls).toHaveLength(1);
      expect(calls[0]).toEqual(expect.arrayContaining(['--app-name=flurm', '--urgency=critical', '--', m.title]));
      expect(calls[0]!.at(-1)).toContain('exit 3 after 1h 02m');
    },
    urls: () => [{ input: 'desktop://', canonical: 'desktop://', redacted: 'desktop://', secrets: [] }],
  },
];

async function sendError(d: Destination, timeoutMs = SEND_TIMEOUT_MS): Promise<DeliveryError> {
  const err = await d.send(message, { timeoutMs, idempotencyKey: 'outbox-42' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'send should have failed').toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

describe('every registered notifier', () => {
  it('has a row in this table', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(listNotifiers().map((n) => n.name).sort());
  });

  for (const c of cases) {
    describe(c.name, () => {
      const na = c.notApplicable ?? {};
      const row = (scenario: Scenario, title: string, fn: () => Promise<void>) => {
        const reason = na[scenario];
        if (reason) it.skip(`${title} — not applicable: ${reason}`, fn);
        else it(title, fn);
      };

      row('success', 'delivers a message', async () => {
        await c.arrange('success');
        await c.destination().send(message, { timeoutMs: SEND_TIMEOUT_MS, idempotencyKey: 'outbox-42' });
        await c.delivered(message);
      });

      row('rate-limited', '429 with Retry-After is retryable and says when', async () => {
        await c.arrange('rate-limited');
        const err = await sendError(c.destination());
        expect(err.retryable).toBe(true);
        expect(err.status).toBe(429);
        expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1.5);
        expect(err.retryAfterSeconds).toBeLessThanOrEqual(2);
      });

      row('server-error', 'a server error is retryable', async () => {
        await c.arrange('server-error');
        const err = await sendError(c.destination());
        expect(err.retryable).toBe(true);
        expect(err.retryAfterSeconds).toBeUndefined();
      });

      row('not-found', 'a missing destination is permanent', async () => {
        await c.arrange('not-found');
        const err = await sendError(c.destination());
        expect(err.retryable).toBe(false);
      });

      row('hang', 'a service that never answers times out, retryable', async () => {
        await c.arrange('hang');
        const started = Date.now();
        const err = await sendError(c.destination(), HANG_TIMEOUT_MS);
        expect(err.retryable).toBe(true);
        expect(err.message).toMatch(/within 400 ms/);
        expect(Date.now() - started).toBeLessThan(HANG_TIMEOUT_MS + 2000);
      });

      it('URL round-trips through parse and toUrl, and redaction hides every secret', () => {
        for (const ex of c.urls()) {
          const d = parseDestination(ex.input);
          expect(d.kind).toBe(c.name);
          expect(d.toUrl()).toBe(ex.canonical);
          expect(parseDestination(d.toUrl()).toUrl()).toBe(ex.canonical);
          const redacted = d.toUrl({ redact: true });
          expect(redacted).toBe(ex.redacted);
          expect(parseDestination(ex.canonical).toUrl({ redact: true })).toBe(ex.redacted);
          for (const s of ex.secrets) expect(redacted).not.toContain(s);
          if (ex.secrets.length) {
            // A redacted URL pasted back into a config is refused at start-up, not at send time.
            expect(() => parseDestination(redacted)).toThrow(ConfigError);
          }
        }
      });
    });
  }
});

describe('analogue rows', () => {
  it('email: a 4xx reply is retryable, a 5xx reply permanent, each naming the server reply', async () => {
    const d = parseDestination(sink.url());
    sink.rejectNext({ code: 451, message: 'Greylisted, try again', stage: 'data' });
    const soft = await sendError(d);
    expect(soft).toMatchObject({ retryable: true, status: 451 });
    expect(soft.message).toContain('Greylisted');
    sink.rejectNext({ code: 550, message: 'No such user here' });
    const hard = await sendError(d);
    expect(hard).toMatchObject({ retryable: false, status: 550 });
    expect(hard.message).toContain('No such user here');
  });

  it('console: a broken stream is permanent', async () => {
    const d = createConsoleNotifier({ stdout: broken }).parse(new URL('console://'));
    const err = await sendError(d);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('EPIPE');
  });

  it('desktop: no session is permanent and says so', async () => {
    const d = createDesktopNotifier({ notifySend, env: { PATH: process.env.PATH } }).parse(new URL('desktop://'));
    const err = await sendError(d);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/no desktop session/);
    expect(await desktopCalls()).toHaveLength(0);
  });
});
