// The local Slack against the real clients: Bolt (Socket Mode and its HTTP receiver) and WebClient.
import net from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { ErrorCode, WebClient, type WebAPIPlatformError } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackServer, validateSlackMessage, type SlackServer } from './slack-server.js';

let srv: SlackServer | undefined;
let apps: App[] = [];

afterEach(async () => {
  for (const a of apps) await a.stop().catch(() => {});
  apps = [];
  // Let a stopped Socket Mode client finish its close handshake before the server goes away.
  await srv?.waitFor(() => srv!.openConnections === 0, 3000, 'the clients to close').catch(() => {});
  await srv?.close();
  srv = undefined;
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function client(s: SlackServer, token = s.botToken): WebClient {
  return new WebClient(token, { slackApiUrl: s.apiUrl, logLevel: LogLevel.ERROR, retryConfig: { retries: 2, factor: 1, minTimeout: 50, maxTimeout: 50 } });
}

async function platformError(p: Promise<unknown>): Promise<WebAPIPlatformError['data']> {
  const e = (await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  )) as WebAPIPlatformError;
  expect(e.code).toBe(ErrorCode.PlatformError);
  return e.data;
}

const homeBlocks = [{ type: 'header', text: { type: 'plain_text', text: 'flurm' } }];

function socketApp(s: SlackServer, seen: string[]): App {
  const clientOptions = { slackApiUrl: s.apiUrl };
  const app = new App({
    token: s.botToken,
    appToken: s.appToken,
    socketMode: true,
    logLevel: LogLevel.ERROR,
    clientOptions,
    installerOptions: { clientOptions },
  });
  app.command('/flurm', async ({ command, ack, respond }) => {
    await ack();
    seen.push(`command:${command.text}`);
    await respond({
      text: `status for ${command.user_name}`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*${command.text}*` } },
        { type: 'actions', elements: [{ type: 'button', action_id: 'refresh', value: 'now', text: { type: 'plain_text', text: 'Refresh' } }] },
      ],
      response_type: 'in_channel',
    });
  });
  app.action('refresh', async ({ ack, respond, body }) => {
    await ack();
    seen.push(`action:${(body as { actions: { value: string }[] }).actions[0]!.value}`);
    await respond({ text: 'refreshed', replace_original: true });
  });
  app.event('app_home_opened', async ({ event, client: c }) => {
    seen.push(`home:${event.user}`);
    await c.views.publish({ user_id: event.user, view: { type: 'home', blocks: homeBlocks } });
  });
  apps.push(app);
  return app;
}

describe('slack server with Bolt in Socket Mode', () => {
  it('hello, slash command acked within 3 s and answered on response_url, button, home tab, refresh_requested reconnect', async () => {
    srv = await startSlackServer();
    const s = srv;
    const seen: string[] = [];
    await socketApp(s, seen).start();
    await s.waitForConnection(1);
    // Bolt verified its bot token and opened the socket with its app token.
    expect(s.requests.find((r) => r.method === 'auth.test')?.token).toBe(s.botToken);
    expect(s.requests.find((r) => r.method === 'apps.connections.open')?.token).toBe(s.appToken);

    const h = s.slashCommand('/flurm', 'gpu', { userId: 'U0ALICE001' });
    const ack = await h.ack;
    expect(ack.acked).toBe(true);
    expect(ack.late).toBe(false);
    expect(ack.latencyMs).toBeLessThan(3000);
    const final = await h.final();
    expect(final.source).toBe('response_url');
    expect(final.text).toBe('status for alice');
    expect(final.ephemeral).toBe(false);
    // in_channel: the answer is a message in the channel, with its button.
    const posted = await s.waitFor(() => s.messages('general').find((m) => m.text === 'status for alice'), 2000, 'the in_channel answer');

    const click = s.blockAction('refresh', undefined, { userId: 'U0BOB00002' });
    expect((await click.ack).acked).toBe(true);
    expect((await click.final()).text).toBe('refreshed');
    expect(s.messages('general').find((m) => m.ts === posted.ts)?.text).toBe('refreshed');
    expect(seen).toContain('action:now');

    const home = s.appHomeOpened('U0BOB00002');
    expect((await home.ack).acked).toBe(true);
    const view = await s.waitFor(() => s.homeView('U0BOB00002'), 3000, 'the published home view');
    expect(view.blocks).toEqual(homeBlocks);

    // Slack recycles the link: the client opens a new one and keeps answering.
    s.disconnect('refresh_requested');
    await s.waitForConnection(2, 15_000);
    expect(s.connectionsLog[0]!.closedAtMs).toBeDefined();
    const again = s.slashCommand('/flurm', 'after', { userId: 'U0ALICE001' });
    expect((await again.ack).acked).toBe(true);
    expect((await again.final()).text).toBe('status for alice');
    expect(seen.filter((x) => x.startsWith('command:'))).toEqual(['command:gpu', 'command:after']);
  });

  it('records an ack after the deadline as late, with its payload (a missing ack: see fault injection)', async () => {
    srv = await startSlackServer({ ackDeadlineMs: 300 });
    const s = srv;
    const clientOptions = { slackApiUrl: s.apiUrl };
    const app = new App({ token: s.botToken, appToken: s.appToken, socketMode: true, logLevel: LogLevel.ERROR, clientOptions, installerOptions: { clientOptions } });
    app.command('/slow', async ({ ack }) => {
      await new Promise((r) => setTimeout(r, 600));
      await ack({ text: 'finally' });
    });
    apps.push(app);
    await app.start();
    await s.waitForConnection(1);
    const h = s.slashCommand('/slow', '');
    const ack = await h.ack;
    expect(ack).toMatchObject({ acked: false, late: true });
    // The ack that came after the deadline is still recorded, marked late.
    const env = await s.waitFor(() => s.envelopes.find((e) => e.envelope_id === h.envelopeId && e.ack?.acked), 3000, 'the late ack');
    expect(env.ack).toMatchObject({ late: true, payload: { text: 'finally' } });
    expect(env.ack!.latencyMs).toBeGreaterThanOrEqual(300);
  });
});

describe('slack server Web API with WebClient', () => {
  it('auth.test scopes, DM + message with metadata, history with include_all_metadata, errors', async () => {
    srv = await startSlackServer({ scopes: ['chat:write', 'im:write', 'im:history'] });
    const s = srv;
    const c = client(s);
    const auth = await c.auth.test();
    expect(auth).toMatchObject({ ok: true, user_id: s.botUserId, team_id: s.teamId, bot_id: s.botId });
    expect(auth.response_metadata?.scopes).toEqual(['chat:write', 'im:write', 'im:history']);

    const dm = await c.conversations.open({ users: 'U0ALICE001' });
    const dm2 = await c.conversations.open({ users: 'U0ALICE001' });
    expect(dm.channel?.id).toMatch(/^D/);
    expect(dm2.channel?.id).toBe(dm.channel?.id);
    expect(dm2).toMatchObject({ no_op: true, already_open: true });
    const channel = dm.channel!.id!;
    const metadata = { event_type: 'job_finished', event_payload: { job: '4242', state: 'COMPLETED' } };
    const posted = await c.chat.postMessage({ channel, text: 'job 4242 done', metadata });
    expect(posted.ts).toBeTruthy();
    const plain = await c.conversations.history({ channel, limit: 10 });
    expect(plain.messages?.[0]?.metadata).toBeUndefined();
    const hist = await c.conversations.history({ channel, limit: 10, include_all_metadata: true });
    expect(hist.messages?.[0]).toMatchObject({ ts: posted.ts, text: 'job 4242 done', metadata });

    const tooLong = await platformError(c.chat.postMessage({ channel, text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] }));
    expect(tooLong.error).toBe('invalid_blocks');
    expect(await platformError(c.apiCall('chat.postMessage', { channel }))).toMatchObject({ error: 'no_text' });
    expect(await platformError(c.chat.postMessage({ channel: 'C0NOWHERE', text: 'x' }))).toMatchObject({ error: 'channel_not_found' });
    expect(await platformError(c.users.info({ user: 'U0ALICE001' }))).toMatchObject({ error: 'missing_scope', needed: 'users:read' });
    expect(await platformError(client(s, 'xoxb-wrong').auth.test())).toMatchObject({ error: 'invalid_auth' });
    expect(await platformError(client(s).apps.connections.open())).toMatchObject({ error: 'not_allowed_token_type' });
    expect(await platformError(c.apiCall('chat.nonsense'))).toMatchObject({ error: 'unknown_method' });
    // Only the one good message exists.
    expect(s.messages(channel).map((m) => m.text)).toEqual(['job 4242 done']);
  });

  it('ratelimited: HTTP 429 with Retry-After, WebClient waits and retries, the message exists once', async () => {
    srv = await startSlackServer();
    const s = srv;
    s.failNext('chat.postMessage', [{ error: 'ratelimited', retryAfter: 1 }]);
    const c = client(s);
    const res = await c.chat.postMessage({ channel: 'general', text: 'once' });
    expect(res.ok).toBe(true);
    const calls = s.requests.filter((r) => r.method === 'chat.postMessage');
    expect(calls.map((r) => r.status)).toEqual([429, 200]);
    expect(calls[1]!.atMs - calls[0]!.atMs).toBeGreaterThanOrEqual(1000);
    expect(s.messages('general').map((m) => m.text)).toEqual(['once']);
  });

  it('rate limit tier: chat.postMessage 1 per second per channel when rateLimits is on', async () => {
    srv = await startSlackServer({ rateLimits: true });
    const s = srv;
    const c = new WebClient(s.botToken, { slackApiUrl: s.apiUrl, logLevel: LogLevel.ERROR, rejectRateLimitedCalls: true });
    await c.chat.postMessage({ channel: 'general', text: 'a' });
    const err = (await c.chat.postMessage({ channel: 'general', text: 'b' }).catch((e: unknown) => e)) as { code: string; retryAfter: number };
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(1);
    expect(s.messages('general').map((m) => m.text)).toEqual(['a']);
  });

  it('files.uploadV2: upload URL, bytes posted, completed and shared in the channel', async () => {
    srv = await startSlackServer();
    const s = srv;
    const c = client(s);
    const res = await c.filesUploadV2({ channel_id: 'C0GENERAL1', content: 'job log line\n', filename: 'job-4242.log', title: 'job 4242 log' });
    expect(res.ok).toBe(true);
    expect(s.files).toHaveLength(1);
    expect(s.files[0]).toMatchObject({ filename: 'job-4242.log', title: 'job 4242 log', channel: 'C0GENERAL1', length: 13 });
    expect(s.files[0]!.bytes?.toString()).toBe('job log line\n');
    expect(s.messages('general')[0]?.files).toEqual([{ id: s.files[0]!.id, name: 'job-4242.log', title: 'job 4242 log' }]);
  });

  it('response_url: 5 uses then 404 used_url; bad blocks → 400', async () => {
    srv = await startSlackServer();
    const s = srv;
    const h = s.slashCommand('/flurm', 'x'); // no app connected: not delivered, but its response_url exists
    expect(await h.ack).toMatchObject({ acked: false, undelivered: true });
    const post = (body: unknown) => fetch(h.responseUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post({ blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] });
    expect([bad.status, await bad.text()]).toEqual([400, 'invalid_blocks']);
    for (let i = 0; i < 5; i++) expect((await post({ text: `answer ${i}` })).status).toBe(200);
    const sixth = await post({ text: 'too many' });
    expect([sixth.status, await sixth.text()]).toEqual([404, 'used_url']);
    expect(h.responses.map((r) => r.text)).toEqual(['answer 0', 'answer 1', 'answer 2', 'answer 3', 'answer 4']);
  });
});

describe('validateSlackMessage (Block Kit limits)', () => {
  const btn = (id: string, extra: Record<string, unknown> = {}) => ({ type: 'button', action_id: id, text: { type: 'plain_text', text: 'Go' }, ...extra });
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const field = { type: 'mrkdwn', text: 'f' };
  it.each([
    ['51 blocks', { blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) }, 'invalid_blocks'],
    ['section text 3001', { blocks: [section('x'.repeat(3001))] }, 'invalid_blocks'],
    ['11 fields', { blocks: [{ type: 'section', fields: Array.from({ length: 11 }, () => field) }] }, 'invalid_blocks'],
    ['field of 2001', { blocks: [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'x'.repeat(2001) }] }] }, 'invalid_blocks'],
    ['header mrkdwn', { blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }] }, 'invalid_blocks'],
    ['26 action elements', { blocks: [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => btn(`b${i}`)) }] }, 'invalid_blocks'],
    ['duplicate action_id', { blocks: [{ type: 'actions', elements: [btn('a')] }, { type: 'section', text: { type: 'mrkdwn', text: 't' }, accessory: btn('a') }] }, 'invalid_blocks'],
    ['action_id of 256', { blocks: [{ type: 'actions', elements: [btn('a'.repeat(256))] }] }, 'invalid_blocks'],
    ['value of 2001', { blocks: [{ type: 'actions', elements: [btn('a', { value: 'v'.repeat(2001) })] }] }, 'invalid_blocks'],
    ['11 context elements', { blocks: [{ type: 'context', elements: Array.from({ length: 11 }, () => field) }] }, 'invalid_blocks'],
    ['unknown block type', { blocks: [{ type: 'rich_text_nonsense' }] }, 'invalid_blocks'],
    ['text of 40001', { text: 'x'.repeat(40_001) }, 'msg_too_long'],
    ['nothing', {}, 'no_text'],
  ])('%s → %s', (_what, body, error) => {
    expect(validateSlackMessage(body as Record<string, unknown>)?.[0]).toBe(error);
  });
  it('accepts the limits themselves, and 100 blocks for a view', () => {
    const ok = {
      text: 'x'.repeat(40_000),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(150) } },
        section('x'.repeat(3000)),
        { type: 'section', fields: Array.from({ length: 10 }, () => ({ type: 'mrkdwn', text: 'x'.repeat(2000) })) },
        { type: 'actions', elements: Array.from({ length: 25 }, (_, i) => btn(`b${i}`, { value: 'v'.repeat(2000) })) },
        { type: 'context', elements: Array.from({ length: 10 }, () => field) },
        { type: 'divider' },
      ],
    };
    expect(validateSlackMessage(ok)).toBeUndefined();
    const view = { blocks: Array.from({ length: 100 }, () => ({ type: 'divider' })) };
    expect(validateSlackMessage(view, 100)).toBeUndefined();
    expect(validateSlackMessage(view)?.[0]).toBe('invalid_blocks');
  });
});

describe('slack server fault injection', () => {
  it('beforeRespond sees the stored message before the answer; hang, 500 and a missing ack', async () => {
    srv = await startSlackServer({ ackDeadlineMs: 300 });
    const s = srv;
    const c = new WebClient(s.botToken, { slackApiUrl: s.apiUrl, logLevel: LogLevel.ERROR, timeout: 300, retryConfig: { retries: 0 } });
    let storedBeforeAnswer: string[] | undefined;
    const off = s.beforeRespond(
      (r) => r.method === 'chat.postMessage',
      (r) => {
        storedBeforeAnswer = s.messages('general').map((m) => m.text ?? '');
        expect(r.status).toBeUndefined();
      },
    );
    const res = await c.chat.postMessage({ channel: 'general', text: 'hooked' });
    off();
    expect(storedBeforeAnswer).toEqual(['hooked']);
    expect(s.requests.at(-1)).toMatchObject({ method: 'chat.postMessage', status: 200, response: { ok: true, ts: res.ts } });

    s.failNext('chat.postMessage', [{ hang: true }, { status: 500 }]);
    const hung = (await c.chat.postMessage({ channel: 'general', text: 'never' }).catch((e: unknown) => e)) as { code: string };
    expect(hung.code).toBe(ErrorCode.RequestError);
    const http500 = (await c.chat.postMessage({ channel: 'general', text: 'boom' }).catch((e: unknown) => e)) as { code: string; statusCode: number };
    expect(http500).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500 });
    expect(s.messages('general').map((m) => m.text)).toEqual(['hooked']);

    // An app that never acks: the user would see an error; the envelope says so.
    const clientOptions = { slackApiUrl: s.apiUrl };
    const app = new App({ token: s.botToken, appToken: s.appToken, socketMode: true, logLevel: LogLevel.ERROR, clientOptions, installerOptions: { clientOptions } });
    app.command('/mute', async () => {});
    apps.push(app);
    await app.start();
    await s.waitForConnection(1);
    const h = s.slashCommand('/mute', '');
    expect(await h.ack).toMatchObject({ acked: false, late: true });
    expect(s.envelopes.find((e) => e.envelope_id === h.envelopeId)?.ack?.acked).toBe(false);
  });
});

describe('slack server HTTP mode with Bolt HTTPReceiver', () => {
  it('a valid signature is handled; none, tampered and stale are refused with 401 before any handler', async () => {
    srv = await startSlackServer();
    const s = srv;
    const port = await freePort();
    const handled: string[] = [];
    const app = new App({ token: s.botToken, signingSecret: s.signingSecret, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: s.apiUrl } });
    app.command('/flurm', async ({ command, ack }) => {
      handled.push(command.text);
      await ack({ text: `ok ${command.text}` });
    });
    apps.push(app);
    await app.start(port);
    const httpUrl = `http://127.0.0.1:${port}/slack/events`;
    for (const sign of ['none', 'tampered', 'stale'] as const) {
      const h = s.slashCommand('/flurm', sign, { via: { httpUrl, sign } });
      const ack = await h.ack;
      expect({ sign, status: ack.status, acked: ack.acked }).toEqual({ sign, status: 401, acked: false });
    }
    const good = s.slashCommand('/flurm', 'valid', { via: { httpUrl, sign: 'valid' } });
    const ack = await good.ack;
    expect(ack).toMatchObject({ acked: true, status: 200, late: false });
    expect((await good.final()).text).toBe('ok valid');
    // The refused deliveries were answered before the good one was sent: no handler ever saw them.
    expect(handled).toEqual(['valid']);
  });
});
