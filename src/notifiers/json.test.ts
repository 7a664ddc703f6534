// Generic JSON webhook: body shape, basic auth, query passing and redaction.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors.js';
import { startFakeServices, type FakeServices } from '../../test/support/fake-services.js';
import { normalMessage } from '../../test/support/stress-message.js';
import { parseDestination } from './registry.js';

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('json webhook', () => {
  it('posts the versioned body with basic auth and the query passed on', async () => {
    const url = fake.jsonUrl('/hooks/flurm').replace('json://', 'json://bot:pa%2Fss@') + '?channel=gpu&token=abc';
    await parseDestination(url).send(normalMessage(), { timeoutMs: 5000 });
    const r = await fake.waitFor((x) => x.service === 'json');
    expect(r.query).toEqual({ channel: 'gpu', token: 'abc' });
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from('bot:pa/ss').toString('base64')}`);
    expect(r.headers['idempotency-key']).toBeUndefined();
    const body = r.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['key', 'message', 'ref', 'severity', 'summary', 'text', 'title', 'version']);
    expect(body.version).toBe(1);
    expect([body.key, body.ref]).toEqual([null, null]);
    expect(body.message).toEqual(normalMessage());
  });

  it('carries the idempotency key as a header and in the body, and the job id', async () => {
    fake.reset();
    await parseDestination(fake.jsonUrl('/hooks/k')).send(normalMessage(), { timeoutMs: 5000, idempotencyKey: 'flurm-0123abcd', refId: '01JOBID' });
    const r = await fake.waitFor((x) => x.path === '/hooks/k');
    expect(r.headers['idempotency-key']).toBe('flurm-0123abcd');
    expect(r.body).toMatchObject({ key: 'flurm-0123abcd', ref: '01JOBID' });
  });

  it('redacts secret-looking query values but keeps the rest', () => {
    const d = parseDestination('jsons://hooks.lab.example/x?api_key=k1&signature=s1&room=gpu');
    expect(d.toUrl({ redact: true })).toBe('jsons://hooks.lab.example/x?api_key=***&signature=***&room=gpu');
  });

  it.each([
    ['json:///path', /host missing/],
    ['json://host/p#frag', /fragment/],
    ['json://host/p?token=***', /redacted/],
  ])('%s is refused', (input, why) => {
    expect(() => parseDestination(input)).toThrow(ConfigError);
    expect(() => parseDestination(input)).toThrow(why);
  });
});
