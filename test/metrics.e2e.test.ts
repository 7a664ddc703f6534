// GET /metrics from a real hub process with a real `flurm agent` node (GPUs from a fake
// nvidia-smi printing a real V100 capture) and a real `flurm run` job that failed: the node
// gauges match the node's /api/v1/nodes view, the job counts under its result, the outbox under
// its destination kind — and neither the destination URL nor the user name is anywhere in the
// body, which Prometheus' own promtool accepts without a lint message.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fakeNvidiaSmi, killAll, makeLab, runFlurm, startFlurm, startHub, waitUntil, type HubProc, type Lab, type Proc } from './support/lab.js';
import { startFakeServices, type FakeServices } from './support/fake-services.js';
import { promtoolCheck, skipPromtool } from './support/promtool.js';
import type { NodesResponse, NodeView } from '../src/model/node-view.js';

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(async () => {
  await fake.close();
});

/** name{labels} → value for every sample of an exposition body. */
function samples(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

describe('GET /metrics on a real hub', () => {
  let lab: Lab;
  let hub: HubProc | null = null;
  const procs: Proc[] = [];

  afterEach(async () => {
    await killAll(procs);
    await hub?.stop();
    hub = null;
    lab?.cleanup();
    fake.reset();
  });

  it('node gauges as /api/v1/nodes shows them, the ended job by result, the outbox by kind; no URL, no user; promtool passes', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    const hook = fake.discordUrl('424242', 'tok-metrics-SECRET');
    hub = await startHub(lab.hubConfig({ extra: `[nodes]\npoll_interval_seconds = 0.3\n[[routes]]\non = ["failure"]\nto = ["${hook}"]\n` }));
    procs.push(startFlurm(['agent', '--interval', '1s', '--cluster', lab.cluster], { env: { ...process.env, FLURM_HOST: 'mgpu1', PATH: `${fakeNvidiaSmi(lab.root)}:${process.env.PATH}` } }));
    const url = hub.url;
    const nodes = async () => ((await (await fetch(`${url}/api/v1/nodes`)).json()) as NodesResponse).nodes;
    await waitUntil(async () => (await nodes()).find((n) => n.host === 'mgpu1')?.state === 'fresh', 15_000, 'mgpu1 fresh');

    const fail = await runFlurm(['run', '-t', 'metrics-job', '--', 'sh', '-c', 'exit 3'], { env: alice.env });
    expect(fail.code).toBe(3);
    await waitUntil(() => fake.received.length >= 1, 15_000, 'the failure message delivered');

    // One scrape between two views with the same snapshot seq: all three saw the same snapshot.
    const { res, body, view } = await waitUntil(async () => {
      const before = (await nodes()).find((n) => n.host === 'mgpu1')!;
      const r = await fetch(`${url}/metrics`);
      const b = await r.text();
      const after = (await nodes()).find((n) => n.host === 'mgpu1')!;
      return before.snapshot.seq === after.snapshot.seq && samples(b).get('flurm_outbox_delivered_total{kind="discord"}') === 1 ? { res: r, body: b, view: after as NodeView } : null;
    }, 15_000, 'a scrape within one snapshot');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = samples(body);
    const h = 'host="mgpu1"';
    const snap = view.snapshot;
    expect(s.get(`flurm_node_up{${h}}`)).toBe(1);
    expect(s.get(`flurm_node_state{${h},state="fresh"}`)).toBe(1);
    expect(s.get(`flurm_node_load1{${h}}`)).toBe(snap.load[0]);
    expect(s.get(`flurm_node_load15{${h}}`)).toBe(snap.load[2]);
    expect(s.get(`flurm_node_cpus{${h}}`)).toBe(snap.cpus);
    if (snap.cpu_busy_pct !== null) expect(s.get(`flurm_node_cpu_busy_ratio{${h}}`)).toBeCloseTo(snap.cpu_busy_pct / 100, 9);
    expect(s.get(`flurm_node_memory_size_bytes{${h}}`)).toBe(snap.mem.total_bytes);
    expect(s.get(`flurm_node_memory_available_bytes{${h}}`)).toBe(snap.mem.available_bytes);
    expect(snap.gpus).toHaveLength(8);
    for (const g of snap.gpus!) {
      expect(s.get(`flurm_node_gpu_utilization_ratio{${h},gpu="${g.index}"}`)).toBeCloseTo(g.util_pct! / 100, 9);
      expect(s.get(`flurm_node_gpu_memory_used_bytes{${h},gpu="${g.index}"}`)).toBe(g.mem_used_bytes);
      expect(s.get(`flurm_node_gpu_memory_size_bytes{${h},gpu="${g.index}"}`)).toBe(g.mem_total_bytes);
    }
    for (const [name, c] of Object.entries(snap.collectors)) expect(s.get(`flurm_node_collector_up{${h},collector="${name}"}`), name).toBe(c.ok ? 1 : 0);
    expect(s.get('flurm_node_collector_up{host="mgpu1",collector="gpu"}')).toBe(1);
    // The failed job, once; the message to Discord delivered, none pending or failed.
    expect(s.get('flurm_jobs_finished_total{result="failed"}')).toBe(1);
    expect(s.get('flurm_jobs_finished_total{result="succeeded"}')).toBe(0);
    expect(s.get('flurm_outbox_pending{kind="discord"}')).toBe(0);
    expect(s.get('flurm_outbox_failed_total{kind="discord"}')).toBe(0);
    expect(s.get('flurm_ingest_events_total')).toBeGreaterThanOrEqual(2);
    expect(s.get('flurm_hub_role{role="active"}')).toBe(1);
    expect([...s.keys()].some((k) => k.startsWith('flurm_build_info{version="'))).toBe(true);
    expect([...s.keys()].some((k) => k.startsWith('flurm_slurm_'))).toBe(false); // [slurm] enabled = false
    // Nothing secret, nobody named.
    expect(body).not.toContain(hook);
    expect(body).not.toContain('tok-metrics-SECRET');
    expect(body).not.toContain('424242');
    expect(body).not.toContain(new URL(hook).host);
    expect(body).not.toContain('alice');
    if (!skipPromtool) expect(promtoolCheck(body)).toEqual({ code: 0, output: '' });
  });
});
