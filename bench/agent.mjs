#!/usr/bin/env node
// The node agent's cost, with 1,000 extra sleeping processes on the node:
//
//   1. CPU of one agent sample, in process: the Sampler from dist/agent/sampler.js, measured with
//      process.cpuUsage() around each sample(), BENCH_SAMPLES (20) samples 250 ms apart after two
//      warm-up ones. Target: median ≤ 20 ms.
//   2. Beside it, the cron approach it replaces, run as a real shell pipeline every time:
//        ps -o pid,user,pcpu,pmem --sort=-pcpu | awk '$3 > 2.0'; uptime
//      and the same with `ps -eo` (without -e, ps lists only this user's processes on this
//      terminal; -e is what it takes to see the whole node). Its CPU is the children's: utime +
//      stime of reaped children (cutime + cstime of /proc/self/stat, clock ticks) around each
//      spawnSync of `sh -c '...'`, so sh, ps, awk and uptime all count. Ticks are 10 ms, so the
//      mean over the runs is printed beside the median.
//   3. For context: a whole `flurm agent --once` process (Node start-up included), measured the
//      same way (that is what a cron-driven agent costs per run).
//   4. Memory of a long-running `flurm agent --interval 1s` after BENCH_AGENT_SAMPLES (30)
//      snapshots: VmRSS and VmHWM from /proc/PID/status. Target: ≤ 60 MB.
//
// Unlike the other benches this one imports dist/ (the Sampler) for (1): the figure is the cost
// of one sample, not of Node's start-up.
//
//   npm run build && node bench/agent.mjs      (BENCH_PROCS=1000 BENCH_SAMPLES=20 BENCH_AGENT_SAMPLES=30)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLK_TCK, FLURM, ROOT, fmt, makeLab, median, memMB, pct, report, requireBuild, runMain, sleep, waitUntil } from './lib.mjs';

const PROCS = Number(process.env.BENCH_PROCS ?? 1000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const AGENT_SAMPLES = Number(process.env.BENCH_AGENT_SAMPLES ?? 30);

/** utime+stime of this process's reaped children, in seconds (fields 16, 17 of /proc/self/stat). */
function childrenCpuSeconds() {
  const s = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

/** CPU ms of each run of `sh -c cmd` (children's rusage), and their mean from the total. */
function shellCpu(cmd, runs) {
  const per = [];
  const total0 = childrenCpuSeconds();
  for (let i = 0; i < runs; i++) {
    const c0 = childrenCpuSeconds();
    const r = spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
    if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
    per.push((childrenCpuSeconds() - c0) * 1000);
  }
  return { per, mean: ((childrenCpuSeconds() - total0) * 1000) / runs };
}

function procCount() {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}

runMain(async () => {
  requireBuild();
  const rep = report('agent');
  rep.header(`node agent: one sample with ${PROCS} extra sleeping processes, vs the ps | awk cron job; long-running RSS`);
  const { Sampler } = await import(pathToFileURL(path.join(ROOT, 'dist/agent/sampler.js')).href);
  const lab = makeLab('flurm-bench-agent-');
  const before = procCount();
  // One shell that starts PROCS sleepers, in its own process group so one kill ends them all.
  const herd = spawn('sh', ['-c', `i=0; while [ $i -lt ${PROCS} ]; do sleep 3600 & i=$((i+1)); done; wait`], { stdio: 'ignore', detached: true });
  let agent;
  try {
    await waitUntil(() => procCount() >= before + PROCS, { timeoutMs: 60_000, what: `${PROCS} sleeping processes` });
    const nodeProcs = procCount();
    console.log(`  ${nodeProcs} processes on the node (${before} before the ${PROCS} sleepers)`);

    // 1. one sample, in process
    const sampler = new Sampler({ version: 'bench' });
    for (let i = 0; i < 2; i++) {
      await sampler.sample(15);
      await sleep(250);
    }
    const cpuMs = [];
    let last;
    for (let i = 0; i < SAMPLES; i++) {
      const u0 = process.cpuUsage();
      last = await sampler.sample(15);
      const u = process.cpuUsage(u0);
      cpuMs.push((u.user + u.system) / 1000);
      await sleep(250);
    }
    if (last.pids.length < PROCS) throw new Error(`the sample saw only ${last.pids.length} processes`);
    const snapBytes = Buffer.byteLength(JSON.stringify(last));
    rep.check(
      'agent sample ≤ 20 ms CPU with 1,000 processes',
      `median ${fmt(median(cpuMs), 1)} ms, p95 ${fmt(pct(cpuMs, 95), 1)} ms, max ${fmt(Math.max(...cpuMs), 1)} ms  (n=${SAMPLES}, ${last.pids.length} pids, ${last.busy.length} busy, snapshot ${(snapBytes / 1024).toFixed(0)} KiB)`,
      { median_ms: median(cpuMs), p95_ms: pct(cpuMs, 95) },
      [{ key: 'median_ms', op: '<=', limit: 20, unit: 'ms' }],
      { id: 'agent.sample_cpu' },
    );

    // 2. the cron pipeline it replaces
    const literal = `ps -o pid,user,pcpu,pmem --sort=-pcpu | awk '$3 > 2.0'; uptime`;
    const wholeNode = `ps -eo pid,user,pcpu,pmem --sort=-pcpu | awk '$3 > 2.0'; uptime`;
    for (const [label, cmd, id] of [
      ['cron: ps -o … | awk + uptime (as written: own terminal only)', literal, 'agent.cron_literal'],
      ['cron: ps -eo … | awk + uptime (whole node)', wholeNode, 'agent.cron_all'],
    ]) {
      shellCpu(cmd, 2); // warm the page cache
      const r = shellCpu(cmd, SAMPLES);
      rep.info(label, `mean ${fmt(r.mean, 1)} ms CPU, median ${fmt(median(r.per), 0)} ms, p95 ${fmt(pct(r.per, 95), 0)} ms  (n=${SAMPLES}, 10 ms ticks)`, { mean_ms: r.mean, median_ms: median(r.per) }, { id });
    }

    // 3. a whole `flurm agent --once` process, for context
    const once = shellCpu(`FLURM_HOST=bench-once ${JSON.stringify(process.execPath)} ${JSON.stringify(FLURM)} agent --once --cluster ${JSON.stringify(lab.cluster)}`, 5);
    rep.info('context: whole `flurm agent --once` process (Node start-up, two samples, one write)', `mean ${fmt(once.mean, 0)} ms CPU  (n=5)`, { mean_ms: once.mean }, { id: 'agent.once_process' });

    // 4. long-running RSS
    const file = path.join(lab.cluster, 'nodes', 'bench-agent.json');
    const log = fs.openSync(path.join(lab.root, 'agent.log'), 'a');
    agent = spawn(process.execPath, [FLURM, 'agent', '--interval', '1s', '--cluster', lab.cluster], { stdio: ['ignore', log, log], env: { ...process.env, FLURM_HOST: 'bench-agent' } });
    fs.closeSync(log);
    const seqOf = () => {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')).seq;
      } catch {
        return 0;
      }
    };
    await waitUntil(() => seqOf() >= AGENT_SAMPLES, { timeoutMs: (AGENT_SAMPLES + 30) * 1000, everyMs: 200, what: `${AGENT_SAMPLES} snapshots` });
    const mem = memMB(agent.pid);
    rep.check(
      'long-running agent RSS ≤ 60 MB',
      `VmRSS ${fmt(mem.rss, 1)} MB, VmHWM ${fmt(mem.hwm, 1)} MB after ${seqOf()} snapshots (--interval 1s, ${nodeProcs} processes)`,
      { rss_mb: mem.rss, hwm_mb: mem.hwm },
      [{ key: 'rss_mb', op: '<=', limit: 60, unit: 'MB' }],
      { id: 'agent.rss' },
    );
    rep.save({ procs: PROCS, samples: SAMPLES, node_processes: nodeProcs, sample_cpu_ms: cpuMs });
  } finally {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((r) => agent.once('exit', r));
    }
    try {
      process.kill(-herd.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    lab.cleanup();
  }
});
