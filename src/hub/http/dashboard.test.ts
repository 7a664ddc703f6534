// The dashboard's routes on a real socket (raw request paths: fetch() would resolve `..` before
// sending): the page with no-cache, assets by name with their content types, a year's cache only
// under the current version, 404 for any other name, and no way out of the table — `..`, encoded
// or doubly encoded, backslashes, absolute paths.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDashboard } from './dashboard.js';
import { listen } from './server.js';

let root: string;
let server: http.Server;
let port: number;

function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-dash-'));
  const put = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  put('web/index.html', '<link href="__ASSETS__/style.css"><script type="module" src="__ASSETS__/app.js"></script>');
  put('web/app.js', "import './js/charts/option.js';");
  put('web/style.css', 'body{}');
  put('web/icon.svg', '<svg/>');
  put('charts/option.js', "import '../model/chart.js';");
  put('model/chart.js', 'export const X = 1;');
  put('echarts.min.js', '/* echarts */');
  put('secret.txt', 'SECRET');
  put('web/secret.txt', 'SECRET');
  const app = new Hono();
  addDashboard(app, { root, echartsFile: path.join(root, 'echarts.min.js') });
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  ({ server, port } = await listen(app, '127.0.0.1', 0));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(root, { recursive: true, force: true });
});

describe('dashboard routes', () => {
  it('GET / is the page, no-cache, naming its assets under the current version', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    const m = /href="(\/assets\/v-[0-9a-f]{12})\/style\.css"/.exec(r.body);
    expect(m).not.toBeNull();
    expect(r.body).not.toContain('__ASSETS__');
    const base = m![1]!;
    for (const [name, type] of [['app.js', 'text/javascript'], ['style.css', 'text/css'], ['icon.svg', 'image/svg+xml'], ['js/charts/option.js', 'text/javascript'], ['js/model/chart.js', 'text/javascript'], ['echarts.min.js', 'text/javascript']] as const) {
      const a = await get(`${base}/${name}`);
      expect(a.status, name).toBe(200);
      expect(a.headers['content-type'], name).toContain(type);
      expect(a.headers['cache-control'], name).toBe('public, max-age=31536000, immutable');
      expect(a.headers['x-content-type-options']).toBe('nosniff');
    }
    // The relative import in option.js resolves inside the table.
    expect((await get(`${base}/js/model/chart.js`)).body).toBe('export const X = 1;');
  });

  it('unversioned or stale-versioned names are served fresh (no-cache); ETag revalidates', async () => {
    const a = await get('/assets/app.js');
    expect(a.status).toBe(200);
    expect(a.headers['cache-control']).toBe('no-cache');
    const old = await get('/assets/v-0123456789ab/app.js');
    expect(old.status).toBe(200);
    expect(old.headers['cache-control']).toBe('no-cache');
    const again = await get('/assets/app.js', { 'If-None-Match': a.headers.etag! });
    expect(again.status).toBe(304);
  });

  it('404 for any other name under /assets, and no directory traversal', async () => {
    expect((await get('/assets/../secret.txt')).status).toBe(404);
    const bad = [
      '/assets/', '/assets/nope.js', '/assets/secret.txt', '/assets/index.html', '/assets/v-abc/',
      '/assets/../secret.txt', '/assets/..%2fsecret.txt', '/assets/%2e%2e/secret.txt', '/assets/%2e%2e%2fsecret.txt',
      '/assets/%252e%252e%252fsecret.txt', '/assets/..%5csecret.txt', '/assets/..\\secret.txt', '/assets/js/../../secret.txt',
      '/assets/js/charts/../../../secret.txt', '/assets/v-abc/../secret.txt', '/assets//etc/passwd', '/assets/%2fetc%2fpasswd',
      '/assets/js/charts/option.js/../../../../secret.txt', '/assets/app.js%00.css', '/assets/web/secret.txt',
    ];
    for (const p of bad) {
      const r = await get(p);
      expect(r.body, p).not.toContain('SECRET');
      // 404 from the table; Node's parser itself refuses a few (a raw backslash) with 400.
      expect([400, 404], p).toContain(r.status);
    }
  });

  it('a missing install says so (500 with what to do), it does not crash', async () => {
    const app = new Hono();
    addDashboard(app, { root: path.join(root, 'nowhere'), echartsFile: path.join(root, 'echarts.min.js') });
    const r = await app.request('/');
    expect(r.status).toBe(500);
    expect(((await r.json()) as { error: string }).error).toMatch(/dashboard's files are missing.*npm run build/);
  });
});
