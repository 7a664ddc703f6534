// Discord: pasted and canonical URL forms, refusals, and sends to the fake Discord.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DeliveryError } from '../lib/errors.js';
import { startFakeServices, type FakeServices } from '../../test/support/fake-services.js';
import { LAST_TAIL_LINE, hostileMessage, normalMessage } from '../../test/support/stress-message.js';
import { parseDestination } from './registry.js';

const ID = '112233445566778899';
const TOKEN = 'Tok3n_abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab';

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('discord URL forms', () => {
  it.each([
    `https://discord.com/api/webhooks/${ID}/${TOKEN}`,
    `https://discordapp.com/api/webhooks/${ID}/${TOKEN}`,
    `https://ptb.discord.com/api/webhooks/${ID}/${TOKEN}`,
    `https://canary.discord.com/api/webhooks/${ID}/${TOKEN}/`,
    `https://discord.com/api/v10/webhooks/${ID}/${TOKEN}?wait=true`,
    `discord://${ID}/${TOKEN}`,
  ])('%s → discord://ID/TOKEN', (input) => {
    expect(parseDestination(input).toUrl()).toBe(`discord://${ID}/${TOKEN}`);
  });

  it('keeps thread_id from a pasted forum-channel URL', () => {
    expect(parseDestination(`https://discord.com/api/webhooks/${ID}/${TOKEN}?thread_id=42`).toUrl()).toBe(`discord://${ID}/${TOKEN}?thread_id=42`);
  });

  it.each([
    [`discord://${ID}`, /token missing/],
    [`discord://abc/${TOKEN}`, /id must be digits/],
    [`discord://${ID}/tok$en`, /characters a Discord token never has/],
    [`discord://${ID}/${TOKEN}?usrname=x`, /unknown option "usrname" \(known: thread_id, username, api\)/],
    [`discord://${ID}/${TOKEN}?api=ftp://x`, /api= must be http/],
    [`discord://${ID}/***`, /redacted/],
    [`https://discord.com/api/channels/${ID}/messages`, /not a Discord, Slack or ntfy.sh webhook URL/],
  ])('%s is refused: %s', (input, why) => {
    expect(() => parseDestination(input)).toThrow(ConfigError);
    expect(() => parseDestination(input)).toThrow(why);
  });

  it('never puts the token in an error message', () => {
    try {
      parseDestination(`discord://${ID}/${TOKEN}?bad=1`);
    } catch (err) {
      expect((err as Error).message).not.toContain(TOKEN);
    }
  });
});

describe('discord send', () => {
  it('a hostile message is accepted by a server that enforces every Discord limit', async () => {
    await parseDestination(fake.discordUrl(ID, TOKEN)).send(hostileMessage(), { timeoutMs: 5000 });
    const r = await fake.waitFor((x) => x.service === 'discord');
    expect(r.status).toBe(200);
    const embed = (r.body as { embeds: Array<{ description: string }> }).embeds[0]!;
    expect(embed.description).toContain(LAST_TAIL_LINE);
  });

  it('forwards thread_id and username', async () => {
    await parseDestination(`${fake.discordUrl(ID, TOKEN)}&thread_id=77&username=lab%20bot`).send(normalMessage(), { timeoutMs: 5000 });
    const r = await fake.waitFor((x) => x.service === 'discord');
    expect(r.query).toEqual({ wait: 'true', thread_id: '77' });
    expect((r.body as { username: string }).username).toBe('lab bot');
  });

  it("a 400 carries Discord's explanation", async () => {
    fake.failNext('/api/webhooks/', [{ status: 400, body: { code: 50035, message: 'Invalid Form Body', errors: { embeds: { 0: { description: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 4096 or fewer in length.' }] } } } } } }]);
    const err = (await parseDestination(fake.discordUrl(ID, TOKEN)).send(normalMessage(), { timeoutMs: 5000 }).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('Must be 4096 or fewer in length.');
    expect(err.message).not.toContain(TOKEN);
  });

  it('a deleted webhook (404 Unknown Webhook) is permanent', async () => {
    fake.failNext('/api/webhooks/', [{ status: 404 }]);
    const err = (await parseDestination(fake.discordUrl(ID, TOKEN)).send(normalMessage(), { timeoutMs: 5000 }).catch((e: unknown) => e)) as DeliveryError;
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/invalid or was deleted.*Unknown Webhook/);
  });
});
