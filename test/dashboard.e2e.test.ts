// The live dashboard in a real Chromium (Debian's `chromium`, driven by playwright-core) against
// a real hub and real agents: it loads with no console error, no failed request and no request
// to anything but the hub; shows the nodes, the best node and the charts; a job that ends shows
// in "Recent ends" within 2 s without a reload (the SSE stream, no polling: a quiet page makes no
// request at all); at a phone's width nothing overflows but the scroll boxes; dark mode renders.
// Screenshots go to test-output/dashboard/ (light, dark, phone).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { getJson, killAll, makeLab, runFlurm, startFlurm, startHub, waitUntil, fakeNvidiaSmi, sleep, type HubProc, type Lab, type Proc } from './support/lab.js';
import type { NodesResponse } from '../src/model/node-view.js';

const CHROMIUM = process.env.FLURM_CHROMIUM ?? '/usr/bin/chromium';
const SKIP = process.env.FLURM_SKIP_BROWSER === '1';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const SHOTS = path.join('test-output', 'dashboard');
/** A real SLURM answers here (.ci/run starts one): the SLURM section is tested too. */
const SLURM_UP = spawnSync('squeue', ['-h', '-o', '%i'], { timeout: 10_000 }).status === 0;

describe.skipIf(SKIP)('the dashboard in Chromium', () => {
  let lab: Lab;
  let hub: HubProc;
  let browser: Browser;
  const procs: Proc[] = [];
  const alice = () => lab.home('alice');

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: install it (root: apt-get install -y --no-install-recommends chromium; .ci/run does), point FLURM_CHROMIUM at one, or set FLURM_SKIP_BROWSER=1 to skip the browser tests`);
    }
    fs.mkdirSync(SHOTS, { recursive: true });
    lab = makeLab('flurm-dash-');
    // Nodes stay fresh long after their agents stop: once loaded, the page has nothing to hear.
    hub = await startHub(lab.hubConfig({ extra: '[nodes]\npoll_interval_seconds = 0.3\nstale_after_intervals = 1000\ndown_after_intervals = 2000\nmin_down_after_seconds = 36000\n' }));
    const gpuPath = `${fakeNvidiaSmi(lab.root)}:${process.env.PATH}`;
    for (const [host, env] of [['dash-cpu', process.env], ['dash-gpu', { ...process.env, PATH: gpuPath }]] as const) {
      procs.push(startFlurm(['agent', '--interval', '1s', '--cluster', lab.cluster], { env: { ...env, FLURM_HOST: host } }));
    }
    const nodes = async () => (await getJson<NodesResponse>(`${hub.url}/api/v1/nodes?busy=0`)).nodes;
    await waitUntil(async () => (await nodes()).filter((n) => n.state === 'fresh').length === 2, 30_000, 'both nodes fresh');
    await sleep(2500); // a few samples for the charts
    await killAll(procs.splice(0));
    const r = await runFlurm(['run', '-t', 'warm-up-job', '--', 'true'], { env: alice().env });
    expect(r.code, r.stderr).toBe(0);
    await waitUntil(async () => (await getJson<{ jobs: { title?: string; endTs?: string }[] }>(`${hub.url}/api/v1/jobs`)).jobs.some((j) => j.title === 'warm-up-job' && j.endTs), 10_000, 'warm-up job ended');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await killAll(procs);
    await hub?.stop();
    lab?.cleanup();
  });

  /** A page that records its console errors, failed requests and every request it makes. */
  async function open(opts: Parameters<Browser['newPage']>[0] = {}): Promise<{ page: Page; errors: string[]; requests: Request[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, ...opts });
    const errors: string[] = [];
    const requests: Request[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => {
      // The stream is cut when the page closes; that is not a failure of the page.
      if (!r.url().endsWith('/api/v1/stream')) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    page.on('request', (r) => requests.push(r));
    await page.goto(hub.url + '/');
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
    await page.waitForSelector('#history-chart canvas', { timeout: 15_000 });
    await page.waitForSelector('#live.up', { timeout: 5_000 });
    return { page, errors, requests };
  }

  it('loads with no console error and no failed request; only the hub is asked; shows the nodes, the best node, jobs and charts', async () => {
    const { page, errors, requests } = await open();
    const hosts = await page.$$eval('#nodes tbody tr[data-host]', (rows) => rows.map((r) => r.getAttribute('data-host')));
    expect(hosts.sort()).toEqual(['dash-cpu', 'dash-gpu']);
    const gpuRow = await page.textContent('#nodes tr[data-host="dash-gpu"]');
    expect(gpuRow).toMatch(/● fresh/);
    expect(gpuRow).toMatch(/7: \d+%/); // eight V100s, each listed
    const best = await page.textContent('#best .title');
    expect(best).toMatch(/dash-(cpu|gpu)/);
    expect(await page.textContent('#ended')).toContain('warm-up-job');
    expect(await page.textContent('#lab')).not.toBe('…');
    expect(await page.isHidden('#slurm-section')).toBe(true); // this hub has SLURM off
    await page.waitForSelector('#heatmap-chart canvas');
    const origin = new URL(hub.url).origin;
    const foreign = requests.map((r) => r.url()).filter((u) => !u.startsWith(origin + '/'));
    expect(foreign).toEqual([]);
    expect(requests.filter((r) => r.url().endsWith('/api/v1/stream'))).toHaveLength(1); // one stream per page
    await page.screenshot({ path: path.join(SHOTS, 'light.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('live: a job that ends shows in Recent ends within 2 s, without a reload; a quiet page makes no request', async () => {
    const { page, errors, requests } = await open();
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    await page.evaluate(() => ((window as unknown as { flurmMark: string }).flurmMark = 'same page'));
    await sleep(500); // let the first reads settle
    // Three seconds of quiet: no node reports, no job. Nothing must be asked (no polling).
    const before = requests.length;
    await sleep(3000);
    expect(requests.slice(before).map((r) => r.url())).toEqual([]);

    const after = requests.length;
    const r = await runFlurm(['run', '-t', 'live-end-job', '--', 'true'], { env: alice().env });
    expect(r.code, r.stderr).toBe(0);
    const t0 = Date.now(); // the job has ended
    await page.waitForFunction(() => document.querySelector('#ended')?.textContent?.includes('live-end-job'), undefined, { timeout: 2000 });
    const ms = Date.now() - t0;
    expect(ms).toBeLessThan(2000);
    expect(await page.evaluate(() => (window as unknown as { flurmMark?: string }).flurmMark)).toBe('same page');
    expect(navigations).toBe(0);
    // What the `jobs` event made the page read: the jobs list, nothing else.
    const paths = [...new Set(requests.slice(after).map((q) => new URL(q.url()).pathname))];
    expect(paths).toEqual(['/api/v1/jobs']);
    expect(await page.textContent('#ended li:first-child')).toContain('live-end-job');
    expect(errors).toEqual([]);
    console.log(`dashboard: a job's end shown ${ms} ms after flurm run returned`);
    await page.close();
  }, 60_000);

  it("at a phone's width (390×844) nothing overflows the viewport except inside scroll boxes", async () => {
    const { page, errors } = await open({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const overflow = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const bad: string[] = [];
      for (const el of document.body.querySelectorAll('*')) {
        if (el.closest('.scroll')) continue;
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5)) bad.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
      }
      return { vw, scrollWidth: document.documentElement.scrollWidth, bad };
    });
    expect(overflow.vw).toBe(390);
    expect(overflow.bad).toEqual([]);
    expect(overflow.scrollWidth).toBeLessThanOrEqual(390);
    // The chart follows the width.
    const w = await page.$eval('#history-chart canvas', (c) => c.getBoundingClientRect().width);
    expect(w).toBeLessThanOrEqual(390);
    expect(w).toBeGreaterThan(300);
    await page.screenshot({ path: path.join(SHOTS, 'phone.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('dark mode renders dark: the page and the charts (chartOption dark theme)', async () => {
    const { page, errors } = await open({ colorScheme: 'dark' });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
    expect(r! + g! + b!).toBeLessThan(120);
    // The chart's own background: a pixel of the canvas near its corner.
    const px = await page.$eval('#history-chart canvas', (c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(3, 3, 1, 1).data));
    expect(px[0]! + px[1]! + px[2]!).toBeLessThan(150);
    await page.screenshot({ path: path.join(SHOTS, 'dark.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it.skipIf(!SLURM_UP)('with SLURM on: partitions and the queue; a submitted job appears without a reload', async () => {
    // A lab of its own: a second hub on the first one's cluster dir would be its standby (no polls).
    const slurmLab = makeLab('flurm-dash-slurm-');
    const slurmHub = await startHub(slurmLab.hubConfig({ slurm: 'enabled = true\npoll_interval_seconds = 1\nsinfo_interval_seconds = 1\n' }));
    let jobId: string | null = null;
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(slurmHub.url + '/');
      await page.waitForSelector('#slurm-section:not([hidden]) #partitions tbody tr', { timeout: 15_000 });
      expect(await page.textContent('#partitions tbody')).toMatch(/\d+ \/ \d+/);
      const r = spawnSync('sbatch', ['--parsable', '-J', 'dash-queued', '-t', '0:02', '--wrap', 'sleep 60'], { encoding: 'utf8', cwd: os.tmpdir(), timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      jobId = r.stdout.trim().split(';')[0]!;
      await page.waitForFunction((id) => document.querySelector('#queue')?.textContent?.includes(id), jobId, { timeout: 8000 });
      expect(await page.textContent('#queue')).toContain('dash-queued');
      await page.screenshot({ path: path.join(SHOTS, 'slurm.png'), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      if (jobId) spawnSync('scancel', [jobId], { timeout: 10_000 });
      await slurmHub.stop();
      slurmLab.cleanup();
    }
  }, 60_000);

  it('no external URL anywhere in what the page loads (no CDN, no web font)', async () => {
    const html = await (await fetch(hub.url + '/')).text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.every((a) => a.startsWith('/assets/'))).toBe(true);
    const base = assets[0]!.replace(/\/[^/]+$/, '');
    const texts: [string, string][] = [['/', html]];
    for (const name of ['app.js', 'style.css', 'icon.svg', 'js/charts/option.js', 'js/model/chart.js']) texts.push([name, await (await fetch(`${hub.url}${base}/${name}`)).text()]);
    for (const [name, text] of texts) {
      // XML namespaces name, they do not fetch.
      const urls = [...text.matchAll(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*/gi)].map((m) => m[0]).filter((u) => !/^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)/.test(u));
      expect(urls, name).toEqual([]);
      expect(text, name).not.toMatch(/@import|@font-face|url\(\s*['"]?https?:/i);
    }
    // echarts itself: fetched from the hub; at run time the page asked no other origin (first test).
    const ec = await fetch(`${hub.url}${base}/echarts.min.js`);
    expect(ec.status).toBe(200);
  });
});
