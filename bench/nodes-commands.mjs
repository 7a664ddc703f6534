#!/usr/bin/env node
// Target: `status` and `best` for 100 nodes answered in ≤ 50 ms.
//
// 100 synthetic nodes of a realistic size: 64 cores, 512 GiB, 200 busy processes (the agent's
// cap), 1,000 live pids, 8 GPUs (some held, one or two compute processes each), 3 running flurm
// jobs; every node fresh. Serialised as the hub's NodesResponse (~ the bytes the hub would send).
// Measured in this process, with the command layer imported from dist/ (what the CLI runs):
//   (a) JSON.parse of the answer + the status message + its terminal rendering
//   (b) best --gpus 2 --mem 64G on the parsed nodes (scoring, ranking, the random near-tie pick)
//   (c) the round trip: fetch the answer from a local node:http server + JSON + status + render
//   (d) the same against a real `flurm hub` holding the 100 snapshots (nodes/<host>.json in its
//       cluster dir), asked as the CLI asks: /api/v1/nodes?busy=0 for status and best (the hub
//       leaves out the pid lists always, and the process lists when told)
// Each over many iterations after a warm-up: median, p95 and max, in ms. For context it also times
// the whole `flurm status --hub URL` process (Node start-up included), which is what a user waits.
//
//   npm run build && node bench/nodes-commands.mjs      (BENCH_NODES=100, BENCH_ITER=200)
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import { FLURM, ROOT, fmt, makeLab, median, pct, report, requireBuild, runMain, runProc, startHub, waitUntil, writeHubConfig, SYNTHETIC_CMDS, SYNTHETIC_USERS, prng, syntheticSnapshot } from './lib.mjs';

const NODES = Number(process.env.BENCH_NODES ?? 100);
const ITER = Number(process.env.BENCH_ITER ?? 200);
const WARMUP = 20;
const GiB = 1024 ** 3;

const dist = (p) => import(pathToFileURL(path.join(path.dirname(FLURM), '..', p)).href);

const USERS = SYNTHETIC_USERS;
const CMDS = SYNTHETIC_CMDS;

function makeNode(i, rand) {
  const snapshot = syntheticSnapshot(i, rand);
  const { host, busy } = snapshot;
  const jobs = Array.from({ length: 3 }, (_, j) => ({ id: `01JBENCH${String(i).padStart(4, '0')}${String(j).padStart(14, '0')}`, user: USERS[(i + j) % USERS.length], host, state: 'running', title: `sweep-${j}`, cmd: CMDS[j], pid: busy[j].pid, startTs: new Date(Date.now() - 3_600_000 * (j + 1)).toISOString(), src: 'node' }));
  return { host, state: 'fresh', age_seconds: Math.floor(rand() * 15), snapshot, jobs, idle_since: null };
}

function timeIt(fn, n) {
  for (let i = 0; i < WARMUP; i++) fn();
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return ms;
}

async function timeItAsync(fn, n) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return ms;
}

const stats = (ms) => ({ median_ms: median(ms), p95_ms: pct(ms, 95), max_ms: Math.max(...ms) });
const line = (s) => `median ${fmt(s.median_ms)} ms, p95 ${fmt(s.p95_ms)} ms, max ${fmt(s.max_ms)} ms`;

runMain(async () => {
  requireBuild();
  const { nodeStatus } = await dist('commands/node-status.js');
  const { best } = await dist('commands/node-best.js');
  const { renderMessageForTerminal } = await dist('frontends/cli/message.js');

  const rand = prng(42);
  const response = { generated: new Date().toISOString(), nodes: Array.from({ length: NODES }, (_, i) => makeNode(i, rand)) };
  const body = JSON.stringify(response);

  const rep = report('nodes-commands');
  rep.header(`node commands on ${NODES} nodes (64 cores, 200 busy processes, 8 GPUs, 3 jobs each; answer ${fmt(body.length / 1e6, 1)} MB), ${ITER} iterations`);
  const target = [{ key: 'p95_ms', op: '<=', limit: 50, unit: 'ms' }];

  let out = '';
  const status = (text) => {
    const nodes = JSON.parse(text).nodes;
    out = renderMessageForTerminal(nodeStatus(nodes), { colour: false });
  };
  const a = stats(timeIt(() => status(body), ITER));
  rep.check(`(a) JSON.parse + status + render, ${NODES} nodes`, line(a), a, target, { id: 'nodes.status' });
  if (out.split('\n').length < NODES) throw new Error('status rendered fewer lines than nodes');

  // Where the time goes: parsing the answer, or the command itself.
  const parseOnly = stats(timeIt(() => JSON.parse(body), ITER));
  rep.info('    of which JSON.parse alone', line(parseOnly), parseOnly);
  const parsed = JSON.parse(body).nodes;
  const statusOnly = stats(timeIt(() => renderMessageForTerminal(nodeStatus(parsed), { colour: false }), ITER));
  rep.info('    of which status + render alone', line(statusOnly), statusOnly);
  // The commands never read snapshot.pids (the hub's job checks do): an answer without them.
  const lean = JSON.stringify({ ...response, nodes: response.nodes.map((n) => ({ ...n, snapshot: { ...n.snapshot, pids: [] } })) });
  const a2 = stats(timeIt(() => status(lean), ITER));
  rep.info(`    (a) with snapshot.pids left out of the answer (${fmt(lean.length / 1e6, 1)} MB)`, line(a2), a2);

  let chosen = null;
  const args = { gpus: 2, mem_bytes: 64 * GiB };
  const b = stats(timeIt(() => (chosen = best(parsed, args).result.chosen), ITER * 5));
  rep.check(`(b) best --gpus 2 --mem 64G, ${NODES} nodes`, `${line(b)}  (picked ${chosen?.host ?? 'none'})`, b, target, { id: 'nodes.best' });
  const bAll = stats(timeIt(() => best(JSON.parse(body).nodes, args), ITER));
  rep.info(`    best including JSON.parse`, line(bAll), bAll);

  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    const c = stats(await timeItAsync(async () => status(await (await fetch(`${url}/api/v1/nodes`)).text()), ITER));
    // Context since the hub leaves pid lists out and status asks ?busy=0: (d) is what the CLI does.
    rep.info(`    (c) context: the whole ${fmt(body.length / 1e6, 1)} MB answer from a local server + status + render`, line(c), c);

  } finally {
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
  }

  // (d) A real hub: the snapshots as files, ingested by the hub, answered over HTTP.
  const lab = makeLab('flurm-bench-nodes-');
  const hubProc = { stop: async () => undefined };
  try {
    fs.mkdirSync(`${lab.cluster}/nodes`, { recursive: true });
    for (const n of response.nodes) fs.writeFileSync(`${lab.cluster}/nodes/${n.host}.json`, JSON.stringify(n.snapshot));
    const cfg = writeHubConfig(lab, { extra: '[nodes]\npoll_interval_seconds = 1\n' });
    const hub = await startHub(lab, cfg);
    hubProc.stop = hub.stop;
    await waitUntil(async () => ((await (await fetch(`${hub.url}/api/v1/nodes?busy=0`)).json()).nodes ?? []).length === NODES, { what: 'the hub to read every snapshot' });
    const slim = await (await fetch(`${hub.url}/api/v1/nodes?busy=0`)).text();
    const full = await (await fetch(`${hub.url}/api/v1/nodes`)).text();
    const d = stats(await timeItAsync(async () => status(await (await fetch(`${hub.url}/api/v1/nodes?busy=0`)).text()), ITER));
    rep.check(`(d) real hub: GET /api/v1/nodes?busy=0 + status + render (answer ${fmt(slim.length / 1e6, 2)} MB)`, line(d), d, target, { id: 'nodes.hub.status' });
    const e = stats(await timeItAsync(async () => best(JSON.parse(await (await fetch(`${hub.url}/api/v1/nodes?busy=0`)).text()).nodes, args), ITER));
    rep.check(`(d) real hub: GET /api/v1/nodes?busy=0 + best --gpus 2 --mem 64G`, line(e), e, target, { id: 'nodes.hub.best' });
    // (e) The command table inside the hub: POST /api/v1/commands/NAME runs the entry on the hub's
    // own data (hub/source.ts) and answers messages + result: what bots, the dashboard and MCP get.
    const post = (name, body) => fetch(`${hub.url}/api/v1/commands/${name}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
    if ((await post('status', {})).result?.nodes?.length !== NODES) throw new Error('POST /api/v1/commands/status did not list every node');
    const g = stats(await timeItAsync(() => post('status', {}), ITER));
    rep.check(`(e) in the hub: POST /api/v1/commands/status (the table, in-process)`, line(g), g, target, { id: 'nodes.hub.command.status' });
    const h = stats(await timeItAsync(() => post('best', { gpus: 2, mem: '64G' }), ITER));
    rep.check(`(e) in the hub: POST /api/v1/commands/best {gpus: 2, mem: "64G"}`, line(h), h, target, { id: 'nodes.hub.command.best' });
    // Context: the whole CLI process, as a user runs it (Node start-up, module loading included).
    // Interleaved with `node -e 0` in the same run, since this machine is noisy.
    const runs = [];
    const bare = [];
    for (let i = 0; i < 12; i++) {
      const r = await runProc(process.execPath, [FLURM, 'status', '--hub', hub.url], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
      if (r.code !== 0) throw new Error(`flurm status exited ${r.code}: ${r.stderr}`);
      const n = await runProc(process.execPath, ['-e', '0'], { cwd: ROOT });
      if (i >= 2) {
        runs.push(r.ms);
        bare.push(n.ms);
      }
    }
    rep.info(
      '    context: the whole `flurm status --hub URL` process against the real hub, spawn to exit',
      `median ${fmt(median(runs), 0)} ms, max ${fmt(Math.max(...runs), 0)} ms (n=${runs.length}); node -e 0: median ${fmt(median(bare), 0)} ms (${fmt(median(runs) / median(bare), 2)}×)`,
      { median_ms: median(runs), node_median_ms: median(bare) },
    );
    const f = stats(await timeItAsync(async () => JSON.parse(await (await fetch(`${hub.url}/api/v1/nodes`)).text()), Math.ceil(ITER / 4)));
    rep.info(`    context: the full answer (top, inspect, users: ${fmt(full.length / 1e6, 1)} MB) fetched + parsed`, line(f), f);
  } finally {
    await hubProc.stop();
    lab.cleanup?.();
  }
  rep.save({ nodes: NODES, iterations: ITER, answer_bytes: body.length });
});
