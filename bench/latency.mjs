#!/usr/bin/env node
// Target 1: job exit → message received, with and without the doorbell.
//
// One hub (poll_interval_seconds = 1, one route for everything to a local JSON-webhook sink), one
// user. Each job is `flurm run -q -t bench-<mode>-<i> -- sh -c 'date +%s%N > MARKER'`: the marker
// holds the job's last moment (its exit, to the millisecond), the sink records when the message
// arrived; both are this machine's wall clock. Jobs run one after the other with a random pause
// of 0–1 s between them, so the exit falls at a random phase of the hub's 1 s poll.
//   with doorbell:    FLURM_CLUSTER points at the lab's cluster dir (hub.json → doorbell rung)
//   without doorbell: FLURM_HUB_URL=http://127.0.0.1:1 (the ring is refused; the hub must poll)
// Also printed: exit → `end` event written (its ts), and exit → `flurm run` returned.
//
//   node bench/latency.mjs            (BENCH_JOBS=50 per mode by default)
import fs from 'node:fs';
import path from 'node:path';
import { FLURM, fmt, makeLab, median, pct, report, requireBuild, runMain, runProc, sleep, startHub, startSink, writeHubConfig } from './lib.mjs';

const JOBS = Number(process.env.BENCH_JOBS ?? 50);
const WARMUP = 2;

runMain(async () => {
  requireBuild();
  const rep = report('latency');
  rep.header(`job exit → message received (${JOBS} jobs per mode after ${WARMUP} warm-up jobs, poll_interval_seconds = 1)`);
  const lab = makeLab();
  const sink = await startSink();
  let hub;
  try {
    const alice = lab.home('alice');
    hub = await startHub(lab, writeHubConfig(lab, { poll: 1, routes: [{ on: ['all'], to: [sink.url('/hook')] }] }));
    const markers = path.join(lab.root, 'markers');
    fs.mkdirSync(markers);

    const modes = [
      { key: 'doorbell', label: 'with doorbell', env: { ...alice.env } },
      { key: 'poll', label: 'without doorbell (poll only)', env: { ...alice.env, FLURM_HUB_URL: 'http://127.0.0.1:1' } },
    ];
    const out = {};
    for (const mode of modes) {
      const samples = [];
      let lost = 0;
      for (let i = -WARMUP; i < JOBS; i++) {
        await sleep(Math.random() * 1000);
        const title = `bench-${mode.key}-${String(i + WARMUP).padStart(4, '0')}`; // fixed width: no title is a prefix of another
        const marker = path.join(markers, title);
        const r = await runProc(process.execPath, [FLURM, 'run', '-q', '-t', title, '--', 'sh', '-c', `date +%s%N > ${marker}`], { env: mode.env });
        const returnedMs = Date.now();
        if (r.code !== 0) throw new Error(`flurm run failed (${r.code}): ${r.stderr}`);
        const msg = await sink.waitFor((m) => m.raw.includes(title), 10_000);
        if (!msg) {
          lost++;
          console.log(`  ${title}: no message within 10 s`);
          continue;
        }
        const exitMs = Number(fs.readFileSync(marker, 'utf8').trim()) / 1e6;
        if (i >= 0) samples.push({ title, exitMs, returnedMs, arrivedMs: msg.t, latency: (msg.t - exitMs) / 1000 });
      }
      // The `end` event's ts (written by flurm after the child exited, before the doorbell).
      const endTs = new Map();
      const idTitle = new Map();
      for (const f of fs.readdirSync(alice.events)) {
        for (const line of fs.readFileSync(path.join(alice.events, f), 'utf8').split('\n')) {
          if (!line) continue;
          const e = JSON.parse(line);
          if (e.type === 'start') idTitle.set(e.id, e.title);
          if (e.type === 'end') endTs.set(e.id, Date.parse(e.ts));
        }
      }
      const tsByTitle = new Map([...idTitle].map(([id, t]) => [t, endTs.get(id)]));
      const lat = samples.map((s) => s.latency);
      const written = samples.map((s) => (tsByTitle.get(s.title) - s.exitMs) / 1000).filter(Number.isFinite);
      const returned = samples.map((s) => (s.returnedMs - s.exitMs) / 1000);
      const fromWrite = samples.map((s) => (s.arrivedMs - tsByTitle.get(s.title)) / 1000).filter(Number.isFinite);
      out[mode.key] = { p50: median(lat), p99: pct(lat, 99), max: Math.max(...lat), n: lat.length, lost };
      const v = out[mode.key];
      const text = `p50 ${fmt(v.p50)} s  p99 ${fmt(v.p99)} s  max ${fmt(v.max)} s  (n=${v.n}${lost ? `, ${lost} lost` : ''})`;
      const targets = mode.key === 'doorbell' ? [{ key: 'p50', op: '<=', limit: 0.3, unit: 's' }, { key: 'p99', op: '<=', limit: 1, unit: 's' }] : [{ key: 'p50', op: '<=', limit: 1.5, unit: 's' }];
      rep.check(`job exit → message, ${mode.label}`, text, v, lost ? [...targets, { key: 'lost', op: '<=', limit: 0 }] : targets, { id: `latency.${mode.key}` });
      console.log(`    slowest: ${[...lat].sort((a, b) => b - a).slice(0, 3).map((x) => fmt(x, 3)).join(', ')} s`);
      console.log(`    of which: exit → end event written p50 ${fmt(median(written), 3)} s; end event → message p50 ${fmt(median(fromWrite), 3)} s p99 ${fmt(pct(fromWrite, 99), 3)} s; exit → flurm run returned p50 ${fmt(median(returned), 3)} s`);
    }
    rep.save({ jobsPerMode: JOBS });
  } finally {
    await hub?.stop();
    await sink.close();
    lab.cleanup();
  }
});
