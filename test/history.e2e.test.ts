// History end to end: real agents over the real /proc, a real hub recording each snapshot and
// each node's state, then `flurm history`, `flurm heatmap` and `flurm report` as a person runs
// them — a chart in the terminal, the same chart in --json, a node that stopped shown as down.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fakeNvidiaSmi, getJson, killAll, makeLab, runFlurm, startFlurm, startHub, waitUntil, type HubProc, type Lab, type Proc } from './support/lab.js';
import type { NodesResponse } from '../src/model/node-view.js';
import type { HeatmapChart, StackedChart } from '../src/model/chart.js';

describe('history: flurm history, heatmap, report', () => {
  let lab: Lab;
  let hub: HubProc | null = null;
  const procs: Proc[] = [];

  afterEach(async () => {
    await killAll(procs);
    await hub?.stop();
    hub = null;
    lab?.cleanup();
  });

  function agent(host: string, env: NodeJS.ProcessEnv = {}): Proc {
    const p = startFlurm(['agent', '--interval', '1s', '--cluster', lab.cluster], { env: { ...process.env, FLURM_HOST: host, ...env } });
    procs.push(p);
    return p;
  }

  it('charts what the agents reported; a stopped node turns down in the heatmap; the report counts jobs by result', async () => {
    lab = makeLab('flurm-history-');
    hub = await startHub(lab.hubConfig({ extra: '[nodes]\npoll_interval_seconds = 0.3\nstale_after_intervals = 2\ndown_after_intervals = 3\nmin_down_after_seconds = 2\n' }));
    const a = agent('hist-a');
    // hist-b has 8 GPUs (a fake nvidia-smi printing a real V100 node's answer).
    agent('hist-b', { PATH: `${fakeNvidiaSmi(lab.root)}:${process.env.PATH}` });
    const nodes = async () => (await getJson<NodesResponse>(`${hub!.url}/api/v1/nodes`)).nodes;
    await waitUntil(async () => (await nodes()).filter((n) => n.state === 'fresh').length === 2, 20_000, 'both nodes fresh');
    // Some samples in the index: a few snapshots of each.
    await waitUntil(async () => {
      const h = await getJson<{ hosts: { used: (number | null)[] }[] }>(`${hub!.url}/api/v1/history?kind=nodes&metric=cpu&since=${Date.now() - 3_600_000}`);
      return h.hosts.length === 2 && h.hosts.every((x) => x.used.some((v) => v !== null));
    }, 20_000, 'samples of both nodes');

    const alice = lab.home('alice');
    await runFlurm(['run', '-t', 'ok-job', '--', 'true'], { env: alice.env });
    await runFlurm(['run', '-t', 'bad-job', '--', 'sh', '-c', 'echo "RuntimeError: CUDA out of memory"; exit 1'], { env: alice.env });
    const env = { ...alice.env, FLURM_HUB_URL: hub.url };

    const text = await runFlurm(['history', '--hours', '1'], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^CPU cores busy on 2 nodes\nlast 1 h · \d+ \w+ \d\d:\d\d – \d+ \w+ \d\d:\d\d \(.+\)\n/);
    // The chart itself: a y axis with the unit, a legend, and the figures under it.
    expect(text.stdout).toContain('cores');
    expect(text.stdout).toMatch(/┤/);
    expect(text.stdout).toMatch(/█ used +▓ free/);
    expect(text.stdout).toMatch(/capacity: now \d+ cores · peak \d+ cores/);
    for (const line of text.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);

    // The same chart as pictures: a PNG (twice the pixels) and an SVG naming the title.
    const png = path.join(lab.root, 'history.png');
    const svg = path.join(lab.root, 'history.svg');
    const pic = await runFlurm(['history', '--hours', '1', '--png', png, '--svg', svg], { env });
    expect(pic.stderr).toBe(`flurm: wrote ${png}\nflurm: wrote ${svg}\n`);
    const bytes = fs.readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(bytes.readUInt32BE(16)).toBe(1600);
    expect(fs.readFileSync(svg, 'utf8')).toContain('CPU cores busy on 2 nodes');
    fs.mkdirSync(path.join('test-output', 'history'), { recursive: true });
    fs.copyFileSync(png, path.join('test-output', 'history', 'history-cpu-1h.png'));

    const json = JSON.parse((await runFlurm(['history', '--hours', '1', '--metric', 'mem', '--json'], { env })).stdout) as { chart: StackedChart; source: string };
    expect(json.source).toBe('hub');
    expect(json.chart).toMatchObject({ kind: 'stacked', unit: 'GiB' });
    expect(json.chart.series.map((s) => s.name)).toEqual(['used', 'free', 'down or stale']);
    expect(json.chart.series[0]!.values.some((v) => v !== null && v > 0)).toBe(true);

    // A row per GPU: hist-b's eight, each with its utilisation.
    const gpus = JSON.parse((await runFlurm(['heatmap', '--hours', '1', '--metric', 'gpu', '--json'], { env })).stdout) as { chart: HeatmapChart };
    expect(gpus.chart.rows).toEqual(['hist-b/0', 'hist-b/1', 'hist-b/2', 'hist-b/3', 'hist-b/4', 'hist-b/5', 'hist-b/6', 'hist-b/7']);
    expect(gpus.chart.cells.every((row) => row.some((c) => c !== null))).toBe(true);

    // hist-a stops: once the hub calls it down, the state heatmap shows it in its row.
    a.child.kill('SIGKILL');
    await waitUntil(async () => (await nodes()).find((n) => n.host === 'hist-a')?.state === 'down', 20_000, 'hist-a down');
    await waitUntil(async () => {
      const r = JSON.parse((await runFlurm(['heatmap', '--hours', '1', '--metric', 'state', '--json'], { env })).stdout) as { chart: HeatmapChart };
      const row = r.chart.rows.indexOf('hist-a');
      return row >= 0 && r.chart.cells[row]!.some((c) => c === 2);
    }, 20_000, 'hist-a down in the heatmap');
    const heat = await runFlurm(['heatmap', '--hours', '1', '--metric', 'state'], { env });
    expect(heat.stdout).toMatch(/hist-a .*X/);
    expect(heat.stdout).toMatch(/hist-b /);

    const report = await runFlurm(['report', '--days', '1'], { env });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/^Lab report: the last day\n/);
    // The tests run as one unix user (the owner of every spool): that user's two jobs, one failed, by its diagnosis.
    const r = JSON.parse((await runFlurm(['report', '--days', '1', '--json'], { env })).stdout) as { users: { user: string; jobs: Record<string, number>; failures: { diagnosis: string; count: number }[] }[] };
    const me = r.users.find((u) => u.jobs.failed === 1)!;
    expect(me.jobs).toEqual({ succeeded: 1, failed: 1, other: 0 });
    expect(me.failures[0]!.diagnosis).toMatch(/out of memory/i);
    expect(report.stdout).toMatch(/out of memory.*\(1\)/i);

    // A range the hub does not keep is refused with why, as a usage error (exit 2).
    const old = await runFlurm(['history', '--since', '2020-01-01'], { env });
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/history goes back 400 days|hour_samples_days/);
  }, 120_000);

  it('without a hub: says only a hub keeps history', async () => {
    lab = makeLab('flurm-history-');
    const r = await runFlurm(['history'], { env: { ...lab.home('alice').env, FLURM_HUB_URL: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no history: .*only a hub keeps history|no history: the hub at .* did not answer/);
  });
});
