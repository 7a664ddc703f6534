// `flurm cron` end to end, with the real `crontab` binary (root's crontab is saved first and
// restored exactly afterwards) and the real flurm from dist/: install / status / remove keep the
// other lines intact, the installed line really starts one agent per node under its /tmp flock,
// and --hub / --print-systemd behave. A fake crontab (FLURM_CRONTAB) covers machines without cron.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFlurmLines, lockPath } from '../src/lib/crontab.js';
import { FLURM, makeLab, runFlurm, waitUntil, type Lab } from './support/lab.js';

function haveCrontab(): boolean {
  const r = spawnSync('crontab', ['-l'], { stdio: 'ignore' });
  return !(r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT');
}
const HAVE_CRONTAB = haveCrontab();

/** `crontab -l` text, or null when there is none. */
function readCrontab(): string | null {
  const r = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
  if (r.status === 0) return r.stdout;
  if (/no crontab for/i.test(r.stderr)) return null;
  throw new Error(`crontab -l failed: ${r.stderr}`);
}

function writeCrontab(text: string | null): void {
  if (text === null) spawnSync('crontab', ['-r'], { stdio: 'ignore' });
  else execFileSync('crontab', ['-'], { input: text });
}

function envFor(lab: Lab, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, FLURM_SPOOL: path.join(home, '.flurm'), FLURM_CLUSTER: lab.cluster, FLURM_CONFIG: '' };
  delete env.FLURM_HOST;
  delete env.XDG_STATE_HOME;
  delete env.FLURM_CRONTAB;
  return env;
}

const USER = os.userInfo().username;
const SEED = 'MAILTO=""\n# my nightly backup, keep this comment\n0 3 * * * /bin/true --nightly\n';

/** Processes running `<node> <FLURM> agent` with FLURM_HOST=<host> in their environment. */
/** The processes (other than zombies) whose process group is `pgid`. */
function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const [state, , pgrp] = fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(')').pop()!.trim().split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function agentsFor(host: string): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv[1] !== FLURM || argv[2] !== 'agent') continue;
      if (!fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(`FLURM_HOST=${host}`)) continue;
      pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function lockFree(lock: string): boolean {
  return spawnSync('flock', ['-n', lock, 'true']).status === 0;
}

describe.skipIf(!HAVE_CRONTAB).sequential('flurm cron with the real crontab' + (HAVE_CRONTAB ? '' : ' (skipped: no `crontab` binary; install the cron package)'), () => {
  let saved: string | null = null;
  let lab: Lab;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const started: ChildProcess[] = [];

  beforeAll(() => {
    saved = readCrontab();
    lab = makeLab('flurm-cron-');
    home = lab.home('cronuser').home;
    env = envFor(lab, home);
  });

  afterAll(async () => {
    for (const c of started) {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    for (const pid of agentsFor('cronnode')) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    writeCrontab(saved);
    expect(readCrontab()).toBe(saved);
    lab?.cleanup();
  });

  it('install adds one agent line and keeps the other lines; again: still one; remove: the rest intact', async () => {
    writeCrontab(SEED);
    const r = await runFlurm(['cron', 'install', '--agent'], { env });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/within a minute/);
    expect(r.stdout).toMatch(/flurm cron status/);
    expect(r.stdout).toMatch(/flurm cron remove/);

    const text = readCrontab()!;
    expect(text.startsWith(SEED)).toBe(true);
    const lines = findFlurmLines(text);
    expect(lines.map((l) => l.kind)).toEqual(['agent']);
    const line = lines[0]!.raw;
    expect(line).toMatch(/^\* \* \* \* \* /);
    expect(line).toMatch(/ # flurm:agent$/);
    expect(line).toContain(`flock -n ${lockPath(USER, 'agent')} ${process.execPath} ${FLURM} agent >>"$L" 2>&1`);
    expect(line).toContain(`FLURM_CLUSTER=${lab.cluster}`);
    expect(line).toContain(`FLURM_SPOOL=${env.FLURM_SPOOL}`);
    expect(line).not.toMatch(/FLURM_HOST|FLURM_CONFIG/);
    expect(line).toContain(`L=${home}/.local/state/flurm/agent-"$(uname -n)".log`);
    expect(fs.statSync(path.join(home, '.local/state/flurm')).isDirectory()).toBe(true);

    // Again, and with no kind given (defaults to the agent, and says so): still one line.
    const again = await runFlurm(['cron', 'install', '--agent'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already installed/i);
    const dflt = await runFlurm(['cron', 'install'], { env });
    expect(dflt.code).toBe(0);
    expect(dflt.stderr).toMatch(/neither --agent nor --hub.*agent/);
    expect(readCrontab()).toBe(text);

    const st = await runFlurm(['cron', 'status'], { env });
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/agent\s+installed, not running/);
    expect(st.stdout).toMatch(/hub\s+not installed/);

    const rm = await runFlurm(['cron', 'remove'], { env });
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain(line);
    expect(readCrontab()).toBe(SEED);

    const st2 = await runFlurm(['cron', 'status'], { env });
    expect(st2.code).toBe(0);
    expect(st2.stdout).toMatch(/agent\s+not installed/);
    const rm2 = await runFlurm(['cron', 'remove'], { env });
    expect(rm2.code).toBe(0);
    expect(rm2.stdout).toMatch(/nothing to remove/);
    expect(readCrontab()).toBe(SEED);
  });

  it('remove on a crontab of only flurm lines leaves no crontab', async () => {
    writeCrontab(null);
    expect((await runFlurm(['cron', 'install', '--agent'], { env })).code).toBe(0);
    expect(findFlurmLines(readCrontab()!)).toHaveLength(1);
    expect((await runFlurm(['cron', 'remove'], { env })).code).toBe(0);
    expect(readCrontab()).toBeNull();
  });

  it('the installed line starts one agent per node: a second run exits at once, status says running', async () => {
    writeCrontab(SEED);
    expect((await runFlurm(['cron', 'install', '--agent'], { env })).code).toBe(0);
    const [entry] = findFlurmLines(readCrontab()!);
    const lock = entry!.lock!;
    expect(lock).toBe(lockPath(USER, 'agent'));
    expect(lockFree(lock)).toBe(true);

    // What cron would run (HOME and a node name as on a node; no FLURM_CLUSTER needed: the line carries it).
    const lineEnv: NodeJS.ProcessEnv = { ...env, FLURM_HOST: 'cronnode' };
    delete lineEnv.FLURM_CLUSTER;
    const first = spawn('/bin/sh', ['-c', entry!.command], { env: lineEnv, detached: true, stdio: 'ignore' });
    started.push(first);
    const snapshot = path.join(lab.cluster, 'nodes', 'cronnode.json');
    const log = path.join(home, '.local/state/flurm', `agent-${os.hostname()}.log`);
    const logText = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-2000) : '(no log)');
    await waitUntil(() => fs.existsSync(snapshot) || first.exitCode !== null, 30_000, `the agent's snapshot ${snapshot}; log:\n${logText()}`);
    if (first.exitCode !== null) throw new Error(`the line exited (status ${first.exitCode}) instead of running the agent; log:\n${logText()}`);
    expect(first.exitCode).toBeNull(); // keeps running
    expect(lockFree(lock)).toBe(false);
    expect(agentsFor('cronnode')).toHaveLength(1);

    // The same line again: flock -n finds the lock held and exits 1 at once, starting nothing:
    // when it has exited, nothing of it is left in its process group (a second agent, even one
    // put in the background, would be), and there is still one agent.
    const t0 = Date.now();
    const second = spawn('/bin/sh', ['-c', entry!.command], { env: lineEnv, detached: true, stdio: 'ignore' });
    started.push(second);
    const kill = setTimeout(() => second.kill('SIGKILL'), 10_000);
    const status = await new Promise<number | null>((r) => second.on('exit', (code) => r(code)));
    clearTimeout(kill);
    expect(status).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(processGroup(second.pid!)).toEqual([]);
    expect(agentsFor('cronnode')).toHaveLength(1);
    expect(first.exitCode).toBeNull();

    const st = await runFlurm(['cron', 'status'], { env });
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/agent\s+installed, running/);
    expect(st.stdout).toContain(lock);

    // Kill the first: the lock is free again.
    process.kill(-first.pid!, 'SIGTERM');
    await waitUntil(() => lockFree(lock) && agentsFor('cronnode').length === 0, 10_000, 'the lock to be free');
    const st2 = await runFlurm(['cron', 'status'], { env });
    expect(st2.stdout).toMatch(/agent\s+installed, not running/);
    expect(fs.existsSync(log)).toBe(true);

    expect((await runFlurm(['cron', 'remove'], { env })).code).toBe(0);
    expect(readCrontab()).toBe(SEED);
  }, 60_000);

  it('--hub needs an existing config; --print-systemd prints units and leaves the crontab alone', async () => {
    writeCrontab(SEED);
    const none = await runFlurm(['cron', 'install', '--hub'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--hub needs the hub's config file.*--config.*FLURM_CONFIG/);
    const missing = await runFlurm(['cron', 'install', '--hub', '-c', '/nonexistent/hub.toml'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/hub.toml');
    expect(readCrontab()).toBe(SEED);

    const config = lab.hubConfig();
    const p = await runFlurm(['cron', 'install', '--agent', '--hub', '-c', config, '--print-systemd'], { env });
    expect(p.code).toBe(0);
    expect(p.stdout).toContain(`ExecStart=${process.execPath} ${FLURM} agent\n`);
    expect(p.stdout).toContain(`ExecStart=${process.execPath} ${FLURM} hub --config ${config}\n`);
    expect(p.stdout.match(/^Restart=always$/gm)).toHaveLength(2);
    expect(p.stdout).toContain('~/.config/systemd/user/flurm-agent.service');
    expect(p.stdout).toContain('systemctl --user enable --now flurm-hub.service');
    expect(p.stdout).toMatch(/loginctl enable-linger/);
    expect(p.stdout).toContain(`Environment="FLURM_CONFIG=${config}"`);
    expect(p.stdout).not.toMatch(/FLURM_HOST/);
    expect(readCrontab()).toBe(SEED);

    // FLURM_CONFIG is enough for --hub; the hub line carries it.
    const hub = await runFlurm(['cron', 'install', '--hub'], { env: { ...env, FLURM_CONFIG: config } });
    expect(hub.code).toBe(0);
    const lines = findFlurmLines(readCrontab()!);
    expect(lines.map((l) => l.kind)).toEqual(['hub']);
    expect(lines[0]!.raw).toContain(`FLURM_CONFIG=${config} flock -n ${lockPath(USER, 'hub')} ${process.execPath} ${FLURM} hub --config ${config} `);
    expect((await runFlurm(['cron', 'remove'], { env })).code).toBe(0);
    expect(readCrontab()).toBe(SEED);
  });
});

describe('flurm cron without a real crontab', () => {
  let lab: Lab;
  let env: NodeJS.ProcessEnv;
  let store: string;
  beforeAll(() => {
    lab = makeLab('flurm-cron-fake-');
    const home = lab.home('fakeuser').home;
    // A stand-in crontab: -l prints the stored text (or "no crontab for"), - stores stdin, -r removes.
    const fake = path.join(lab.root, 'fake-crontab');
    store = path.join(lab.root, 'crontab.txt');
    fs.writeFileSync(
      fake,
      `#!/bin/sh\nf=${JSON.stringify(store)}\ncase "$1" in\n  -l) [ -f "$f" ] && exec cat "$f"; echo "no crontab for $(id -un)" >&2; exit 1;;\n  -) cat >"$f";;\n  -r) rm -f "$f";;\n  *) exit 2;;\nesac\n`,
      { mode: 0o755 },
    );
    env = { ...envFor(lab, home), FLURM_CRONTAB: fake };
  });
  afterAll(() => lab?.cleanup());

  it('a missing crontab binary is a clear error pointing at --print-systemd (exit 1)', async () => {
    for (const action of ['install', 'status', 'remove']) {
      const r = await runFlurm(['cron', action], { env: { ...env, FLURM_CRONTAB: '/nonexistent/crontab' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/crontab is not installed.*--print-systemd/);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });

  it('install / status / remove through FLURM_CRONTAB', async () => {
    const st0 = await runFlurm(['cron', 'status'], { env });
    expect(st0.code).toBe(0);
    expect(st0.stdout).toMatch(/agent\s+not installed/);
    fs.writeFileSync(store, 'MAILTO=""\n0 3 * * * /bin/true'); // no final newline
    expect((await runFlurm(['cron', 'install', '--agent'], { env })).code).toBe(0);
    const text = fs.readFileSync(store, 'utf8');
    expect(text.startsWith('MAILTO=""\n0 3 * * * /bin/true\n* * * * * ')).toBe(true);
    expect(findFlurmLines(text)).toHaveLength(1);
    const rm = await runFlurm(['cron', 'remove'], { env });
    expect(rm.code).toBe(0);
    expect(fs.readFileSync(store, 'utf8')).toBe('MAILTO=""\n0 3 * * * /bin/true\n');
  });
});
