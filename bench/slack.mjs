#!/usr/bin/env node
// Target: the Slack app of a real `flurm hub` (docs/slack.md), over Socket Mode, against the local
// Slack of test/support/slack-server.ts (Web API, Socket Mode and response_url, run in this process):
//   100 fresh nodes, `/flurm best gpus=1 mem=32G` and `/flurm status`, BENCH_ITER (200) of each
//   after 10 warm-ups, dispatched one after another (the next once every answer of the last has
//   come). Per command: dispatch (the envelope's sentAtMs) → ack (the app's ack over the socket)
//   and dispatch → answer (the first response_url POST received, its atMs), p50/p95/max.
//   Target: ack → answer p50 ≤ 50 ms. Context, same run: a trivial Web API call (auth.test) from
//   this process to the local server, and how many of the 100 node rows the /status answer shows
//   (across all its response_url messages). `[slurm] enabled = false`: the answers cover the 100
//   synthetic nodes only, not whatever SLURM the bench's machine has on its PATH ("auto").
// Lab, hub and server are removed at the end, also on error. About 30 s on this machine.
//
// The server is TypeScript: it is bundled with esbuild into bench/results/ (git-ignored, so its
// bare import `ws` resolves from this checkout's node_modules), imported, and the bundle deleted.
//
//   npm run build && node bench/slack.mjs      (BENCH_ITER=200; BENCH_SLACK_DUMP=FILE writes the two answers)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, getJson, makeLab, report, requireBuild, runMain, sleep, startHub, waitUntil, writeHubConfig, importTs, killedOnExit, latencyStats, msLine, prng, syntheticSnapshot } from './lib.mjs';

const ITER = Number(process.env.BENCH_ITER ?? 200);
const NODES = 100;
const WARMUP = 10;
const ME = os.userInfo().username;

const hubs = killedOnExit();

const stats = latencyStats;

function slackToml(lab, srv, links) {
  const bot = path.join(lab.root, 'slack-bot');
  const app = path.join(lab.root, 'slack-app');
  for (const [f, v] of [[bot, srv.botToken], [app, srv.appToken]]) {
    fs.writeFileSync(f, `${v}\n`, { mode: 0o600 });
    fs.chmodSync(f, 0o600);
  }
  return [
    `[slack]`,
    `bot_token_file = "${bot}"`,
    `app_token_file = "${app}"`,
    `api = "${srv.apiUrl}"`,
    ...Object.entries(links).flatMap(([user, id]) => [`[users.${JSON.stringify(user)}]`, `slack = "${id}"`]),
  ].join('\n');
}

/** One command, dispatched and answered: every figure from the server's own clock (Date.now()). */
async function once(srv, text, wantResponses = 1) {
  const h = srv.slashCommand('/flurm', text);
  const env = srv.envelopes.find((e) => e.envelope_id === h.envelopeId);
  const ack = await h.ack;
  if (!ack.acked) throw new Error(`/flurm ${text}: not acked (${JSON.stringify(ack)})`);
  const f = await h.final(10_000);
  if (f.source !== 'response_url') throw new Error(`/flurm ${text}: answered in the ack payload, not the response_url`);
  // The next dispatch waits for every message of this answer (a long /status is several).
  if (wantResponses > 1) await srv.waitFor(() => h.responses.length >= wantResponses, 10_000, `${wantResponses} answers to /flurm ${text}`);
  const last = h.responses[h.responses.length - 1];
  return { h, sent: env.sentAtMs, ack: ack.atMs, answer: f.atMs, last: last.atMs, late: ack.late };
}

runMain(async () => {
  requireBuild();
  const { startSlackServer, DEFAULT_SLACK_USERS } = await importTs('test/support/slack-server.ts');
  const rep = report('slack');
  rep.header(`the Slack app of a real hub (Socket Mode) against the local Slack: ${ITER}× /flurm best and /flurm status on ${NODES} nodes`);
  const loadStart = os.loadavg();
  const meta = { iterations: ITER, nodes: NODES, loadavg_start: loadStart };

  const lab = makeLab('flurm-bench-slack-');
  const srv = await startSlackServer();
  let hub;
  try {
    lab.home(ME);
    fs.mkdirSync(path.join(lab.cluster, 'nodes'), { recursive: true });
    const rand = prng(42);
    const snaps = Array.from({ length: NODES }, (_, i) => syntheticSnapshot(i, rand));
    const writeSnapshots = () => {
      for (const s of snaps) fs.writeFileSync(path.join(lab.cluster, 'nodes', `${s.host}.json`), JSON.stringify({ ...s, seq: s.seq++, ts: new Date().toISOString() }));
    };
    writeSnapshots();
    const cfg = writeHubConfig(lab, { poll: 1, extra: `[nodes]\npoll_interval_seconds = 1\n[slurm]\nenabled = false\n${slackToml(lab, srv, { [ME]: DEFAULT_SLACK_USERS[0].id })}\n` });
    hub = await startHub(lab, cfg);
    hubs.add(hub);
    await waitUntil(async () => (await getJson(`${hub.url}/healthz`)).slack?.state === 'ready', { timeoutMs: 20_000, everyMs: 50, what: 'the Slack app ready' });
    await srv.waitForConnection(1, 20_000);
    // A node is fresh once the hub has seen its snapshot change (an agent writes every 15 s).
    const fresh = async () => ((await getJson(`${hub.url}/api/v1/nodes?busy=0`)).nodes ?? []).filter((n) => n.state === 'fresh').length;
    await waitUntil(async () => ((await getJson(`${hub.url}/api/v1/nodes?busy=0`)).nodes ?? []).length === NODES, { timeoutMs: 20_000, what: `the hub to read all ${NODES} snapshots` });
    writeSnapshots();
    await waitUntil(async () => (await fresh()) === NODES, { timeoutMs: 20_000, what: `all ${NODES} nodes fresh` });

    // The answers' shape: /status may be several response_url messages; wait until they stop coming.
    const probe = srv.slashCommand('/flurm', 'status');
    await probe.final(10_000);
    let n = -1;
    while (probe.responses.length !== n) {
      n = probe.responses.length;
      await sleep(500);
    }
    const statusMsgs = probe.responses.length;
    const all = JSON.stringify(probe.responses.map((r) => r.blocks ?? []));
    const rows = new Set(all.match(/node\d{3}(?= {2})/g) ?? []).size;
    const blocks = probe.responses.map((r) => (r.blocks ?? []).length);
    const bestProbe = srv.slashCommand('/flurm', 'best gpus=1 mem=32G');
    const bestAnswer = await bestProbe.final(10_000);
    await sleep(300);
    // BENCH_SLACK_DUMP=FILE: the two answers' response_url bodies, to read them.
    if (process.env.BENCH_SLACK_DUMP) fs.writeFileSync(process.env.BENCH_SLACK_DUMP, JSON.stringify({ status: probe.responses, best: bestProbe.responses }, null, 2) + '\n');
    const srvRejected = srv.requests.filter((r) => r.path.startsWith('/respond/') && r.status !== 200);
    rep.info('    context: the answers', `/status ${statusMsgs} response_url message(s) (${blocks.join(' + ')} blocks, ${all.length} chars of JSON), ${rows} of ${NODES} node rows shown; /best ${bestProbe.responses.length} message(s), ${(bestAnswer.blocks ?? []).length} blocks: ${JSON.stringify(bestAnswer.text ?? '').slice(0, 80)}`, { status_rows_shown: rows, status_messages: statusMsgs, best_messages: bestProbe.responses.length, response_url_refused: srvRejected.length });
    if (rows !== NODES) console.log(`    (/status shows ${rows} of ${NODES} node rows)`);
    if (srvRejected.length) console.log(`    (${srvRejected.length} response_url answers refused by the server: ${srvRejected.map((r) => `${r.status} ${JSON.stringify(r.response)}`).slice(0, 3).join('; ')})`);
    if (!all.includes(`${NODES} nodes`) && !JSON.stringify(probe.responses.map((r) => r.text)).includes(`${NODES} nodes`)) console.log(`    (the /status answer does not say "${NODES} nodes": ${all.slice(0, 200)})`);

    const reqsBefore = srv.requests.length;
    const kinds = [
      { key: 'best', label: '/flurm best gpus=1 mem=32G', text: 'best gpus=1 mem=32G', want: bestProbe.responses.length },
      { key: 'status', label: '/flurm status', text: 'status', want: statusMsgs },
    ];
    for (const k of kinds) {
      const toAck = [];
      const toAnswer = [];
      const ackToAnswer = [];
      const toLast = [];
      let late = 0;
      for (let i = -WARMUP; i < ITER; i++) {
        const r = await once(srv, k.text, k.want);
        if (i < 0) continue;
        toAck.push(r.ack - r.sent);
        toAnswer.push(r.answer - r.sent);
        ackToAnswer.push(r.answer - r.ack);
        toLast.push(r.last - r.sent);
        if (r.late) late++;
      }
      const a = stats(toAck);
      const d = stats(toAnswer);
      const x = stats(ackToAnswer);
      rep.check(`${k.label}, ${NODES} nodes: ack → answer (response_url POST received)`, msLine(x), x, [{ key: 'p50_ms', op: '<=', limit: 50, unit: 'ms' }], { id: `slack.command.${k.key}` });
      rep.info(`    ${k.label}: dispatch → ack`, `${msLine(a)}${late ? `, ${late} late (> 3 s)` : ''}`, a, { id: `slack.command.${k.key}.ack` });
      rep.info(`    ${k.label}: dispatch → answer`, msLine(d), d, { id: `slack.command.${k.key}.answer` });
      if (k.want > 1) {
        const l = stats(toLast);
        rep.info(`    dispatch → last of its ${k.want} messages`, msLine(l), l);
      }
    }
    const stillFresh = await fresh();
    if (stillFresh !== NODES) console.log(`    (only ${stillFresh} of ${NODES} nodes still fresh after the loop: the answers covered stale nodes too)`);

    // What else the hub asked the server during the loop (beside the response_url answers).
    const byMethod = {};
    for (const q of srv.requests.slice(reqsBefore)) byMethod[q.method] = (byMethod[q.method] ?? 0) + 1;
    const refused = srv.requests.slice(reqsBefore).filter((q) => q.status !== 200).length;
    rep.info('    context: the hub\'s requests to the server during the loop', `${Object.entries(byMethod).map(([m, c]) => `${m} ${c}`).join(', ')}; ${refused} not answered 200`, { ...byMethod, not_200: refused });

    // Baseline: what the transport alone costs, same server, same run.
    const rtt = [];
    for (let i = -WARMUP; i < ITER; i++) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${srv.apiUrl}auth.test`, { method: 'POST', headers: { authorization: `Bearer ${srv.botToken}`, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      const body = await res.json();
      if (!body.ok) throw new Error(`auth.test answered ${JSON.stringify(body)}`);
      if (i >= 0) rtt.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const r = stats(rtt);
    rep.info('    baseline: a trivial Web API call (auth.test) from this process to the local server', msLine(r), r, { id: 'slack.baseline' });
    const h = (await getJson(`${hub.url}/healthz`)).slack;
    console.log(`    hub's slack health: state ${h?.state}, commands ${JSON.stringify(h?.commands)}`);
  } finally {
    if (hub) await hub.stop();
    hubs.delete(hub);
    await srv.close();
    lab.cleanup();
  }
  const loadEnd = os.loadavg();
  console.log(`   load average at the start ${loadStart[0].toFixed(2)}, at the end ${loadEnd[0].toFixed(2)}`);
  rep.save({ ...meta, loadavg_end: loadEnd });
});
