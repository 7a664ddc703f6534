// The other ways in: the bash writer (no Node on the node), detached jobs that outlive their
// shell, notes, `flurm up` with no configuration, and `flurm doctor --send-test` / `flurm config`.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FLURM, makeLab, route, runFlurm, startFlurm, startHub, sleep, waitUntil, type HubProc, type Lab, type Proc } from './support/lab.js';
import { startFakeServices, type FakeServices, type ReceivedRequest } from './support/fake-services.js';

let fake: FakeServices;
beforeAll(async () => {
  fake = await startFakeServices();
});
afterAll(async () => {
  await fake.close();
});

type JsonMsg = { title: string; severity: string; summary?: string; message: { fields?: { name: string; value: string }[]; logTail?: string[]; diagnosis?: { pattern: string }[] } };
const bodyOf = (r: ReceivedRequest) => r.body as JsonMsg;

describe('writers and entry points', () => {
  let lab: Lab;
  let hub: HubProc | null = null;
  let up: Proc | null = null;

  afterEach(async () => {
    await hub?.stop();
    hub = null;
    if (up && up.child.exitCode === null) {
      up.child.kill('SIGTERM');
      await up.exited;
    }
    up = null;
    lab?.cleanup();
    fake.reset();
  });

  function startLabHub(to: string): Promise<HubProc> {
    return startHub(lab.hubConfig({ extra: route('all', to) }));
  }

  it('treats events from the bash writer (flurm shell-init bash) exactly like the Node writer\'s', async () => {
    lab = makeLab();
    const u = lab.home('henry');
    hub = await startLabHub(fake.jsonUrl('/hooks/writers'));
    const lib = path.join(u.spool, 'flurm.bash');
    fs.writeFileSync(lib, spawnSync(process.execPath, [FLURM, 'shell-init', 'bash'], { encoding: 'utf8' }).stdout);
    const script = path.join(u.home, 'job.sh');
    fs.writeFileSync(script, `printf 'Traceback (most recent call last):\\n  File "x.py", line 1\\nKeyError: missing\\n'; exit 4\n`);
    const bash = spawnSync('bash', ['-c', `source ${lib}; flurm_run -t same-job -- sh ${script}`], { env: { ...u.env, FLURM_HOST: 'bashnode', FLURM_HUB_URL: hub.url }, encoding: 'utf8' });
    expect(bash.stderr).toBe('');
    expect(bash.status).toBe(4);
    const node = await runFlurm(['run', '-t', 'same-job', '--', 'sh', script], { env: { ...u.env, FLURM_HOST: 'nodenode' } });
    expect(node.code).toBe(4);
    const fromBash = await fake.waitFor((r) => JSON.stringify(r.body).includes('bashnode'), 10_000);
    const fromNode = await fake.waitFor((r) => JSON.stringify(r.body).includes('nodenode'), 10_000);
    const a = bodyOf(fromBash);
    const b = bodyOf(fromNode);
    expect(a.title.replace('bashnode', 'H')).toBe(b.title.replace('nodenode', 'H'));
    expect(a.severity).toBe(b.severity);
    expect(a.summary).toBe(b.summary);
    expect(a.message.logTail).toEqual(b.message.logTail);
    expect(a.message.diagnosis?.map((d) => d.pattern)).toEqual(['python-traceback']);
    expect(b.message.diagnosis?.map((d) => d.pattern)).toEqual(['python-traceback']);
    const names = (m: JsonMsg) => (m.message.fields ?? []).map((f) => f.name).filter((n) => n !== 'Peak memory' && n !== 'CPU time');
    expect(names(a)).toEqual(names(b));
  });

  it('a --detach job outlives the shell that started it, and its end is reported', async () => {
    lab = makeLab();
    const u = lab.home('ivy');
    hub = await startLabHub(fake.jsonUrl('/hooks/detach'));
    // A login shell in its own session starts the job detached, then the session is hung up
    // and killed, as when an SSH connection drops.
    const sh = spawn('setsid', ['bash', '-c', `cd ${u.home} && ${process.execPath} ${FLURM} run -d -t survivor -- sh -c 'sleep 1.5; echo survived' && kill -HUP 0; sleep 30`], {
      env: u.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    sh.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => sh.on('exit', r));
    expect(out).toMatch(/[0-9A-HJKMNP-TV-Z]{26}/);
    const m = await fake.waitFor((r) => JSON.stringify(r.body).includes('survivor'), 15_000);
    expect(bodyOf(m).severity).toBe('success');
    expect(bodyOf(m).message.logTail).toContain('survived');
    const logs = fs.readdirSync(u.home).filter((n) => n.startsWith('flurm-') && n.endsWith('.log'));
    expect(logs).toHaveLength(1);
    expect(fs.readFileSync(path.join(u.home, logs[0]!), 'utf8')).toContain('survived');
  });

  it('flurm notify sends an ad-hoc note', async () => {
    lab = makeLab();
    const u = lab.home('jack');
    hub = await startLabHub(fake.jsonUrl('/hooks/notes'));
    const r = await runFlurm(['notify', '-t', 'backup', 'rsync done: 12 GB'], { env: u.env });
    expect(r.code).toBe(0);
    const m = await fake.waitFor((x) => JSON.stringify(x.body).includes('rsync done: 12 GB'), 10_000);
    expect(bodyOf(m).title).toContain('backup');
  });

  it('flurm up runs with no configuration and tells the user on its console', async () => {
    lab = makeLab();
    const u = lab.home('kim');
    const { FLURM_CLUSTER: _lab, ...rest } = u.env;
    const env: NodeJS.ProcessEnv = { ...rest, XDG_STATE_HOME: path.join(lab.root, 'state'), DISPLAY: '' };
    up = startFlurm(['up', '--port', '0'], { env });
    await up.waitForOutput(/listening on\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(up.text()).toMatch(/no destination configured/);
    const r = await runFlurm(['run', '-t', 'first-try', '--', 'sh', '-c', 'exit 3'], { env });
    expect(r.code).toBe(3);
    await up.waitForOutput(/first-try failed/, 10_000);
    expect(up.text()).toMatch(/exit 3/);
    // jobs asks the hub that `up` started (hub.json in the user's own cluster dir).
    const jobs = await runFlurm(['jobs', '--json'], { env });
    const parsed = JSON.parse(jobs.stdout) as { source: string; jobs: { title: string; exit: number }[] };
    expect(parsed.source).toBe('hub');
    expect(parsed.jobs[0]).toMatchObject({ title: 'first-try', exit: 3 });
    // up runs the agent in-process: this workstation shows up in `flurm status` within seconds.
    const node = await waitUntil(async () => {
      const s = await runFlurm(['status', '--json'], { env });
      const n = (JSON.parse(s.stdout) as { nodes?: { host: string; state: string }[] }).nodes?.find((x) => x.host === 'node1');
      return n?.state === 'fresh' ? n : undefined;
    }, 10_000, 'this node in flurm status');
    expect(node.host).toBe('node1');
    const b = await runFlurm(['best', '--json'], { env });
    expect(b.code).toBe(0);
    expect((JSON.parse(b.stdout) as { chosen: { host: string } }).chosen.host).toBe('node1');
  });

  it('flurm jobs still lists your jobs from your spool when no hub runs', async () => {
    lab = makeLab();
    const u = lab.home('lee');
    const env = { ...u.env, FLURM_CLUSTER: path.join(lab.root, 'nohub') };
    await runFlurm(['run', '-t', 'offline', '--', 'true'], { env });
    const r = await runFlurm(['jobs'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no hub answered/);
    expect(r.stdout).toMatch(/offline/);
    expect(r.stdout).toMatch(/exit 0/);
  });

  it('flurm doctor --send-test sends a real test message and flags a broken destination; flurm config redacts secrets', async () => {
    lab = makeLab();
    const u = lab.home('mia');
    fs.writeFileSync(path.join(u.spool, 'config.toml'), `to = ["${fake.discordUrl('777', 'very-secret-token')}", "${fake.discordUrl('888', 'deleted-token')}"]\n`);
    fake.failNext('/api/webhooks/888/', [{ status: 404 }]);
    const env = { ...u.env, FLURM_CLUSTER: path.join(lab.root, 'nohub') };
    const d = await runFlurm(['doctor', '--send-test'], { env });
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/✓ destination discord:\/\/777\/\*\*\*.*test message sent/);
    expect(d.stdout).toMatch(/✗ destination discord:\/\/888\/\*\*\*/);
    expect(d.stdout).not.toContain('very-secret-token');
    const got = await fake.waitFor((r) => r.path.startsWith('/api/webhooks/777/'), 5000);
    expect(JSON.stringify(got.body)).toContain('flurm test message');
    const c = await runFlurm(['config'], { env });
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('discord://777/***');
    expect(c.stdout).not.toContain('very-secret-token');
  });

  it('a bad user config is reported with the field path, and lab routes still deliver', async () => {
    lab = makeLab();
    const u = lab.home('noor');
    fs.writeFileSync(path.join(u.spool, 'config.toml'), 'only_failures = "yes"\n');
    hub = await startLabHub(fake.jsonUrl('/hooks/badcfg'));
    await runFlurm(['run', '-t', 'still-told', '--', 'false'], { env: u.env });
    await fake.waitFor((r) => JSON.stringify(r.body).includes('still-told'), 10_000);
    await waitUntil(() => /only_failures/.test(hub!.text()), 5000, 'config warning');
    const d = await runFlurm(['doctor'], { env: u.env });
    expect(d.stdout).toMatch(/only_failures/);
    await sleep(10);
  });
});
