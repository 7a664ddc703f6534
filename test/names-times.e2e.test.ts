// One name per job and readable times, end to end: real `flurm run` jobs, the hub as a real
// process, a local JSON webhook. The name a message gives a job is the one `flurm jobs` (table and
// --json) and /api/v1/jobs give it; people read local times with the zone named, JSON stays UTC.
// And the quick start's step after `npm start`: `flurm up` says how to run `flurm` in another
// terminal, and the line it prints works.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FLURM, makeLab, route, runFlurm, startFlurm, startHub, waitUntil, type HubProc, type Lab, type Proc } from './support/lab.js';
import { startFakeServices, type FakeServices } from './support/fake-services.js';

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(async () => {
  await fake.close();
});

interface JsonBody {
  title: string;
  text: string;
  message: { title: string; timestamp: string; data: { job: { id: string; name: string } } };
}
interface ApiJob {
  id: string;
  name?: string;
  title: string | null;
  cmd: string | null;
  startTs: string;
}

/** The wall-clock "YYYY-MM-DD HH:MM" of an ISO instant at a fixed offset, computed without Intl. */
function wallClock(iso: string, offsetHours: number): string {
  return new Date(Date.parse(iso) + offsetHours * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
}
/** Europe/Berlin's offset at an instant: CEST (+2) from the last Sunday of March to the last of October, 01:00 UTC. */
function berlin(iso: string): { offset: number; zone: string } {
  const t = Date.parse(iso);
  const y = new Date(t).getUTCFullYear();
  const lastSunday = (month: number) => {
    const d = new Date(Date.UTC(y, month + 1, 0, 1));
    return d.getTime() - d.getUTCDay() * 86_400_000;
  };
  return t >= lastSunday(2) && t < lastSunday(9) ? { offset: 2, zone: 'CEST' } : { offset: 1, zone: 'CET' };
}

describe('one name for a job, readable times', () => {
  let lab: Lab;
  let hub: HubProc | null = null;
  afterEach(async () => {
    await hub?.stop();
    hub = null;
    lab?.cleanup();
    fake.reset();
  });

  it('the message, flurm jobs (table and --json) and /api/v1/jobs name each job alike', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    const work = path.join(lab.root, 'work');
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(work, 'train.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const hook = fake.jsonUrl('/hooks/names');
    // The hub runs in Berlin: messages are read in a zone it does not know, so it names its own.
    hub = await startHub(lab.hubConfig({ extra: route('all', hook) }), { ...process.env, TZ: 'Europe/Berlin' });
    const env = { ...alice.env, FLURM_HUB_URL: hub.url };

    const runs: { argv: string[]; name: string }[] = [
      { argv: ['--', 'sh', '-c', 'echo hi; exit 3'], name: 'sh' },
      { argv: ['--', 'sh', '-c', 'cd . && ./train.sh --lr 3'], name: 'train.sh' },
      { argv: ['--', 'env', 'FOO=1', './train.sh'], name: 'train.sh' },
      { argv: ['--', 'nohup', './train.sh'], name: 'train.sh' },
      { argv: ['true && ./train.sh'], name: 'train.sh' },
      { argv: ['-t', 'resnet', '--', 'sh', '-c', 'exit 1'], name: 'resnet' },
      { argv: ['--hide-command', '--', './train.sh', '--secret-flag'], name: 'job' },
    ];
    const ids: string[] = [];
    for (const r of runs) {
      const before = fake.received.length;
      const res = await runFlurm(['run', '-q', ...r.argv], { env, cwd: work });
      expect(res.stderr).toBe('');
      const got = await fake.waitFor((x) => fake.received.indexOf(x) >= before && x.path === '/hooks/names', 10_000);
      ids.push((got.body as JsonBody).message.data.job.id);
    }
    const bodies = new Map(fake.received.map((x) => [(x.body as JsonBody).message.data.job.id, x.body as JsonBody]));

    // What the API says.
    const api = (await (await fetch(`${hub.url}/api/v1/jobs?limit=50`)).json()) as { jobs: ApiJob[] };
    const one = (await (await fetch(`${hub.url}/api/v1/jobs/${ids[0]}`)).json()) as { job: ApiJob };
    expect(one.job.name).toBe('sh');
    expect(one.job.cmd).toBe(`sh -c 'echo hi; exit 3'`);
    // What `flurm jobs --json` says.
    const json = JSON.parse((await runFlurm(['jobs', '--all', '--json'], { env })).stdout) as { source: string; jobs: ApiJob[] };
    expect(json.source).toBe('hub');
    // What the table says, read in UTC and in Berlin.
    const tableUtc = (await runFlurm(['jobs', '--all'], { env: { ...env, TZ: 'UTC' } })).stdout;
    const tableBerlin = (await runFlurm(['jobs', '--all'], { env: { ...env, TZ: 'Europe/Berlin' } })).stdout;
    expect(tableUtc.split('\n')[0]).toMatch(/^ID\s+USER\s+HOST\s+RESULT\s+NAME\s+STARTED\s+DURATION$/);

    runs.forEach((r, i) => {
      const id = ids[i]!;
      const body = bodies.get(id)!;
      const verb = i === 0 || i === 5 ? 'failed' : 'finished';
      expect(body.message.title).toBe(`${verb === 'failed' ? '✗' : '✓'} ${r.name} ${verb} on node1`);
      expect(body.message.data.job.name).toBe(r.name);
      expect(api.jobs.find((j) => j.id === id)?.name).toBe(r.name);
      const fromCli = json.jobs.find((j) => j.id === id)!;
      expect(fromCli.name).toBe(r.name);
      // JSON keeps UTC ISO-8601.
      expect(fromCli.startTs).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(body.message.timestamp).toMatch(/Z$/);
      // The table: the same name, and the start in the reader's zone, named.
      const row = (table: string) => table.split('\n').find((l) => l.startsWith(id.slice(-8)))!;
      expect(row(tableUtc).split(/\s{2,}/)[4]).toBe(r.name);
      expect(row(tableUtc)).toContain(`${wallClock(fromCli.startTs, 0)} UTC`);
      const b = berlin(fromCli.startTs);
      expect(row(tableBerlin)).toContain(`${wallClock(fromCli.startTs, b.offset)} ${b.zone}`);
      // The message's text: its time in the hub's zone, named.
      const end = berlin(body.message.timestamp);
      expect(body.text.split('\n').at(-1)).toBe(`flurm · job ${id} · ${wallClock(body.message.timestamp, end.offset)} ${end.zone}`);
    });
    // --hide-command: nothing of the command anywhere.
    expect(JSON.stringify([api, json, bodies.get(ids[6]!)])).not.toContain('secret-flag');
  });
});

describe('the quick start: flurm up says how to run flurm in another terminal', () => {
  let lab: Lab;
  let up: Proc | null = null;
  afterEach(async () => {
    if (up && up.child.exitCode === null) {
      up.child.kill('SIGTERM');
      await up.exited;
    }
    up = null;
    lab?.cleanup();
  });

  /** A clean environment like a fresh login: a new home, node's directory and the system's on the PATH. */
  function freshEnv(home: string, extraPath: string[] = []): NodeJS.ProcessEnv {
    return {
      HOME: home,
      PATH: [...extraPath, path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      FLURM_HOST: 'node1',
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
    };
  }

  it('prints the one line that puts flurm on the PATH, and the line works', async () => {
    lab = makeLab();
    const home = path.join(lab.root, 'fresh-home');
    fs.mkdirSync(home);
    const env = freshEnv(home);
    up = startFlurm(['up', '--port', '0'], { env });
    const said = await up.waitForOutput(/try it\s+.*\n/);
    const text = up.text();
    expect(text).toMatch(/flurm command\s+not on your PATH yet; inside \S.* `npx flurm …` runs this one\. To type plain `flurm`, run:\n/);
    const line = /\n\s+(mkdir -p ~\/bin && ln -sf .* ~\/bin\/flurm && export PATH="\$HOME\/bin:\$PATH")\n/.exec(text)?.[1];
    expect(line).toBeDefined();
    expect(said).toMatch(/try it\s+npx flurm run -- sh -c 'sleep 1; exit 3'/);

    // In "another terminal": the printed line, then plain `flurm` works and reaches this hub.
    const out = execFileSync('bash', ['-c', `${line} && flurm --version && flurm run -t from-path -- sh -c 'exit 0'`], { env, encoding: 'utf8' });
    expect(out.split('\n')[0]).toMatch(/^\d+\.\d+\.\d+/);
    await up.waitForOutput(/from-path finished on node1/, 10_000);
    expect(fs.realpathSync(path.join(home, 'bin', 'flurm'))).toBe(fs.realpathSync(FLURM));
  });

  it('says nothing of the PATH when `flurm` there is this one', async () => {
    lab = makeLab();
    const home = path.join(lab.root, 'set-up-home');
    fs.mkdirSync(path.join(home, 'bin'), { recursive: true });
    fs.symlinkSync(FLURM, path.join(home, 'bin', 'flurm'));
    up = startFlurm(['up', '--port', '0'], { env: freshEnv(home, [path.join(home, 'bin')]) });
    const said = await up.waitForOutput(/try it\s+.*\n/);
    expect(said).toMatch(/try it\s+flurm run -- sh -c 'sleep 1; exit 3'/);
    await waitUntil(() => up!.text().includes('try it'), 1000);
    expect(up.text()).not.toMatch(/flurm command/);
  });
});
