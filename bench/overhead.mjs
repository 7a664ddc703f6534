#!/usr/bin/env node
// Target 2: what `flurm run` adds to a job: median wall time of `flurm run -- true` minus that of
// a bare `true`.
//
// Each command is started by this script as a real process (spawn → 'close', process.hrtime),
// BENCH_RUNS (30) times, after 3 warm-up rounds, interleaved: every round runs each command once,
// in a fresh random order, so drift and other load hit all of them alike. Commands:
//   true                                   the bare job
//   node -e 0                              Node's own start-up, for context (flurm is a Node CLI)
//   flurm run -- true, hub running         the usual case: start/end fsync'ed, doorbell rung
//   flurm run -- true, no hub              no hub.json: no doorbell request at all
//   pingchilling.sh true                   the legacy bash wrapper (bench/legacy-baseline), for context
// stdin is /dev/null and stdout/stderr are pipes read by this script. The hub (for the doorbell)
// has one user and no routes.
//
//   node bench/overhead.mjs            (BENCH_RUNS=30)
//   BENCH_COMPARE=/other/checkout/dist/cli/flurm.cjs node bench/overhead.mjs
//                                      also runs that build's flurm, interleaved (A/B)
import fs from 'node:fs';
import path from 'node:path';
import { FLURM, fmt, makeLab, median, pct, report, requireBuild, runMain, runProc, startHub, writeHubConfig } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 3;

runMain(async () => {
  requireBuild();
  const rep = report('overhead');
  rep.header(`flurm run overhead (${RUNS} runs of each command, interleaved in random order, after ${WARMUP} warm-up rounds)`);
  const lab = makeLab();
  let hub;
  try {
    const bob = lab.home('bob');
    const noHubCluster = path.join(lab.root, 'no-hub');
    fs.mkdirSync(noHubCluster);
    hub = await startHub(lab, writeHubConfig(lab, { poll: 1 }));
    const base = { ...bob.env };
    delete base.FLURM_HUB_URL;
    const legacyHome = path.join(lab.root, 'home', 'legacy');
    fs.mkdirSync(legacyHome);
    const cmds = [
      { key: 'true', label: 'true', file: 'true', args: [], env: base },
      { key: 'node', label: 'node -e 0', file: process.execPath, args: ['-e', '0'], env: base },
      { key: 'flurm', label: 'flurm run -- true (hub running, doorbell rung)', file: process.execPath, args: [FLURM, 'run', '--', 'true'], env: base },
      { key: 'flurmNoHub', label: 'flurm run -- true (no hub)', file: process.execPath, args: [FLURM, 'run', '--', 'true'], env: { ...base, FLURM_CLUSTER: noHubCluster } },
      { key: 'legacy', label: 'pingchilling.sh true (legacy wrapper)', file: 'bash', args: [path.join(import.meta.dirname, 'legacy-baseline/pingchilling.sh'), 'true'], env: { ...base, HOME: legacyHome } },
    ];
    // BENCH_COMPARE=/other/dist/cli/flurm.cjs: the same two flurm runs with another build, interleaved
    // with this one's (an A/B comparison on a busy machine; figures of separate runs are not).
    const other = process.env.BENCH_COMPARE ? path.resolve(process.env.BENCH_COMPARE) : null;
    if (other) {
      cmds.push({ key: 'otherFlurm', label: 'B: flurm run -- true (hub running)', file: process.execPath, args: [other, 'run', '--', 'true'], env: base });
      cmds.push({ key: 'otherNoHub', label: 'B: flurm run -- true (no hub)', file: process.execPath, args: [other, 'run', '--', 'true'], env: { ...base, FLURM_CLUSTER: noHubCluster } });
    }
    const times = Object.fromEntries(cmds.map((c) => [c.key, []]));
    for (let round = -WARMUP; round < RUNS; round++) {
      const order = [...cmds].sort(() => Math.random() - 0.5);
      for (const c of order) {
        const r = await runProc(c.file, c.args, { env: c.env });
        if (r.code !== 0) throw new Error(`${c.label} exited ${r.code}: ${r.stderr}`);
        if (round >= 0) times[c.key].push(r.ms);
      }
    }
    const events = fs.readdirSync(bob.events).reduce((n, f) => n + fs.readFileSync(path.join(bob.events, f), 'utf8').split('\n').filter(Boolean).length, 0);
    const expectEvents = (other ? 4 : 2) * 2 * (RUNS + WARMUP);
    if (events !== expectEvents) console.log(`  note: ${events} events in the spool, expected ${expectEvents}`);
    const m = Object.fromEntries(cmds.map((c) => [c.key, median(times[c.key])]));
    for (const c of cmds) {
      const t = times[c.key];
      console.log(`  ${c.label.padEnd(48)} median ${fmt(m[c.key], 1).padStart(6)} ms   p10 ${fmt(pct(t, 10), 1).padStart(6)}   p90 ${fmt(pct(t, 90), 1).padStart(6)}`);
    }
    const target = [{ key: 'added_ms', op: '<=', limit: 100, unit: 'ms' }];
    rep.check('flurm run -- true minus true, median, hub running', `${fmt(m.flurm - m.true, 1)} ms  (flurm ${fmt(m.flurm, 1)} ms, true ${fmt(m.true, 1)} ms)`, { added_ms: m.flurm - m.true }, target, { id: 'overhead.hub' });
    rep.check('flurm run -- true minus true, median, no hub', `${fmt(m.flurmNoHub - m.true, 1)} ms  (flurm ${fmt(m.flurmNoHub, 1)} ms)`, { added_ms: m.flurmNoHub - m.true }, target, { id: 'overhead.nohub' });
    rep.info('  context: node -e 0 minus true, median', `${fmt(m.node - m.true, 1)} ms  (Node start-up; flurm's own work is the rest: ${fmt(m.flurm - m.node, 1)} ms with hub)`, { node_ms: m.node - m.true });
    if (other) {
      console.log(`  B = ${other}`);
      rep.info('  B: flurm run -- true minus true, median, hub running', `${fmt(m.otherFlurm - m.true, 1)} ms  (A − B = ${fmt(m.flurm - m.otherFlurm, 1)} ms)`, { added_ms: m.otherFlurm - m.true });
      rep.info('  B: flurm run -- true minus true, median, no hub', `${fmt(m.otherNoHub - m.true, 1)} ms  (A − B = ${fmt(m.flurmNoHub - m.otherNoHub, 1)} ms)`, { added_ms: m.otherNoHub - m.true });
    }
    rep.info('  context: legacy wrapper minus true, median', `${fmt(m.legacy - m.true, 1)} ms`, { legacy_ms: m.legacy - m.true }, { id: 'overhead.legacy' });
    rep.save({ runs: RUNS, medians_ms: m });
  } finally {
    await hub?.stop();
    lab.cleanup();
  }
});
