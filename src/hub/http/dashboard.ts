// The live dashboard's routes (docs/dashboard.md): GET / is the page, GET /assets/* its files —
// the page's own (web/), the neutral chart's echarts option compiled by tsc (charts/option.js and
// the model/chart.js it imports, so the browser draws with the very option the PNGs use) and
// echarts itself from node_modules. Nothing is fetched from anywhere else: labs are often offline.
//
// Assets are a fixed table of names, never a path built from the URL, so no `..` (plain or
// encoded) can reach another file. The page names them under /assets/v-HASH/ (HASH: of every
// asset's bytes), served with a year's cache; the same names without a version, or with another
// one (a page open across a hub upgrade), are served fresh (no-cache). The page itself is no-cache.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';

export interface DashboardOptions {
  /** Where web/, charts/ and model/ are: dist/ (default: two folders above this module). */
  root?: string;
  /** echarts' browser build (default: node_modules' echarts/dist/echarts.min.js). */
  echartsFile?: string;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page may reach only its own hub; styles inline (echarts sets element styles). */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function assetTable(o: DashboardOptions = {}): Record<string, string> {
  const root = o.root ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const echarts = o.echartsFile ?? createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
  return {
    'app.js': path.join(root, 'web', 'app.js'),
    'style.css': path.join(root, 'web', 'style.css'),
    'icon.svg': path.join(root, 'web', 'icon.svg'),
    'js/charts/option.js': path.join(root, 'charts', 'option.js'),
    'js/model/chart.js': path.join(root, 'model', 'chart.js'),
    'echarts.min.js': echarts,
  };
}

export function addDashboard(app: Hono, o: DashboardOptions = {}): void {
  const root = o.root ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const table = assetTable(o);
  // Read on first use (a hub that nobody opens reads nothing), then kept: the files are the
  // package's, and change only with an upgrade, which restarts the hub.
  let loaded: { assets: Map<string, Asset>; version: string; index: string } | null = null;
  const load = (): typeof loaded => {
    if (loaded) return loaded;
    const assets = new Map<string, Asset>();
    const hash = crypto.createHash('sha256');
    for (const [name, file] of Object.entries(table)) {
      const body = fs.readFileSync(file);
      hash.update(name).update(body);
      assets.set(name, { body, type: TYPES[path.extname(file)] ?? 'application/octet-stream', etag: `"${crypto.createHash('sha256').update(body).digest('hex').slice(0, 16)}"` });
    }
    const version = hash.digest('hex').slice(0, 12);
    const index = fs.readFileSync(path.join(root, 'web', 'index.html'), 'utf8').replaceAll('__ASSETS__', `/assets/v-${version}`);
    loaded = { assets, version, index };
    return loaded;
  };
  const missing = (c: Context, err: unknown) =>
    c.json({ error: `the dashboard's files are missing from this install (${(err as Error).message}); reinstall flurm or run npm run build` }, 500);

  app.get('/', (c) => {
    let l;
    try {
      l = load()!;
    } catch (err) {
      return missing(c, err);
    }
    return c.body(l.index, 200, { 'Content-Type': TYPES['.html']!, 'Cache-Control': 'no-cache', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
  });

  app.get('/assets/*', (c) => {
    let l;
    try {
      l = load()!;
    } catch (err) {
      return missing(c, err);
    }
    let rest = c.req.path.slice('/assets/'.length);
    let versioned = false;
    const m = /^v-([0-9a-f]{1,64})\//.exec(rest);
    if (m) {
      versioned = m[1] === l.version;
      rest = rest.slice(m[0].length);
    }
    const a = l.assets.get(rest);
    if (!a) return c.json({ error: 'no such asset' }, 404);
    const headers: Record<string, string> = {
      'Content-Type': a.type,
      'Cache-Control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
      ETag: a.etag,
      'X-Content-Type-Options': 'nosniff',
    };
    if (c.req.header('if-none-match') === a.etag) return c.body(null, 304, headers);
    return c.body(new Uint8Array(a.body), 200, headers);
  });
}
