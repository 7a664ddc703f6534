// The fake services must be as strict as the real ones, or the renderer tests prove nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeServices, type FakeServices } from './fake-services.js';

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('fake Discord', () => {
  it('answers 204 without wait, 200 with a message object with wait=true', async () => {
    const body = { embeds: [{ title: 'hi' }] };
    expect((await post('/api/webhooks/1/tok', body)).status).toBe(204);
    const r = await post('/api/webhooks/1/tok?wait=true', body);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ type: 0, webhook_id: '1', embeds: [{ title: 'hi' }] });
    expect(fake.received).toHaveLength(2);
  });

  it("rejects over-limit parts with Discord's error shape", async () => {
    const r = await post('/api/webhooks/1/tok?wait=true', {
      content: 'c'.repeat(2001),
      embeds: [{ description: 'd'.repeat(4097), fields: [{ name: '', value: 'v' }], color: 0x1000000 }],
    });
    expect(r.status).toBe(400);
    const err = (await r.json()) as { code: number; message: string; errors: Record<string, unknown> };
    expect(err.code).toBe(50035);
    expect(err.message).toBe('Invalid Form Body');
    expect(err.errors).toMatchObject({
      content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] },
      embeds: { 0: { description: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] }, fields: { 0: { name: { _errors: [{ code: 'BASE_TYPE_REQUIRED' }] } } } } },
    });
    expect(fake.received).toHaveLength(0);
    expect(fake.requests[0]?.status).toBe(400);
  });

  it('counts the 6000 total across title, description, fields and footer', async () => {
    const fields = Array.from({ length: 5 }, () => ({ name: 'n', value: 'v'.repeat(1000) }));
    const r = await post('/api/webhooks/1/tok', { embeds: [{ title: 't'.repeat(200), description: 'd'.repeat(800), fields, footer: { text: 'f' } }] });
    expect(r.status).toBe(400);
    expect(JSON.stringify(await r.json())).toContain('MAX_EMBED_SIZE_EXCEEDED');
  });

  it('refuses an empty message and bad allowed_mentions', async () => {
    expect(await (await post('/api/webhooks/1/tok', {})).json()).toMatchObject({ code: 50006 });
    expect((await post('/api/webhooks/1/tok', { content: 'x', allowed_mentions: { parse: ['all'] } })).status).toBe(400);
  });
});

describe('fake Slack', () => {
  it('answers ok, and Slack error strings for bad bodies', async () => {
    const ok = await post('/services/T1/B1/X1', { text: 'hi' });
    expect([ok.status, await ok.text()]).toEqual([200, 'ok']);
    const notJson = await post('/services/T1/B1/X1', 'not json');
    expect([notJson.status, await notJson.text()]).toEqual([400, 'invalid_payload']);
    const noText = await post('/services/T1/B1/X1', { blocks: undefined });
    expect(await noText.text()).toBe('no_text');
    const longHeader = await post('/services/T1/B1/X1', { text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] });
    expect([longHeader.status, await longHeader.text()]).toEqual([400, 'invalid_blocks']);
    const manyFields = await post('/services/T1/B1/X1', { text: 'x', blocks: [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) }] });
    expect(manyFields.status).toBe(400);
    const tooMany = await post('/services/T1/B1/X1', { text: 'x', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) });
    expect(tooMany.status).toBe(400);
  });
});

describe('fake ntfy', () => {
  it('accepts JSON publish at the root and plain publish to /topic', async () => {
    const j = await post('/', { topic: 'jobs', message: 'done', title: 'T', priority: 4, tags: ['a'] });
    expect(await j.json()).toMatchObject({ event: 'message', topic: 'jobs', message: 'done', title: 'T', priority: 4 });
    const p = await fetch(`${fake.url}/jobs`, { method: 'POST', headers: { Title: 'T2', Priority: 'high', Tags: 'x,y' }, body: 'plain' });
    expect(await p.json()).toMatchObject({ topic: 'jobs', message: 'plain', title: 'T2', priority: 4, tags: ['x', 'y'] });
  });

  it('is stricter than ntfy about size: over 4096 bytes is a 413', async () => {
    const r = await post('/', { topic: 'jobs', message: 'é'.repeat(2049) });
    expect(r.status).toBe(413);
  });
});

describe('scripting', () => {
  it('plays scripted answers in order, per longest prefix, then serves normally', async () => {
    fake.failNext('/services/', [{ status: 404 }, { status: 429, retryAfter: 3 }]);
    fake.failNext('/services/T9/', [{ status: 403 }]);
    const a = await post('/services/T9/B/X', { text: 'x' });
    expect([a.status, await a.text()]).toEqual([403, 'invalid_token']);
    const b = await post('/services/T1/B/X', { text: 'x' });
    expect([b.status, await b.text()]).toEqual([404, 'no_service']);
    const c = await post('/services/T1/B/X', { text: 'x' });
    expect([c.status, c.headers.get('retry-after'), await c.text()]).toEqual([429, '3', 'rate_limited']);
    const d = await post('/services/T1/B/X', { text: 'x' });
    expect(d.status).toBe(200);
    expect(fake.received).toHaveLength(1);
    expect(fake.requests).toHaveLength(4);
  });

  it('discord 429 carries retry_after, Retry-After and X-RateLimit-Reset-After', async () => {
    fake.failNext('/api/webhooks/', [{ status: 429, retryAfter: 0.75 }]);
    const r = await post('/api/webhooks/1/t', { content: 'x' });
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.headers.get('x-ratelimit-reset-after')).toBe('0.750');
    expect(await r.json()).toMatchObject({ retry_after: 0.75, global: false });
  });

  it('waitFor resolves on a later request and times out with what it saw', async () => {
    const waiting = fake.waitFor((r) => r.service === 'json');
    await post('/json/sink', { a: 1 });
    expect((await waiting).body).toEqual({ a: 1 });
    await expect(fake.waitFor((r) => r.path === '/never', 50)).rejects.toThrow(/no matching request within 50 ms \(requests so far: POST \/json\/sink → 200\)/);
  });

  it('a hang never answers until the client gives up', async () => {
    fake.failNext('/json/', [{ hang: true }]);
    const outcome = await fetch(`${fake.url}/json/x`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) }).then(
      (r) => `answered ${r.status}`,
      (e: Error) => e.name,
    );
    expect(outcome).toBe('TimeoutError');
    expect(fake.requests[0]?.status).toBeUndefined();
  });
});
