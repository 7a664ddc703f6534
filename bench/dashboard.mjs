#!/usr/bin/env node
// Targets (docs/dashboard.md): the dashboard's first load is ≤ 1.5 MB (HTML + JS + CSS + echarts,
// uncompressed: the hub serves them as they are) and fills the nodes table in ≤ 1 s locally, in
// Chromium with a cold cache; 100 pages' event streams hear a job's end, p95 ≤ 100 ms from the
// moment its end line is written (the doorbell rung, as `flurm run` rings it).
//
// A real hub (dist/), one real agent (so the table has a node), Debian's Chromium through
// playwright-core (FLURM_CHROMIUM, default /usr/bin/chromium):
//   (a) first load, BENCH_LOADS times, each in a fresh browser context (nothing cached): bytes of
//       every response the page got (the stream excluded), and ms from navigation start to the
//       nodes table filled (the `flurm:nodes-filled` performance mark app.js sets, on the page's
//       clock); then the same with a warm cache (the versioned assets come from the cache).
//   (b) 100 SSE clients (BENCH_CLIENTS) on GET /api/v1/stream; BENCH_ROUNDS times, one finished
//       job (start + end lines) appended to a spool and the doorbell rung; each client's
//       `event: jobs` arrival minus the write time. Rounds are 1.2 s apart (the stream sends a
//       kind at most once a second per client).
// Context: `node -e 0` in the same run.
//
//   npm run build && node bench/dashboard.mjs
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { FLURM, fmt, jobLines, killedOnExit, latencyStats, makeLab, median, msLine, report, requireBuild, runMain, runProc, sleep, startHub, waitUntil, writeHubConfig, getJson } from './lib.mjs';

const LOADS = Number(process.env.BENCH_LOADS ?? 5);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const CHROMIUM = process.env.FLURM_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** One SSE client: resolves once connected; `arrivals` gets Date.now() of each `event: jobs`. */
function sseClient(url) {
  return new Promise((resolve, reject) => {
    const arrivals = [];
    const req = http.get(`${url}/api/v1/stream`, (res) => {
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (/^event: jobs$/m.test(block)) arrivals.push(Date.now());
        }
      });
      res.once('data', () => resolve({ arrivals, close: () => req.destroy() }));
    });
    req.on('error', reject);
  });
}

async function main() {
  requireBuild();
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y --no-install-recommends chromium)`);
  const { chromium } = await import('playwright-core');
  const rep = report('dashboard');
  rep.header(`dashboard: first load in Chromium, ${CLIENTS} SSE clients`);
  const baseline = [];
  for (let i = 0; i < 5; i++) baseline.push((await runProc(process.execPath, ['-e', '0'])).ms);
  rep.info('node -e 0 (context)', `median ${fmt(median(baseline), 1)} ms`, { node_ms: median(baseline) });

  const lab = makeLab('flurm-bench-dash-');
  const kill = killedOnExit();
  const user = os.userInfo().username;
  const home = lab.home(user);
  const hub = await startHub(lab, writeHubConfig(lab, { poll: 1, extra: '[nodes]\npoll_interval_seconds = 0.5\nstale_after_intervals = 1000\ndown_after_intervals = 2000\nmin_down_after_seconds = 36000\n[slurm]\nenabled = false\n' }));
  kill.add(hub);
  const agent = { child: spawn(process.execPath, [FLURM, 'agent', '--interval', '1s', '--cluster', lab.cluster], { stdio: 'ignore', env: { ...process.env, FLURM_HOST: 'bench-node' } }) };
  kill.add(agent);
  let browser;
  try {
    await waitUntil(async () => (await getJson(`${hub.url}/api/v1/nodes?busy=0`)).nodes.some((n) => n.state === 'fresh'), { timeoutMs: 30_000, what: 'the agent node fresh' });
    agent.child.kill('SIGTERM');

    // (a) first load
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const cold = [];
    let bytes = 0;
    let byType = {};
    for (let i = 0; i < LOADS; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await ctx.newPage();
      const sizes = [];
      page.on('response', (r) => {
        if (!r.url().endsWith('/api/v1/stream')) sizes.push(r.body().then((b) => ({ url: r.url(), type: r.headers()['content-type'] ?? '', n: b.length })).catch(() => ({ url: r.url(), type: '', n: 0 })));
      });
      await page.goto(`${hub.url}/`, { waitUntil: 'commit' });
      await page.waitForSelector('#nodes tbody tr[data-host]');
      // The page's own clock: from navigation start to the mark app.js sets when the table is filled.
      cold.push(Math.round(await page.evaluate(() => performance.getEntriesByName('flurm:nodes-filled')[0]?.startTime ?? NaN)));
      await page.waitForSelector('#heatmap-chart canvas');
      const all = await Promise.all(sizes);
      const assets = all.filter((s) => /html|javascript|css|svg/.test(s.type));
      bytes = assets.reduce((a, s) => a + s.n, 0);
      byType = {};
      for (const s of assets) byType[s.type.split(';')[0]] = (byType[s.type.split(';')[0]] ?? 0) + s.n;
      if (i === LOADS - 1) {
        // Warm: the same context again — the versioned assets come from the cache.
        await page.reload({ waitUntil: 'commit' });
        await page.waitForSelector('#nodes tbody tr[data-host]');
        const warmMs = Math.round(await page.evaluate(() => performance.getEntriesByName('flurm:nodes-filled')[0]?.startTime ?? NaN));
        rep.info('reload with a warm cache (context)', `${warmMs} ms to the nodes table`, { warm_ms: warmMs });
      }
      await ctx.close();
    }
    const types = Object.entries(byType).map(([t, n]) => `${t} ${fmt(n / 1024, 0)} KiB`).join(', ');
    rep.check('first load, bytes', `${fmt(bytes / 1024 / 1024, 2)} MiB (${types})`, { mib: bytes / 1024 / 1024 }, [{ key: 'mib', op: '<=', limit: 1.5, unit: 'MiB' }]);
    rep.check('first load, to the nodes table filled', `median ${median(cold)} ms, max ${Math.max(...cold)} ms (n=${cold.length}, cold cache)`, { ms: median(cold) }, [{ key: 'ms', op: '<=', limit: 1000, unit: 'ms' }]);
    await browser.close();
    browser = null;

    // (b) SSE fan-out
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => sseClient(hub.url)));
    const file = path.join(home.events, 'bench-node.jsonl');
    fs.writeFileSync(file, '');
    await sleep(1500); // the hub finds the new file
    const lat = [];
    let missing = 0;
    for (let r = 0; r < ROUNDS + 1; r++) {
      const before = clients.map((c) => c.arrivals.length);
      const t0 = Date.now();
      fs.appendFileSync(file, jobLines({ ms: t0 - 61_000, n: r, user, host: 'bench-node', title: `sse-${r}` }));
      await fetch(`${hub.url}/doorbell?user=${encodeURIComponent(user)}`, { method: 'POST' });
      await sleep(1200);
      if (r === 0) continue; // warm-up: the file's first read
      clients.forEach((c, i) => {
        const got = c.arrivals.slice(before[i]);
        if (got.length === 0) missing++;
        else lat.push(got[0] - t0);
      });
    }
    for (const c of clients) c.close();
    const s = latencyStats(lat);
    rep.check(`${CLIENTS} SSE clients hear a job's end (write + doorbell → event)`, `${msLine(s)}, ${missing} missed`, { p95_ms: s.p95_ms, missed: missing }, [{ key: 'p95_ms', op: '<=', limit: 100, unit: 'ms' }, { key: 'missed', op: '<=', limit: 0 }]);
    rep.save({ clients: CLIENTS, rounds: ROUNDS, loads: LOADS });
  } finally {
    await browser?.close();
    agent.child.kill('SIGKILL');
    await hub.stop();
    lab.cleanup();
  }
}

runMain(main);
