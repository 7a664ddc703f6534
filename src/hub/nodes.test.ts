import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeSnapshot } from '../model/snapshot.js';
import { validateHubConfig } from '../config/schema.js';
import { createLogger } from '../lib/logger.js';
import type { Message } from '../model/message.js';
import { openDb, type Db } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { NodeStore } from '../store/nodes.js';
import { NodeWatcher } from './nodes.js';

const GiB = 1024 ** 3;

function snap(host: string, seq: number, over: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return {
    v: 1, host, seq, ts: '2026-11-21T10:00:00.000Z', interval_seconds: 15,
    agent: { version: '0.1.0', pid: 100, user: 'root' },
    uptime_seconds: 86_400, cpus: 8, load: [0.5, 0.4, 0.3], cpu_busy_pct: 3,
    mem: { total_bytes: 64 * GiB, available_bytes: 48 * GiB, swap_total_bytes: 0, swap_free_bytes: 0 },
    pids: [[1, '1']], pids_visible: 'all', busy: [], gpus: null, collectors: {},
    ...over,
  };
}

interface Sent {
  kind: 'vanished' | 'nodedown' | 'lab';
  key: string;
  title: string;
}

describe('NodeWatcher', () => {
  let dir: string;
  let db: Db;
  let jobs: JobStore;
  let mono = 0;
  let wall = Date.parse('2026-11-21T10:00:00Z');
  let sent: Sent[];
  let active = true;

  const cfg = validateHubConfig({
    nodes: { min_down_after_seconds: 60, vanish_grace_seconds: 20 },
    alerts: { load_per_core: 1.5, load_minutes: 10, memory_available_pct: 5, memory_minutes: 2, gpu_idle_minutes: 60, cooldown_minutes: 60 },
  });

  const write = (s: NodeSnapshot, name = `${s.host}.json`) => {
    fs.mkdirSync(path.join(dir, 'nodes'), { recursive: true });
    const f = path.join(dir, 'nodes', name);
    fs.writeFileSync(`${f}.tmp`, JSON.stringify(s));
    fs.renameSync(`${f}.tmp`, f);
  };
  const watcher = (store = new NodeStore(db)) =>
    new NodeWatcher({
      clusterDir: dir, nodes: cfg.nodes, alerts: cfg.alerts, db, store, jobs,
      log: createLogger({ level: 'error', write: () => undefined }),
      isActive: () => active,
      now: () => wall,
      mono: () => mono,
      sink: {
        jobVanished: (job) => sent.push({ kind: 'vanished', key: `${job.id}:vanished`, title: job.id }),
        jobNodeDown: (job, m: Message, key) => sent.push({ kind: 'nodedown', key, title: m.title }),
        labAlert: (key, _host, m: Message) => sent.push({ kind: 'lab', key, title: m.title }),
      },
    });
  const advance = (seconds: number) => {
    mono += seconds * 1000;
    wall += seconds * 1000;
  };
  const startJob = (id: string, host: string, pid: number, pidStart: string) =>
    jobs.applyStart({ v: 1, type: 'start', id, ts: new Date(wall).toISOString(), user: 'alice', host, pid, pid_start: pidStart }, 'alice', wall);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-nodes-'));
    db = openDb(path.join(dir, 'index.db'));
    jobs = new JobStore(db);
    mono = 1000;
    sent = [];
    active = true;
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('judges freshness only by seq changing on its own clock, whatever the agent clock says', async () => {
    const w = watcher();
    // The agent's clock is a year off: irrelevant.
    write(snap('n1', 5, { ts: '2025-01-01T00:00:00.000Z' }));
    await w.poll();
    expect(w.views()[0]).toMatchObject({ host: 'n1', state: 'waiting', age_seconds: null });
    advance(15);
    write(snap('n1', 6, { ts: '2025-01-01T00:00:15.000Z' }));
    await w.poll();
    expect(w.views()[0]).toMatchObject({ state: 'fresh', age_seconds: 0 });
    advance(30); // 2 intervals: still fresh
    await w.poll();
    expect(w.views()[0]!.state).toBe('fresh');
    advance(20); // > 3 intervals (45 s) without a change: stale
    await w.poll();
    expect(w.views()[0]).toMatchObject({ state: 'stale', age_seconds: 50 });
    // Rewriting the same seq (a copy, a touch) does not make it fresh.
    write(snap('n1', 6));
    await w.poll();
    expect(w.views()[0]!.state).toBe('stale');
    advance(80); // > 8 intervals (120 s): down, one lab alert
    await w.poll();
    await w.poll();
    expect(w.views()[0]!.state).toBe('down');
    expect(sent.filter((s) => s.kind === 'lab')).toEqual([{ kind: 'lab', key: 'alert:n1:down:6', title: '⚠ node n1 stopped reporting' }]);
    write(snap('n1', 7));
    await w.poll();
    expect(w.views()[0]!.state).toBe('fresh');
    expect(sent.map((s) => s.key)).toEqual(['alert:n1:down:6', 'alert:n1:back:7']);
  });

  it('tells the owner once that the node of their running job stopped reporting', async () => {
    const w = watcher();
    write(snap('n1', 1));
    await w.poll();
    advance(15);
    write(snap('n1', 2, { pids: [[1, '1'], [4242, '777']] }));
    await w.poll();
    startJob('J1', 'n1', 4242, '777');
    advance(200);
    await w.poll();
    await w.poll();
    expect(sent.filter((s) => s.kind === 'nodedown')).toEqual([{ kind: 'nodedown', key: 'J1:nodedown', title: '⚠ job: node n1 stopped reporting' }]);
  });

  it('reports a job vanished only after two later snapshots miss it and the grace has passed', async () => {
    const w = watcher();
    write(snap('n1', 1));
    await w.poll();
    startJob('J1', 'n1', 4242, '777');
    startJob('J2', 'n1', 5000, '900');
    // The first snapshot checked was maybe sampled before the job started: it does not count.
    advance(15);
    write(snap('n1', 2, { pids: [[1, '1'], [5000, '900']] }));
    await w.poll();
    advance(15);
    write(snap('n1', 3, { pids: [[1, '1'], [5000, '900']] })); // miss 1
    await w.poll();
    advance(15);
    // pid 4242 is back but with another start time: a reused pid is not the job.
    write(snap('n1', 4, { pids: [[1, '1'], [4242, '123'], [5000, '900']] })); // miss 2, but grace (20 s) not over
    await w.poll();
    expect(sent).toEqual([]);
    advance(15);
    write(snap('n1', 5, { pids: [[1, '1'], [5000, '900']] }));
    await w.poll();
    expect(sent).toEqual([{ kind: 'vanished', key: 'J1:vanished', title: 'J1' }]);
    expect(jobs.get('J1')!.state).toBe('vanished');
    expect(jobs.get('J2')!.state).toBe('running');
    // An end that arrives meanwhile wins: J2 ends, then disappears: nothing is said.
    jobs.applyEnd({ v: 1, type: 'end', id: 'J2', ts: new Date(wall).toISOString(), user: 'alice', host: 'n1', exit: 0, wall_seconds: 60 }, 'alice', wall);
    for (let i = 6; i < 10; i++) {
      advance(15);
      write(snap('n1', i));
      await w.poll();
    }
    expect(sent.length).toBe(1);
  });

  it('does not judge other users\' jobs when the agent cannot see them (hidepid)', async () => {
    const w = watcher();
    write(snap('n1', 1, { pids_visible: 'own', agent: { version: 'x', pid: 1, user: 'bob' } }));
    await w.poll();
    startJob('J1', 'n1', 4242, '777');
    for (let i = 2; i < 8; i++) {
      advance(15);
      write(snap('n1', i, { pids_visible: 'own', agent: { version: 'x', pid: 1, user: 'bob' } }));
      await w.poll();
    }
    expect(sent).toEqual([]);
    expect(jobs.get('J1')!.state).toBe('running');
  });

  it('a standby watches but raises nothing', async () => {
    active = false;
    const w = watcher();
    write(snap('n1', 1));
    await w.poll();
    startJob('J1', 'n1', 4242, '777');
    for (let i = 2; i < 6; i++) {
      advance(15);
      write(snap('n1', i));
      await w.poll();
    }
    advance(500);
    await w.poll();
    expect(w.views()[0]!.state).toBe('down');
    expect(sent).toEqual([]);
  });

  it('load alert: needs the whole duration, clears with hysteresis, and respects the cool-down', async () => {
    const w = watcher();
    let seq = 1;
    const tick = async (load: number, seconds = 60) => {
      advance(seconds);
      write(snap('n1', seq++, { load: [load, load, load] }));
      await w.poll();
    };
    await tick(2);
    for (let i = 0; i < 9; i++) await tick(13); // 13 > 1.5 × 8 for 9 min
    expect(sent).toEqual([]);
    await tick(13); // 10 min
    await tick(13);
    expect(sent.map((s) => s.key)).toEqual(['alert:n1:load:2']);
    expect(sent[0]!.title).toBe('⚠ n1 overloaded: load 13.0 on 8 cores');
    // Hovering just under the threshold does not clear it (clear below 80 %: 9.6).
    await tick(11);
    for (let i = 0; i < 12; i++) await tick(13);
    expect(sent.length).toBe(1);
    // Cleared, then overloaded again within the hour: not sent again until the cool-down ends.
    await tick(5);
    for (let i = 0; i < 15; i++) await tick(13);
    expect(sent.length).toBe(1);
    // Fired at minute 12; overloaded all along since minute 26: sent again once the hour is over.
    for (let i = 0; i < 30; i++) await tick(13);
    expect(sent.length).toBe(1);
    for (let i = 0; i < 10; i++) await tick(13);
    expect(sent.length).toBe(2);
    // History samples were written for every change.
    const store = new NodeStore(db);
    const h = store.history('n1', { resolutionSeconds: 60, sinceMs: 0 });
    expect(h.length).toBeGreaterThan(60);
    expect(h.at(-1)!.load1).toBe(13);
  });

  it('GPU memory held idle for over an hour names who holds it', async () => {
    const w = watcher();
    const gpu = (util: number) => [
      {
        index: 3, uuid: 'GPU-abc', name: 'NVIDIA A100-SXM4-80GB', util_pct: util, mem_used_bytes: 30 * GiB, mem_total_bytes: 80 * GiB,
        temp_c: 35, power_w: 60, procs: [{ pid: 777, user: 'carol', uid: 1003, mem_bytes: 30 * GiB, name: 'python' }],
      },
    ];
    let seq = 1;
    for (let i = 0; i < 70; i++) {
      advance(60);
      write(snap('n1', seq++, { gpus: gpu(0) }));
      await w.poll();
    }
    expect(sent.map((s) => s.title)).toEqual(['⚠ GPU 3 on n1 held idle by carol']);
  });

  it('views leave the pid list out, can keep only the busiest processes, and name the active users', async () => {
    const w = watcher();
    const p = (pid: number, user: string, cpu: number) => ({ pid, start: '5', user, uid: 1000, cpu_pct: cpu, rss_bytes: GiB, mem_pct: 1.5, elapsed_seconds: 60, cmd: 'python train.py' });
    write(snap('n1', 1, { pids: [[1, '1'], [7, '5'], [8, '5']], busy: [p(7, 'alice', 99), p(8, 'bob', 50)] }));
    await w.poll();
    const full = w.views()[0]!;
    expect(full.snapshot.pids).toEqual([]);
    expect(full.snapshot.busy.map((b) => b.user)).toEqual(['alice', 'bob']);
    expect(full.busy_omitted).toBeUndefined();
    const slim = w.views({ busyLimit: 0 })[0]!;
    expect(slim.snapshot.busy).toEqual([]);
    expect(slim.busy_omitted).toBe(2);
    expect(slim.active_users).toEqual(['alice', 'bob']);
  });

  it('refuses a symlink, a file naming another host, and garbage, and keeps going', async () => {
    const w = watcher();
    fs.mkdirSync(path.join(dir, 'nodes'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'real.json'), JSON.stringify(snap('evil', 1)));
    fs.symlinkSync(path.join(dir, 'real.json'), path.join(dir, 'nodes', 'evil.json'));
    write(snap('n2', 1), 'n1.json');
    fs.writeFileSync(path.join(dir, 'nodes', 'junk.json'), '{"v":1,"host":');
    write(snap('n3', 1));
    await w.poll();
    expect(w.views().map((v) => v.host)).toEqual(['n3']);
  });

  it('a restart keeps a down node down without alerting again', async () => {
    const store = new NodeStore(db);
    const w1 = watcher(store);
    write(snap('n1', 1));
    await w1.poll();
    advance(15);
    write(snap('n1', 2));
    await w1.poll();
    advance(300);
    await w1.poll();
    expect(sent.length).toBe(1);
    const w2 = watcher(new NodeStore(db));
    await w2.poll();
    advance(300);
    await w2.poll();
    expect(w2.views()[0]!.state).toBe('down');
    expect(sent.length).toBe(1);
  });
});
