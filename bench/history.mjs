#!/usr/bin/env node
// Targets: a 7-day history query over 100 nodes answers in ≤ 50 ms; storage stays bounded
// (bytes per node per year, stated in docs/history.md).
//
// A real index file (dist/store: db, nodes, history — what the hub runs) filled as the hub fills
// it: 100 synthetic nodes (lib.mjs syntheticSnapshot: 64 cores, 8 GPUs, 200 busy processes of 6
// users) sampled every 20 minutes for 6 days, then every 5 minutes for the last day (every bucket
// a query reads has samples; fewer writes than the hub's 15 s keep the fill to about a minute),
// each sample also counting the node's state; then pruned as the hub prunes:
//   (a) the 7-day lab query (hour samples, 1-hour step: 168 buckets × 100 nodes), cpu and gpu
//   (b) the 24-hour query (10-minute samples: 144 buckets × 100 nodes)
//   (c) a 7-day report (every user's usage and jobs)
// p50/p95/max over BENCH_ITER runs after a warm-up. Storage: the index's bytes per node per day of
// hour samples and of minute samples (VACUUMed file sizes, one node class at a time), and what a
// year at the default retention costs per node. Context: `node -e 0` in the same run.
//
//   npm run build && node bench/history.mjs      (BENCH_NODES=100, BENCH_ITER=50)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { FLURM, fmt, median, pct, prng, report, requireBuild, syntheticSnapshot } from './lib.mjs';

const NODES = Number(process.env.BENCH_NODES ?? 100);
const ITER = Number(process.env.BENCH_ITER ?? 50);
const MIN = 60_000;
const DAY = 86_400_000;
const dist = (p) => import(pathToFileURL(path.join(path.dirname(FLURM), '..', p)).href);

requireBuild();
const { openDb } = await dist('store/db.js');
const { NodeStore } = await dist('store/nodes.js');
const { HistoryStore, chooseRange } = await dist('store/history.js');

const rep = report('history');
rep.header(`history: ${NODES} nodes, a week of samples`);

function fill(file, { fromMs, toMs, everyMs, nodes = NODES }) {
  const db = openDb(file, { skipLocalCheck: true });
  const store = new NodeStore(db);
  const history = new HistoryStore(db);
  const rand = prng(7);
  const snaps = Array.from({ length: nodes }, (_, i) => syntheticSnapshot(i + 1, rand));
  for (const s of snaps) store.save({ host: s.host, seq: s.seq, snapshot: s, writer_uid: 0, changed_ms: fromMs, idle_since_ms: null, down: false });
  for (let t = fromMs; t < toMs; t += everyMs) {
    db.transaction(() => {
      for (const s of snaps) {
        store.addSample(s.host, s, t);
        history.recordNode(s.host, s, t);
      }
      history.recordStates(snaps.map((s) => ({ host: s.host, state: 'fresh', cpus: s.cpus, memTotal: s.mem.total_bytes, gpus: 8 })), t);
    })();
  }
  return { db, store, history };
}

function timed(fn) {
  for (let i = 0; i < 5; i++) fn();
  const ms = [];
  for (let i = 0; i < ITER; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return ms;
}

const line = (ms) => `p50 ${fmt(median(ms))} ms, p95 ${fmt(pct(ms, 95))} ms, max ${fmt(Math.max(...ms))} ms`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-bench-history-'));
try {
  const now = Math.floor(Date.now() / MIN) * MIN;
  const t0 = Date.now();
  const keep = { 60: 2 * DAY, 600: 14 * DAY, 3600: 400 * DAY };
  const file = path.join(dir, 'week.db');
  const w = fill(file, { fromMs: now - 7 * DAY, toMs: now - DAY, everyMs: 20 * MIN });
  w.db.close();
  const w2 = fill(file, { fromMs: now - DAY, toMs: now, everyMs: 5 * MIN });
  w2.store.prune(now, keep);
  w2.history.prune(now, keep);
  rep.info('filled', `${NODES} nodes × 7 days in ${fmt((Date.now() - t0) / 1000)} s`);

  const week = chooseRange(now - 7 * DAY, now, keep[60], now);
  const day = chooseRange(now - DAY, now, keep[60], now);
  let buckets = 0;
  const cpuWeek = timed(() => (buckets = w2.history.nodes('cpu', week).hosts.length));
  rep.check('7-day query, cpu', `${line(cpuWeek)} (${buckets} nodes × ${Math.round((week.untilMs - week.sinceMs) / week.stepMs)} buckets)`, { p50: median(cpuWeek) }, [{ key: 'p50', op: '<=', limit: 50, unit: 'ms' }]);
  const gpuWeek = timed(() => w2.history.nodes('gpu', week));
  rep.check('7-day query, gpu', line(gpuWeek), { p50: median(gpuWeek) }, [{ key: 'p50', op: '<=', limit: 50, unit: 'ms' }]);
  const cpuDay = timed(() => w2.history.nodes('cpu', day));
  rep.check('24-hour query, cpu (10-minute samples)', line(cpuDay), { p50: median(cpuDay) }, [{ key: 'p50', op: '<=', limit: 50, unit: 'ms' }]);
  const usage = timed(() => w2.history.usage(now - 7 * DAY, now));
  rep.info('7-day usage by user', line(usage), { p50: median(usage) });
  w2.db.close();

  // Storage per node: hour samples alone over 30 days, minute samples alone over 1 day (10 nodes, VACUUMed).
  const size = (f) => {
    const db = openDb(f, { skipLocalCheck: true });
    db.exec('VACUUM');
    db.close();
    return fs.statSync(f).size;
  };
  const emptyFile = path.join(dir, 'empty.db');
  openDb(emptyFile, { skipLocalCheck: true }).close();
  const empty = size(emptyFile);
  const hourFile = path.join(dir, 'hours.db');
  fill(hourFile, { fromMs: now - 30 * DAY, toMs: now, everyMs: 60 * MIN, nodes: 10 }).db.close();
  const minuteFile = path.join(dir, 'minutes.db');
  fill(minuteFile, { fromMs: now - DAY, toMs: now, everyMs: MIN, nodes: 10 }).db.close();
  // Each hourly sample wrote a row at each of the 3 resolutions: a third is the hour tier's.
  const hourTierDay = (size(hourFile) - empty) / 10 / 30 / 3;
  const minuteDay = (size(minuteFile) - empty) / 10;
  // At the defaults: hours kept 400 days, 10-minute samples 14 days, minutes 2 days (the last two steady).
  const yearOfHours = hourTierDay * 365;
  const steady = hourTierDay * 6 * 14 + minuteDay * 2;
  rep.info('index per node per day', `hour tier ~${fmt(hourTierDay / 1024)} KiB, every tier at once ~${fmt(minuteDay / 1024)} KiB (8 GPUs, 6 users)`, { hourTierDay, minuteDay });
  rep.check('index per node per year', `${fmt(yearOfHours / 1024 ** 2)} MiB of hour samples, plus a steady ${fmt(steady / 1024 ** 2)} MiB of 10-minute and minute samples`, { mib: (yearOfHours + steady) / 1024 ** 2 }, [{ key: 'mib', op: '<=', limit: 20, unit: 'MiB' }]);

  const base = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    base.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  rep.info('baseline: node -e 0', `median ${fmt(median(base))} ms`);
  rep.save({ nodes: NODES, iterations: ITER });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
