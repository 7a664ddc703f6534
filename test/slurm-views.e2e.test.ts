// The SLURM side of status, best, top, users and `flurm queue`, as a user runs them: the built
// CLI (1) against a tiny HTTP server answering /api/v1/slurm and /api/v1/nodes like the hub,
// (2) with no hub and stand-in sinfo/squeue ($FLURM_SINFO/$FLURM_SQUEUE printing the captured
// outputs), and (3) with no hub against the REAL sinfo/squeue of this machine (skipped when
// there is no SLURM here), with a job submitted by sbatch and cancelled afterwards.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodesResponse } from '../src/model/node-view.js';
import { findExecutable } from '../src/lib/exec.js';
import { SLURM_FIXTURES } from './fixtures/slurm/fixtures.js';
import { gpuView, realBusyView } from './fixtures/slurm/views-fixtures.js';
import { runFlurm, sleep } from './support/lab.js';
import { GENERATED, lab } from './support/nodes.js';

let root: string;
let server: http.Server;
let hub: string;

/** A user with no hub configured: own spool, own (empty) cluster dir; no SLURM unless told. */
function userEnv(over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: root, FLURM_SPOOL: path.join(root, 'spool'), FLURM_CLUSTER: path.join(root, 'empty-cluster') };
  for (const k of ['FLURM_HUB_URL', 'NO_COLOR', 'FORCE_COLOR', 'FLURM_SINFO', 'FLURM_SQUEUE', 'FLURM_SLURM']) delete env[k];
  return { ...env, ...over };
}

/** A stand-in for a SLURM command: prints a captured file, or fails as SLURM does when slurmctld is down. */
function fakeCommand(name: string, body: string): string {
  const f = path.join(root, name);
  fs.writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return f;
}
const cat = (file: string) => `exec '${findExecutable('cat')}' '${path.join(SLURM_FIXTURES, file)}'`;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-slurm-views-'));
  fs.mkdirSync(path.join(root, 'spool'));
  fs.mkdirSync(path.join(root, 'empty-path'));
  const nodes = JSON.stringify({ generated: GENERATED, nodes: lab() } satisfies NodesResponse);
  const slurm = JSON.stringify(gpuView());
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (url.pathname === '/api/v1/nodes') send(200, nodes);
    else if (url.pathname === '/api/v1/slurm') send(200, slurm);
    else if (url.pathname === '/off/api/v1/nodes') send(200, nodes);
    else if (url.pathname === '/off/api/v1/slurm') send(404, JSON.stringify({ error: 'SLURM is off in this hub' }));
    else if (url.pathname === '/slurm-only/api/v1/nodes') send(200, JSON.stringify({ generated: GENERATED, nodes: [] }));
    else if (url.pathname === '/slurm-only/api/v1/slurm') send(200, slurm);
    else send(404, '{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fs.rmSync(root, { recursive: true, force: true });
});

describe('from a hub that serves SLURM (the HAND-WRITTEN GPU cluster)', () => {
  it('status: the agent nodes as before, then the SLURM partitions and nodes', async () => {
    const r = await runFlurm(['status', '--hub', hub], { env: userEnv({ NO_COLOR: '1' }) });
    expect(r.code, r.stderr).toBe(0);
    const agentPart = r.stdout.slice(0, r.stdout.indexOf('SLURM partitions'));
    expect(agentPart).toContain('5 nodes: 3 fresh, 1 down, 1 waiting');
    expect(r.stdout).toMatch(/SLURM partitions\nfrom the hub at http:\/\/127\.0\.0\.1:\d+ · nodes \d+\w old · jobs \d+\w old\n4 partitions, 8 nodes/);
    expect(r.stdout).toMatch(/gpu\s+up\s+5\s+24\/168\/320\s+5\/24\s+2-00:00:00\s+2\s+10/);
    expect(r.stdout).toMatch(/gpu04\s+gpu\s+drained \(not responding\).*GPU 3 ECC errors/);
    const j = JSON.parse((await runFlurm(['status', '--json', '--hub', hub], { env: userEnv() })).stdout);
    expect(j.nodes).toHaveLength(5);
    expect(j.slurm).toMatchObject({ source: 'hub', hub, jobs_running: 5, jobs_pending: 10 });
    expect(j.slurm.partitions.map((p: { name: string }) => p.name)).toEqual(['cpu', 'long', 'old', 'gpu']);
  });

  it('the SLURM node states are coloured on a terminal, like the agent ones', async () => {
    const r = await runFlurm(['status', '--hub', hub], { env: userEnv({ FORCE_COLOR: '1' }) });
    expect(r.stdout).toContain('\u001b[31mdrained (not responding)\u001b[39m');
    expect(r.stdout).toContain('\u001b[32midle\u001b[39m');
  });

  it('queue: the leaderboard by user, from the hub', async () => {
    const r = await runFlurm(['queue', '--hub', hub], { env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/carol\s+2\s+0\s+66\s+0\s+0/);
    expect(r.stdout).toMatch(/total\s+5\s+10\s+122\s+104\s+5/);
    const j = JSON.parse((await runFlurm(['queue', '--json', '--hub', hub], { env: userEnv() })).stdout);
    expect(j).toMatchObject({ source: 'hub', hub, totals: { users: 5, running_jobs: 5, pending_jobs: 10 } });
  });

  it('best: agent nodes unless SLURM is asked; --slurm / --partition name partition and node, with sbatch', async () => {
    const agent = await runFlurm(['best', '--gpus', '2', '--hub', hub], { env: userEnv() });
    expect(agent.stdout).toContain('Best node: gpu1');
    const s = await runFlurm(['best', '--slurm', '--gpus', '2', '--hub', hub], { env: userEnv() });
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('Best SLURM node: gpu03 in gpu');
    expect(s.stdout).toContain('sbatch -p gpu -w gpu03 --gres=gpu:2 job.sh');
    const none = await runFlurm(['best', '--partition', 'gpu', '--gpus', '5', '--hub', hub], { env: userEnv() });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('closest: gpu (gpu03): 7 of 24 GPUs free, at most 4 on one node, needs 5, 10 jobs pending');
    const j = JSON.parse((await runFlurm(['best', '--slurm', '--cpus', '8', '--json', '--hub', hub], { env: userEnv() })).stdout);
    expect(j).toMatchObject({ source: 'hub', scheduler: 'slurm', chosen: { node: 'cpu02', partition: 'cpu' }, sbatch: 'sbatch -p cpu -w cpu02 -c 8 job.sh' });
    const bad = await runFlurm(['best', '--partition', 'nope', '--hub', hub], { env: userEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown partition "nope"; SLURM partitions: cpu, long, old, gpu');
    const gm = await runFlurm(['best', '--slurm', '--gpu-mem', '20G', '--hub', hub], { env: userEnv() });
    expect(gm.code).toBe(2);
    expect(gm.stderr).toMatch(/--gpu-mem: SLURM does not report free GPU memory/);
  });

  it('a hub with no agent node: best, status and users are SLURM only', async () => {
    const b = await runFlurm(['best', '--gpus', '1', '--hub', `${hub}/slurm-only`], { env: userEnv() });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toContain('Best SLURM node: gpu03 in gpu');
    const st = await runFlurm(['status', '--hub', `${hub}/slurm-only`], { env: userEnv() });
    expect(st.stdout.startsWith('SLURM partitions\n')).toBe(true);
    expect(st.stdout).not.toContain('No node has written a snapshot');
    const u = await runFlurm(['users', '--hub', `${hub}/slurm-only`], { env: userEnv() });
    expect(u.stdout).toMatch(/USER\s+SLURM JOBS\s+SLURM CPUS\s+SLURM GPUS\ncarol\s+2\s+66\s+0/);
  });

  it('top: the busy processes, then the biggest SLURM jobs; a SLURM node by name', async () => {
    const r = await runFlurm(['top', '--hub', hub], { env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.indexOf('Busy processes')).toBeLessThan(r.stdout.indexOf('SLURM jobs running'));
    expect(r.stdout).toMatch(/9001\s+alice\s+train-vit\s+gpu\s+gpu01\s+16\s+4\s+1-02:03:04 \/ 2-00:00:00/);
    const one = await runFlurm(['top', 'cpu03', '--hub', hub], { env: userEnv() });
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain('SLURM jobs on cpu03');
    expect(one.stdout).not.toContain('Busy processes');
    const bad = await runFlurm(['top', 'gpu9', '--hub', hub], { env: userEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown node "gpu9"; known nodes: cpu1, gpu1, gpu2, gpu3, gpu4; SLURM nodes: cpu01, cpu02');
  });

  it('users: the agent columns, then what SLURM allocated to each user', async () => {
    const r = await runFlurm(['users', '--json', '--hub', hub], { env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.users.find((u: { user: string }) => u.user === 'alice')).toMatchObject({ cores: 23.9, slurm: { running_jobs: 2, cpus: 24, gpus: 5 } });
    expect(j.slurm).toMatchObject({ source: 'hub', running: 5, pending: 10 });
  });

  it('a hub with SLURM off: status shows no SLURM; queue says so and exits 1', async () => {
    const st = await runFlurm(['status', '--hub', `${hub}/off`], { env: userEnv() });
    expect(st.code).toBe(0);
    expect(st.stdout).not.toContain('SLURM');
    const q = await runFlurm(['queue', '--hub', `${hub}/off`], { env: userEnv() });
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(/no SLURM queue to show: the hub at .*\/off has SLURM off/);
  });
});

describe('no hub: live from sinfo and squeue here ($FLURM_SINFO / $FLURM_SQUEUE stand-ins printing the captures)', () => {
  const live = () =>
    userEnv({
      FLURM_SINFO: fakeCommand('sinfo', cat('views-sinfo-allocated.txt')),
      FLURM_SQUEUE: fakeCommand('squeue', cat('views-squeue.txt')),
      PATH: path.join(root, 'empty-path'),
    });

  it('queue and status say the view is live, not from a hub', async () => {
    const q = await runFlurm(['queue'], { env: live() });
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toContain('live from sinfo and squeue on this host (no hub is configured)');
    expect(q.stdout).toMatch(/cloudsdk\s+1\s+5\s+1\s+6/);
    const j = JSON.parse((await runFlurm(['queue', '--json'], { env: live() })).stdout);
    expect(j).toMatchObject({ source: 'live', hub: null, problem: null });
    expect(j.users.map((u: { user: string }) => u.user)).toEqual(realBusyView().jobs.length ? ['cloudsdk', 'root'] : []);
    const st = await runFlurm(['status'], { env: live() });
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/^SLURM partitions\nlive from sinfo and squeue on this host \(no hub is configured\)\n1 partition, 1 node: 1 allocated · 2 jobs running, 6 pending/);
    expect(st.stderr).toBe('');
  });

  it('best: both CPUs taken → exit 1 naming the closest partition; the agent snapshot files still come first for plain best', async () => {
    const b = await runFlurm(['best'], { env: live() });
    expect(b.code).toBe(1);
    expect(b.stdout).toContain('closest: debug (vm): 0 of 2 CPUs idle, needs 1, 6 jobs pending');
    // With agent snapshots in the cluster dir, plain best is about them (exit 1: none is fresh without a hub) and hints at --slurm.
    const cluster = path.join(root, 'cluster');
    fs.mkdirSync(path.join(cluster, 'nodes'), { recursive: true });
    for (const n of lab()) fs.writeFileSync(path.join(cluster, 'nodes', `${n.host}.json`), JSON.stringify(n.snapshot));
    const withFiles = await runFlurm(['best'], { env: { ...live(), FLURM_CLUSTER: cluster } });
    expect(withFiles.code).toBe(1);
    expect(withFiles.stdout).toMatch(/no fresh node: 5 waiting/);
    expect(withFiles.stdout).toContain('SLURM is here too: `flurm best --slurm`');
    const st = await runFlurm(['status'], { env: { ...live(), FLURM_CLUSTER: cluster } });
    expect(st.stdout.indexOf('5 nodes: 5 waiting')).toBeLessThan(st.stdout.indexOf('SLURM partitions'));
  });

  it('slurmctld down: status shows the problem; queue exits 1 quoting SLURM', async () => {
    const down = fakeCommand('squeue-down', 'echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2; exit 1');
    const sdown = fakeCommand('sinfo-down', 'echo "slurm_load_partitions: Unable to contact slurm controller (connect failure)" >&2; exit 1');
    const env = userEnv({ FLURM_SQUEUE: down, FLURM_SINFO: sdown, PATH: path.join(root, 'empty-path') });
    const q = await runFlurm(['queue'], { env });
    expect(q.code).toBe(1);
    expect(q.stderr).toContain('SLURM did not answer: sinfo: exit 1: slurm_load_partitions: Unable to contact slurm controller (connect failure); squeue: exit 1: slurm_load_jobs error: Unable to contact slurm controller (connect failure)');
    const st = await runFlurm(['status'], { env });
    expect(st.code).toBe(0);
    expect(st.stdout).toContain('⚠ sinfo: exit 1: slurm_load_partitions: Unable to contact slurm controller');
  });

  it('no SLURM at all: queue exits 1 saying why; the agent commands are as before', async () => {
    const env = userEnv({ PATH: path.join(root, 'empty-path') });
    const q = await runFlurm(['queue'], { env });
    expect(q.code).toBe(1);
    expect(q.stderr).toBe('flurm: no SLURM queue to show: no hub is configured, and squeue is not on PATH (set FLURM_SQUEUE)\n');
    const st = await runFlurm(['status'], { env });
    expect(st.code).toBe(2);
    expect(st.stderr).toMatch(/no node snapshot in .*empty-cluster\/nodes: run `flurm agent` on each node/);
    const off = await runFlurm(['queue'], { env: userEnv({ FLURM_SLURM: 'off' }) });
    expect(off.code).toBe(1);
    expect(off.stderr).toContain('FLURM_SLURM=off');
  });
});

// ---- the real SLURM of this machine ------------------------------------------------------------

const squeueBin = findExecutable('squeue');
const slurmUp = squeueBin !== null && spawnSync(squeueBin, ['-h', '-o', '%i'], { timeout: 10_000 }).status === 0;

describe.skipIf(!slurmUp)(`real SLURM, no hub (${slurmUp ? 'squeue answers here' : 'SKIPPED: no squeue on PATH, or slurmctld does not answer'})`, () => {
  const mine: string[] = [];
  const env = () => userEnv();
  const sbatch = (...args: string[]) => {
    const r = spawnSync('sbatch', ['--parsable', ...args], { encoding: 'utf8', cwd: os.tmpdir(), timeout: 20_000 });
    if (r.status !== 0) throw new Error(`sbatch failed: ${r.stderr}`);
    const id = r.stdout.trim().split(';')[0]!;
    mine.push(id);
    return id;
  };
  const stateOf = (id: string) => spawnSync('squeue', ['-h', '-t', 'all', '-j', id, '-o', '%T'], { encoding: 'utf8' }).stdout.trim();

  afterAll(() => {
    if (mine.length) spawnSync('scancel', mine, { timeout: 20_000 });
  });

  it('status shows node vm (or whatever sinfo lists) and its partitions, live', async () => {
    const nodes = spawnSync('sinfo', ['-h', '-N', '-o', '%N'], { encoding: 'utf8' }).stdout.trim().split('\n');
    const parts = spawnSync('sinfo', ['-h', '-o', '%P'], { encoding: 'utf8' }).stdout.trim().split('\n');
    const r = await runFlurm(['status'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('live from sinfo and squeue on this host (no hub is configured)');
    for (const n of nodes) expect(r.stdout).toMatch(new RegExp(`\\n${n}\\s`));
    for (const p of parts) expect(r.stdout).toContain(p); // "debug*": the default marked
    const j = JSON.parse((await runFlurm(['status', '--json'], { env: env() })).stdout);
    expect(j.source).toBe('live');
    expect(j.slurm.nodes.map((n: { name: string }) => n.name).sort()).toEqual([...nodes].sort());
  });

  it('best --cpus 1 names the node (exit 0 when a CPU is idle, else 1 naming the closest); --cpus 999 exits 1', async () => {
    const r = await runFlurm(['best', '--cpus', '1', '--json'], { env: env() });
    const j = JSON.parse(r.stdout);
    expect(j.scheduler).toBe('slurm');
    const idle = (j.partitions as { cpus_idle: number }[]).some((p) => p.cpus_idle > 0);
    if (j.chosen) {
      expect(r.code).toBe(0);
      expect(j.chosen.node).toBe('vm');
      expect(j.sbatch).toMatch(/^sbatch -p \S+ -w vm job\.sh$/);
    } else {
      // Someone else's jobs fill the node right now.
      expect(r.code).toBe(1);
      expect(idle).toBe(false);
      expect(j.closest.node).toBe('vm');
    }
    const text = await runFlurm(['best', '--cpus', '1'], { env: env() });
    expect(text.stdout).toContain('vm');
    const big = await runFlurm(['best', '--cpus', '999'], { env: env() });
    expect(big.code).toBe(1);
    expect(big.stdout).toMatch(/has 999 CPUs at all/);
  });

  it('a job submitted with sbatch shows in queue, top and users; cancelled afterwards', async () => {
    const id = sbatch('-J', 'flurm-views-e2e', '-t', '2', '--wrap', 'sleep 120');
    const t0 = Date.now();
    while (!['RUNNING', 'PENDING'].includes(stateOf(id)) && Date.now() - t0 < 20_000) await sleep(200);
    const state = stateOf(id);
    expect(['RUNNING', 'PENDING']).toContain(state);
    const me = os.userInfo().username;
    const q = await runFlurm(['queue', '--json'], { env: env() });
    expect(q.code, q.stderr).toBe(0);
    const row = JSON.parse(q.stdout).users.find((u: { user: string }) => u.user === me);
    expect(row.running_jobs + row.pending_jobs).toBeGreaterThanOrEqual(1);
    const text = await runFlurm(['queue'], { env: env() });
    expect(text.stdout).toMatch(new RegExp(`\\n${me}\\s+\\d+\\s+\\d+`));
    if (state === 'RUNNING') {
      const top = await runFlurm(['top'], { env: env() });
      expect(top.stdout).toMatch(new RegExp(`${id}\\s+${me}\\s+flurm-views-e2e\\s+\\S+\\s+vm\\s+1\\s`));
      const users = JSON.parse((await runFlurm(['users', '--json'], { env: env() })).stdout);
      expect(users.users.find((u: { user: string }) => u.user === me).slurm.running_jobs).toBeGreaterThanOrEqual(1);
    }
    spawnSync('scancel', [id]);
  });
});
