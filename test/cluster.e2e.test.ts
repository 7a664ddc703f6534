// Cluster awareness end to end on one machine: several real `flurm agent` processes posing as
// different hosts (FLURM_HOST) over the real /proc, a real hub, real jobs started and killed, and
// a local webhook sink. A node goes down (its agent stopped) and comes back, a job vanishes
// (wrapper and job SIGKILLed), and `best` honours --mem and --gpus.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fakeNvidiaSmi, makeLab, runFlurm, startFlurm, startHub, waitUntil, type HubProc, type Lab, type Proc, killAll } from './support/lab.js';
import { startFakeServices, type FakeServices, type ReceivedRequest } from './support/fake-services.js';
import type { NodesResponse } from '../src/model/node-view.js';

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(async () => {
  await fake.close();
});

const text = (r: ReceivedRequest) => JSON.stringify(r.body);

describe('agents, hub and the node commands', () => {
  let lab: Lab;
  let hub: HubProc | null = null;
  const procs: Proc[] = [];
  /** Jobs' own pids: a SIGKILLed wrapper leaves its child running. */
  const jobPids: number[] = [];

  afterEach(async () => {
    for (const pid of jobPids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await killAll(procs);
    await hub?.stop();
    hub = null;
    lab?.cleanup();
    fake.reset();
  });

  function agent(host: string, extraEnv: NodeJS.ProcessEnv = {}): Proc {
    const p = startFlurm(['agent', '--interval', '1s', '--cluster', lab.cluster], { env: { ...process.env, FLURM_HOST: host, ...extraEnv } });
    procs.push(p);
    return p;
  }

  async function nodes(): Promise<NodesResponse> {
    return (await (await fetch(`${hub!.url}/api/v1/nodes`)).json()) as NodesResponse;
  }

  const stateOf = async (host: string) => (await nodes()).nodes.find((n) => n.host === host)?.state;

  it('sees nodes, tells the owner a job vanished, the lab a node went down and came back, and best picks what fits', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    const aliceHook = fake.jsonUrl('/hook/alice');
    const labHook = fake.jsonUrl('/hook/lab');
    hub = await startHub(
      lab.hubConfig({
        extra: `
[nodes]
poll_interval_seconds = 0.3
stale_after_intervals = 3
down_after_intervals = 4
min_down_after_seconds = 0
vanish_after_snapshots = 2
vanish_grace_seconds = 1
[alerts]
to = ["${labHook}"]
cooldown_minutes = 0
[delivery]
backoff_base_seconds = 0.2
[[routes]]
on = ["failure"]
to = ["${aliceHook}"]
`,
      }),
    );
    const gpuPath = `${fakeNvidiaSmi(lab.root)}:${process.env.PATH}`;
    agent('cpu1', { PATH: `/nonexistent:${process.env.PATH}` });
    let gpuAgent = agent('gpu1', { PATH: gpuPath });
    await waitUntil(async () => (await stateOf('cpu1')) === 'fresh' && (await stateOf('gpu1')) === 'fresh', 15_000, 'both nodes fresh');

    // flurm status, as a user runs it.
    const status = await runFlurm(['status', '--json', '--hub', hub.url], { env: alice.env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('"cpu1"');
    const human = await runFlurm(['status', '--hub', hub.url], { env: { ...alice.env, NO_COLOR: '1' } });
    expect(human.stdout).toMatch(/cpu1\s+fresh/);
    expect(human.stdout).toMatch(/gpu1\s+fresh/);
    expect(human.stdout).not.toContain('\x1b['); // not a TTY: no colour

    // best honours --gpus: only gpu1 has GPUs (7 of 8 free in the real V100 capture).
    const g = await runFlurm(['best', '--gpus', '2', '--json', '--hub', hub.url], { env: alice.env });
    expect(g.code).toBe(0);
    expect((JSON.parse(g.stdout) as { chosen: { host: string; gpus_chosen: number[] } }).chosen).toMatchObject({ host: 'gpu1' });
    // The same question through the hub's command table: the real hub answers it in-process.
    const asked = (await (await fetch(`${hub.url}/api/v1/commands/best`, { method: 'POST', body: JSON.stringify({ gpus: 2 }) })).json()) as {
      exit_code: number;
      result: { chosen: { host: string } };
      messages: { title: string }[];
    };
    expect(asked.exit_code).toBe(0);
    expect(asked.result.chosen.host).toBe('gpu1');
    expect(asked.messages[0]!.title).toBe('Best node: gpu1');
    const tooMany = await runFlurm(['best', '--gpus', '8', '--hub', hub.url], { env: alice.env });
    expect(tooMany.code).toBe(1);
    const tooManyAsked = (await (await fetch(`${hub.url}/api/v1/commands/best`, { method: 'POST', body: JSON.stringify({ gpus: 8 }) })).json()) as { exit_code: number };
    expect(tooManyAsked.exit_code).toBe(1);
    expect(tooMany.stdout + tooMany.stderr).toMatch(/8 free GPUs/);
    // ...and --mem: both nodes are this machine, so what fits is what this machine has free.
    const availGiB = Math.floor(os.freemem() / 1024 ** 3);
    const fits = await runFlurm(['best', '--mem', '100M', '--json', '--hub', hub.url], { env: alice.env });
    expect(fits.code).toBe(0);
    expect(['cpu1', 'gpu1']).toContain((JSON.parse(fits.stdout) as { chosen: { host: string } }).chosen.host);
    const tooBig = await runFlurm(['best', '--mem', `${availGiB * 4 + 64}G`, '--hub', hub.url], { env: alice.env });
    expect(tooBig.code).toBe(1);
    expect(tooBig.stdout + tooBig.stderr).toMatch(/memory|mem/i);

    // A job on cpu1 whose wrapper and process are SIGKILLed: no `end` ever comes.
    const victim = startFlurm(['run', '-t', 'victim-job', '--', 'sleep', '300'], { env: { ...alice.env, FLURM_HOST: 'cpu1' } });
    procs.push(victim);
    const startLine = await waitUntil(() => {
      try {
        return fs.readFileSync(path.join(alice.spool, 'events', 'cpu1.jsonl'), 'utf8').split('\n').find((l) => l.includes('"start"'));
      } catch {
        return undefined;
      }
    }, 10_000, 'the start event');
    const jobPid = (JSON.parse(startLine) as { pid: number }).pid;
    // A job on gpu1 that keeps running while gpu1's agent stops.
    const survivor = startFlurm(['run', '-t', 'survivor-job', '--', 'sleep', '300'], { env: { ...alice.env, FLURM_HOST: 'gpu1' } });
    procs.push(survivor);
    jobPids.push(jobPid);
    const survivorStart = await waitUntil(() => {
      try {
        return fs.readFileSync(path.join(alice.spool, 'events', 'gpu1.jsonl'), 'utf8').split('\n').find((l) => l.includes('"start"'));
      } catch {
        return undefined;
      }
    }, 10_000, "the survivor's start event");
    jobPids.push((JSON.parse(survivorStart) as { pid: number }).pid);
    await waitUntil(async () => {
      const r = (await (await fetch(`${hub!.url}/api/v1/jobs?running=1`)).json()) as { jobs: { title: string }[] };
      return r.jobs.length === 2;
    }, 10_000, 'both jobs running in the index');
    // The wrapper first (else it would see its child die and write a true `end`).
    victim.child.kill('SIGKILL');
    await victim.exited;
    process.kill(jobPid, 'SIGKILL');

    const vanished = await fake.waitFor((r) => r.path.startsWith('/hook/alice') && text(r).includes('victim-job'), 20_000);
    expect(text(vanished)).toMatch(/vanished: node rebooted or the wrapper was killed/);

    // gpu1's agent stops: the lab hears the node is down, alice that her job's node went silent.
    gpuAgent.child.kill('SIGTERM');
    await gpuAgent.exited;
    const down = await fake.waitFor((r) => r.path.startsWith('/hook/lab') && text(r).includes('node gpu1 stopped reporting'), 20_000);
    expect(text(down)).toContain('gpu1');
    const silent = await fake.waitFor((r) => r.path.startsWith('/hook/alice') && text(r).includes('survivor-job'), 20_000);
    expect(text(silent)).toMatch(/stopped reporting while your job was running/);
    expect(await stateOf('gpu1')).toBe('down');
    expect(await stateOf('cpu1')).toBe('fresh');
    // doctor on gpu1 says its node is down, and what to do.
    const doc = await runFlurm(['doctor'], { env: { ...alice.env, FLURM_HUB_URL: hub.url, FLURM_HOST: 'gpu1' } });
    expect(doc.stdout).toMatch(/nodes — 2 seen: 1 fresh, 0 stale, 1 down, 0 waiting \(down: gpu1\)/);
    expect(doc.stdout).toMatch(/node gpu1 — down: its agent stopped writing\?/);
    // best no longer offers the down node: nothing with GPUs is left.
    const none = await runFlurm(['best', '--gpus', '1', '--hub', hub.url], { env: alice.env });
    expect(none.code).toBe(1);

    // It comes back.
    gpuAgent = agent('gpu1', { PATH: gpuPath });
    await fake.waitFor((r) => r.path.startsWith('/hook/lab') && text(r).includes('node gpu1 is reporting again'), 20_000);
    expect(await stateOf('gpu1')).toBe('fresh');

    // Each thing was said exactly once.
    const count = (pred: (r: ReceivedRequest) => boolean) => fake.received.filter(pred).length;
    expect(count((r) => text(r).includes('victim-job'))).toBe(1);
    expect(count((r) => r.path.startsWith('/hook/lab') && text(r).includes('node gpu1 stopped reporting'))).toBe(1);
    expect(count((r) => text(r).includes('survivor-job'))).toBe(1);
    // The survivor is still running and was not called vanished: its process is alive.
    expect(survivor.child.exitCode).toBeNull();

    // top and inspect read the same data.
    const top = await runFlurm(['top', 'cpu1', '--json', '--hub', hub.url], { env: alice.env });
    expect(top.code).toBe(0);
    const inspect = await runFlurm(['inspect', 'gpu1', '--hub', hub.url], { env: { ...alice.env, NO_COLOR: '1' } });
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('survivor-job');
    expect(inspect.stdout).toContain('Tesla V100-SXM2-32GB');
    const unknown = await runFlurm(['inspect', 'nosuchnode', '--hub', hub.url], { env: alice.env });
    expect(unknown.code).toBe(2);
  });
});
