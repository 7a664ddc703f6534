// ntfy: URL forms, auth, priority, and the 4096-byte body cut.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors.js';
import { startFakeServices, type FakeServices } from '../../test/support/fake-services.js';
import { LAST_TAIL_LINE, hostileMessage, normalMessage } from '../../test/support/stress-message.js';
import { NTFY_MAX_MESSAGE_BYTES, ntfyBody } from './ntfy.js';
import { parseDestination } from './registry.js';

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('ntfy URL forms', () => {
  it.each([
    ['ntfy://lab-jobs', 'ntfy://lab-jobs'],
    ['ntfy://ntfy.sh/lab-jobs', 'ntfy://lab-jobs'],
    ['https://ntfy.sh/lab-jobs', 'ntfy://lab-jobs'],
    ['ntfy://ntfy.lab.example/lab-jobs', 'ntfy://ntfy.lab.example/lab-jobs'],
    ['ntfy://ntfy.lab.example:8443/push/lab-jobs', 'ntfy://ntfy.lab.example:8443/push/lab-jobs'],
    ['ntfy://lab-jobs?token=tk_abc', 'ntfy://lab-jobs?token=tk_abc'],
    ['ntfy+http://127.0.0.1:8080/lab-jobs', 'ntfy+http://127.0.0.1:8080/lab-jobs'],
  ])('%s → %s', (input, canonical) => {
    expect(parseDestination(input).toUrl()).toBe(canonical);
  });

  it.each([
    ['ntfy://lab.jobs', /must be 1-64 letters/],
    ['ntfy://a:b@host', /needs a topic/],
    ['ntfy://u:p@host/t?token=tk_x', /either USER:PASS@ or \?token=/],
    ['ntfy://t?token=***', /redacted/],
    ['ntfy://t?priority=5', /unknown option "priority" \(known: token\)/],
    ['ntfy+http:///t', /needs a host/],
  ])('%s is refused', (input, why) => {
    expect(() => parseDestination(input)).toThrow(ConfigError);
    expect(() => parseDestination(input)).toThrow(why);
  });
});

describe('ntfy send', () => {
  it('publishes JSON to the server root with basic auth, high priority for a failure', async () => {
    const url = fake.ntfyUrl('lab-jobs').replace('ntfy+http://', 'ntfy+http://alice:s3cret@');
    await parseDestination(url).send(normalMessage(), { timeoutMs: 5000 });
    const r = await fake.waitFor((x) => x.service === 'ntfy');
    expect(r.path).toBe('/');
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    expect(r.body).toMatchObject({ topic: 'lab-jobs', priority: 4, title: '✗ train_resnet failed on gpu3' });
    expect(r.body).not.toHaveProperty('sequence_id');
  });

  it('sends the idempotency key as the sequence id, so ntfy ≥ 2.16 replaces a repeat in place', async () => {
    await parseDestination(fake.ntfyUrl('lab-jobs')).send(normalMessage(), { timeoutMs: 5000, idempotencyKey: 'flurm-00ff' });
    const r = await fake.waitFor((x) => x.service === 'ntfy');
    expect(r.headers['x-sequence-id']).toBe('flurm-00ff');
    expect(r.body).toMatchObject({ sequence_id: 'flurm-00ff' });
  });

  it('success is sent at default priority', () => {
    expect(ntfyBody('t', { ...normalMessage(), severity: 'success' }).priority).toBe(3);
  });

  it('a hostile message is cut to 4096 bytes (not turned into an attachment), last log line kept', async () => {
    await parseDestination(fake.ntfyUrl('lab-jobs')).send(hostileMessage(), { timeoutMs: 5000 });
    const r = await fake.waitFor((x) => x.service === 'ntfy');
    expect(r.status).toBe(200);
    const message = (r.body as { message: string }).message;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(NTFY_MAX_MESSAGE_BYTES);
    expect(message).toContain(LAST_TAIL_LINE);
  });
});
