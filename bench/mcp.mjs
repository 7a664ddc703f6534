#!/usr/bin/env node
// Targets: MCP `tools/call status` at 100 nodes in ≤ 50 ms (p50); `wait_for_job` returns ≤ 0.5 s
// after the job's end.
//
// A real `flurm hub` holding 100 synthetic nodes (lib.mjs syntheticSnapshot: 64 cores, 200 busy
// processes, 8 GPUs each, all fresh) and the real `flurm mcp` over stdio, driven by the MCP SDK's
// own client, as an agent would: the time from callTool to its result, one call after another,
// for `status` and `best`. Then a real `flurm run` job of 1 s: `wait_for_job` is called while it
// runs, and the wake-up is the time from the job's end (the `flurm run` process exiting) to the
// tool's result. Context in the same run: `node -e 0`.
//
//   npm run build && node bench/mcp.mjs      (BENCH_NODES=100, BENCH_ITER=50)
import { spawn } from 'node:child_process';
import { FLURM, ROOT, fmt, hubWithSyntheticNodes, latencyStats, makeLab, median, msLine, report, requireBuild, runMain, runProc, waitUntil } from './lib.mjs';

const NODES = Number(process.env.BENCH_NODES ?? 100);
const ITER = Number(process.env.BENCH_ITER ?? 50);
const WAITS = 5;

runMain(async () => {
  requireBuild();
  const rep = report('mcp');
  rep.header(`flurm mcp (stdio) against a real hub with ${NODES} nodes, ${ITER} calls per tool`);
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const lab = makeLab('flurm-bench-mcp-');
  let hub = null;
  let client = null;
  try {
    ({ hub } = await hubWithSyntheticNodes(lab, NODES, '[nodes]\npoll_interval_seconds = 0.5\nstale_after_intervals = 1000\ndown_after_intervals = 2000\nmin_down_after_seconds = 36000\n'));

    const alice = lab.home('alice');
    const env = { ...alice.env, FLURM_HUB_URL: hub.url }; // wait_for_job at its default: every 250 ms
    client = new Client({ name: 'flurm-bench', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [FLURM, 'mcp'], env, stderr: 'ignore' }));

    for (const [name, args] of [['status', {}], ['best', { gpus: 1 }]]) {
      for (let i = 0; i < 5; i++) await client.callTool({ name, arguments: args });
      const ms = [];
      for (let i = 0; i < ITER; i++) {
        const t0 = process.hrtime.bigint();
        const r = await client.callTool({ name, arguments: args });
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
      }
      const s = latencyStats(ms);
      if (name === 'status') rep.check(`tools/call status, ${NODES} nodes`, msLine(s), s, [{ key: 'p50_ms', op: '<=', limit: 50, unit: 'ms' }], { id: 'mcp.status' });
      else rep.info(`    context: tools/call best gpus=1, ${NODES} nodes`, msLine(s), s);
    }

    // wait_for_job: from the job's end (its flurm run exits) to the tool's result.
    const wakes = [];
    for (let i = 0; i < WAITS; i++) {
      const title = `bench-wait-${i}`;
      const job = spawn(process.execPath, [FLURM, 'run', '-t', title, '--', 'sleep', '1'], { env, stdio: 'ignore' });
      const exited = new Promise((r) => job.on('exit', () => r(process.hrtime.bigint())));
      const id = await waitUntil(async () => ((await (await fetch(`${hub.url}/api/v1/jobs?running=1`)).json()).jobs ?? []).find((j) => j.title === title)?.id, { what: `${title} running` });
      const result = client.callTool({ name: 'wait_for_job', arguments: { id, timeout_seconds: 30 } }).then(() => process.hrtime.bigint());
      const [end, back] = await Promise.all([exited, result]);
      wakes.push(Number(back - end) / 1e6);
    }
    const w = latencyStats(wakes);
    rep.check('wait_for_job wake-up after the job ends', msLine(w), w, [{ key: 'max_ms', op: '<=', limit: 500, unit: 'ms' }], { id: 'mcp.wait' });

    const bare = [];
    for (let i = 0; i < 6; i++) bare.push((await runProc(process.execPath, ['-e', '0'], { cwd: ROOT })).ms);
    rep.info('    baseline: `node -e 0`, spawn to exit', `median ${fmt(median(bare), 1)} ms (n=${bare.length})`, { node_median_ms: median(bare) });
    rep.save({ nodes: NODES, iterations: ITER });
  } finally {
    await client?.close();
    await hub?.stop();
    lab.cleanup();
  }
});
