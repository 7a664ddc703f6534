import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProcStat, readProcStat } from '../proc/proc.js';
import {
  ProcessCollector,
  compareBusy,
  detectPageSizeBytes,
  formatCmdline,
  hidepidHidesOthers,
  parseMountinfoHidepid,
  parseMountsHidepid,
  scanProcStat,
  type StatScan,
} from './processes.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures');
const NODE = path.join(FIXTURES, 'proc-node');
const info = Object.fromEntries(
  fs
    .readFileSync(path.join(NODE, 'info.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('=') as [string, string]),
);
const busyPid = Number(info.busy);
const otherPid = Number(info.other);
const longPid = Number(info.longcmd);
const owners = new Map(info.owners!.split(' ').map((p) => p.split(':').map(Number) as [number, number]));
const isRoot = process.getuid?.() === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-procs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * A copy of the t0 and t1 proc roots whose pid dirs carry the captured owners again (git keeps
 * no owners; chown needs root, so without it every dir is ours and the owner checks are skipped).
 */
function fixtureRoots(): { t0: string; t1: string } {
  const dest = fs.mkdtempSync(path.join(tmp, 'node-'));
  for (const t of ['t0', 't1']) {
    fs.cpSync(path.join(NODE, t), path.join(dest, t), { recursive: true });
    if (isRoot) for (const [pid, uid] of owners) fs.chownSync(path.join(dest, t, String(pid)), uid, uid);
  }
  return { t0: path.join(dest, 't0'), t1: path.join(dest, 't1') };
}
const ticksOf = (root: string, pid: number) => {
  const st = readProcStat(pid, { procRoot: root })!;
  return st.utimeTicks + st.stimeTicks;
};
const uptimeOf = (root: string) => Number(fs.readFileSync(path.join(root, 'uptime'), 'utf8').split(' ')[0]);

describe('pure helpers', () => {
  it('finds hidepid on the /proc line of /proc/mounts (real: none; hand-written: invisible)', () => {
    expect(parseMountsHidepid(fs.readFileSync(path.join(NODE, 't0/mounts'), 'utf8'))).toBeNull();
    expect(parseMountsHidepid(fs.readFileSync(path.join(NODE, 'hidepid/mounts'), 'utf8'))).toBe('invisible');
    expect(parseMountsHidepid('proc /proc proc rw,nosuid,nodev,noexec,relatime,hidepid=2 0 0\n')).toBe('2');
    expect(parseMountsHidepid('proc /proc proc rw,hidepid=2 0 0\nproc /proc proc rw 0 0\n')).toBeNull(); // the top mount wins
    expect(parseMountsHidepid('proc /other proc rw,hidepid=2 0 0\n')).toBeNull();
  });

  it('finds hidepid in /proc/self/mountinfo super options', () => {
    expect(parseMountinfoHidepid('22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw,hidepid=noaccess\n')).toBe('noaccess');
    expect(parseMountinfoHidepid('22 28 0:21 / /proc rw,relatime shared:13 - proc proc rw\n')).toBeNull();
  });

  it('knows which hidepid values hide other users', () => {
    for (const v of ['1', '2', 'noaccess', 'invisible']) expect(hidepidHidesOthers(v)).toBe(true);
    for (const v of ['0', 'off', 'ptraceable', null]) expect(hidepidHidesOthers(v)).toBe(false);
  });

  it('formats command lines: NULs to spaces, kernel threads as [comm], cut to the limit', () => {
    expect(formatCmdline(['python', 'train.py', '--lr', '0.01', ''].join('\0'), 'python')).toBe('python train.py --lr 0.01');
    expect(formatCmdline('', 'kthreadd')).toBe('[kthreadd]');
    expect(formatCmdline('x'.repeat(1000), 'x')).toHaveLength(256);
    expect(formatCmdline(fs.readFileSync(path.join(NODE, `t1/${longPid}/cmdline`), 'latin1'), 'sh')).toBe('sh -c sleep 60; : "$0" arg with spaces');
  });

  it('sorts busiest first: %CPU, then memory; unknown %CPU counts as 0', () => {
    const list = [
      { cpu_pct: null, rss_bytes: 5 },
      { cpu_pct: 50, rss_bytes: 1 },
      { cpu_pct: 50, rss_bytes: 9 },
      { cpu_pct: 3, rss_bytes: 0 },
    ].sort(compareBusy);
    expect(list).toEqual([
      { cpu_pct: 50, rss_bytes: 9 },
      { cpu_pct: 50, rss_bytes: 1 },
      { cpu_pct: 3, rss_bytes: 0 },
      { cpu_pct: null, rss_bytes: 5 },
    ]);
  });

  it('detects this machine\'s page size', () => {
    expect([4096, 16384, 65536]).toContain(detectPageSizeBytes());
  });
});

describe('scanProcStat agrees with parseProcStat', () => {
  const check = (bytes: Buffer, where: string) => {
    const want = parseProcStat(bytes.toString('utf8'));
    const got: StatScan = { state: '', ticks: 0, start: '', rssPages: 0, commStart: 0, commEnd: 0 };
    expect(scanProcStat(bytes, bytes.length, got), where).toBe(true);
    expect({ state: got.state, ticks: got.ticks, start: got.start, rssPages: got.rssPages, comm: bytes.toString('utf8', got.commStart, got.commEnd) }, where).toEqual({
      state: want.state,
      ticks: want.utimeTicks + want.stimeTicks,
      start: want.startTimeTicks,
      rssPages: want.rssPages,
      comm: want.comm,
    });
  };

  it('on every stat file of the fixtures (a comm with ") b (", a zombie, kthreadd)', () => {
    const files = [
      ...['t0', 't1'].flatMap((t) => fs.readdirSync(path.join(NODE, t)).filter((n) => /^\d+$/.test(n)).map((n) => path.join(NODE, t, n, 'stat'))),
      ...fs.readdirSync(path.join(FIXTURES, 'proc')).filter((n) => /^\d+$|^self$/.test(n)).map((n) => path.join(FIXTURES, 'proc', n, 'stat')),
    ];
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) check(fs.readFileSync(f), f);
  });

  it('on every process of this machine, and on made-up comms', () => {
    let n = 0;
    for (const name of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(`/proc/${name}/stat`);
      } catch {
        continue; // gone
      }
      check(bytes, `/proc/${name}/stat`);
      n++;
    }
    expect(n).toBeGreaterThan(3);
    const line = (comm: string) => Buffer.from(`4242 (${comm}) R 1 4242 4242 0 -1 4194304 110 0 0 0 130 7 0 0 -100 0 1 0 653819 2654208 397 18446744073709551615 1 2 3\n`);
    for (const comm of ['a) b (c', ') )', 'x 1 2 3', 'naïve', '']) check(line(comm), comm);
    const bad: StatScan = { state: '', ticks: 0, start: '', rssPages: 0, commStart: 0, commEnd: 0 };
    expect(scanProcStat(Buffer.from('garbage'), 7, bad)).toBe(false);
    expect(scanProcStat(Buffer.from('1 (x) S 1 2'), 11, bad)).toBe(false);
  });
});

describe('ProcessCollector on the proc-node fixture (t0, then t1 one second later)', () => {
  it('lists every live (pid, start) pair with the start time of field 22', () => {
    const { t0 } = fixtureRoots();
    const r = new ProcessCollector({ procRoot: t0, pageSizeBytes: 4096 }).collect();
    const expected = [busyPid, otherPid, longPid, 2].map((pid) => [pid, readProcStat(pid, { procRoot: t0 })!.startTimeTicks]);
    expect([...r.value.pids].sort((a, b) => a[0] - b[0])).toEqual(expected.sort((a, b) => (a[0] as number) - (b[0] as number)));
    expect(r.value.pids_visible).toBe('all');
    expect(r.value.pids_truncated).toBe(false);
    expect(r.note).toBeUndefined();
  });

  it('has no %CPU the first time, then the busy loop at ~100 % of a core', () => {
    const { t0, t1 } = fixtureRoots();
    const opts = { procRoot: t0, pageSizeBytes: 4096 };
    const c = new ProcessCollector(opts);
    const first = c.collect().value;
    expect(first.busy).toEqual([]); // nothing measured yet, nothing near 1 GiB
    opts.procRoot = t1;
    const second = c.collect().value;
    expect(second.busy.map((b) => b.pid)).toEqual([busyPid]);
    const b = second.busy[0]!;
    const expectedPct = ((ticksOf(t1, busyPid) - ticksOf(t0, busyPid)) / 100 / (uptimeOf(t1) - uptimeOf(t0))) * 100;
    expect(b.cpu_pct).toBeCloseTo(expectedPct, 1);
    expect(b.cpu_pct!).toBeGreaterThan(80);
    expect(b.cmd).toBe('sh -c while :; do :; done');
    const st = readProcStat(busyPid, { procRoot: t1 })!;
    expect(b.start).toBe(st.startTimeTicks);
    expect(b.rss_bytes).toBe(st.rssPages * 4096);
    expect(b.elapsed_seconds).toBeCloseTo(uptimeOf(t1) - Number(st.startTimeTicks) / 100, 1);
    if (isRoot) expect(b.uid).toBe(owners.get(busyPid));
  });

  it('with thresholds at zero every process is busy: owners from the dir, kernel threads as [comm]', () => {
    const { t0, t1 } = fixtureRoots();
    const opts = { procRoot: t0, pageSizeBytes: 4096, busyMinCpuPct: 0, busyMinRssBytes: 0 };
    const c = new ProcessCollector(opts);
    c.collect();
    opts.procRoot = t1;
    const busy = c.collect().value.busy;
    expect(busy[0]!.pid).toBe(busyPid);
    const by = new Map(busy.map((b) => [b.pid, b]));
    expect(by.get(2)!.cmd).toBe('[kthreadd]');
    expect(by.get(2)!.rss_bytes).toBe(0);
    expect(by.get(otherPid)!.cmd).toBe('sleep 60');
    expect(by.get(otherPid)!.cpu_pct).toBe(0);
    expect(by.get(longPid)!.cmd).toBe('sh -c sleep 60; : "$0" arg with spaces');
    if (isRoot) expect(by.get(otherPid)!.uid).toBe(65534);
  });

  it('is "own" under hidepid (hand-written mounts line) unless it runs as root', () => {
    const { t0 } = fixtureRoots();
    fs.copyFileSync(path.join(NODE, 'hidepid/mounts'), path.join(t0, 'mounts'));
    const asUser = new ProcessCollector({ procRoot: t0, pageSizeBytes: 4096, euid: 1000 }).collect();
    expect(asUser.value.pids_visible).toBe('own');
    expect(asUser.note).toMatch(/hidepid=invisible/);
    expect(new ProcessCollector({ procRoot: t0, pageSizeBytes: 4096, euid: 0 }).collect().value.pids_visible).toBe('all');
  });

  it('caps pids and busy, setting pids_truncated', () => {
    const { t0 } = fixtureRoots();
    const r = new ProcessCollector({ procRoot: t0, pageSizeBytes: 4096, maxPids: 2, maxBusy: 1, busyMinRssBytes: 0 }).collect().value;
    expect(r.pids).toHaveLength(2);
    expect(r.pids_truncated).toBe(true);
    expect(r.busy).toHaveLength(1);
  });

  it('skips processes that vanished mid-scan or left garbage, never failing the sample', () => {
    const { t0 } = fixtureRoots();
    fs.mkdirSync(path.join(t0, '99999')); // gone: the dir listed, its stat missing
    fs.mkdirSync(path.join(t0, '99998'));
    fs.writeFileSync(path.join(t0, '99998/stat'), 'garbage');
    fs.mkdirSync(path.join(t0, '99997/stat'), { recursive: true }); // EISDIR
    const r = new ProcessCollector({ procRoot: t0, pageSizeBytes: 4096 }).collect().value;
    expect(r.pids.map((p) => p[0]).sort()).toEqual([busyPid, otherPid, longPid, 2].sort());
  });
});

describe('ProcessCollector on test/fixtures/proc (comm with parentheses, a zombie)', () => {
  const PROC = path.join(FIXTURES, 'proc');
  const pids = Object.fromEntries(
    fs
      .readFileSync(path.join(PROC, 'pids.txt'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );

  it('leaves the zombie out, keeps the "a) b (c" parent, and reads [kthreadd]', () => {
    const r = new ProcessCollector({ procRoot: PROC, pageSizeBytes: 4096, busyMinRssBytes: 0 }).collect().value;
    const listed = r.pids.map((p) => p[0]);
    expect(listed).not.toContain(Number(pids.zombie));
    expect(listed).toContain(Number(pids.parent));
    expect(listed).toContain(2);
    expect(r.busy.find((b) => b.pid === 2)?.cmd).toBe('[kthreadd]');
    expect(r.busy.find((b) => b.pid === Number(pids.parent))?.cmd).toMatch(/sleep 30 & sleep 30 & wait/);
    expect(r.pids_visible).toBe('all'); // no mounts file there: nothing says hidepid
  });
});

describe('ProcessCollector on this machine\'s /proc', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });
  const poll = async <T>(fn: () => T | undefined, everyMs = 100, timeoutMs = 8000): Promise<T> => {
    const t0 = Date.now();
    for (;;) {
      const v = fn();
      if (v !== undefined) return v;
      if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };

  it('lists a spawned sleep with its real start time', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    const pid = child.pid!;
    const start = await poll(() => readProcStat(pid)?.startTimeTicks);
    const c = new ProcessCollector();
    const r = await poll(() => {
      const v = c.collect().value;
      return v.pids.some(([p]) => p === pid) ? v : undefined;
    });
    expect(r.pids).toContainEqual([pid, start]);
    expect(r.pids.some(([p]) => p === process.pid)).toBe(true);
    expect(r.pids_visible).toBe('all');
  });

  it('puts a spinning node process in busy with cpu_pct > 50 after two samples', async () => {
    const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    children.push(child);
    const pid = child.pid!;
    const c = new ProcessCollector();
    c.collect();
    const hit = await poll(() => {
      const v = c.collect().value.busy.find((b) => b.pid === pid && (b.cpu_pct ?? 0) > 50);
      return v;
    }, 300);
    expect(hit.cmd).toBe(`${process.execPath} -e for(;;){}`);
    expect(hit.uid).toBe(process.getuid!());
    expect(hit.rss_bytes).toBeGreaterThan(1 << 20);
  });
});
