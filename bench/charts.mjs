#!/usr/bin/env node
// Target: a chart drawn warm (echarts and resvg already imported) in ≤ 150 ms, PNG and SVG, for
// each fixed chart of test/fixtures/charts/ (light theme, default size, scale 1): BENCH_ITER (20)
// renders each after 3 warm-ups, median and p95. Context, same run: the cold first render (the
// PNG of the first fixture, its echarts and resvg imports included: what the first chart after a
// hub start costs), `node -e 0` (Node's start-up) and PNG at scale 2 for the first fixture.
//
// src/charts/render.ts is TypeScript: it is bundled with esbuild into bench/results/ (importTs in
// lib.mjs, packages left external, so its `import('echarts')` stays dynamic and lazy) and imported.
// No build needed. About 30–60 s on this machine (the 100-row heatmap dominates).
//
//   node bench/charts.mjs      (BENCH_ITER=20)
import fs from 'node:fs';
import path from 'node:path';
import { fmt, importTs, latencyStats, msLine, report, ROOT, runMain, runProc } from './lib.mjs';

const ITER = Number(process.env.BENCH_ITER ?? 20);
const WARMUP = 3;
const TARGET_MS = 150;
const FIXTURES = path.join(ROOT, 'test/fixtures/charts');

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const out = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, out };
}

runMain(async () => {
  const { renderPng, renderSvg } = await importTs('src/charts/render.ts');
  const rep = report('charts');
  rep.header(`charts: PNG and SVG per fixed chart, warm (${ITER} after ${WARMUP} warm-ups) and cold`);
  const names = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();
  const charts = names.map((f) => ({ name: f.slice(0, -5), chart: JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) }));

  // Cold first: nothing of echarts or resvg loaded yet in this process.
  const cold = await timed(() => renderPng(charts[0].chart));
  rep.info(`cold first render (PNG ${charts[0].name}, imports included)`, `${fmt(cold.ms, 1)} ms`, { ms: cold.ms }, { id: 'charts.cold' });

  for (const { name, chart } of charts) {
    for (const [kind, fn] of [['PNG', () => renderPng(chart)], ['SVG', () => renderSvg(chart)]]) {
      for (let i = 0; i < WARMUP; i++) await fn();
      const ms = [];
      let bytes = 0;
      for (let i = 0; i < ITER; i++) {
        const r = await timed(fn);
        ms.push(r.ms);
        bytes = r.out.length;
      }
      const s = latencyStats(ms);
      rep.check(`${name} ${kind} warm`, `${msLine(s)}, ${(bytes / 1024).toFixed(0)} KiB`, s, [{ key: 'p50_ms', op: '<=', limit: TARGET_MS, unit: 'ms' }], { id: `charts.${name}.${kind.toLowerCase()}` });
    }
  }

  const x2 = [];
  for (let i = 0; i < Math.min(ITER, 10); i++) x2.push((await timed(() => renderPng(charts[0].chart, { scale: 2 }))).ms);
  rep.info(`    context: ${charts[0].name} PNG at scale 2 (1600×900)`, msLine(latencyStats(x2)), latencyStats(x2));

  const node = [];
  for (let i = 0; i < 5; i++) node.push((await runProc(process.execPath, ['-e', '0'])).ms);
  rep.info('    baseline: `node -e 0`', msLine(latencyStats(node)), latencyStats(node), { id: 'charts.baseline' });
  rep.save({ iterations: ITER, target_ms: TARGET_MS });
});
