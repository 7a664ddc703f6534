// Who may see what, end to end (docs/access.md): a real hub from dist/ bound to 0.0.0.0 — the
// access rule follows the configured bind, not the request's source, so requests to 127.0.0.1
// meet the sign-in rules (a reverse proxy on the hub's host cannot lend its loopback address to
// the world) — and the real `flurm dashboard`. A second spool is owned by uid 65534 (nobody), so
// its job is another user's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeLab, runFlurm, startHub, waitUntil, type HubProc, type Lab } from './support/lab.js';

const me = os.userInfo().username;
const NOBODY = 65534;
const OTHER_CMD = 'python eval.py --other-users-secret-flag';

let lab: Lab;
let hub: HubProc | null = null;

afterEach(async () => {
  await hub?.stop();
  hub = null;
  lab?.cleanup();
});

/** The lab's hub config with `[http]` opened to every address, and `extra` keys in [http]. */
function openHubConfig(httpExtra = ''): string {
  const file = lab.hubConfig();
  const toml = fs.readFileSync(file, 'utf8').replace('[http]\nport = 0\n', `[http]\nport = 0\nhost = "0.0.0.0"\n${httpExtra}\n`);
  fs.writeFileSync(file, toml);
  return file;
}

/** A running job in a spool owned by `uid`, written as that user's own `flurm run` would. */
function otherUsersJob(spool: string, uid: number): void {
  const file = path.join(spool, 'events', 'node1.jsonl');
  const ev = { v: 1, type: 'start', id: '01JDAAAAAAAAAAAAAAAAAAAAAA', ts: new Date().toISOString(), user: 'nobody', host: 'node1', pid: 4242, pid_start: '0', cmd: OTHER_CMD, cwd: '/home/nobody/secret-project', title: 'eval' };
  fs.writeFileSync(file, `${JSON.stringify(ev)}\n`);
  fs.chownSync(file, uid, uid);
}

const local = (h: HubProc) => `http://127.0.0.1:${new URL(h.url).port}`;

interface Job {
  user: string;
  cmd?: string | null;
  cwd?: string | null;
  title?: string | null;
  details_hidden?: boolean;
}

describe('sign-in on a hub bound off loopback', () => {
  it('flurm dashboard prints a one-time link; its cookie shows own job commands and hides other users\'; no cookie → 401', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    const other = lab.home('nobody', NOBODY);
    otherUsersJob(other.spool, NOBODY);
    hub = await startHub(openHubConfig());
    const url = local(hub);
    const env = { ...alice.env, FLURM_HUB_URL: url };
    const run = await runFlurm(['run', '-t', 'mine', '--', 'sh', '-c', 'echo own-job-marker'], { env });
    expect(run.code).toBe(0);

    // Without sign-in: the API is closed, /healthz (flurm doctor) is not.
    const anon = await fetch(`${url}/api/v1/jobs`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({ error: 'sign in: run flurm dashboard' });
    expect((await fetch(`${url}/api/v1/nodes`)).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const d = await runFlurm(['dashboard'], { env });
    expect(d.code, d.stderr).toBe(0);
    const link = d.stdout.trim();
    expect(link).toMatch(new RegExp(`^${url.replace(/[.]/g, '\\.')}/login\\?code=[A-Za-z0-9_-]{43}$`));
    expect(d.stderr).toContain('within 5 minutes');
    const code = new URL(link).searchParams.get('code')!;
    // The spool holds the hash only, never the code.
    const spoolText = fs.readdirSync(path.join(alice.spool, 'events')).map((f) => fs.readFileSync(path.join(alice.spool, 'events', f), 'utf8')).join('');
    expect(spoolText).toContain('"type":"login"');
    expect(spoolText).not.toContain(code);

    const r = await fetch(link, { redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/');
    const setCookie = r.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^flurm_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0]!;

    const jobs = await waitUntil(async () => {
      const j = (await (await fetch(`${url}/api/v1/jobs`, { headers: { cookie } })).json()) as { jobs: Job[] };
      return j.jobs.some((x) => x.user === 'nobody') && j.jobs.some((x) => x.user === me) && j.jobs;
    }, 15_000, 'both users\' jobs in the index');
    expect(jobs.find((j) => j.user === me)!.cmd).toContain('own-job-marker');
    const theirs = jobs.find((j) => j.user === 'nobody')!;
    expect(theirs).toMatchObject({ cmd: null, cwd: null, title: 'eval', details_hidden: true });
    const all = await (await fetch(`${url}/api/v1/commands/jobs`, { method: 'POST', headers: { cookie }, body: '{}' })).text();
    expect(all).not.toContain('other-users-secret-flag');
    expect(all).not.toContain('secret-project');

    // The same link again is refused, with what to do.
    const again = await fetch(link, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(again.status).toBe(401);
    expect(await again.text()).toContain('flurm dashboard');

    // A bearer token from the same proof, for scripts and for the CLI on another node.
    const t = await runFlurm(['dashboard', '--token'], { env });
    expect(t.code, t.stderr).toBe(0);
    const token = t.stdout.trim();
    expect((await fetch(`${url}/api/v1/jobs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const cli = await runFlurm(['jobs', '--json'], { env: { ...env, FLURM_TOKEN: token } });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).not.toContain('other-users-secret-flag');

    // Signing out ends the session.
    expect((await fetch(`${url}/logout`, { method: 'POST', headers: { cookie, accept: 'application/json' } })).status).toBe(200);
    expect((await fetch(`${url}/api/v1/jobs`, { headers: { cookie } })).status).toBe(401);
  });

  it('[http] public_view = true: nodes without sign-in, jobs not', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    hub = await startHub(openHubConfig('public_view = true'));
    const url = local(hub);
    // flurm doctor still reads /healthz, and says what a sign-in would add.
    const doc = await runFlurm(['doctor'], { env: { ...alice.env, FLURM_HUB_URL: url } });
    expect(doc.stdout + doc.stderr).toContain('hub sign-in');
    expect(doc.stdout + doc.stderr).not.toContain('not reachable');
    expect((await fetch(`${url}/api/v1/nodes`)).status).toBe(200);
    expect((await fetch(`${url}/api/v1/jobs`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
  });
});

const CHROMIUM = process.env.FLURM_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

describe.skipIf(process.env.FLURM_SKIP_BROWSER === '1')('sign-in in Chromium', () => {
  it('the page asks to sign in; the `flurm dashboard` link signs in once and shows the lab without other users\' commands; a reused or unknown code is refused', async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium (.ci/run does), or FLURM_SKIP_BROWSER=1`);
    const { chromium } = await import('playwright-core');
    lab = makeLab();
    const alice = lab.home('alice');
    const other = lab.home('nobody', NOBODY);
    otherUsersJob(other.spool, NOBODY);
    hub = await startHub(openHubConfig());
    const url = local(hub);
    const env = { ...alice.env, FLURM_HUB_URL: url };
    await runFlurm(['run', '-t', 'mine-in-browser', '--', 'true'], { env });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // Not signed in: the sign-in page, saying how.
      const first = await page.goto(`${url}/`);
      expect(first!.status()).toBe(401);
      expect(await page.textContent('body')).toContain('flurm dashboard');

      const link = (await runFlurm(['dashboard'], { env })).stdout.trim();
      await page.goto(link);
      expect(new URL(page.url()).pathname).toBe('/');
      await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === 'flurm_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      await page.waitForFunction(() => document.body.textContent?.includes('mine-in-browser'), undefined, { timeout: 15_000 });
      await page.waitForFunction(() => document.body.textContent?.includes('eval'), undefined, { timeout: 15_000 });
      const text = (await page.textContent('body')) ?? '';
      expect(text).not.toContain('other-users-secret-flag');
      expect(text).not.toContain('secret-project');
      expect(errors).toEqual([]);
      fs.mkdirSync(path.join('test-output', 'dashboard'), { recursive: true });
      await page.screenshot({ path: path.join('test-output', 'dashboard', 'signed-in.png'), fullPage: true });

      // The same link in another browser: used up. A made-up code: unknown. Both say what to do.
      const fresh = await browser.newPage();
      for (const u of [link, `${url}/login?code=${'A'.repeat(43)}`]) {
        const r = await fresh.goto(u);
        expect(r!.status(), u).toBe(401);
        expect(await fresh.textContent('body')).toContain('flurm dashboard');
      }
      expect((await fresh.context().cookies()).find((c) => c.name === 'flurm_session')).toBeUndefined();
    } finally {
      await browser.close();
    }
  }, 60_000);
});
