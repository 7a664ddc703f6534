// The node commands (status, best, top, inspect, users) as a user runs them: the built CLI against
// a tiny local HTTP server answering /api/v1/nodes like the hub, and without a hub, against the
// snapshot files in a cluster dir. Exit codes: best with no fit 1, a bad size 2, unknown node 2.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodesResponse } from '../src/model/node-view.js';
import { runFlurm } from './support/lab.js';
import { GENERATED, lab } from './support/nodes.js';

const ESC = '\u001b[';

let server: http.Server;
let hub: string;
let root: string;
let requests = 0;

/** The environment of a user with no hub configured: own spool, own (empty) cluster dir. */
function userEnv(over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: root, FLURM_SPOOL: path.join(root, 'spool'), FLURM_CLUSTER: path.join(root, 'empty-cluster') };
  for (const k of ['FLURM_HUB_URL', 'NO_COLOR', 'FORCE_COLOR', 'FLURM_SSH']) delete env[k];
  // The agent-node views only: a machine with SLURM would otherwise add its live SLURM section
  // (test/slurm-views.e2e.test.ts covers that).
  return { ...env, FLURM_SLURM: 'off', ...over };
}

const askedUrls: string[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-nodes-e2e-'));
  fs.mkdirSync(path.join(root, 'spool'));
  const body = JSON.stringify({ generated: GENERATED, nodes: lab() } satisfies NodesResponse);
  // As the hub answers ?busy=N: the N busiest processes, the users named by the hub.
  const slim = (n: number) =>
    JSON.stringify({
      generated: GENERATED,
      nodes: lab().map((v) => ({
        ...v,
        snapshot: { ...v.snapshot, busy: v.snapshot.busy.slice(0, n) },
        active_users: [...new Set([...v.snapshot.busy.map((p) => p.user), ...(v.snapshot.gpus ?? []).flatMap((g) => g.procs.map((p) => p.user ?? '')).filter(Boolean)])].sort(),
      })),
    } satisfies NodesResponse);
  server = http.createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    askedUrls.push(url.pathname + url.search);
    if (url.pathname === '/api/v1/nodes') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const busy = url.searchParams.get('busy');
      res.end(busy === null ? body : slim(Number(busy)));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fs.rmSync(root, { recursive: true, force: true });
});

describe('with a hub', () => {
  it('status: a line per node, the down node marked, no colour into a pipe', async () => {
    const r = await runFlurm(['status', '--hub', hub], { env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('5 nodes: 3 fresh, 1 down, 1 waiting');
    expect(r.stdout).toMatch(/gpu2\s+DOWN/);
    expect(r.stdout).toMatch(/cpu1\s+fresh\s+58\.3\/64\s+91%\s+383\/503 GiB/);
    expect(r.stdout).not.toContain(ESC);
    expect(r.stderr).toBe('');
    // It asks for no process lists (a small answer) and still names who is on each node.
    expect(askedUrls.at(-1)).toBe('/api/v1/nodes?busy=0');
    expect(r.stdout).toMatch(/cpu1 .*alice,bob,carol|cpu1 .*alice, bob, carol/);
  });

  it('status finds the hub through FLURM_HUB_URL too', async () => {
    const r = await runFlurm(['status'], { env: userEnv({ FLURM_HUB_URL: hub }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('gpu4');
  });

  it('status --json parses and is never coloured', async () => {
    const r = await runFlurm(['status', '--json', '--hub', hub], { env: userEnv({ FORCE_COLOR: '1' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(ESC);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ source: 'hub', hub, generated: GENERATED });
    expect(j.nodes.map((n: { host: string }) => n.host)).toEqual(['cpu1', 'gpu1', 'gpu2', 'gpu3', 'gpu4']);
    expect(j.nodes[1]).toMatchObject({ host: 'gpu1', state: 'fresh', gpus_busy: 1, gpus_total: 8, users: ['carol'] });
  });

  it('colour: FORCE_COLOR forces it (states green/red), NO_COLOR keeps it off', async () => {
    const forced = await runFlurm(['status', '--hub', hub], { env: userEnv({ FORCE_COLOR: '1' }) });
    expect(forced.stdout).toContain(`${ESC}32mfresh${ESC}39m`);
    expect(forced.stdout).toContain(`${ESC}31mDOWN ✗${ESC}39m`);
    // Colour does not shift the columns: strip it and the layout is the plain one.
    const plain = await runFlurm(['status', '--hub', hub], { env: userEnv({ NO_COLOR: '1' }) });
    expect(plain.stdout).not.toContain(ESC);
    expect(forced.stdout.replace(/\u001b\[\d+m/g, '')).toBe(plain.stdout);
  });

  it('best --gpus 2: the idle GPU node, why, which GPUs', async () => {
    const r = await runFlurm(['best', '--gpus', '2', '--mem', '32G', '--hub', hub], { env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Best node: gpu1');
    expect(r.stdout).toContain('7 of 8 GPUs free (0, 1, 2, 4, 5, 6, 7)');
    expect(r.stdout).toMatch(/CUDA_VISIBLE_DEVICES=\d,\d/);
    expect(r.stdout).toContain('Data age: 12s');
  });

  it('best --json: the chosen node, the ranked candidates and the reasons', async () => {
    const r = await runFlurm(['best', '--cpus', '4', '--json', '--hub', hub], { env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.chosen.host).toBe('gpu1');
    expect(j.candidates.map((c: { host: string }) => c.host)).toEqual(['gpu1', 'gpu4', 'cpu1']);
    expect(j.requirements).toEqual({ cpus: 4 });
    expect(j.reasons[0]).toMatch(/^gpu1: /);
    expect(j.rejected.find((x: { host: string }) => x.host === 'gpu2').reasons[0]).toMatch(/down/);
  });

  it('best with no fit exits 1 and names the closest node', async () => {
    const r = await runFlurm(['best', '--gpus', '8', '--hub', hub], { env: userEnv() });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('No node fits');
    expect(r.stdout).toContain('no fresh node has 8 free GPUs: gpu1 has 7 free of 8');
    const j = await runFlurm(['best', '--gpus', '8', '--json', '--hub', hub], { env: userEnv() });
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).chosen).toBeNull();
  });

  it('best with a bad size exits 2 naming the option and value, before asking the hub', async () => {
    const before = requests;
    const r = await runFlurm(['best', '--mem', '32Q', '--hub', hub], { env: userEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--mem: "32Q" is not a size/);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(requests).toBe(before);
    const g = await runFlurm(['best', '--gpu-mem', 'lots', '--hub', hub], { env: userEnv() });
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/--gpu-mem: "lots"/);
  });

  it('top: busy processes busiest first; one node; unknown node exits 2 listing the known ones', async () => {
    const all = await runFlurm(['top', '--hub', hub], { env: userEnv() });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.indexOf('Rscript fit_models.R')).toBeLessThan(all.stdout.indexOf('python preprocess.py --workers 16'));
    const one = await runFlurm(['top', 'gpu4', '--json', '--hub', hub], { env: userEnv() });
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout).nodes[0].procs.map((p: { cpu_pct: number }) => p.cpu_pct)).toEqual([310, 290, 100]);
    const bad = await runFlurm(['top', 'gpu9', '--hub', hub], { env: userEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown node "gpu9"; known nodes: cpu1, gpu1, gpu2, gpu3, gpu4');
  });

  it('inspect: jobs with owners and run times, GPUs and their holders; unknown node exits 2', async () => {
    const r = await runFlurm(['inspect', 'gpu4', '--hub', hub], { env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('vit-l — dave, running 2h 00m');
    expect(r.stdout).toMatch(/3 NVIDIA A100-SXM4-40GB: 0%, .* — free/);
    expect(r.stdout).toMatch(/0 NVIDIA A100-SXM4-80GB: 98%, 70\/80 GiB, 67 °C, 380 W — dave \(pid \d+, 69.5 GiB\)/);
    const bad = await runFlurm(['inspect', 'nope', '--hub', hub], { env: userEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/known nodes: cpu1/);
  });

  it('users: per-user sums, busiest first', async () => {
    const r = await runFlurm(['users', '--json', '--hub', hub], { env: userEnv() });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.users.map((u: { user: string }) => u.user)).toEqual(['bob', 'alice', 'dave', 'erin', 'carol']);
    expect(j.users[0]).toMatchObject({ user: 'bob', cores: 31.8, nodes: ['cpu1'] });
  });

  it('a hub without the nodes endpoint: the error says so', async () => {
    const r = await runFlurm(['status', '--hub', `${hub}/old`], { env: userEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/answered \/api\/v1\/nodes with HTTP 404/);
  });

  it('a hub named with --hub that does not answer is an error', async () => {
    const r = await runFlurm(['status', '--hub', 'http://127.0.0.1:1'], { env: userEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the hub at http:\/\/127\.0\.0\.1:1 did not answer/);
  });
});

describe('without a hub', () => {
  let cluster: string;

  beforeAll(() => {
    cluster = path.join(root, 'cluster');
    fs.mkdirSync(path.join(cluster, 'nodes'), { recursive: true });
    for (const n of lab()) fs.writeFileSync(path.join(cluster, 'nodes', `${n.host}.json`), JSON.stringify(n.snapshot));
    fs.writeFileSync(path.join(cluster, 'nodes', 'broken.json'), '{"v": 1, "host": "broken"');
    fs.writeFileSync(path.join(cluster, 'nodes', '.gpu9.json.tmp'), 'partial');
    fs.writeFileSync(path.join(cluster, 'nodes', 'gpu8.json'), JSON.stringify(lab()[0]!.snapshot)); // says it is cpu1
  });

  it('status reads the snapshot files, marks them waiting, and warns once that freshness is unknown', async () => {
    const r = await runFlurm(['status'], { env: userEnv({ FLURM_CLUSTER: cluster }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('5 nodes: 5 waiting (freshness unknown)');
    expect(r.stdout).toMatch(/gpu1\s+waiting\s+0\.3\/32/);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => /freshness unknown/.test(l))).toHaveLength(1);
    expect(r.stderr).toMatch(/no hub is configured; showing the snapshots in .*\/nodes — freshness unknown/);
    expect(r.stderr).toMatch(/skipping .*broken\.json: not JSON/);
    expect(r.stderr).not.toContain('.gpu9.json.tmp');
    expect(r.stderr).toMatch(/skipping .*gpu8\.json: it names host "cpu1"/);
  });

  it('--json says the source is the files', async () => {
    const r = await runFlurm(['users', '--json'], { env: userEnv({ FLURM_CLUSTER: cluster }) });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.source).toBe('files');
    expect(j.jobs_known).toBe(false);
  });

  it('a hub.json pointing at a hub that is gone: the warning names it, the files are shown', async () => {
    const c2 = path.join(root, 'cluster-dead-hub');
    fs.cpSync(cluster, c2, { recursive: true });
    fs.writeFileSync(path.join(c2, 'hub.json'), JSON.stringify({ url: 'http://127.0.0.1:1' }));
    const r = await runFlurm(['top', 'gpu4'], { env: userEnv({ FLURM_CLUSTER: c2 }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the hub at http:\/\/127\.0\.0\.1:1 did not answer/);
    expect(r.stdout).toContain('torchrun');
  });

  it('best finds no fresh node and says why (exit 1)', async () => {
    const r = await runFlurm(['best'], { env: userEnv({ FLURM_CLUSTER: cluster }) });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no fresh node: 5 waiting/);
    expect(r.stdout).toMatch(/flurm hub/);
  });

  it('no hub and no snapshot: says to start the agents (exit 2)', async () => {
    const r = await runFlurm(['status'], { env: userEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no node snapshot in .*empty-cluster\/nodes: run `flurm agent` on each node/);
    expect(r.stderr).toMatch(/flurm up/);
  });
});

describe('inspect --live', () => {
  /** Stands in for ssh: drops the -o options and the host, and runs the rest through a shell, as sshd would. */
  function fakeSsh(): string {
    const f = path.join(root, 'fake-ssh');
    fs.writeFileSync(f, '#!/bin/sh\nwhile [ "$1" = "-o" ]; do shift 2; done\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
    return f;
  }

  it('asks the node afresh (`flurm agent --print` over ssh) and merges the hub\'s jobs for it', async () => {
    // The "remote" agent poses as gpu4, which the hub knows with two running jobs.
    const r = await runFlurm(['inspect', 'gpu4', '--live', '--hub', hub], { env: userEnv({ FLURM_SSH: fakeSsh(), FLURM_HOST: 'gpu4' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^gpu4 — live/);
    expect(r.stdout).toContain('State: live (asked over ssh just now)');
    expect(r.stdout).toMatch(/Load: [\d. ]+\(1, 5, 15 min\) on \d+ cores/);
    expect(r.stdout).toMatch(/flurm jobs \(2\):.*vit-l — dave, running/s);
    const j = await runFlurm(['inspect', 'gpu4', '--live', '--json', '--hub', hub], { env: userEnv({ FLURM_SSH: fakeSsh(), FLURM_HOST: 'gpu4' }) });
    expect(j.code, j.stderr).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out).toMatchObject({ source: 'live', live: true, node: { host: 'gpu4', state: 'fresh', age_seconds: 0 } });
    expect(out.node.snapshot.cpus).toBeGreaterThan(0);
    expect(out.node.jobs).toHaveLength(2);
  });

  it('without a hub the live node is shown with its jobs unknown', async () => {
    const r = await runFlurm(['inspect', 'somehost', '--live'], { env: userEnv({ FLURM_SSH: fakeSsh(), FLURM_HOST: 'somehost' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('unknown: no hub answered');
  });

  it('an ssh that fails: exit 1, quoting its stderr', async () => {
    const ssh = path.join(root, 'failing-ssh');
    fs.writeFileSync(ssh, '#!/bin/sh\necho "ssh: connect to host $5 port 22: Connection refused" >&2\nexit 255\n', { mode: 0o755 });
    const r = await runFlurm(['inspect', 'gpu1', '--live', '--hub', hub], { env: userEnv({ FLURM_SSH: ssh }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot ask gpu1 over ssh (exit 255)');
    expect(r.stderr).toContain('ssh: connect to host gpu1 port 22: Connection refused');
  });

  it('a host name that ssh would read as an option is refused', async () => {
    const r = await runFlurm(['inspect', '--live', '--', '-oProxyCommand=x'], { env: userEnv({ FLURM_SSH: '/bin/false' }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a host name/);
  });
});
