// The core loop end to end: real `flurm run` jobs, the hub as a real process, and local servers
// that speak the Discord, Slack, ntfy and SMTP protocols. Asserts what a user would see arrive.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { getJson, makeLab, route, runFlurm, startHub, sleep, waitForQuiet, waitUntil, type HubProc, type Lab } from './support/lab.js';
import { startFakeServices, type FakeServices, type ReceivedRequest } from './support/fake-services.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

let fake: FakeServices;
let smtp: SmtpSink;

beforeAll(async () => {
  fake = await startFakeServices();
  smtp = await startSmtpSink();
});
afterAll(async () => {
  await fake.close();
  await smtp.close();
});

const embedOf = (r: ReceivedRequest) => ((r.body as { embeds: { title: string; description?: string; fields?: { name: string; value: string }[] }[] }).embeds[0])!;
const embedText = (r: ReceivedRequest) => {
  const e = embedOf(r);
  return [e.title, e.description ?? '', ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`)].join('\n');
};

describe('the core loop', () => {
  let lab: Lab;
  let hub: HubProc | null = null;

  afterEach(async () => {
    await hub?.stop();
    hub = null;
    lab?.cleanup();
    fake.reset();
  });

  function hubConfig(extra = ''): string {
    return lab.hubConfig({ extra: `[delivery]\ntimeout_seconds = 2\nbackoff_base_seconds = 0.2\nbackoff_max_seconds = 1\n${extra}` });
  }

  it('tells the owner how each job ended: success, exit 3, SIGKILL — with diagnosis and log tail', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    const discord = fake.discordUrl('111', 'tok-failures');
    const slack = fake.slackUrl('T1', 'B1', 'successes');
    hub = await startHub(hubConfig(`
[[routes]]
on = ["failure"]
to = ["${discord}"]
[[routes]]
on = ["success"]
to = ["${slack}"]
`));
    const ok = await runFlurm(['run', '-t', 'quick', '--', 'sh', '-c', 'echo all good'], { env: alice.env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('all good');
    const fail = await runFlurm(['run', '-t', 'train', '--', 'sh', '-c', 'echo "Traceback (most recent call last):"; echo "  File \\"t.py\\", line 1"; echo "ValueError: learning rate must be positive"; exit 3'], { env: alice.env });
    expect(fail.code).toBe(3);
    const killed = await runFlurm(['run', '-t', 'hog', '--', 'sh', '-c', 'echo allocating; kill -9 $$'], { env: alice.env });
    expect(killed.code).toBe(137);

    const slackMsg = await fake.waitFor((r) => r.service === 'slack', 10_000);
    expect(JSON.stringify(slackMsg.body)).toContain('quick');

    const exit3 = await fake.waitFor((r) => r.service === 'discord' && embedOf(r).title.includes('train'), 10_000);
    const t3 = embedText(exit3);
    expect(t3).toMatch(/exit 3/);
    expect(t3).toContain('ValueError: learning rate must be positive');
    expect(t3).toContain('node1');

    const k = await fake.waitFor((r) => r.service === 'discord' && embedOf(r).title.includes('hog'), 10_000);
    expect(embedText(k)).toMatch(/SIGKILL/);
    expect(embedText(k)).toMatch(/out of memory/i);

    // Exactly one message per job end per destination: no success on the failure channel. Asked
    // once the hub has all three ends in its index and every queued message has had its answer.
    const quiet = await waitForQuiet(hub, { ended: ['quick', 'train', 'hog'] });
    const discordTitles = fake.received.filter((r) => r.service === 'discord').map((r) => embedOf(r).title);
    expect(discordTitles.map((t) => (t.includes('train') ? 'train' : t.includes('hog') ? 'hog' : t)).sort()).toEqual(['hog', 'train']);
    expect(fake.received.filter((r) => r.service === 'slack')).toHaveLength(1);
    expect(quiet.outbox).toEqual({ pending: 0, sent: 3, failed: 0 });
  });

  it('routes by the user\'s own config.toml, ntfy and e-mail included; only_failures is honoured', async () => {
    lab = makeLab();
    const bob = lab.home('bob');
    fs.writeFileSync(path.join(bob.spool, 'config.toml'), `to = ["${fake.ntfyUrl('bob-jobs')}", "${smtp.url({ from: 'flurm@lab.example', to: 'bob@lab.example' })}"]\nonly_failures = true\n`);
    hub = await startHub(hubConfig());
    await runFlurm(['run', '-t', 'fine', '--', 'true'], { env: bob.env });
    await runFlurm(['run', '-t', 'broken', '--', 'sh', '-c', 'echo "No space left on device" >&2; exit 1'], { env: bob.env });
    const n = await fake.waitFor((r) => r.service === 'ntfy', 10_000);
    expect(JSON.stringify(n.body) + JSON.stringify(n.headers)).toContain('broken');
    const mail = await smtp.waitFor((m) => m.subject.includes('broken'), 10_000);
    expect(mail.to).toContain('bob@lab.example');
    expect(mail.text).toMatch(/No space left on device/);
    // 'fine' succeeded: with only_failures it is recorded, and told nowhere.
    const quiet = await waitForQuiet(hub, { ended: ['fine', 'broken'] });
    expect(fake.received.filter((r) => r.service === 'ntfy')).toHaveLength(1);
    expect(smtp.messages.map((m) => m.subject)).toEqual([expect.stringContaining('broken')]);
    expect(JSON.stringify(fake.received)).not.toContain('fine');
    expect(quiet.outbox).toEqual({ pending: 0, sent: 2, failed: 0 });
  });

  it('flurm run --to sends to that destination for this job only', async () => {
    lab = makeLab();
    const carol = lab.home('carol');
    hub = await startHub(hubConfig());
    await runFlurm(['run', '--to', fake.jsonUrl('/hooks/carol'), '-t', 'one-off', '--', 'true'], { env: carol.env });
    const j = await fake.waitFor((r) => r.service === 'json', 10_000);
    expect(JSON.stringify(j.body)).toContain('one-off');
    // The next job without --to goes nowhere: no lab route, no user destination.
    await runFlurm(['run', '-t', 'plain', '--', 'true'], { env: carol.env });
    const quiet = await waitForQuiet(hub, { ended: ['one-off', 'plain'] });
    expect(fake.requests.filter((r) => JSON.stringify(r.body).includes('plain'))).toHaveLength(0);
    expect(fake.received).toHaveLength(1);
    expect(quiet.outbox).toEqual({ pending: 0, sent: 1, failed: 0 });
  });

  it('survives kill -9 while the destination fails: after restart every message arrives exactly once', async () => {
    lab = makeLab();
    const dave = lab.home('dave');
    const discord = fake.discordUrl('222', 'tok-crash');
    const cfg = hubConfig(route('all', discord));
    fake.failNext('/api/webhooks/222/', Array.from({ length: 200 }, () => ({ status: 500 })));
    hub = await startHub(cfg);
    for (let i = 0; i < 5; i++) await runFlurm(['run', '-t', `job-${i}`, '--', 'sh', '-c', `exit ${i}`], { env: dave.env });
    await waitUntil(() => fake.requests.filter((r) => r.path.startsWith('/api/webhooks/222/')).length >= 5, 10_000, 'failing attempts');
    await hub.kill9();
    fake.reset(); // the service recovers
    hub = await startHub(cfg);
    await waitUntil(() => fake.received.filter((r) => r.service === 'discord').length >= 5, 15_000, 'five messages');
    // The restarted hub re-read its spool from the saved offsets and sent what was pending: once
    // it is quiet, nothing more comes.
    const quiet = await waitForQuiet(hub, { ended: ['job-0', 'job-1', 'job-2', 'job-3', 'job-4'] });
    const titles = fake.received.filter((r) => r.service === 'discord').map((r) => embedOf(r).title).sort();
    expect(titles).toHaveLength(5);
    expect(new Set(titles).size).toBe(5);
    expect(quiet.outbox).toEqual({ pending: 0, sent: 5, failed: 0 });
  });

  it('honours 429 Retry-After and gives up on a deleted webhook (404) without blocking others', async () => {
    lab = makeLab();
    const erin = lab.home('erin');
    const limited = fake.discordUrl('333', 'tok-limited');
    const deleted = fake.discordUrl('444', 'tok-deleted');
    fake.failNext('/api/webhooks/333/', [{ status: 429, retryAfter: 1 }]);
    fake.failNext('/api/webhooks/444/', [{ status: 404 }]);
    hub = await startHub(hubConfig(route('all', limited, deleted)));
    const t0 = Date.now();
    await runFlurm(['run', '-t', 'rl', '--', 'true'], { env: erin.env });
    const got = await fake.waitFor((r) => r.path.startsWith('/api/webhooks/333/'), 10_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(embedOf(got).title).toContain('rl');
    await hub.waitForOutput(/giving up on it/);
    const d = (await (await fetch(`${hub.url}/api/v1/destinations`)).json()) as { destinations: { dest: string }[] };
    expect(d.destinations.map((x) => x.dest).join()).toContain('444');
    expect(d.destinations.map((x) => x.dest).join()).not.toContain('tok-deleted');
    // A later job: the deleted webhook is not tried again; the live one still works.
    await runFlurm(['run', '-t', 'rl2', '--', 'true'], { env: erin.env });
    await fake.waitFor((r) => r.path.startsWith('/api/webhooks/333/') && embedOf(r).title.includes('rl2'), 10_000);
    expect(fake.requests.filter((r) => r.path.startsWith('/api/webhooks/444/'))).toHaveLength(1);
    // The admin fixes the webhook and restarts the hub: it is tried again.
    await hub.stop();
    hub = await startHub(hubConfig(route('all', limited, deleted)));
    await runFlurm(['run', '-t', 'rl3', '--', 'true'], { env: erin.env });
    await fake.waitFor((r) => r.path.startsWith('/api/webhooks/444/') && embedOf(r).title.includes('rl3'), 10_000);
  });

  it('keeps serving other users when one spool holds garbage, a 20 MB line, a symlink, a foreign file and 100,000 events', async () => {
    lab = makeLab();
    const mallory = lab.home('mallory');
    const ev = path.join(mallory.spool, 'events');
    fs.writeFileSync(path.join(ev, 'huge.jsonl'), Buffer.alloc(20 * 1024 * 1024, 0x61));
    fs.writeFileSync(path.join(ev, 'garbage.jsonl'), Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256)));
    fs.writeFileSync(path.join(lab.root, 'secret.txt'), 'not yours\n');
    fs.symlinkSync(path.join(lab.root, 'secret.txt'), path.join(ev, 'link.jsonl'));
    fs.writeFileSync(path.join(ev, 'foreign.jsonl'), '{}\n');
    fs.chownSync(path.join(ev, 'foreign.jsonl'), 4242, 4242);
    // 100,000 valid note events from one user, written at once.
    const lines: string[] = [];
    const base = Date.now();
    for (let i = 0; i < 100_000; i++) {
      const id = (await import('../src/lib/ids.js')).newId(base + i);
      lines.push(JSON.stringify({ v: 1, type: 'note', id, ts: new Date(base).toISOString(), user: 'mallory', host: 'flood', message: `spam ${i}` }));
    }
    fs.writeFileSync(path.join(ev, 'flood.jsonl'), lines.join('\n') + '\n');

    const frank = lab.home('frank');
    const discord = fake.discordUrl('555', 'tok-frank');
    hub = await startHub(hubConfig(`[[routes]]\non = ["failure"]\nusers = ["root"]\nto = ["${discord}"]\n`));
    await runFlurm(['run', '-t', 'innocent', '--', 'sh', '-c', 'exit 2'], { env: frank.env });
    const t0 = Date.now();
    await fake.waitFor((r) => r.service === 'discord' && embedOf(r).title.includes('innocent'), 15_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await hub.waitForOutput(/symlink/);
    expect(hub.text()).toMatch(/owned by uid 4242/);
    expect(hub.text()).toMatch(/longer than \d+ bytes/);
    // What the admin sees (flurm doctor reads /api/v1/problems): each bad file, named, with why.
    const { problems } = await getJson<{ problems: { user: string | null; file: string | null; reason: string }[] }>(`${hub.url}/api/v1/problems`);
    const problemOf = (name: string) => problems.filter((p) => p.file === path.join(ev, name)).map((p) => p.reason).join('\n');
    expect(problemOf('link.jsonl')).toMatch(/symlink/);
    expect(problemOf('foreign.jsonl')).toMatch(/owned by uid 4242/);
    expect(problemOf('huge.jsonl')).toMatch(/longer than \d+ bytes/);
    const health = (await (await fetch(`${hub.url}/healthz`)).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
    expect(hub.text()).not.toContain('not yours');
  });

  it('reads the legacy ~/.pingchilling format', async () => {
    lab = makeLab();
    const gina = lab.home('gina');
    const discord = fake.discordUrl('666', 'tok-legacy');
    hub = await startHub(hubConfig(route('all', discord)));
    const now = new Date();
    const pad = (n: number) => String(n).padStart(2, '0');
    const local = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    fs.writeFileSync(path.join(gina.home, '.pingchilling'), `4242@gpu2: Started [old habits [v1]] ${local(new Date(now.getTime() - 125_000))}\n`);
    await sleep(1500);
    fs.appendFileSync(path.join(gina.home, '.pingchilling'), `4242@gpu2: Finished [1] ${local(now)}\n`);
    const m = await fake.waitFor((r) => r.service === 'discord', 10_000);
    expect(embedOf(m).title).toContain('old habits [v1]');
    expect(embedText(m)).toMatch(/exit 1/);
    expect(embedText(m)).toContain('gpu2');
  });
});

describe('the doorbell', () => {
  it('brings a message within about a second even when the hub polls only every 30 s', async () => {
    const lab = makeLab();
    const u = lab.home('olga');
    const cfg = lab.hubConfig({ pollSeconds: 30, rediscoverSeconds: 60, extra: route('all', fake.jsonUrl('/hooks/doorbell')) });

    const hub = await startHub(cfg);
    try {
      // The first job makes the hub discover the file; time the second.
      await runFlurm(['run', '-t', 'warm-up', '--', 'true'], { env: u.env });
      await fake.waitFor((r) => JSON.stringify(r.body).includes('warm-up'), 5000);
      const t0 = Date.now();
      await runFlurm(['run', '-t', 'rang', '--', 'true'], { env: u.env });
      await fake.waitFor((r) => JSON.stringify(r.body).includes('rang'), 5000);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      await hub.stop();
      lab.cleanup();
      fake.reset();
    }
  });
});
