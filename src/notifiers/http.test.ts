// The shared HTTP POST: Retry-After parsing, response → DeliveryError mapping, bounded reads, network errors.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from '../lib/errors.js';
import { MAX_RESPONSE_BYTES, errorForResponse, parseRetryAfter, postJson, readBounded } from './http.js';

const h = (o: Record<string, string>) => new Headers(o);
const res = (status: number, bodyText = '', headers: Record<string, string> = {}) => ({ status, headers: h(headers), bodyText });

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-11-20T10:00:00Z');
  it.each([
    ['delta seconds', { 'retry-after': '7' }, '', 7],
    ['HTTP-date', { 'retry-after': 'Wed, 20 Nov 2024 10:00:30 GMT' }, '', 30],
    ['HTTP-date in the past', { 'retry-after': 'Wed, 20 Nov 2024 09:00:00 GMT' }, '', 0],
    ['Discord body retry_after (float)', {}, '{"message":"You are being rate limited.","retry_after":0.532,"global":false}', 0.532],
    ['X-RateLimit-Reset-After', { 'x-ratelimit-reset-after': '2.25' }, '', 2.25],
    ['the largest of several', { 'retry-after': '2', 'x-ratelimit-reset-after': '1.5' }, '{"retry_after":1.5}', 2],
    ['garbage', { 'retry-after': 'soon' }, 'not json', undefined],
    ['nothing', {}, '', undefined],
  ])('%s', (_, headers, body, want) => {
    expect(parseRetryAfter(h(headers), body, now)).toBe(want);
  });
});

describe('errorForResponse', () => {
  const map = (r: ReturnType<typeof res>) => errorForResponse('Discord', 'discord://1/***', r);

  it('accepts 2xx', () => {
    expect(map(res(200))).toBeUndefined();
    expect(map(res(204))).toBeUndefined();
  });

  it('429 is retryable with the wait', () => {
    const e = map(res(429, '{"retry_after": 3.5}'))!;
    expect(e).toMatchObject({ retryable: true, status: 429, retryAfterSeconds: 3.5 });
  });

  it.each([500, 502, 503, 504, 408])('%i is retryable', (status) => {
    expect(map(res(status, 'upstream down'))).toMatchObject({ retryable: true, status });
  });

  it.each([401, 403, 404, 410])('%i is permanent and says the webhook is invalid or deleted', (status) => {
    const e = map(res(status, '{"message": "Unknown Webhook", "code": 10015}'))!;
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/webhook is invalid or was deleted/);
    expect(e.message).toContain('Unknown Webhook');
    expect(e.message).toContain('discord://1/***');
  });

  it('400 is permanent and carries the service error, bounded and on one line', () => {
    const body = JSON.stringify({ code: 50035, message: 'Invalid Form Body', errors: { embeds: 'x'.repeat(10_000) } }, null, 2);
    const e = map(res(400, body))!;
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('Invalid Form Body');
    expect(e.message).not.toContain('\n');
    expect(e.message.length).toBeLessThan(700);
  });

  it('a redirect is permanent', () => {
    expect(map(res(301, '', { location: 'https://example.com/new?token=secret' }))).toMatchObject({ retryable: false, status: 301 });
    expect(map(res(301, '', { location: 'https://example.com/new?token=secret' }))!.message).not.toContain('secret');
  });
});

describe('postJson', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/huge') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        const chunk = 'e'.repeat(64 * 1024);
        for (let i = 0; i < 64; i++) res.write(chunk); // 4 MiB error page
        res.end();
        return;
      }
      if (req.url === '/echo') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ body: JSON.parse(body), ct: req.headers['content-type'], extra: req.headers['x-extra'] }));
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );

  const req = (path: string) => ({ url: `${base}${path}`, redactedUrl: 'json://host/***', service: 'Test', json: { a: 1 }, headers: { 'x-extra': 'yes' } });

  it('posts JSON with the given headers and returns the response', async () => {
    const r = await postJson(req('/echo'), { timeoutMs: 5000 });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.bodyText)).toEqual({ body: { a: 1 }, ct: 'application/json', extra: 'yes' });
  });

  it('reads at most 64 KiB of a huge error body', async () => {
    const response = await fetch(`${base}/huge`);
    const text = await readBounded(response);
    expect(text.length).toBe(MAX_RESPONSE_BYTES);
    const err = await postJson(req('/huge'), { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).retryable).toBe(true);
  });

  it('a refused connection is retryable and names the redacted destination only', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = (await postJson(
      { url: `http://127.0.0.1:${port}/hook/SECRET-TOKEN`, redactedUrl: 'json://127.0.0.1/***', service: 'Test', json: {} },
      { timeoutMs: 5000 },
    ).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toContain('SECRET-TOKEN');
  });

  it('uses the injected fetch', async () => {
    const fakeFetch = (async () => new Response('{"retry_after": 9}', { status: 429 })) as typeof fetch;
    const err = (await postJson(req('/echo'), { timeoutMs: 5000, fetch: fakeFetch }).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toMatchObject({ status: 429, retryAfterSeconds: 9, retryable: true });
  });
});
