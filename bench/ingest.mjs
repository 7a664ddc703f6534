#!/usr/bin/env node
// Target 4: 100,000 events ingested in <= 3 s.
//
// The events: 50,000 finished jobs (a `start` and an `end` line each, ~300 bytes per line, ~30 MB
// in all) of one user on one host (events/h1.jsonl), timestamped a few minutes ago. The hub has no
// routes, so nothing is sent: this measures reading, validating, indexing (SQLite) and the
// per-chunk transactions. Two ways:
//   running hub: the hub runs with the (empty) file already tracked; the 100,000 lines are
//                appended with one write + fsync, then the doorbell is rung; timed from the
//                start of the write until /healthz counts 100,000 events (polled every 50 ms).
//   cold start:  the file is written first; timed from spawning `flurm hub` (Node start-up and
//                a new index included) until /healthz counts 100,000 events.
// Printed: time, events/s, the hub's VmRSS and VmHWM after, and that no line was invalid.
//
//   node bench/ingest.mjs            (BENCH_EVENTS=100000)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, health, jobLines, makeLab, memMB, report, requireBuild, runMain, startHub, waitUntil, writeHubConfig } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);

function makeEvents(salt) {
  const me = os.userInfo().username;
  const t = Date.now() - 10 * 60_000;
  const parts = [];
  for (let n = 0; n < EVENTS / 2; n++) parts.push(jobLines({ ms: t + n, n, salt, user: me, host: 'h1', title: `sweep-${n % 100}`, pad: 300 }));
  return Buffer.from(parts.join(''));
}

async function waitForEvents(hub, expected) {
  return waitUntil(async () => {
    const h = await health(hub);
    return h.ingest.events >= expected ? h : null;
  }, { timeoutMs: 120_000, everyMs: 50, what: `${expected} events in the index` });
}

runMain(async () => {
  requireBuild();
  const rep = report('ingest');
  rep.header(`ingest of ${EVENTS.toLocaleString('en')} events (${EVENTS / 2} start/end pairs, one user, one file, no routes)`);
  const target = [{ key: 'seconds', op: '<=', limit: 3 * (EVENTS / 100_000), unit: 's' }];

  // 1. Appended while the hub runs.
  {
    const lab = makeLab();
    let hub;
    try {
      const u = lab.home('bulk');
      const file = path.join(u.events, 'h1.jsonl');
      fs.writeFileSync(file, '');
      const data = makeEvents(1);
      hub = await startHub(lab, writeHubConfig(lab, { poll: 1 }));
      await waitUntil(async () => (await health(hub)).ingest.files >= 1, { what: 'the events file tracked' });
      const t0 = Date.now();
      const fd = fs.openSync(file, 'a');
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      const wroteMs = Date.now() - t0;
      await fetch(`${hub.url}/doorbell?user=${encodeURIComponent(os.userInfo().username)}`, { method: 'POST' });
      const h = await waitForEvents(hub, EVENTS);
      const s = (Date.now() - t0) / 1000;
      const mem = memMB(hub.pid);
      rep.check('100,000 events appended to a running hub → indexed', `${fmt(s, 2)} s  (${Math.round(EVENTS / s).toLocaleString('en')} events/s; ${fmt(data.length / 1e6, 1)} MB, write+fsync ${wroteMs} ms; invalid ${h.ingest.invalid})`, { seconds: s, events_per_s: EVENTS / s }, target, { id: 'ingest.running' });
      rep.info('  hub memory after', `VmRSS ${fmt(mem.rss, 0)} MB  VmHWM ${fmt(mem.hwm, 0)} MB`, { rss_mb: mem.rss, hwm_mb: mem.hwm });
    } finally {
      await hub?.stop();
      lab.cleanup();
    }
  }

  // 2. On disk before the hub starts.
  {
    const lab = makeLab();
    let hub;
    try {
      const u = lab.home('bulk');
      fs.writeFileSync(path.join(u.events, 'h1.jsonl'), makeEvents(2));
      hub = await startHub(lab, writeHubConfig(lab, { poll: 1 }));
      const h = await waitForEvents(hub, EVENTS);
      const s = (Date.now() - hub.startedMs) / 1000;
      const mem = memMB(hub.pid);
      rep.check('100,000 events on disk, hub cold start → indexed', `${fmt(s, 2)} s  (${Math.round(EVENTS / s).toLocaleString('en')} events/s, Node start-up and a new index included; hub ready after ${fmt((hub.readyMs - hub.startedMs) / 1000, 2)} s; invalid ${h.ingest.invalid})`, { seconds: s, events_per_s: EVENTS / s }, target, { id: 'ingest.cold' });
      rep.info('  hub memory after', `VmRSS ${fmt(mem.rss, 0)} MB  VmHWM ${fmt(mem.hwm, 0)} MB`, { rss_mb: mem.rss, hwm_mb: mem.hwm });
    } finally {
      await hub?.stop();
      lab.cleanup();
    }
  }
  rep.save({ events: EVENTS });
});
