// SlackApp.sendChannel against the local Slack (the outbox's slack-channel:// transport): a post
// by name or id, exactly once when a send may have landed before a crash (found in the channel's
// history by its metadata key), a clear non-retryable error when the app is not in the channel,
// and rate limits left to the outbox to retry.
import { afterEach, describe, expect, it } from 'vitest';
import { SlackApp } from '../src/frontends/slack/app.js';
import { COMMANDS } from '../src/commands/registry.js';
import { DeliveryError } from '../src/lib/errors.js';
import { createLogger } from '../src/lib/logger.js';
import type { Message } from '../src/model/message.js';
import { startSlackServer, type SlackServer } from './support/slack-server.js';

let srv: SlackServer | undefined;

afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

const CHANNELS = [
  { id: 'C0GENERAL1', name: 'general' },
  { id: 'C0LAB00001', name: 'lab' },
  { id: 'C0QUIET001', name: 'quiet', member: false },
];

async function setup(): Promise<{ s: SlackServer; app: SlackApp }> {
  const s = await startSlackServer({ channels: CHANNELS });
  srv = s;
  const app = new SlackApp({ botToken: s.botToken, appToken: s.appToken, api: s.apiUrl, aliases: {}, source: {} as never, commands: COMMANDS, userOf: () => null, log: createLogger({ level: 'error', write: () => undefined }) });
  return { s, app };
}

const msg = (title: string): Message => ({ title, severity: 'warning', summary: 'gpu3 is down' });
const opts = (key: string, maybeSent = false) => ({ key, maybeSent, timeoutMs: 5000 });
const failure = (p: Promise<unknown>) => p.then(() => expect.unreachable('the send should fail'), (e: unknown) => e as DeliveryError);
const titled = (s: SlackServer, channel: string, title: string) => s.messages(channel).filter((m) => JSON.stringify(m.blocks).includes(title));

describe('SlackApp.sendChannel', () => {
  it('posts in a channel given by #name or by id, carrying the outbox key', async () => {
    const { s, app } = await setup();
    await app.sendChannel('#general', msg('by-name'), opts('k-name'));
    await app.sendChannel('C0LAB00001', msg('by-id'), opts('k-id'));
    expect(titled(s, 'C0GENERAL1', 'by-name')).toHaveLength(1);
    expect(titled(s, 'C0LAB00001', 'by-id')).toHaveLength(1);
    expect(titled(s, 'C0GENERAL1', 'by-name')[0]!.metadata).toMatchObject({ event_type: 'flurm_message', event_payload: { key: 'k-name' } });
    // The name was looked up once, then remembered.
    await app.sendChannel('#general', msg('again'), opts('k-again'));
    expect(s.requests.filter((r) => r.method === 'conversations.list')).toHaveLength(1);
  });

  it('a send that died after Slack stored it is found in the channel\'s history on the retry, not posted twice', async () => {
    const { s, app } = await setup();
    // Slack stores the post, then the connection dies before the answer: the outcome is unknown.
    const undo = s.beforeRespond((r) => r.method === 'chat.postMessage', () => 'drop');
    const first = await failure(app.sendChannel('#general', msg('mid-flight'), opts('k-1')));
    undo();
    expect(first.retryable).toBe(true);
    expect(titled(s, 'C0GENERAL1', 'mid-flight')).toHaveLength(1);
    // The outbox retries with maybeSent: the app looks first and finds it.
    await app.sendChannel('#general', msg('mid-flight'), opts('k-1', true));
    expect(titled(s, 'C0GENERAL1', 'mid-flight')).toHaveLength(1);
    expect(app.health().channel).toEqual({ sent: 0, found_in_history: 1 });
    // A maybe-sent message that is not there is posted.
    await app.sendChannel('#general', msg('never-landed'), opts('k-2', true));
    expect(titled(s, 'C0GENERAL1', 'never-landed')).toHaveLength(1);
    expect(app.health().channel).toEqual({ sent: 1, found_in_history: 1 });
  });

  it('not_in_channel says to /invite the app, and is not retried; so is an unknown name', async () => {
    const { s, app } = await setup();
    const byName = await failure(app.sendChannel('#quiet', msg('x'), opts('k')));
    expect(byName).toBeInstanceOf(DeliveryError);
    expect(byName.retryable).toBe(false);
    expect(byName.message).toMatch(/not_in_channel: invite the app to #quiet: \/invite @flurm/);
    const byId = await failure(app.sendChannel('C0QUIET001', msg('x'), opts('k', true)));
    expect(byId.retryable).toBe(false);
    expect(byId.message).toMatch(/invite the app to channel C0QUIET001: \/invite @flurm/);
    s.failNext('chat.postMessage', [{ error: 'channel_not_found' }]);
    const gone = await failure(app.sendChannel('C0LAB00001', msg('x'), opts('k')));
    expect(gone.retryable).toBe(false);
    expect(gone.message).toMatch(/channel_not_found: invite the app/);
    const unknown = await failure(app.sendChannel('#nope', msg('x'), opts('k')));
    expect(unknown.retryable).toBe(false);
    expect(unknown.message).toMatch(/no public channel #nope/);
    expect(s.messages('C0QUIET001')).toHaveLength(0);
  });

  it('a rate limit stays retryable, with Slack\'s Retry-After', async () => {
    const { s, app } = await setup();
    s.failNext('chat.postMessage', [{ error: 'ratelimited', retryAfter: 3 }]);
    const err = await failure(app.sendChannel('C0LAB00001', msg('x'), opts('k')));
    expect(err.retryable).toBe(true);
    expect(err.retryAfterSeconds).toBe(3);
    await app.sendChannel('C0LAB00001', msg('after-the-limit'), opts('k'));
    expect(titled(s, 'C0LAB00001', 'after-the-limit')).toHaveLength(1);
  });
});
