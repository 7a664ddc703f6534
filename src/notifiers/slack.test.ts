// Slack: URL forms, refusals, and sends to the fake Slack (limits, error strings).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DeliveryError } from '../lib/errors.js';
import { startFakeServices, type FakeServices } from '../../test/support/fake-services.js';
import { LAST_TAIL_LINE, hostileMessage, normalMessage } from '../../test/support/stress-message.js';
import { parseDestination } from './registry.js';

const SECRET = 'AbCdEfGhIjKlMnOpQrStUvWx';
let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('slack URL forms', () => {
  it.each([`https://hooks.slack.com/services/T0LAB/B0FLURM/${SECRET}`, `slack://T0LAB/B0FLURM/${SECRET}`, `slack://T0LAB/B0FLURM/${SECRET}/`])(
    '%s → slack://T/B/SECRET',
    (input) => {
      expect(parseDestination(input).toUrl()).toBe(`slack://T0LAB/B0FLURM/${SECRET}`);
    },
  );

  it.each([
    ['slack://T0LAB/B0FLURM', /expected slack:\/\//],
    [`slack://t0lab/B0FLURM/${SECRET}`, /upper-case/],
    [`slack://T0LAB/B0FLURM/${SECRET}?channel=x`, /unknown option "channel"/],
    ['https://hooks.slack.com/triggers/T0LAB/123/abc', /not a Discord, Slack or ntfy.sh webhook URL/],
    ['slack://T0LAB/B0FLURM/***', /redacted/],
  ])('%s is refused', (input, why) => {
    expect(() => parseDestination(input)).toThrow(ConfigError);
    expect(() => parseDestination(input)).toThrow(why);
  });
});

describe('slack send', () => {
  it('a hostile message is accepted by a server that enforces the Block Kit limits', async () => {
    await parseDestination(fake.slackUrl('T0LAB', 'B0FLURM', SECRET)).send(hostileMessage(), { timeoutMs: 5000 });
    const r = await fake.waitFor((x) => x.service === 'slack');
    expect(r.status).toBe(200);
    expect(r.rawBody).toContain(LAST_TAIL_LINE);
  });

  it.each([
    [403, 'invalid_token'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])('%i %s is permanent and quotes Slack', async (status, text) => {
    fake.failNext('/services/', [{ status }]);
    const err = (await parseDestination(fake.slackUrl('T0LAB', 'B0FLURM', SECRET)).send(normalMessage(), { timeoutMs: 5000 }).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(text);
    expect(err.message).not.toContain(SECRET);
  });
});
