// Two real hub processes on "two nodes" (FLURM_HOST) sharing one cluster dir, each with its own
// index: the lease in hub.json makes one active and the other standby; kill -9 the active one
// while a job ends and exactly one message arrives — sent by whichever hub got to it, never both.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { makeLab, runFlurm, startHub, waitForQuiet, waitUntil, type HubProc, type Lab } from './support/lab.js';
import { startFakeServices, type FakeServices } from './support/fake-services.js';

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(async () => {
  await fake.close();
});

const LEASE_SECONDS = 1.5;

describe('hub failover', () => {
  let lab: Lab;
  const hubs: HubProc[] = [];

  afterEach(async () => {
    for (const h of hubs.splice(0)) await h.stop();
    lab?.cleanup();
    fake.reset();
  });

  function config(name: string, dest: string): string {
    const file = lab.hubConfig({
      extra: `
[lease]
lease_seconds = ${LEASE_SECONDS}
[delivery]
timeout_seconds = 2
backoff_base_seconds = 0.2
[[routes]]
on = ["all"]
to = ["${dest}"]
`,
    });
    // Each hub has its own index on its own "local disk".
    const text = fs.readFileSync(file, 'utf8').replace(lab.index, path.join(lab.root, name, 'index.db'));
    const own = path.join(lab.root, `${name}.toml`);
    fs.writeFileSync(own, text);
    return own;
  }

  async function twoHubs(dest: string): Promise<{ a: HubProc; b: HubProc }> {
    const a = await startHub(config('hubA', dest), { ...process.env, FLURM_HOST: 'hubA' });
    hubs.push(a);
    await a.waitForOutput(/this hub is active/);
    const b = await startHub(config('hubB', dest), { ...process.env, FLURM_HOST: 'hubB' });
    hubs.push(b);
    await b.waitForOutput(/standing by/);
    expect(b.text()).toMatch(/hub running url=\S+ role=standby/);
    return { a, b };
  }

  const hubJson = () => JSON.parse(fs.readFileSync(path.join(lab.cluster, 'hub.json'), 'utf8')) as { host: string; url: string };

  it('kill -9 of the active hub the moment a job ends: the standby takes over and exactly one message arrives', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    const dest = fake.jsonUrl('/hook/failover1');
    const { a, b } = await twoHubs(dest);
    expect(hubJson().host).toBe('hubA');

    const job = await runFlurm(['run', '-t', 'failover-job', '--', 'sh', '-c', 'sleep 0.3; exit 4'], { env: alice.env });
    expect(job.code).toBe(4);
    await a.kill9();
    const t0 = Date.now();

    await b.waitForOutput(/this hub is active/, 10_000);
    const tookOverMs = Date.now() - t0;
    expect(tookOverMs).toBeLessThan(2 * LEASE_SECONDS * 1000 + 1000);
    expect(hubJson().host).toBe('hubB');
    await fake.waitFor((r) => JSON.stringify(r.body).includes('failover-job'), 10_000);
    // B, now the only hub, has the end in its index and nothing left to send (sent, or found A's
    // receipt): any second message would have come by now.
    const quiet = await waitForQuiet(b, { ended: ['failover-job'] });
    expect(quiet.role).toBe('active');
    expect(quiet.outbox).toEqual({ pending: 0, sent: 1, failed: 0 });
    // Exactly one message: one Idempotency-Key, from at most one request per hub. Killed in the
    // instant between the service's "yes" and its receipt, A cannot know it sent, and B sends
    // again with the same key, which a receiver that honours Idempotency-Key shows once (the
    // design's "exactly once"; this fake sink does not dedupe, so it counts the two requests).
    const accepted = fake.received.filter((r) => JSON.stringify(r.body).includes('failover-job'));
    expect(accepted.length).toBeLessThanOrEqual(2);
    expect([...new Set(accepted.map((r) => r.headers['idempotency-key']))]).toEqual([expect.stringMatching(/^flurm-[0-9a-f]{32}$/)]);
    expect(fake.received).toHaveLength(accepted.length);
  });

  it('kill -9 of the active hub in the middle of sending (no answer yet): the new active hub sends it, once', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    const dest = fake.jsonUrl('/hook/failover3');
    fake.failNext('/hook/failover3', [{ hang: true }]);
    const { a, b } = await twoHubs(dest);
    const job = await runFlurm(['run', '-t', 'mid-send', '--', 'false'], { env: alice.env });
    expect(job.code).toBe(1);
    await waitUntil(() => fake.requests.some((r) => JSON.stringify(r.body).includes('mid-send')), 10_000, "hub A's request");
    await a.kill9();
    await b.waitForOutput(/this hub is active/, 10_000);
    await fake.waitFor((r) => JSON.stringify(r.body).includes('mid-send'), 10_000);
    const quiet = await waitForQuiet(b, { ended: ['mid-send'] });
    expect(fake.received.filter((r) => JSON.stringify(r.body).includes('mid-send'))).toHaveLength(1);
    // A's request (never answered) and B's: two attempts, one accepted.
    expect(fake.requests.filter((r) => JSON.stringify(r.body).includes('mid-send')).map((r) => r.status)).toEqual([undefined, 200]);
    expect(quiet.outbox).toEqual({ pending: 0, sent: 1, failed: 0 });
  });

  it('a message the active hub already sent is not sent again by the hub that takes over (receipts)', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    const dest = fake.jsonUrl('/hook/failover2');
    const { a, b } = await twoHubs(dest);
    const job = await runFlurm(['run', '-t', 'sent-before', '--', 'true'], { env: alice.env });
    expect(job.code).toBe(0);
    await fake.waitFor((r) => JSON.stringify(r.body).includes('sent-before'), 10_000);
    // "Already sent" means A recorded it: its 'delivered' line comes after the receipt is written.
    // (Killed between the service's answer and that write, A could not know; failover's first test
    // covers that window.)
    await waitUntil(() => /hub: delivered /.test(a.text()), 10_000, "A's delivery recorded");
    // The standby has ingested the same end and queued its own row for it.
    await waitUntil(async () => {
      const r = (await (await fetch(`${b.url}/api/v1/jobs?limit=5`)).json()) as { jobs: { title: string; state: string }[] };
      return r.jobs.some((j) => j.title === 'sent-before' && j.state === 'succeeded');
    }, 10_000, 'the standby to ingest the job');
    await a.kill9();
    await b.waitForOutput(/this hub is active/, 10_000);
    await waitUntil(() => /already delivered \(receipt found\)/.test(b.text()), 10_000, 'the receipt check');
    // B's own row for the job is settled (marked sent on A's receipt) and nothing else is queued.
    const quiet = await waitForQuiet(b, { ended: ['sent-before'] });
    expect(quiet.role).toBe('active');
    expect(quiet.outbox).toEqual({ pending: 0, sent: 1, failed: 0 });
    expect(fake.requests.filter((r) => JSON.stringify(r.body).includes('sent-before'))).toHaveLength(1);
  });
});
