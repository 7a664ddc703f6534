#!/usr/bin/env node
// Issue 4 targets on a REAL SLURM (one node, as .ci/run starts it from ../shared/reference/slurm):
//
// 1. SLURM commands per minute while the hub watches 1, 100 and 1,000 jobs, at the DEFAULT
//    interval (poll 30 s, sinfo 60 s). The hub gets a bin_dir of wrappers that log each call and
//    exec the real squeue/sacct/scontrol/sinfo, so every call is counted. The watched jobs are
//    real: submitted with `sbatch --hold` (pending, cheap for slurmctld) and registered with
//    `flurm watch --slurm`. Target: constant, <= 4 per minute. Beside it: one poller per job
//    (a per-job monitor asking squeue every 30 s) makes 2 calls per job per minute.
// 2. Job end → message received, p50, at the default interval: short real jobs submitted with
//    `flurm submit` at random moments; their end is SLURM's own End time (sacct, this machine's
//    clock, whole seconds) and the message's arrival is the sink's clock. Target: p50 <= poll
//    interval + 1 s.
//
//   node bench/slurm.mjs          BENCH_SLURM_WINDOW=120 (seconds counted per job count)
//                                 BENCH_SLURM_JOBS=10 (latency samples)
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { FLURM, fmt, makeLab, median, pct, report, requireBuild, runMain, runProc, sleep, startHub, startSink, writeHubConfig, waitUntil } from './lib.mjs';

const WINDOW_S = Number(process.env.BENCH_SLURM_WINDOW ?? 120);
const LAT_JOBS = Number(process.env.BENCH_SLURM_JOBS ?? 10);
const POLL_S = 30;
const COMMANDS = ['squeue', 'sacct', 'scontrol', 'sinfo'];

function which(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** A bin dir whose commands append one line per call to `log`, then exec the real one. */
function countingBin(root, log) {
  const dir = path.join(root, 'slurm-bin');
  fs.mkdirSync(dir);
  for (const c of COMMANDS) {
    const real = which(c);
    fs.writeFileSync(path.join(dir, c), `#!/bin/sh\necho "$(date +%s.%N) ${c}" >> "${log}"\nexec "${real}" "$@"\n`, { mode: 0o755 });
  }
  return dir;
}

function sbatch(args) {
  return execFileSync('sbatch', ['--parsable', ...args], { encoding: 'utf8' }).trim().split(';')[0];
}

runMain(async () => {
  requireBuild();
  if (!which('squeue') || !which('sbatch')) {
    console.log('slurm bench: no SLURM here (squeue/sbatch not on PATH); start one with ../shared/reference/slurm/setup-local-slurm.sh');
    process.exit(1);
  }
  const rep = report('slurm');
  rep.header(`SLURM commands per minute at the default interval (${POLL_S} s), and job end → message`);
  const lab = makeLab('flurm-bench-slurm-');
  const sink = await startSink();
  const held = [];
  let hub;
  try {
    const me = lab.home('me');
    fs.chmodSync(me.home, 0o755);
    const callLog = path.join(lab.root, 'calls.log');
    fs.writeFileSync(callLog, '');
    const bin = countingBin(lab.root, callLog);
    const config = writeHubConfig(lab, { poll: 1, routes: [{ on: ['all'], to: [sink.url('/hook')] }], extra: `[slurm]\nenabled = true\nbin_dir = "${bin}"\n` });
    hub = await startHub(lab, config);

    // ---- 1. commands per minute, watching N held jobs -----------------------------------------
    const perN = {};
    for (const n of [1, 100, 1000]) {
      const fresh = [];
      while (held.length < n) {
        const id = sbatch(['--hold', '-J', 'flurm-bench-held', '-o', '/dev/null', '--wrap', 'true']);
        held.push(id);
        fresh.push(id);
      }
      // Registered as a user would: `flurm watch --slurm ID`, 8 at a time.
      for (let i = 0; i < fresh.length; i += 8) {
        await Promise.all(fresh.slice(i, i + 8).map(async (id) => {
          const r = await runProc(process.execPath, [FLURM, 'watch', '--slurm', id], { env: me.env });
          if (r.code !== 0) throw new Error(`flurm watch --slurm ${id} failed: ${r.stderr}`);
        }));
      }
      // Let the hub ingest the registrations, then count over a window.
      await waitUntil(async () => (await (await fetch(`${hub.url}/healthz`)).json()).slurm?.watching >= n, { timeoutMs: 120_000, what: `${n} jobs watched` });
      const from = Date.now() / 1000;
      await sleep(WINDOW_S * 1000);
      const to = Date.now() / 1000;
      const calls = fs.readFileSync(callLog, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')).filter(([t]) => Number(t) >= from && Number(t) < to);
      const byCmd = Object.fromEntries(COMMANDS.map((c) => [c, calls.filter(([, k]) => k === c).length]));
      const perMin = calls.length / ((to - from) / 60);
      perN[n] = perMin;
      rep.check(`  watching ${String(n).padStart(4)} jobs`, `${fmt(perMin)} SLURM commands/min (${COMMANDS.map((c) => `${c} ${byCmd[c]}`).join(', ')} in ${Math.round(to - from)} s); one poller per job: ${2 * n}/min`, { per_min: perMin }, [{ key: 'per_min', op: '<=', limit: 4, unit: '/min' }], { id: `per-min-${n}` });
    }
    const spread = Math.max(...Object.values(perN)) - Math.min(...Object.values(perN));
    rep.info('  constant in the number of jobs', `max − min over 1/100/1000 jobs: ${fmt(spread)} commands/min`, { spread });
    execFileSync('scancel', held.splice(0));

    // ---- 2. job end → message ------------------------------------------------------------------
    const samples = [];
    for (let i = 0; i < LAT_JOBS; i++) {
      await sleep(Math.random() * POLL_S * 1000);
      const title = `bench-slurm-${String(i).padStart(3, '0')}`;
      const r = await runProc(process.execPath, [FLURM, 'submit', '-t', title, '--', '--parsable', '-o', '/dev/null', '--wrap', 'sleep 1'], { env: me.env, cwd: me.home });
      if (r.code !== 0) throw new Error(`flurm submit failed: ${r.stderr}`);
      const id = r.stdout.trim().split(';')[0];
      const msg = await sink.waitFor((m) => m.raw.includes(title), (POLL_S * 3 + 60) * 1000);
      if (!msg) {
        console.log(`  ${title}: no message`);
        continue;
      }
      const end = execFileSync('sacct', ['-n', '-X', '-P', '-j', id, '-o', 'End'], { encoding: 'utf8', env: { ...process.env, SLURM_TIME_FORMAT: '%s' } }).trim();
      const endMs = Number(end) * 1000;
      // End is whole seconds (floor): the job ended within [End, End + 1 s); count from End + 0.5 s.
      samples.push((msg.t - (endMs + 500)) / 1000);
      console.log(`  ${title} (job ${id}): end → message ${fmt(samples.at(-1))} s`);
    }
    const p50 = median(samples);
    rep.check('  job end → message', `p50 ${fmt(p50)} s, p90 ${fmt(pct(samples, 90))} s, max ${fmt(Math.max(...samples))} s over ${samples.length} jobs (poll interval ${POLL_S} s)`, { p50 }, [{ key: 'p50', op: '<=', limit: POLL_S + 1, unit: 's' }], { id: 'end-to-message' });
    rep.save({ window_seconds: WINDOW_S, poll_interval_seconds: POLL_S });
  } finally {
    if (held.length) {
      try {
        execFileSync('scancel', held);
      } catch {
        /* gone */
      }
    }
    await hub?.stop();
    await sink.close();
    lab.cleanup();
  }
});
