// The `pingch` function labs already have in their ~/.bashrc (test/fixtures/spools/pingch.bash,
// byte-for-byte as published) run under real bash against the hub as a real process: it appends
// to ~/.pingchilling with `>>` (no fsync, no doorbell) and the hub must still tell the user, with
// the job's title and exit code, once — and see a brand-new ~/.pingchilling in seconds.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, route, startHub, waitUntil, type HubProc, type Lab } from './support/lab.js';
import { startFakeServices, type FakeServices, type ReceivedRequest } from './support/fake-services.js';

const PINGCH = path.resolve(import.meta.dirname, 'fixtures/spools/pingch.bash');

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(async () => {
  await fake.close();
});

/** `pingch ARGS...` in an interactive-like bash that sourced the function, with HOME = home. */
function pingch(home: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-c', 'source "$1"; shift; pingch "$@"', 'bash', PINGCH, ...args], { env: { PATH: process.env.PATH, HOME: home, TZ: process.env.TZ }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

interface ApiJob {
  id: string;
  user: string;
  host: string;
  state: string;
  title: string | null;
  pid: number | null;
  exit: number | null;
  startTs: string | null;
  endTs: string | null;
  src: string | null;
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

/** Done: every job named is ended in /api/v1/jobs and the outbox has nothing pending. */
async function settled(hub: HubProc, titles: string[]): Promise<ApiJob[]> {
  return waitUntil(
    async () => {
      const { jobs } = await getJson<{ jobs: ApiJob[] }>(`${hub.url}/api/v1/jobs?limit=100`);
      const h = await getJson<{ outbox: { pending: number; sent: number } }>(`${hub.url}/healthz`);
      const ended = titles.every((t) => jobs.some((j) => j.title === t && j.endTs));
      return ended && h.outbox.pending === 0 && h.outbox.sent >= titles.length ? jobs : null;
    },
    15_000,
    `jobs ${titles.join(', ')} ended and their messages sent`,
  );
}

const bodyOf = (r: ReceivedRequest) => r.body as { title: string; text: string };
const hostShort = () => new Promise<string>((resolve) => {
  const c = spawn('hostname', ['-s']);
  let out = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  c.on('close', () => resolve(out.trim()));
});

describe('the published pingch function', () => {
  let lab: Lab;
  let hub: HubProc | null = null;
  afterEach(async () => {
    await hub?.stop();
    hub = null;
    lab?.cleanup();
    fake.reset();
  });

  it('works unchanged: one message per job with its title and exit code, and the job has its start', async () => {
    lab = makeLab();
    const kim = lab.home('kim');
    const sink = fake.jsonUrl('/hooks/pingch');
    hub = await startHub(lab.hubConfig({ extra: route('all', sink) }));
    // The command goes as one string: pingch evals "$@" joined, so `sh -c 'exit 3'` as separate
    // words would run `sh -c exit` (status 0).
    const failed = await pingch(kim.home, '-t', 'mytitle', "sh -c 'exit 3'");
    expect(failed.code).toBe(3);
    const ok = await pingch(kim.home, '-t', 'all fine', 'true');
    expect(ok.code).toBe(0);
    const written = fs.readFileSync(path.join(kim.home, '.pingchilling'), 'utf8');
    expect(written).toMatch(/^\d+@\S+: Started {2}\[mytitle\] \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m); // the real input: two spaces

    const jobs = await settled(hub, ['mytitle', 'all fine']);
    const host = await hostShort();
    const pid = Number(/^(\d+)@\S+: Started {2}\[mytitle\]/m.exec(written)![1]);
    expect(jobs.find((j) => j.title === 'mytitle')).toMatchObject({ state: 'failed', exit: 3, host, pid, src: 'legacy', startTs: expect.any(String) });
    expect(jobs.find((j) => j.title === 'all fine')).toMatchObject({ state: 'succeeded', exit: 0, host, startTs: expect.any(String) });
    expect(jobs).toHaveLength(2);

    const got = fake.received.filter((r) => r.path === '/hooks/pingch').map(bodyOf);
    expect(got).toHaveLength(2);
    const fail = got.find((b) => b.title.includes('mytitle'));
    expect(fail?.title).toContain(host);
    expect(fail?.text).toMatch(/exit 3/);
    expect(got.find((b) => b.title.includes('all fine'))).toBeTruthy();
    expect(hub.text()).not.toMatch(/invalid legacy line/);
  });

  it("is heard within seconds from a user who never ran flurm, in a brand-new ~/.pingchilling, while rediscovery is 10 minutes away", async () => {
    lab = makeLab();
    const home = path.join(lab.root, 'home', 'lee'); // no ~/.flurm, no ~/.pingchilling yet
    fs.mkdirSync(home);
    const sink = fake.jsonUrl('/hooks/late');
    hub = await startHub(lab.hubConfig({ pollSeconds: 0.2, rediscoverSeconds: 600, extra: route('all', sink) }));
    const r = await pingch(home, '-t', 'first ever', 'exit 1');
    expect(r.code).toBe(1);
    const t0 = Date.now();
    // Two polls (0.4 s) plus the send; generous for a busy test machine, far from 600 s.
    const m = await fake.waitFor((x) => x.path === '/hooks/late', 3000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(bodyOf(m).title).toContain('first ever');
    await settled(hub, ['first ever']);
    expect(fake.received.filter((x) => x.path === '/hooks/late')).toHaveLength(1);
  });
});
