import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findClusterDir, findHubUrl, hubDoorbell, ringDoorbell } from './doorbell.js';
import { hubMayBeConfigured } from '../cli/job-doorbell.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-doorbell-'));
let k = 0;
function spool(files: Record<string, string> = {}): string {
  const dir = path.join(tmp, `spool-${k++}`);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

let server: http.Server;
let base = '';
const seen: Array<{ method: string; url: string }> = [];
let hang: http.Server;
let hangUrl = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url! });
    res.writeHead(req.url!.startsWith('/doorbell') ? 202 : 404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  hang = http.createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  hangUrl = `http://127.0.0.1:${(hang.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  hang.closeAllConnections();
  await new Promise((r) => hang.close(r));
  await new Promise((r) => server.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('findHubUrl', () => {
  it('FLURM_HUB_URL first', async () => {
    const s = spool({ 'cluster/hub.json': JSON.stringify({ url: 'http://other:1' }) });
    expect(await findHubUrl({ FLURM_HUB_URL: 'http://127.0.0.1:7077/' }, s)).toBe('http://127.0.0.1:7077');
    expect(await findHubUrl({ FLURM_HUB_URL: 'not a url' }, s)).toBeNull();
  });

  it('then hub.json in $FLURM_CLUSTER', async () => {
    const cluster = path.join(tmp, 'cluster-env');
    fs.mkdirSync(cluster, { recursive: true });
    fs.writeFileSync(path.join(cluster, 'hub.json'), JSON.stringify({ url: 'http://10.0.0.5:7077', host: 'n1', seq: 4 }));
    const s = spool({ 'cluster/hub.json': JSON.stringify({ url: 'http://wrong:1' }) });
    expect(await findHubUrl({ FLURM_CLUSTER: cluster }, s)).toBe('http://10.0.0.5:7077');
  });

  it('then the cluster key of <spool>/config.toml (relative to the spool, or ~/)', async () => {
    const s = spool({ 'config.toml': 'cluster = "labdir"\n[[routes]]\nto = ["x"]\n', 'labdir/hub.json': JSON.stringify({ url: 'http://hub.lab:9000' }) });
    expect(await findClusterDir({}, s)).toBe(path.join(s, 'labdir'));
    expect(await findHubUrl({}, s)).toBe('http://hub.lab:9000');
    const home = spool({ 'shared/c/hub.json': JSON.stringify({ url: 'http://h:1' }) });
    const s2 = spool({ 'config.toml': 'cluster = "~/shared/c"\n' });
    expect(await findHubUrl({ HOME: home }, s2)).toBe('http://h:1');
  });

  it('then <spool>/cluster/hub.json', async () => {
    const s = spool({ 'cluster/hub.json': JSON.stringify({ url: 'http://127.0.0.1:7077' }) });
    expect(await findHubUrl({}, s)).toBe('http://127.0.0.1:7077');
  });

  it('null when there is none, or it is broken, too big, or not a file — never throws', async () => {
    expect(await findHubUrl({}, spool())).toBeNull();
    expect(await findHubUrl({}, spool({ 'cluster/hub.json': '{not json' }))).toBeNull();
    expect(await findHubUrl({}, spool({ 'cluster/hub.json': JSON.stringify({ url: 'ftp://x' }) }))).toBeNull();
    expect(await findHubUrl({}, spool({ 'cluster/hub.json': JSON.stringify({ url: 'http://x:1', pad: 'x'.repeat(70_000) }) }))).toBeNull();
    expect(await findHubUrl({}, spool({ 'cluster/hub.json/inner': 'dir' }))).toBeNull();
    expect(await findHubUrl({}, spool({ 'config.toml': 'cluster = [broken' }))).toBeNull();
  });

  it('hubMayBeConfigured (the fast path\'s pre-check) is true whenever a URL can be found', async () => {
    const cluster = path.join(tmp, 'cluster-env');
    const cases: Array<[NodeJS.ProcessEnv, string]> = [
      [{ FLURM_HUB_URL: 'http://a:1' }, spool()],
      [{ FLURM_CLUSTER: cluster }, spool()],
      [{}, spool({ 'config.toml': 'cluster = "c"\n', 'c/hub.json': JSON.stringify({ url: 'http://c:1' }) })],
      [{}, spool({ 'cluster/hub.json': JSON.stringify({ url: 'http://d:1' }) })],
    ];
    for (const [env, s] of cases) {
      expect(await findHubUrl(env, s)).not.toBeNull();
      expect(hubMayBeConfigured(env, s)).toBe(true);
    }
    expect(hubMayBeConfigured({}, spool())).toBe(false);
  });
});

describe('ringDoorbell', () => {
  it('POSTs /doorbell?user=… and is true on 202', async () => {
    seen.length = 0;
    expect(await ringDoorbell(base, 'ann o\'neil')).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    const u = new URL(seen[0]!.url, base);
    expect(u.pathname).toBe('/doorbell');
    expect(u.searchParams.get('user')).toBe("ann o'neil");
  });

  it('rings the real hub app (hono on @hono/node-server): 202 is true, a rate-limited 429 is false', async () => {
    const { createApp, listen } = await import('../hub/http/server.js');
    const rings: (string | undefined)[] = [];
    const app = createApp(
      { ring: (u) => rings.push(u), health: () => ({}), jobs: () => [], job: () => undefined, problems: () => [], destinations: () => [], nodes: () => ({ generated: '', nodes: [] }), nodeHistory: () => [] },
      { doorbellPerSecond: 1 },
    );
    const { server, url } = await listen(app, '127.0.0.1', 0);
    try {
      expect(await ringDoorbell(url, 'bea')).toBe(true);
      expect(await ringDoorbell(url, 'bea')).toBe(true);
      expect(await ringDoorbell(url, 'bea')).toBe(false); // bucket of 2 used up
      expect(rings).toEqual(['bea', 'bea']);
    } finally {
      server.close();
    }
  });

  it('is false at once when nothing listens (connection refused)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const t0 = Date.now();
    expect(await ringDoorbell(`http://127.0.0.1:${port}`, 'u')).toBe(false);
    expect(Date.now() - t0).toBeLessThan(200);
  });

  it('never waits longer than its timeout for a hub that does not answer', async () => {
    const t0 = Date.now();
    expect(await ringDoorbell(hangUrl, 'u', 150)).toBe(false);
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(600);
  });

  it('is false, not an exception, for a bad URL', async () => {
    expect(await ringDoorbell('::nonsense', 'u')).toBe(false);
    expect(await ringDoorbell('file:///etc/passwd', 'u')).toBe(false);
  });

  it('hubDoorbell finds the hub once and rings it each time', async () => {
    seen.length = 0;
    const ring = hubDoorbell({ FLURM_HUB_URL: base }, spool(), 'bob');
    // The writers' rings resolve once the request is written; the hub gets it right after.
    expect(await ring()).toBe(true);
    expect(await ring()).toBe(true);
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toHaveLength(2);
    expect(seen.every((r) => r.url === '/doorbell?user=bob')).toBe(true);
    expect(await hubDoorbell({}, spool(), 'bob')()).toBe(false);
  });
});
