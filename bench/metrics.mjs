#!/usr/bin/env node
// Target: a Prometheus scrape of a real hub's GET /metrics at 100 nodes in ≤ 50 ms (p95).
//
// 100 synthetic nodes at the agent's caps (lib.mjs syntheticSnapshot: 64 cores, 200 busy
// processes, 1,000 pids, 8 GPUs each), written to a real `flurm hub`'s nodes/ twice (a node is
// fresh once its seq changed), so every node has all its series: ~3,000 samples. The clock runs
// from fetch() to the whole body read, one scrape after another, as Prometheus does. For context,
// in the same run: GET /healthz (the HTTP round trip alone) and `node -e 0` (Node's start-up),
// interleaved with a few scrapes, since this machine is noisy.
//
//   npm run build && node bench/metrics.mjs      (BENCH_NODES=100, BENCH_ITER=200)
import { ROOT, fmt, hubWithSyntheticNodes, latencyStats, makeLab, median, msLine, report, requireBuild, runMain, runProc } from './lib.mjs';

const NODES = Number(process.env.BENCH_NODES ?? 100);
const ITER = Number(process.env.BENCH_ITER ?? 200);
const WARMUP = 20;

async function timeScrapes(url, n) {
  const ms = [];
  for (let i = 0; i < WARMUP + n; i++) {
    const t0 = process.hrtime.bigint();
    const r = await fetch(url);
    await r.text();
    if (i >= WARMUP) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return ms;
}

runMain(async () => {
  requireBuild();
  const rep = report('metrics');
  rep.header(`GET /metrics on a real hub with ${NODES} nodes (64 cores, 200 busy processes, 8 GPUs each), ${ITER} scrapes`);
  const lab = makeLab('flurm-bench-metrics-');
  let hub = null;
  try {
    ({ hub } = await hubWithSyntheticNodes(lab, NODES, '[nodes]\npoll_interval_seconds = 0.5\n'));

    const body = await (await fetch(`${hub.url}/metrics`)).text();
    const samples = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const ups = (body.match(/^flurm_node_up\{[^}]*\} 1$/gm) ?? []).length;
    if (ups !== NODES) throw new Error(`expected ${NODES} nodes up in /metrics, saw ${ups}`);

    const scrape = latencyStats(await timeScrapes(`${hub.url}/metrics`, ITER));
    rep.check(`GET /metrics, ${NODES} nodes (${samples} samples, ${fmt(body.length / 1e3, 0)} kB)`, msLine(scrape), scrape, [{ key: 'p95_ms', op: '<=', limit: 50, unit: 'ms' }], { id: 'metrics.scrape' });
    const healthz = latencyStats(await timeScrapes(`${hub.url}/healthz`, ITER));
    rep.info('    context: GET /healthz on the same hub (the HTTP round trip)', msLine(healthz), healthz);

    // Baseline in the same run: `node -e 0` interleaved with scrapes.
    const bare = [];
    const inter = [];
    for (let i = 0; i < 12; i++) {
      const n = await runProc(process.execPath, ['-e', '0'], { cwd: ROOT });
      const t0 = process.hrtime.bigint();
      await (await fetch(`${hub.url}/metrics`)).text();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (i >= 2) {
        bare.push(n.ms);
        inter.push(ms);
      }
    }
    rep.info(
      '    baseline: `node -e 0`, spawn to exit, interleaved with scrapes',
      `median ${fmt(median(bare), 1)} ms (n=${bare.length}); the interleaved scrapes: median ${fmt(median(inter), 2)} ms`,
      { node_median_ms: median(bare), interleaved_scrape_median_ms: median(inter) },
    );
    rep.save({ nodes: NODES, iterations: ITER, samples, body_bytes: body.length });
  } finally {
    await hub?.stop();
    lab.cleanup?.();
  }
});
