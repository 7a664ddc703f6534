#!/usr/bin/env node
// Target 5: the design flurm replaces, measured the same way, printed beside flurm's figures.
//
// bench/legacy-baseline/pingchilling.sh wraps a job and appends "PID@HOST: Finished [RC] DATE" to
// ~/.pingchilling; bench/legacy-baseline/scanner.sh re-reads every user's whole file every 10 s
// and POSTs (curl) one JSON notice per new Finished line to the same kind of sink the flurm
// benches use. With 1,000 users (each ~/.pingchilling holding BENCH_LEGACY_LINES lines, 6 by
// default) it measures:
//   - the scanner's CPU while no job runs, over 60 s (utime+stime+cutime+cstime of the bash
//     process, so its sleep/curl children count), after its first pass;
//   - exit → notice for BENCH_JOBS (50) jobs started at random moments over 60 s, each
//     `pingchilling.sh sh -c 'date +%s%N > MARKER'` in a random user's home (MARKER = the job's
//     exit, as in latency.mjs); a notice is matched to its job by the wrapper's PID.
// Then prints both designs side by side, flurm's figures taken from bench/results/*.json (the last
// runs of latency.mjs, idle.mjs and overhead.mjs on this machine; run those first).
//
//   node bench/legacy.mjs
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cpuOver, fmt, loadResults, makeLab, median, memMB, pct, report, runMain, runProc, sleep, startSink } from './lib.mjs';

const USERS = Number(process.env.BENCH_USERS ?? 1000);
const LINES = Number(process.env.BENCH_LEGACY_LINES ?? 6);
const JOBS = Number(process.env.BENCH_JOBS ?? 50);
const WINDOW_S = 60;
const IDLE_S = 60;
const INTERVAL_S = 10;
const DIR = path.join(import.meta.dirname, 'legacy-baseline');

runMain(async () => {
  const rep = report('legacy');
  rep.header(`legacy design: bash wrapper + ~/.pingchilling + scanner every ${INTERVAL_S} s, ${USERS.toLocaleString('en')} users`);
  const lab = makeLab('flurm-bench-legacy-');
  const sink = await startSink();
  let scanner;
  try {
    const homes = [];
    for (let u = 0; u < USERS; u++) {
      const home = path.join(lab.homes, `u${String(u).padStart(4, '0')}`);
      fs.mkdirSync(home);
      let text = '';
      for (let i = 0; i < LINES / 2; i++) text += `${20000 + i}@h${(i % 6) + 1}: Started [train run ${i}] 2024-05-01 10:00:0${i % 10}\n${20000 + i}@h${(i % 6) + 1}: Finished [0] 2024-05-01 12:00:0${i % 10}\n`;
      fs.writeFileSync(path.join(home, '.pingchilling'), text);
      homes.push(home);
    }
    const logFd = fs.openSync(path.join(lab.root, 'scanner.log'), 'a');
    scanner = spawn('bash', [path.join(DIR, 'scanner.sh'), lab.homes, String(INTERVAL_S), sink.httpUrl('/legacy')], { stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    await sleep((INTERVAL_S + 2) * 1000); // its first pass (which notifies nothing) is behind it

    const idle = await cpuOver(scanner.pid, IDLE_S);
    const mem = memMB(scanner.pid);
    rep.info(`legacy scanner idle CPU, ${USERS} users`, `${fmt(idle.pct, 2)} % of one core  (${fmt(idle.cpu, 2)} s CPU in ${fmt(idle.wall, 1)} s; VmRSS ${fmt(mem.rss, 1)} MB)`, { cpu_pct: idle.pct, rss_mb: mem.rss }, { id: 'legacy.idle' });

    const markers = path.join(lab.root, 'markers');
    fs.mkdirSync(markers);
    const jobs = new Map(); // wrapper pid → marker file
    const runs = [];
    for (let i = 0; i < JOBS; i++) {
      const at = Math.random() * WINDOW_S * 1000;
      runs.push(
        sleep(at).then(async () => {
          const home = homes[Math.floor(Math.random() * homes.length)];
          const marker = path.join(markers, `job-${i}`);
          const p = runProc('bash', [path.join(DIR, 'pingchilling.sh'), 'sh', '-c', `date +%s%N > ${marker}`], { env: { ...process.env, HOME: home } });
          const r = await p;
          if (r.code !== 0) throw new Error(`pingchilling.sh failed: ${r.stderr}`);
          jobs.set(r.pid, marker);
        }),
      );
    }
    await Promise.all(runs);
    const byPid = (m) => Number(/"text": "(\d+)@/.exec(m.raw)?.[1]);
    const deadline = Date.now() + (INTERVAL_S * 2 + 5) * 1000;
    while (Date.now() < deadline && [...jobs.keys()].some((pid) => !sink.received.some((m) => byPid(m) === pid))) await sleep(100);
    const lat = [];
    let lost = 0;
    for (const [pid, marker] of jobs) {
      const m = sink.received.find((r) => byPid(r) === pid);
      if (!m) {
        lost++;
        continue;
      }
      lat.push((m.t - Number(fs.readFileSync(marker, 'utf8').trim()) / 1e6) / 1000);
    }
    const dup = sink.received.length - lat.length;
    const v = { p50: median(lat), p99: pct(lat, 99), max: Math.max(...lat), n: lat.length, lost };
    rep.info('legacy job exit → notice', `p50 ${fmt(v.p50)} s  p99 ${fmt(v.p99)} s  max ${fmt(v.max)} s  (n=${v.n}${lost ? `, ${lost} lost` : ''}${dup ? `, ${dup} extra notices` : ''})`, v, { id: 'legacy.latency' });

    // Side by side.
    const L = loadResults('latency');
    const I = loadResults('idle');
    const O = loadResults('overhead');
    const fig = (r, id) => r?.figures.find((f) => f.id === id)?.values;
    const d = fig(L, 'latency.doorbell');
    const p = fig(L, 'latency.poll');
    const ic = fig(I, 'idle.cpu');
    const ir = fig(I, 'idle.rss');
    const s = (x, unit, digits = 2) => (x === undefined || !Number.isFinite(x) ? '—' : `${fmt(x, digits)} ${unit}`);
    const rows = [
      ['exit → message, p50', s(d?.p50, 's'), s(p?.p50, 's'), s(v.p50, 's')],
      ['exit → message, p99', s(d?.p99, 's'), s(p?.p99, 's'), s(v.p99, 's')],
      [`idle CPU, ${USERS} users (flurm: × ${I?.hosts ?? '?'} hosts)`, s(ic?.cpu_pct, '%'), '', s(idle.pct, '%')],
      ['resident memory', s(ir?.rss_mb, 'MB', 0), '', s(mem.rss, 'MB', 1)],
      ['wrapper cost vs bare `true`, median', s(fig(O, 'overhead.hub')?.added_ms, 'ms', 0), s(fig(O, 'overhead.nohub')?.added_ms, 'ms', 0), s(O?.figures.find((f) => f.id === 'overhead.legacy')?.values.legacy_ms, 'ms', 0)],
      ['a message says', 'exit/signal, times, memory, log tail, diagnosis', '', 'pid, host, exit code, time'],
    ];
    const head = ['', 'flurm, doorbell', 'flurm, poll only (1 s)', `legacy (${INTERVAL_S} s scan)`];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    console.log('\nside by side' + (L ? ` (flurm figures from bench/results: latency ${L.date}${I ? `, idle ${I.date}` : ''}${O ? `, overhead ${O.date}` : ''})` : ' (no flurm results yet: run latency.mjs, idle.mjs, overhead.mjs first)'));
    for (const r of [head, ...rows]) console.log('  ' + r.map((c, i) => c.padEnd(w[i])).join('   '));
    rep.save({ users: USERS, lines: LINES, jobs: JOBS, intervalSeconds: INTERVAL_S });
  } finally {
    scanner?.kill('SIGTERM');
    await sink.close();
    lab.cleanup();
  }
});
