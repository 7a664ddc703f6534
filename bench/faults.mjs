#!/usr/bin/env node
// Issue 9, point 5: the crash-and-fault probe. What the outbox does when destinations fail and the
// hub is killed: lost, duplicated and out-of-order messages per destination, and the latency of a
// healthy destination while another one hangs. Targets (DESIGN.md "Delivery order and
// independence"): 0 lost, 0 out of order, healthy latency unchanged while another hangs,
// duplicates only where a receiver ignores the key (a repeat with the SAME key is one a receiver
// that honours Idempotency-Key drops; a repeat with a new or no key is a real duplicate).
//
// The real hub (dist/) runs as a process; jobs are real `flurm run -q -t fj-NNNN -- true|false`
// and `flurm notify -t fj-NNNN …` in sequence (job N ends before N+1 starts, so the event order is
// known; the title names the job in every request body). Destinations are scripted local HTTP
// servers in this process (fault-sinks.mjs), routed with `[[routes]] on = ["all"]` as
// json://127.0.0.1:PORT/NAME:
//   healthy      200 at once
//   slow         200 after 300 ms (BENCH_SLOW_MS) — the kill -9 target
//   failing      500 for the first 30 s of the fault phase (BENCH_FAIL_SECONDS), then 200
//   ratelimited  429 + Retry-After: 1 to the first 3 requests of the fault phase (BENCH_429S), then 200
//   hanging      reads each request and never answers during the hang phase, else 200 at once
// Hub settings: [delivery] timeout_seconds = 5 (how long a hung request hangs),
// backoff_max_seconds = 5 (so the failing destination is retried soon after it recovers: bounds
// the run), max_per_user_per_minute = 1000000 in the fault lab (the fault figures measure faults,
// not the cap — phase A measures the cap).
//
// Phase A — the cap, its own lab and hub, healthy sink only, default max_per_user_per_minute
//   (30). A1: BENCH_CAP_JOBS (40) jobs in a row: every job must be told (DESIGN: "a cap never
//   drops a job: past it, messages are coalesced into a digest"; a job named in any delivered
//   body counts as told). A2: the index is deleted and the hub restarted (a rebuilt index: the
//   last hour's events are replayed, receipts say what was already sent; the cap's window is
//   fresh), then BENCH_CAP_AFTER (5) new jobs: they must be told, and no replayed job sent again.
//   A digest may wait for the end of the cap's minute, so each part waits until all its jobs are
//   told, or BENCH_CAP_WAIT_SECONDS (65) after its flood / rebuild. The flood runs alone first;
//   the waiting, the rebuild and its 5 jobs run beside phases B–D; the figures come last.
// Phase B — baseline: BENCH_BASE_JOBS (15) jobs, every destination answering at once (slow: 300 ms).
// Phase C — hang: the same number of jobs while `hanging` hangs. Healthy latency (end event's
//   ts → arrival at `healthy`) compared with phase B: target p50 ≤ baseline p50 + 0.1 s and
//   max ≤ baseline max + 0.5 s ("unchanged", within this machine's noise).
// Phase D — faults: BENCH_JOBS (40) jobs, 0.3–0.8 s apart, while `failing` answers 500,
//   `ratelimited` 429, and the hub is killed (SIGKILL) BENCH_KILLS (15) times, each at a random
//   moment 0–250 ms into a request to `slow` (so it is in flight), then restarted on the same
//   index and cluster dir (waiting until it is up and active) before the next kill.
// Then it waits (≤ BENCH_DRAIN_SECONDS, 120) until /healthz shows no pending outbox row and
// prints, per destination, over all jobs of B–D: expected, requests, distinct jobs received,
// lost, duplicated (same key / new or no key), out of order (adjacent inversions in
// first-arrival order, and that order as ranges).
//
//   node bench/faults.mjs     (~2–2.5 min on 2 cores; BENCH_PHASES=cap or faults runs one part;
//                              BENCH_KEEP=1 keeps the labs and hub logs)
// Knobs: BENCH_JOBS=40 BENCH_KILLS=15 BENCH_BASE_JOBS=15 BENCH_CAP_JOBS=40 BENCH_CAP_AFTER=5
// BENCH_SLOW_MS=300 BENCH_FAIL_SECONDS=30 BENCH_429S=3 BENCH_TIMEOUT_SECONDS=5
// BENCH_BACKOFF_MAX_SECONDS=5 BENCH_DRAIN_SECONDS=120 BENCH_CAP_WAIT_SECONDS=65.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FLURM, fmt, getJson, health, makeLab, median, report, requireBuild, runMain, runProc, sleep } from './lib.mjs';
import { analyse, failingUntil, hanging, healthy, ranges, rateLimited, slow, startFaultSink } from './fault-sinks.mjs';

const env = process.env;
const num = (k, d) => (env[k] === undefined || env[k] === '' ? d : Number(env[k]));
const JOBS = num('BENCH_JOBS', 40);
const KILLS = num('BENCH_KILLS', 15);
const BASE_JOBS = num('BENCH_BASE_JOBS', 15);
const CAP_JOBS = num('BENCH_CAP_JOBS', 40);
const CAP_AFTER = num('BENCH_CAP_AFTER', 5);
const SLOW_MS = num('BENCH_SLOW_MS', 300);
const FAIL_SECONDS = num('BENCH_FAIL_SECONDS', 30);
const N429 = num('BENCH_429S', 3);
const TIMEOUT_S = num('BENCH_TIMEOUT_SECONDS', 5);
const BACKOFF_MAX_S = num('BENCH_BACKOFF_MAX_SECONDS', 5);
const DRAIN_S = num('BENCH_DRAIN_SECONDS', 120);
const CAP_WINDOW_S = num('BENCH_CAP_WAIT_SECONDS', 65); // the cap's minute + 5 s: a digest may wait for it
const PHASES = new Set((env.BENCH_PHASES ?? 'cap,faults').split(',').map((s) => s.trim()));

const JOB_RE = /\bfj-(\d{4})\b/g;
const CAP_RE = /\bcap-(\d{4})\b/g;
const title = (prefix, n) => `${prefix}-${String(n).padStart(4, '0')}`;

// ---- processes we own: killed on any exit, Ctrl-C included ------------------------------------

const live = { hubs: new Set(), sinks: new Set(), labs: new Set() };
let cleaning = false;
function killAllNow() {
  for (const h of live.hubs) {
    try {
      h.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (cleaning) return;
    cleaning = true;
    console.error(`\nfaults: ${sig}: stopping the hub(s) and sinks, removing the lab`);
    killAllNow();
    await Promise.all([...live.sinks].map((s) => s.close().catch(() => {})));
    for (const lab of live.labs) lab.cleanup();
    process.exit(130);
  });
}

/**
 * Start `flurm hub --config FILE` (output to <lab>/hub-<ms>.log) and wait until it is listening
 * and active (holds the lease, so it sends). Like lib.mjs's startHub, but the child is tracked
 * from the moment it is spawned, so Ctrl-C during a restart leaves no hub behind. A hub killed on
 * this host is replaced at once (hub.json names a dead pid), so "active" is normally immediate.
 */
async function hubUp(lab, config) {
  const log = path.join(lab.root, `hub-${Date.now()}.log`);
  const fd = fs.openSync(log, 'a');
  const startedMs = Date.now();
  const child = spawn(process.execPath, [FLURM, 'hub', '--config', config], { stdio: ['ignore', fd, fd], env: { ...process.env, FLURM_LOG_LEVEL: process.env.FLURM_LOG_LEVEL ?? 'info' } });
  fs.closeSync(fd);
  const h = { pid: child.pid, child, log, startedMs, url: null, readyMs: null, activeMs: null };
  live.hubs.add(h);
  const exited = new Promise((r) => child.once('exit', r));
  child.once('exit', () => live.hubs.delete(h));
  h.stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  const fail = (why) => {
    child.kill('SIGKILL');
    return new Error(`hub ${why}:\n${fs.readFileSync(log, 'utf8').split('\n').slice(-20).join('\n')}`);
  };
  while (!h.url) {
    const m = fs.readFileSync(log, 'utf8').match(/hub running url=(\S+)/);
    if (m) h.url = m[1];
    else if (child.exitCode !== null || child.signalCode !== null) throw fail('exited before it was running');
    else if (Date.now() - startedMs > 30_000) throw fail('did not start within 30 s');
    else await sleep(10);
  }
  h.readyMs = Date.now();
  for (;;) {
    const hz = await health(h).catch(() => null);
    if (hz?.role === 'active') break;
    if (Date.now() - h.readyMs > 20_000) throw fail(`not active after 20 s (role ${hz?.role})`);
    await sleep(50);
  }
  h.activeMs = Date.now();
  return h;
}

async function killHub(h) {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  const gone = new Promise((r) => h.child.once('exit', r));
  h.child.kill('SIGKILL');
  await Promise.race([gone, sleep(5000)]);
}

async function sink(name, behave) {
  const s = await startFaultSink(name, behave);
  live.sinks.add(s);
  return s;
}

function writeConfig(lab, { dests, cap }) {
  const toml = [
    `index = "${lab.index}"`,
    `cluster_dir = "${lab.cluster}"`,
    `[spools]`,
    `homes = ["${lab.homes}/*"]`,
    `legacy = false`,
    `[http]`,
    `port = 0`,
    `[ingest]`,
    `poll_interval_seconds = 1`,
    `[delivery]`,
    `timeout_seconds = ${TIMEOUT_S}`,
    `backoff_max_seconds = ${BACKOFF_MAX_S}`,
    ...(cap === undefined ? [] : [`max_per_user_per_minute = ${cap}`]),
    `[[routes]]`,
    `on = ["all"]`,
    `to = ${JSON.stringify(dests.map((d) => d.url()))}`,
  ].join('\n');
  const file = path.join(lab.root, 'hub.toml');
  fs.writeFileSync(file, toml + '\n');
  return file;
}

/** Job n of the fault lab: mostly `true`, some `false`, some notes. */
const kindOf = (n) => (n % 10 === 5 ? 'note' : n % 7 === 3 ? 'fail' : 'ok');

/** One job (kind 'ok' | 'fail') or note with the real CLI; returns when it has ended. */
async function runJob(userEnv, t, kind) {
  const args = kind === 'note' ? ['notify', '-t', t, `probe note ${t}`] : ['run', '-q', '-t', t, '--', kind === 'fail' ? 'false' : 'true'];
  const r = await runProc(process.execPath, [FLURM, ...args], { env: userEnv });
  const want = kind === 'fail' ? 1 : 0;
  if (r.code !== want) throw new Error(`flurm ${args.join(' ')} exited ${r.code} (expected ${want}): ${r.stderr}`);
}

/** title → { id, endMs, type } from the user's spool (end/note event ts: the job's end). */
function spoolEvents(eventsDir) {
  const byId = new Map();
  for (const f of fs.readdirSync(eventsDir)) {
    for (const line of fs.readFileSync(path.join(eventsDir, f), 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line);
      const x = byId.get(e.id) ?? { id: e.id };
      if (e.type === 'start' || e.type === 'note') x.title = e.title;
      if (e.type === 'end' || e.type === 'note') ((x.endMs = Date.parse(e.ts)), (x.type = e.type));
      byId.set(e.id, x);
    }
  }
  return new Map([...byId.values()].filter((x) => x.title).map((x) => [x.title, x]));
}

/**
 * Wait until the hub has ingested `lastTitle` (a run job: its end is in the index) and /healthz
 * shows no pending row twice in a row, and nothing is in flight at the sinks. Bounded: returns
 * the pending count left (0 = drained) instead of throwing.
 */
async function drain(getHub, eventsDir, lastTitle, sinks, timeoutS, extra = () => true) {
  const t0 = Date.now();
  const id = spoolEvents(eventsDir).get(lastTitle)?.id;
  let calm = 0;
  let pending = NaN;
  while (Date.now() - t0 < timeoutS * 1000) {
    const hub = getHub();
    const job = id ? await getJson(`${hub.url}/api/v1/jobs/${id}`).catch(() => null) : { job: { state: 'x' } };
    const hz = await health(hub).catch(() => null);
    pending = hz?.outbox?.pending ?? NaN;
    const ingested = job?.job && job.job.state !== 'running';
    if (ingested && pending === 0 && sinks.every((s) => s.inFlight === 0) && extra()) {
      if (++calm >= 2) return 0;
    } else calm = 0;
    await sleep(250);
  }
  return pending;
}

function latency(sinkRes, seqs, endBySeq) {
  const v = seqs.map((s) => (sinkRes.firstArrival.get(s) ?? NaN) - endBySeq.get(s)).filter(Number.isFinite).map((ms) => ms / 1000);
  return { p50: median(v), max: v.length ? Math.max(...v) : NaN, n: v.length, missing: seqs.length - v.length };
}

function destLine(rep, label, a, id) {
  const dupText = `${a.duplicated} duplicated (${a.dupSameKey} same key, ${a.dupNewKey} new/no key)`;
  const reqText = `${a.requests} requests (${a.ok} 2xx${a.errors ? `, ${a.errors} errors` : ''}${a.hung ? `, ${a.hung} hung` : ''}${a.clientGone ? `, ${a.clientGone} 2xx the hub never read` : ''})`;
  const text = `lost ${a.lost}, out of order ${a.inversions} (${a.overtaken} jobs overtaken), ${dupText}; expected ${a.expected}, ${a.distinct} jobs received, ${reqText}`;
  const targets = [
    { key: 'lost', op: '<=', limit: 0 },
    { key: 'out_of_order', op: '<=', limit: 0 },
    { key: 'dup_new_key', op: '<=', limit: 0 },
  ];
  rep.check(label, text, { lost: a.lost, out_of_order: a.inversions, overtaken: a.overtaken, dup_same_key: a.dupSameKey, dup_new_key: a.dupNewKey, duplicated: a.duplicated, requests: a.requests, distinct: a.distinct, expected: a.expected }, targets, { id });
  const ord = ranges(a.order);
  if (a.inversions > 0) console.log(`    first-arrival order: ${ord.length > 400 ? ord.slice(0, 400) + '…' : ord}`);
  if (a.lost > 0) console.log(`    lost: ${ranges(a.lostSeqs)}`);
  if (a.otherRequests) console.log(`    + ${a.otherRequests} delivered request(s) naming none of these jobs: ${a.others}`);
}

function hubLogStats(lab) {
  const counts = {};
  for (const f of fs.readdirSync(lab.root).filter((f) => /^hub-\d+\.log$/.test(f))) {
    for (const line of fs.readFileSync(path.join(lab.root, f), 'utf8').split('\n')) {
      // "2026-…Z INFO  hub: send failed; will retry dest=… ref=…": the message without its fields
      const m = /^\S+ (INFO|WARN|ERROR)\s+\S+: (.+?)(?= [a-z_]+=|$)/.exec(line);
      if (!m || /^(hub running|this hub is active)/.test(m[2])) continue;
      const k = `${m[1].toLowerCase()} ${m[2]}`;
      counts[k] = (counts[k] ?? 0) + 1;
    }
  }
  return counts;
}

// ---- phase A: the cap ---------------------------------------------------------------------------
// The flood runs first, alone. What follows is mostly waiting — a digest may come only when the
// cap's minute is over — so it runs in the background, beside phases B–D (only the rebuild and its
// 5 jobs overlap phase D, which measures no latency), and its figures are printed at the end.

async function capFlood() {
  const lab = makeLab('flurm-bench-faults-cap-');
  live.labs.add(lab);
  const s = await sink('cap-healthy', healthy());
  const st = { lab, s, alice: lab.home('alice'), hub: null };
  st.cfg = writeConfig(lab, { dests: [s] }); // max_per_user_per_minute: the default
  st.hub = await hubUp(lab, st.cfg);
  console.log(`\n-- phase A: the cap (default max_per_user_per_minute), ${CAP_JOBS} jobs in a row (then, beside B–D: an index rebuild and ${CAP_AFTER} more)`);
  st.floodMs = Date.now();
  for (let n = 1; n <= CAP_JOBS; n++) await runJob(st.alice.env, title('cap', n), n % 7 === 3 ? 'fail' : 'ok');
  st.floodSeconds = (Date.now() - st.floodMs) / 1000;
  return st;
}

/** Wait until every job of `seqs` is told and nothing is pending, or until `untilMs`. */
async function waitTold(st, seqs, untilMs, filter) {
  const lastTitle = title('cap', seqs.at(-1));
  await drain(() => st.hub, st.alice.events, lastTitle, [st.s], Math.max(1, (untilMs - Date.now()) / 1000), () => analyse(st.s, seqs, CAP_RE, filter).lost === 0);
  await sleep(300);
  const hz = await health(st.hub).catch(() => null);
  return { a: analyse(st.s, seqs, CAP_RE, filter), pending: hz?.outbox?.pending ?? NaN, waited: (Date.now() - st.floodMs) / 1000 };
}

async function capRest(st) {
  const { lab, s, alice, cfg } = st;
  try {
    const old = range(1, CAP_JOBS);
    const r1 = await waitTold(st, old, st.floodMs + CAP_WINDOW_S * 1000, () => true);
    r1.seconds = (Date.now() - st.floodMs) / 1000;

    // A2: a rebuilt index. Graceful stop (nothing in flight), delete the index, start again:
    // the hour's events are replayed (the cap's window is fresh: only replays count against it).
    await st.hub.stop();
    for (const f of fs.readdirSync(path.dirname(lab.index))) fs.rmSync(path.join(path.dirname(lab.index), f), { force: true });
    const rebuiltMs = Date.now();
    st.hub = await hubUp(lab, cfg);
    const lastOldId = spoolEvents(alice.events).get(title('cap', CAP_JOBS)).id;
    const replayed = await waitBounded(async () => ((await getJson(`${st.hub.url}/api/v1/jobs/${lastOldId}`).catch(() => null))?.job?.state ?? 'running') !== 'running' || null, 20_000);
    await sleep(500);
    const newSeqs = range(CAP_JOBS + 1, CAP_JOBS + CAP_AFTER);
    const t1 = Date.now();
    for (const n of newSeqs) await runJob(alice.env, title('cap', n), n % 7 === 3 ? 'fail' : 'ok');
    const r2 = await waitTold(st, newSeqs, rebuiltMs + CAP_WINDOW_S * 1000, (r) => r.t >= t1);
    r2.seconds = (Date.now() - t1) / 1000;
    const resent = analyse(s, old, CAP_RE, (r) => r.t >= rebuiltMs);
    const toldBefore = new Set(r1.a.firstArrival.keys());
    const again = [...resent.firstArrival.keys()].filter((q) => toldBefore.has(q)).length;
    const late = [...resent.firstArrival.keys()].filter((q) => !toldBefore.has(q)).length;
    const sinceRebuild = analyse(s, [], CAP_RE, (r) => r.t >= rebuiltMs);
    return { r1, r2, again, late, toldBefore: toldBefore.size, replayed: !!replayed, sinceRebuild };
  } finally {
    await st.hub?.stop();
    await s.close();
    live.sinks.delete(s);
    lab.cleanup();
    live.labs.delete(lab);
  }
}

function capReport(rep, st, c) {
  console.log(`\n-- phase A figures (default cap 30/min; ${CAP_JOBS} jobs in ${fmt(st.floodSeconds, 1)} s)`);
  destLine(rep, `A1 cap 30/min: ${CAP_JOBS} jobs in ${fmt(st.floodSeconds, 1)} s (waited ${fmt(c.r1.seconds, 0)} s)`, c.r1.a, 'faults.cap.flood');
  if (c.r1.pending) console.log(`    ${c.r1.pending} outbox row(s) still pending at the end of the wait`);
  if (!c.replayed) console.log('    (the rebuilt index did not show the old jobs within 20 s)');
  destLine(rep, `A2 cap, index rebuilt (${CAP_JOBS} replayed): ${CAP_AFTER} new jobs (waited ${fmt(c.r2.seconds, 0)} s)`, c.r2.a, 'faults.cap.rebuild');
  if (c.r2.pending) console.log(`    ${c.r2.pending} outbox row(s) still pending at the end of the wait`);
  if (c.sinceRebuild.otherRequests) console.log(`    since the rebuild: ${c.sinceRebuild.otherRequests} request(s) naming none of the replayed jobs: ${c.sinceRebuild.others}`);
  rep.check(`A2 replayed jobs sent again`, `${c.again} of ${c.toldBefore} already-told jobs sent again; ${c.late} jobs first told only now`, { resent: c.again, late: c.late }, [{ key: 'resent', op: '<=', limit: 0 }], { id: 'faults.cap.resent' });
}

function range(a, b) {
  return Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);
}

async function waitBounded(fn, timeoutMs, everyMs = 100) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const v = await fn();
    if (v) return v;
    await sleep(everyMs);
  }
  return null;
}

// ---- phases B–D: baseline, hang, faults with kill -9 --------------------------------------------

async function phaseFaults(rep) {
  const lab = makeLab('flurm-bench-faults-');
  live.labs.add(lab);
  const sinks = {
    healthy: await sink('healthy', healthy()),
    slow: await sink('slow', slow(SLOW_MS)),
    failing: await sink('failing', healthy()),
    ratelimited: await sink('ratelimited', healthy()),
    hanging: await sink('hanging', healthy()),
  };
  const all = Object.values(sinks);
  let hub;
  const restarts = [];
  const kills = [];
  try {
    const alice = lab.home('alice');
    const cfg = writeConfig(lab, { dests: all, cap: 1_000_000 });
    hub = await hubUp(lab, cfg);
    let n = 0;
    const phase = new Map(); // seq → phase letter
    const runPhase = async (letter, count, pause) => {
      const seqs = [];
      for (let i = 0; i < count; i++) {
        n++;
        seqs.push(n);
        phase.set(n, letter);
        await runJob(alice.env, title('fj', n), kindOf(n));
        await sleep(pause());
      }
      return seqs;
    };
    // The last run job (not a note) so far: drain() waits until the index shows it ended.
    const lastRun = () => {
      for (let q = n; q > 0; q--) if (kindOf(q) !== 'note') return title('fj', q);
      return null;
    };

    console.log(`\n-- phase B: baseline, ${BASE_JOBS} jobs, every destination answering (slow: ${SLOW_MS} ms)`);
    const seqB = await runPhase('B', BASE_JOBS, () => 200 + Math.random() * 400);
    const leftB = await drain(() => hub, alice.events, lastRun(), all, 30);
    if (leftB) console.log(`    (not drained: ${leftB} rows pending after 30 s)`);

    console.log(`-- phase C: "hanging" hangs (timeout_seconds = ${TIMEOUT_S}), ${BASE_JOBS} jobs`);
    sinks.hanging.set(hanging());
    const seqC = await runPhase('C', BASE_JOBS, () => 200 + Math.random() * 400);
    await sleep(1000); // the healthy destination's last messages of the phase
    const hangEndMs = Date.now();
    sinks.hanging.set(healthy());
    const leftC = await drain(() => hub, alice.events, lastRun(), all, 30);
    if (leftC) console.log(`    (not drained: ${leftC} rows pending after 30 s)`);

    console.log(`-- phase D: ${JOBS} jobs; "failing" 500 for ${FAIL_SECONDS} s, "ratelimited" 429 ×${N429}, hub killed ${KILLS}× during requests to "slow"`);
    const dStart = Date.now();
    sinks.failing.set(failingUntil(dStart + FAIL_SECONDS * 1000));
    sinks.ratelimited.set(rateLimited(N429, 1));
    let writing = true;
    const writer = (async () => {
      try {
        return await runPhase('D', JOBS, () => 300 + Math.random() * 500);
      } finally {
        writing = false;
      }
    })();
    const killer = (async () => {
      for (let k = 0; k < KILLS; k++) {
        // A request to "slow" in flight (bounded wait; after the jobs are written the backlog
        // may run dry: then stop).
        const inflight = await waitBounded(() => sinks.slow.inFlight > 0, writing ? 20_000 : 3000, 5);
        if (!inflight) break;
        await sleep(Math.random() * Math.min(250, SLOW_MS * 0.8));
        const during = sinks.slow.inFlight > 0;
        await killHub(hub);
        kills.push({ t: Date.now(), during });
        const t0 = Date.now();
        hub = await hubUp(lab, cfg);
        restarts.push({ up: (hub.readyMs - t0) / 1000, active: (hub.activeMs - t0) / 1000 });
        await sleep(200 + Math.random() * 600);
      }
    })();
    const seqD = await writer;
    await killer;
    const writtenS = (Date.now() - dStart) / 1000;
    const left = await drain(() => hub, alice.events, lastRun(), all, DRAIN_S);
    await sleep(500);
    const drainS = (Date.now() - dStart) / 1000;

    // ---- figures -----------------------------------------------------------------------------
    const events = spoolEvents(alice.events);
    const endBySeq = new Map([...events].map(([t, e]) => [Number(t.slice(3)), e.endMs]));
    const expected = [...seqB, ...seqC, ...seqD];
    console.log(`\n   fault phase: ${seqD.length} jobs written in ${fmt(writtenS, 1)} s, drained ${left ? `NOT (${left} rows still pending after ${DRAIN_S} s)` : `after ${fmt(drainS, 1)} s`}; ${kills.length} kills`);
    const res = {};
    console.log(`\n   per destination, all ${expected.length} jobs of phases B–D (fj-${String(seqB[0]).padStart(4, '0')}…; B ${seqB[0]}-${seqB.at(-1)}, C ${seqC[0]}-${seqC.at(-1)}, D ${seqD[0]}-${seqD.at(-1)}):`);
    for (const [name, s] of Object.entries(sinks)) {
      const a = analyse(s, expected, JOB_RE);
      res[name] = a;
      const role = { healthy: '200 at once', slow: `200 after ${SLOW_MS} ms, kill -9 ×${kills.length}`, failing: `500 for ${FAIL_SECONDS} s`, ratelimited: `429 ×${N429}`, hanging: 'hangs in phase C' }[name];
      destLine(rep, `  → ${name} (${role})`, a, `faults.dest.${name}`);
    }
    const keyForms = [...new Set(Object.values(res).map((a) => a.keyFrom))].join(' / ');
    console.log(`    (keys seen: ${keyForms}; a hung request counts as delivered: the receiver may have acted on it)`);

    // Healthy destination latency: baseline vs while "hanging" hangs.
    const base = latency(res.healthy, seqB, endBySeq);
    const hang = latency(res.healthy, seqC, endBySeq);
    rep.info(`\n  → healthy latency, baseline (phase B, nothing hangs)`, `p50 ${fmt(base.p50, 3)} s  max ${fmt(base.max, 3)} s  (n=${base.n}${base.missing ? `, ${base.missing} missing` : ''})`, base, { id: 'faults.healthy.baseline' });
    const p50Limit = Number((base.p50 + 0.1).toFixed(3));
    const maxLimit = Number((base.max + 0.5).toFixed(3));
    rep.check(
      `  → healthy latency while "hanging" hangs (phase C)`,
      `p50 ${fmt(hang.p50, 3)} s  max ${fmt(hang.max, 3)} s  (n=${hang.n}${hang.missing ? `, ${hang.missing} missing` : ''}); baseline p50 ${fmt(base.p50, 3)} s max ${fmt(base.max, 3)} s`,
      hang,
      [{ key: 'p50', op: '<=', limit: p50Limit, unit: 's (baseline + 0.1)' }, { key: 'max', op: '<=', limit: maxLimit, unit: 's (baseline + 0.5)' }, { key: 'missing', op: '<=', limit: 0 }],
      { id: 'faults.healthy.hang' },
    );
    const perJob = seqC.map((q) => fmt(((res.healthy.firstArrival.get(q) ?? NaN) - endBySeq.get(q)) / 1000, 2));
    console.log(`    per job (s): ${perJob.join(' ')}`);
    const hangingHung = sinks.hanging.received.filter((r) => r.outcome === 'hung').length;
    console.log(`    "hanging" got ${hangingHung} requests it never answered during the hang (${fmt((hangEndMs - (endBySeq.get(seqC[0]) ?? hangEndMs)) / 1000, 1)} s)`);

    const during = kills.filter((k) => k.during).length;
    const up = restarts.map((r) => r.up);
    const act = restarts.map((r) => r.active);
    rep.info(
      `\n  kills`,
      `${kills.length} × SIGKILL (${during} with a request to "slow" in flight); restart spawn → listening p50 ${fmt(median(up), 2)} s max ${fmt(Math.max(...up), 2)} s, → active p50 ${fmt(median(act), 2)} s max ${fmt(Math.max(...act), 2)} s`,
      { kills: kills.length, during },
    );
    const slowDup = res.slow;
    console.log(`    "slow": ${slowDup.duplicated} duplicates over ${kills.length} kills (${slowDup.dupSameKey} with the same key: dropped by a receiver that honours Idempotency-Key; ${slowDup.dupNewKey} with a new or no key)`);
    const logs = hubLogStats(lab);
    console.log(`    hub logs of phases B–D (${restarts.length + 1} hub processes):`);
    for (const [m, c] of Object.entries(logs).sort((a, b) => b[1] - a[1])) console.log(`      ${String(c).padStart(5)} × ${m}`);
    return { res, base, hang, kills, restarts, left, drainS, phase: Object.fromEntries(phase) };
  } catch (err) {
    const logs = fs.readdirSync(lab.root).filter((f) => /^hub-\d+\.log$/.test(f)).sort();
    if (logs.length) console.error(`last hub log (${logs.at(-1)}):\n${fs.readFileSync(path.join(lab.root, logs.at(-1)), 'utf8').split('\n').slice(-30).join('\n')}`);
    throw err;
  } finally {
    if (hub) await killHub(hub);
    for (const s of all) {
      await s.close();
      live.sinks.delete(s);
    }
    lab.cleanup();
    live.labs.delete(lab);
  }
}

runMain(async () => {
  requireBuild();
  const rep = report('faults');
  rep.header(
    `crash-and-fault probe: ${PHASES.has('cap') ? `cap phase (${CAP_JOBS} + ${CAP_AFTER} jobs), ` : ''}${PHASES.has('faults') ? `${BASE_JOBS} baseline + ${BASE_JOBS} hang + ${JOBS} fault jobs, ${KILLS} kills` : ''} (timeout_seconds = ${TIMEOUT_S})`,
  );
  try {
    await probe(rep);
  } catch (err) {
    killAllNow();
    for (const lab of live.labs) lab.cleanup();
    throw err;
  }
});

async function probe(rep) {
  const t0 = Date.now();
  const meta = {};
  let cap = null;
  if (PHASES.has('cap')) {
    const st = await capFlood();
    const rest = capRest(st);
    rest.catch(() => {}); // awaited below; no unhandled rejection meanwhile
    cap = { st, rest };
  }
  if (PHASES.has('faults')) {
    const f = await phaseFaults(rep);
    meta.faults = { dests: Object.fromEntries(Object.entries(f.res).map(([k, v]) => [k, strip(v)])), base: f.base, hang: f.hang, kills: f.kills.length, restarts: f.restarts, notDrained: f.left, drainSeconds: f.drainS };
  }
  if (cap) {
    if (PHASES.has('faults')) console.log(`\n   (waiting for phase A: up to ${CAP_WINDOW_S} s after its flood and after its rebuild)`);
    const c = await cap.rest;
    capReport(rep, cap.st, c);
    meta.cap = { floodSeconds: cap.st.floodSeconds, a1: strip(c.r1.a), a2: strip(c.r2.a), resent: c.again, late: c.late };
  }
  console.log(`\n   ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
  rep.save({ jobs: JOBS, kills: KILLS, baseJobs: BASE_JOBS, capJobs: CAP_JOBS, capAfter: CAP_AFTER, slowMs: SLOW_MS, failSeconds: FAIL_SECONDS, n429: N429, timeoutSeconds: TIMEOUT_S, backoffMaxSeconds: BACKOFF_MAX_S, ...meta });
}

function strip(a) {
  const { firstArrival, ...rest } = a;
  return rest;
}
