import { describe, expect, it } from 'vitest';
import type { NodeView } from '../../model/node-view.js';
import { createApp, TokenBucket, type HubApi } from './server.js';

const J1 = { id: 'J1', user: 'u', host: 'h', state: 'running' as const, name: 'job' };

function fakeApi(rings: (string | undefined)[]): HubApi {
  return {
    ring: (u) => rings.push(u),
    health: () => ({ version: 'x' }),
    jobs: () => [J1],
    job: (id) => (id === 'J1' ? J1 : undefined),
    problems: () => [],
    destinations: () => [],
    nodes: (q) => ({ generated: '2026-11-21T00:00:00.000Z', nodes: [{ host: 'n1', busy_limit: q.busyLimit ?? null } as unknown as NodeView] }),
    nodeHistory: (host, q) => (host === 'n1' ? [{ bucket_ms: q.sinceMs, resolution_seconds: q.resolutionSeconds }] : []),
  };
}

describe('hub HTTP', () => {
  it('the doorbell only says "look at user X now" and answers 202', async () => {
    const rings: (string | undefined)[] = [];
    const app = createApp(fakeApi(rings));
    const r = await app.request('/doorbell?user=alice', { method: 'POST' });
    expect(r.status).toBe(202);
    expect(rings).toEqual(['alice']);
  });

  it('refuses a doorbell whose user is not a plain name', async () => {
    const app = createApp(fakeApi([]));
    const r = await app.request('/doorbell?user=../../etc', { method: 'POST' });
    expect(r.status).toBe(400);
  });

  it('rate-limits doorbells with 429 and Retry-After', async () => {
    const rings: (string | undefined)[] = [];
    const app = createApp(fakeApi(rings), { doorbellPerSecond: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await app.request('/doorbell?user=a', { method: 'POST' })).status);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(10);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const r = await app.request('/doorbell?user=a', { method: 'POST' });
    if (r.status === 429) expect(r.headers.get('retry-after')).toBe('1');
  });

  it('serves jobs, one job, 404 for an unknown one, and checks limit', async () => {
    const app = createApp(fakeApi([]));
    expect(await (await app.request('/api/v1/jobs')).json()).toEqual({ jobs: [J1] });
    expect((await app.request('/api/v1/jobs/J1')).status).toBe(200);
    expect((await app.request('/api/v1/jobs/NOPE')).status).toBe(404);
    expect((await app.request('/api/v1/jobs?limit=0')).status).toBe(400);
    expect(await (await app.request('/healthz')).json()).toMatchObject({ ok: true });
  });

  it('serves nodes and a node\'s history, and refuses a bad resolution or span', async () => {
    const app = createApp(fakeApi([]));
    expect(await (await app.request('/api/v1/nodes')).json()).toEqual({ generated: '2026-11-21T00:00:00.000Z', nodes: [{ host: 'n1', busy_limit: null }] });
    expect(await (await app.request('/api/v1/nodes?busy=0')).json()).toMatchObject({ nodes: [{ busy_limit: 0 }] });
    expect((await app.request('/api/v1/nodes?busy=-1')).status).toBe(400);
    const h = (await (await app.request('/api/v1/nodes/n1/history?resolution=3600&hours=2')).json()) as { samples: { resolution_seconds: number; bucket_ms: number }[] };
    expect(h.samples[0]!.resolution_seconds).toBe(3600);
    expect(Math.abs(h.samples[0]!.bucket_ms - (Date.now() - 2 * 3_600_000))).toBeLessThan(5000);
    expect((await app.request('/api/v1/nodes/n1/history?resolution=7')).status).toBe(400);
    expect((await app.request('/api/v1/nodes/n1/history?hours=-1')).status).toBe(400);
  });

  it('token bucket refills over time', () => {
    let t = 0;
    const b = new TokenBucket(10, 2, () => t);
    expect([b.take(), b.take(), b.take()]).toEqual([true, true, false]);
    t += 100;
    expect(b.take()).toBe(true);
  });
});
