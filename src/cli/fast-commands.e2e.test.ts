// End to end: the built CLI (dist/cli/flurm.cjs, `npm run build` first) run as a real process on
// real processes and the real /proc, with FLURM_SPOOL in a temp dir and FLURM_HOST=testhost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FLURM = path.join(ROOT, 'dist/cli/flurm.cjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-fast-e2e-'));

beforeAll(() => {
  // A stale build would test old code: compare with the sources this file covers.
  const pairs = ['cli/fast-commands', 'cli/commands/run', 'cli/commands/watch', 'cli/commands/notify', 'schedulers/local/wrap', 'lib/doorbell'];
  for (const p of pairs) {
    const js = path.join(ROOT, 'dist', `${p}.js`);
    if (!fs.existsSync(js)) throw new Error(`${js} is missing: run \`npm run build\` first`);
    if (fs.statSync(js).mtimeMs < fs.statSync(path.join(ROOT, 'src', `${p}.ts`)).mtimeMs) throw new Error(`dist/${p}.js is older than its source: run \`npm run build\` first`);
  }
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let k = 0;
function newSpool(): string {
  return path.join(tmp, `spool-${k++}`);
}
function envFor(spool: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FLURM_SPOOL: spool, FLURM_HOST: 'testhost' };
  delete env.FLURM_HUB_URL;
  delete env.FLURM_CLUSTER;
  return { ...env, ...extra };
}
type Ev = Record<string, unknown> & { type: string; id: string };
function events(spool: string): Ev[] {
  const f = path.join(spool, 'events', 'testhost.jsonl');
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Ev);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(fn: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
    await sleep(25);
  }
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}
function start(args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; cwd?: string } = {}): { child: ChildProcess; done: Promise<Ran>; out: () => string } {
  const child = spawn(process.execPath, [FLURM, ...args], { env, cwd: opts.cwd ?? tmp, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(opts.input ?? '');
  const done = new Promise<Ran>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, out: () => stdout };
}
const flurm = (args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; cwd?: string } = {}) => start(args, env, opts).done;

describe('flurm run', () => {
  it('passes the output through, exits with the job\'s status and records start + end', async () => {
    const spool = newSpool();
    const r = await flurm(['run', '-t', 'three', '--', 'sh', '-c', 'echo hi; exit 3'], envFor(spool));
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toMatch(/^flurm: job [0-9A-HJKMNP-TV-Z]{26} exit 3 after \d+ms\n$/);
    const [s, e] = events(spool);
    expect(s).toMatchObject({ v: 1, type: 'start', user: os.userInfo().username, host: 'testhost', title: 'three', cmd: "sh -c 'echo hi; exit 3'", cwd: tmp, detached: false });
    expect(typeof s!.pid).toBe('number');
    expect(s!.pid_start).toMatch(/^\d+$/);
    expect(e).toMatchObject({ type: 'end', id: s!.id, exit: 3, signal: null, tail: ['hi'], title: 'three' });
    expect(e!.wall_seconds).toBeGreaterThan(0);
    expect(e!.cpu_seconds).toBeGreaterThanOrEqual(0);
  });

  it('a job killed by SIGKILL: flurm exits 137, end.signal = SIGKILL', async () => {
    const spool = newSpool();
    const r = await flurm(['run', '-q', '--', 'sh', '-c', 'kill -KILL $$'], envFor(spool));
    expect(r.code).toBe(137);
    expect(r.stderr).toBe(''); // --quiet
    expect(events(spool)[1]).toMatchObject({ type: 'end', exit: null, signal: 'SIGKILL' });
  });

  it('forwards SIGTERM sent to flurm; the job\'s handler runs and decides the status', async () => {
    const spool = newSpool();
    const job = start(['run', '--', 'sh', '-c', 'trap "echo got TERM; exit 5" TERM; echo ready; while :; do sleep 0.05; done'], envFor(spool));
    await waitFor(() => (job.out().includes('ready') ? true : undefined));
    job.child.kill('SIGTERM');
    const r = await job.done;
    expect(r.code).toBe(5);
    expect(r.stdout).toContain('got TERM');
    expect(events(spool)[1]).toMatchObject({ exit: 5, tail: ['ready', 'got TERM'] });
  });

  it('forwards SIGINT when flurm has no terminal (it was sent to flurm alone)', async () => {
    const spool = newSpool();
    const job = start(['run', '-q', '--', 'sh', '-c', 'trap "echo got INT; exit 7" INT; echo ready; while :; do sleep 0.05; done'], envFor(spool));
    await waitFor(() => (job.out().includes('ready') ? true : undefined));
    job.child.kill('SIGINT');
    expect((await job.done).code).toBe(7);
  });

  it('Ctrl-C in a terminal reaches the job once, not twice (pty)', async () => {
    // python3's pty module gives flurm a real controlling terminal; ^C goes to its foreground group.
    const py = `
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
buf = b''
def until(tok):
    global buf
    end = time.time() + 10
    while tok not in buf and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try: buf += os.read(fd, 4096)
            except OSError: break
until(b'ready'); os.write(fd, b'\\x03'); until(b'count'); until(b'flurm: job')
os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors='replace'))
`;
    const job = `import signal,time; n=[0]; signal.signal(signal.SIGINT, lambda *a: n.__setitem__(0, n[0]+1)); print('ready', flush=True); time.sleep(0.8); print('count', n[0], flush=True)`;
    const r = spawnSync('python3', ['-c', py, process.execPath, FLURM, 'run', '--', 'python3', '-c', job], { env: envFor(newSpool()), encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toContain('count 1');
  });

  it('stdin passes through', async () => {
    const spool = newSpool();
    const r = await flurm(['run', '-q', '--', 'cat'], envFor(spool), { input: 'abc\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('abc\n');
    expect(events(spool)[1]).toMatchObject({ exit: 0, tail: ['abc'] });
  });

  it('a single argument in shell syntax runs through the shell', async () => {
    const spool = newSpool();
    const r = await flurm(['run', '-q', 'echo one && echo two | tr a-z A-Z'], envFor(spool, { SHELL: '/bin/sh' }));
    expect(r.stdout).toBe('one\nTWO\n');
    expect(events(spool)[0]).toMatchObject({ cmd: 'echo one && echo two | tr a-z A-Z' });
  });

  it('records the peak RSS of the whole tree (a grandchild touching 200 MB)', async () => {
    const spool = newSpool();
    const script = 'const b = Buffer.alloc(200 * 1024 * 1024, 1); setTimeout(() => b.length, 300)';
    const r = await flurm(['run', '-q', '--', 'sh', '-c', `"${process.execPath}" -e '${script}'; true`], envFor(spool));
    expect(r.code).toBe(0);
    expect(events(spool)[1]!.peak_rss_bytes).toBeGreaterThanOrEqual(200 * 1024 * 1024);
  });

  it('--log appends the output to a file too; --hide-command keeps the command out of the events', async () => {
    const spool = newSpool();
    const log = path.join(tmp, 'fg.log');
    fs.writeFileSync(log, 'earlier\n');
    const r = await flurm(['run', '-q', '--hide-command', '--log', log, '--', 'sh', '-c', 'echo out; echo err >&2'], envFor(spool));
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(fs.readFileSync(log, 'utf8')).toBe('earlier\nout\nerr\n');
    const [s, e] = events(spool);
    expect(s!.log).toBe(log);
    expect(s!.cmd).toBeUndefined();
    expect(e!.cmd).toBeUndefined();
    expect(e!.tail).toEqual(['out', 'err']);
  });

  it('a command that does not exist: 127 and no events; not executable: 126', async () => {
    const spool = newSpool();
    const r = await flurm(['run', '--', 'no-such-command-flurm'], envFor(spool));
    expect(r.code).toBe(127);
    expect(r.stderr).toBe('flurm: command not found: no-such-command-flurm\n');
    const plain = path.join(tmp, 'plain.sh');
    fs.writeFileSync(plain, 'echo hi\n', { mode: 0o644 });
    const r2 = await flurm(['run', '--', plain], envFor(spool));
    expect(r2.code).toBe(126);
    expect(r2.stderr).toMatch(/^flurm: permission denied: /);
    expect(events(spool)).toEqual([]);
  });

  it('an unknown option: exit 2, named in the message', async () => {
    const r = await flurm(['run', '--frobnicate', '--', 'true'], envFor(newSpool()));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'--frobnicate'");
  });

  it('--help prints the usage', async () => {
    const r = await flurm(['run', '--help'], envFor(newSpool()));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: flurm run/);
  });

  it('rings the hub\'s doorbell after start and end (once for a job shorter than the start ring\'s delay); a hub that is down changes nothing', async () => {
    const rings: string[] = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/settle') return void res.writeHead(200, { connection: 'close' }).end();
      rings.push(req.url!);
      res.writeHead(202).end();
    });
    const open = new Set<net.Socket>();
    server.on('connection', (sock) => {
      open.add(sock);
      sock.once('close', () => open.delete(sock));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      const spool = newSpool();
      const bell = `/doorbell?user=${encodeURIComponent(os.userInfo().username)}`;
      // flurm has exited: each ring it made is a connection queued before this one, and closed
      // by its exit. Once this request is answered and no connection is left open, every ring
      // it sent has been read - and no later one can come.
      const settle = async () => {
        await new Promise<void>((resolve, reject) => http.get(`${url}/settle`, { agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject));
        await waitFor(() => (open.size === 0 ? true : undefined), 5000);
      };
      const r = await flurm(['run', '-q', '--', 'true'], envFor(spool, { FLURM_HUB_URL: url }));
      expect(r.code).toBe(0);
      await settle();
      expect(rings).toEqual([bell]);
      rings.length = 0;
      const long = await flurm(['run', '-q', '--', 'sleep', '0.4'], envFor(spool, { FLURM_HUB_URL: url }));
      expect(long.code).toBe(0);
      await settle();
      expect(rings).toEqual([bell, bell]);
    } finally {
      await new Promise((r) => server.close(r));
    }
    const t0 = Date.now();
    const down = await flurm(['run', '-q', '--', 'true'], envFor(newSpool(), { FLURM_HUB_URL: url }));
    expect(down.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('flurm run --detach', () => {
  it('outlives the session that started it; prints the id and log; end arrives with exit 0', async () => {
    const spool = newSpool();
    const cwd = fs.mkdtempSync(path.join(tmp, 'detach-'));
    // A shell in a session of its own starts the job detached, then hangs up its whole process
    // group (as a dropped SSH connection would) and dies of it.
    const sh = spawn('bash', ['-c', `"${process.execPath}" "${FLURM}" run -d -t survivor -- sh -c 'sleep 1; echo survived' && kill -HUP 0; sleep 30`], {
      env: envFor(spool),
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    sh.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const how = await new Promise<NodeJS.Signals | null>((r) => sh.on('exit', (_code, signal) => r(signal)));
    expect(how).toBe('SIGHUP');
    const id = /job ([0-9A-HJKMNP-TV-Z]{26})/.exec(out)?.[1];
    expect(id).toBeDefined();
    const logName = /output: (\S+)/.exec(out)?.[1];
    expect(logName).toMatch(new RegExp(`^${cwd}/flurm-survivor-[0-9a-z]{6}\\.log$`));
    const end = await waitFor(() => events(spool).find((e) => e.type === 'end'));
    const startEv = events(spool).find((e) => e.type === 'start')!;
    expect(startEv).toMatchObject({ id, detached: true, log: logName, title: 'survivor' });
    expect(end).toMatchObject({ id, exit: 0, tail: ['survived'] });
    expect(fs.readFileSync(logName!, 'utf8')).toBe('survived\n');
  });

  it('a command that does not exist is reported at once, in the terminal', async () => {
    const spool = newSpool();
    const r = await flurm(['run', '-d', '--', 'no-such-command-flurm'], envFor(spool));
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('command not found');
    expect(events(spool)).toEqual([]);
  });
});

describe('flurm notify', () => {
  it('writes a note', async () => {
    const spool = newSpool();
    const r = await flurm(['notify', '-t', 'sweep', 'epoch', '10', 'done'], envFor(spool));
    expect(r.code).toBe(0);
    expect(events(spool)).toEqual([expect.objectContaining({ v: 1, type: 'note', title: 'sweep', message: 'epoch 10 done', host: 'testhost' })]);
  });
});

describe('flurm watch', () => {
  it('records a process it did not start: attached start, exit_unknown end, wall time since its start', async () => {
    const spool = newSpool();
    const out = path.join(tmp, 'watched.out');
    const victim = spawn('sh', ['-c', `echo started > "${out}"; exec sleep 1`], { stdio: 'ignore' });
    await sleep(100);
    const pidStart = fs.readFileSync(`/proc/${victim.pid}/stat`, 'utf8').split(')').pop()!.trim().split(' ')[19];
    const r = await flurm(['watch', '-t', 'nap', String(victim.pid)], envFor(spool));
    expect(r.code).toBe(0);
    const [s, e] = events(spool);
    expect(s).toMatchObject({ type: 'start', pid: victim.pid, pid_start: pidStart, attached: true, title: 'nap', cmd: 'sleep 1' });
    expect(e).toMatchObject({ type: 'end', id: s!.id, exit: null, exit_unknown: true });
    expect(e!.wall_seconds).toBeGreaterThanOrEqual(0.9);
    expect(e!.wall_seconds).toBeLessThan(3);
    expect(e!.peak_rss_bytes).toBeGreaterThan(0);
  });

  it('a process that does not exist is a clear error', async () => {
    const r = await flurm(['watch', '999999999'], envFor(newSpool()));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('flurm: no such process: 999999999\n');
  });

  it('-d watches in the background and returns at once', async () => {
    const spool = newSpool();
    // Long enough to outlive `flurm watch`'s own start on a loaded machine (0.5 s did not always).
    const victim = spawn('sleep', ['2'], { stdio: 'ignore' });
    const r = await flurm(['watch', '-d', String(victim.pid)], envFor(spool));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/watching pid \d+ in the background/);
    const end = await waitFor(() => events(spool).find((e) => e.type === 'end'));
    expect(end).toMatchObject({ exit: null, exit_unknown: true });
  });
});
