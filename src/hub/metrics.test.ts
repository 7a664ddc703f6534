// The hub's metrics registry over a real SQLite index, node views from the test lab and the
// SLURM views built from the sinfo/squeue fixtures; its body is linted by the real promtool.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { OutboxStore } from '../store/outbox.js';
import { createHubMetrics, destKind, type MetricsSource } from './metrics.js';
import { gpuView } from '../../test/fixtures/slurm/views-fixtures.js';
import { busyGpu, gpu, nodeView, snapshot, GiB } from '../../test/support/nodes.js';
import { promtoolCheck, skipPromtool } from '../../test/support/promtool.js';
import type { SlurmClusterView } from '../model/slurm-view.js';
import type { NodeView } from '../model/node-view.js';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const HOOK = 'https://discord.com/api/webhooks/123456/SECRET-TOKEN-abc';

function index(): { db: Db; jobs: JobStore; outbox: OutboxStore } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-metrics-'));
  dirs.push(dir);
  const db = openDb(path.join(dir, 'index.db'));
  dbs.push(db);
  return { db, jobs: new JobStore(db), outbox: new OutboxStore(db) };
}

function source(db: Db, over: Partial<MetricsSource> = {}): MetricsSource {
  return {
    version: '9.8.7',
    role: () => 'active',
    startedMs: 1_700_000_000_000,
    nodes: () => null,
    slurm: null,
    db,
    ingest: () => ({ events: 4, invalid: 1, ticks: 10, lastTickMs: 3, spools: 2, files: 3, refused: 1 }),
    userLabels: false,
    ...over,
  };
}

/** The value of the one sample `name{labels}` in an exposition body; undefined when absent. */
function sample(body: string, name: string, labels: Record<string, string | number> = {}): number | undefined {
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) got[lm[1]!] = lm[2]!;
    if (Object.keys(got).length !== Object.keys(labels).length) continue;
    if (Object.entries(labels).every(([k, v]) => got[k] === String(v))) return Number(m[3]);
  }
  return undefined;
}

function seed(jobs: JobStore, outbox: OutboxStore): void {
  const t = Date.now();
  const start = (id: string, user: string) => jobs.applyStart({ v: 1, type: 'start', id, ts: new Date(t - 60_000).toISOString(), user, host: 'gpu1', pid: 100, pid_start: '5' }, user, t - 60_000);
  const end = (id: string, user: string, exit: number | null, extra: Record<string, unknown> = {}) =>
    jobs.applyEnd({ v: 1, type: 'end', id, ts: new Date(t - 2000).toISOString(), user, host: 'gpu1', exit, wall_seconds: 58, ...extra }, user, t);
  start('01J0000000000000000000000A', 'alice');
  end('01J0000000000000000000000A', 'alice', 0);
  start('01J0000000000000000000000B', 'alice');
  end('01J0000000000000000000000B', 'alice', 3);
  start('01J0000000000000000000000C', 'bob');
  end('01J0000000000000000000000C', 'bob', null, { signal: 'SIGKILL' });
  start('01J0000000000000000000000D', 'bob');
  const row = (key: string, dest: string, user = 'alice') => outbox.enqueue({ key, user, ref_id: 'x', dest, dest_redacted: 'redacted', message_json: '{}', event_ms: t, now: t });
  row('a:end:1', HOOK);
  row('b:end:1', HOOK);
  row('c:end:1', 'ntfy://lab-topic-secret');
  row('d:end:1', 'ntfy://lab-topic-secret', 'bob');
  const heads = outbox.head(HOOK, t + 1)!;
  outbox.markSent(heads.id, t);
  outbox.markFailed(outbox.head('ntfy://lab-topic-secret', t + 1)!.id, 'gone');
}

describe('hub metrics over a real index', () => {
  it('jobs by result, outbox by kind (never the URL), ingest, build and role — and promtool passes', async () => {
    const { db, jobs, outbox } = index();
    seed(jobs, outbox);
    const views: NodeView[] = [
      nodeView(snapshot('gpu1', { cpus: 64, load: [12.5, 10, 8], cpu_busy_pct: 37.5, gpus: [busyGpu(0, 'alice'), gpu(1, { util_pct: null })], collectors: { gpu: { ok: false, seconds: 0.1, error: 'NVIDIA-SMI has failed' }, loadavg: { ok: true, seconds: 0.001 } } })),
      nodeView(snapshot('cpu1'), { state: 'stale', age_seconds: 95 }),
    ];
    const m = createHubMetrics(source(db, { nodes: () => views, role: () => 'standby' }));
    const { body, contentType } = await m.scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(body, 'flurm_jobs_finished_total', { result: 'succeeded' })).toBe(1);
    expect(sample(body, 'flurm_jobs_finished_total', { result: 'failed' })).toBe(2);
    expect(sample(body, 'flurm_jobs_finished_total', { result: 'unknown' })).toBe(0);
    expect(sample(body, 'flurm_jobs_finished_total', { result: 'vanished' })).toBeUndefined();
    expect(sample(body, 'flurm_jobs_vanished')).toBe(0);
    expect(sample(body, 'flurm_jobs_running')).toBe(1);
    expect(sample(body, 'flurm_outbox_delivered_total', { kind: 'discord' })).toBe(1);
    expect(sample(body, 'flurm_outbox_pending', { kind: 'discord' })).toBe(1);
    expect(sample(body, 'flurm_outbox_failed_total', { kind: 'ntfy' })).toBe(1);
    expect(sample(body, 'flurm_outbox_pending', { kind: 'ntfy' })).toBe(1);
    expect(sample(body, 'flurm_ingest_events_total')).toBe(4);
    expect(sample(body, 'flurm_ingest_lag_seconds')).toBeCloseTo(2, 0);
    expect(sample(body, 'flurm_build_info', { version: '9.8.7' })).toBe(1);
    expect(sample(body, 'flurm_hub_role', { role: 'standby' })).toBe(1);
    expect(sample(body, 'flurm_hub_role', { role: 'active' })).toBe(0);
    // nodes
    expect(sample(body, 'flurm_node_load1', { host: 'gpu1' })).toBe(12.5);
    expect(sample(body, 'flurm_node_cpu_busy_ratio', { host: 'gpu1' })).toBe(0.375);
    expect(sample(body, 'flurm_node_gpu_utilization_ratio', { host: 'gpu1', gpu: 0 })).toBe(0.98);
    expect(sample(body, 'flurm_node_gpu_utilization_ratio', { host: 'gpu1', gpu: 1 })).toBeUndefined(); // [N/A]: no sample, not 0
    expect(sample(body, 'flurm_node_gpu_memory_used_bytes', { host: 'gpu1', gpu: 0 })).toBe(70 * GiB);
    expect(sample(body, 'flurm_node_memory_size_bytes', { host: 'cpu1' })).toBe(256 * GiB);
    expect(sample(body, 'flurm_node_collector_up', { host: 'gpu1', collector: 'gpu' })).toBe(0);
    expect(sample(body, 'flurm_node_collector_up', { host: 'gpu1', collector: 'loadavg' })).toBe(1);
    expect(sample(body, 'flurm_node_state', { host: 'cpu1', state: 'stale' })).toBe(1);
    expect(sample(body, 'flurm_node_up', { host: 'cpu1' })).toBe(0);
    expect(sample(body, 'flurm_node_up', { host: 'gpu1' })).toBe(1);
    // No secrets, no user names.
    expect(body).not.toContain('SECRET');
    expect(body).not.toContain('lab-topic');
    expect(body).not.toMatch(/alice|bob/);
    expect(body).not.toContain('user=');
    if (!skipPromtool) expect(promtoolCheck(body)).toEqual({ code: 0, output: '' });
  });

  it('is read at each scrape: a new ended job counts once, at once; nothing is double counted', async () => {
    const { db, jobs, outbox } = index();
    seed(jobs, outbox);
    const m = createHubMetrics(source(db));
    expect(sample((await m.scrape()).body, 'flurm_jobs_finished_total', { result: 'succeeded' })).toBe(1);
    expect(sample((await m.scrape()).body, 'flurm_jobs_finished_total', { result: 'succeeded' })).toBe(1);
    jobs.applyEnd({ v: 1, type: 'end', id: '01J0000000000000000000000D', ts: new Date().toISOString(), user: 'bob', host: 'gpu1', exit: 0, wall_seconds: 1 }, 'bob', Date.now());
    // The same end ingested twice (re-read after a restart) changes nothing.
    jobs.applyEnd({ v: 1, type: 'end', id: '01J0000000000000000000000D', ts: new Date().toISOString(), user: 'bob', host: 'gpu1', exit: 0, wall_seconds: 1 }, 'bob', Date.now());
    const body = (await m.scrape()).body;
    expect(sample(body, 'flurm_jobs_finished_total', { result: 'succeeded' })).toBe(2);
    expect(sample(body, 'flurm_jobs_running')).toBe(0);
    // A vanished job is a gauge: a late end moves it to its result, and no counter goes down.
    jobs.applyStart({ v: 1, type: 'start', id: '01J0000000000000000000000E', ts: new Date().toISOString(), user: 'bob', host: 'gpu1', pid: 7, pid_start: '9' }, 'bob', Date.now());
    jobs.markVanished('01J0000000000000000000000E');
    const v = (await m.scrape()).body;
    expect(sample(v, 'flurm_jobs_vanished')).toBe(1);
    expect(sample(v, 'flurm_jobs_finished_total', { result: 'failed' })).toBe(2);
    jobs.applyEnd({ v: 1, type: 'end', id: '01J0000000000000000000000E', ts: new Date().toISOString(), user: 'bob', host: 'gpu1', exit: 1, wall_seconds: 1 }, 'bob', Date.now());
    const late = (await m.scrape()).body;
    expect(sample(late, 'flurm_jobs_vanished')).toBe(0);
    expect(sample(late, 'flurm_jobs_finished_total', { result: 'failed' })).toBe(3);
    // A second hub over the same index (a restart) says the same.
    expect(sample((await createHubMetrics(source(db)).scrape()).body, 'flurm_jobs_finished_total', { result: 'succeeded' })).toBe(2);
    expect(sample((await createHubMetrics(source(db)).scrape()).body, 'flurm_jobs_finished_total', { result: 'failed' })).toBe(3);
  });

  it('[metrics] user_labels = true: jobs series carry the user', async () => {
    const { db, jobs, outbox } = index();
    seed(jobs, outbox);
    const body = (await createHubMetrics(source(db, { userLabels: true, slurm: gpuView })).scrape()).body;
    expect(sample(body, 'flurm_jobs_finished_total', { result: 'failed', user: 'alice' })).toBe(1);
    expect(sample(body, 'flurm_jobs_finished_total', { result: 'failed', user: 'bob' })).toBe(1);
    expect(sample(body, 'flurm_jobs_running', { user: 'bob' })).toBe(1);
    expect(sample(body, 'flurm_slurm_jobs', { partition: 'gpu', state: 'RUNNING', user: 'alice' })).toBe(2);
    if (!skipPromtool) expect(promtoolCheck(body)).toEqual({ code: 0, output: '' });
  });

  it('destination kinds come from the notifier registry; an unreadable one is "unknown"', () => {
    expect(destKind(HOOK)).toBe('discord');
    expect(destKind('ntfy://topic')).toBe('ntfy');
    expect(destKind('not a url')).toBe('unknown');
  });
});

describe('SLURM metrics from a SlurmClusterView (the HAND-WRITTEN GPU cluster fixture)', () => {
  it('nodes by partition and state, cores and GPUs allocated/idle, jobs by state', async () => {
    const { db } = index();
    const view: SlurmClusterView = gpuView();
    const body = (await createHubMetrics(source(db, { slurm: () => view })).scrape()).body;
    expect(sample(body, 'flurm_slurm_up')).toBe(1);
    // gpu: gpu01, gpu02 mixed; gpu03 idle; gpu04 drained; gpu05 down.
    expect(sample(body, 'flurm_slurm_nodes', { partition: 'gpu', state: 'mixed' })).toBe(2);
    expect(sample(body, 'flurm_slurm_nodes', { partition: 'gpu', state: 'idle' })).toBe(1);
    expect(sample(body, 'flurm_slurm_nodes', { partition: 'gpu', state: 'drained' })).toBe(1);
    expect(sample(body, 'flurm_slurm_nodes', { partition: 'gpu', state: 'down' })).toBe(1);
    expect(sample(body, 'flurm_slurm_nodes', { partition: 'cpu', state: 'idle' })).toBe(1);
    expect(sample(body, 'flurm_slurm_nodes', { partition: 'long', state: 'mixed' })).toBe(2);
    const gpuPart = view.partitions.find((p) => p.name === 'gpu')!;
    expect(sample(body, 'flurm_slurm_cpus', { partition: 'gpu', state: 'allocated' })).toBe(24); // 16 + 8
    expect(sample(body, 'flurm_slurm_cpus', { partition: 'gpu', state: 'idle' })).toBe(48 + 56 + 64);
    expect(sample(body, 'flurm_slurm_cpus', { partition: 'gpu', state: 'other' })).toBe(128); // drained + down
    expect(gpuPart.cpus_total).toBe(320);
    expect(sample(body, 'flurm_slurm_gpus', { partition: 'gpu', state: 'allocated' })).toBe(gpuPart.gpus_alloc);
    expect(sample(body, 'flurm_slurm_gpus', { partition: 'gpu', state: 'allocated' })).toBe(5); // 4 + 1
    expect(sample(body, 'flurm_slurm_gpus', { partition: 'gpu', state: 'free' })).toBe(gpuPart.gpus_total - 5);
    // jobs: an unsplit pending array counts its 8 tasks; "gpu,long" stays as squeue says it.
    expect(sample(body, 'flurm_slurm_jobs', { partition: 'gpu', state: 'PENDING' })).toBe(1 + 8);
    expect(sample(body, 'flurm_slurm_jobs', { partition: 'gpu,long', state: 'PENDING' })).toBe(1);
    expect(sample(body, 'flurm_slurm_jobs', { partition: 'gpu', state: 'RUNNING' })).toBe(2);
    expect(sample(body, 'flurm_slurm_jobs', { partition: 'cpu', state: 'RUNNING' })).toBe(2);
    expect(sample(body, 'flurm_slurm_jobs', { partition: 'cpu', state: 'SUSPENDED' })).toBe(1);
    expect(body).not.toMatch(/alice|bob|carol|dave|erin/);
    if (!skipPromtool) expect(promtoolCheck(body)).toEqual({ code: 0, output: '' });
  });

  it('SLURM failing or not polled yet: up 0; SLURM off: no SLURM series at all', async () => {
    const { db } = index();
    const failing = { ...gpuView(), problem: 'slurmctld unreachable' };
    expect(sample((await createHubMetrics(source(db, { slurm: () => failing })).scrape()).body, 'flurm_slurm_up')).toBe(0);
    expect(sample((await createHubMetrics(source(db, { slurm: () => null })).scrape()).body, 'flurm_slurm_up')).toBe(0);
    const off = (await createHubMetrics(source(db)).scrape()).body;
    expect(off).not.toMatch(/^flurm_slurm_\w+[{ ]/m);
  });
});
