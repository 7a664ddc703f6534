import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputRing, exitCodeOf, inTerminalForeground, jobEnv, wrapProcess } from './wrap.js';
import { readProcStat } from '../../proc/proc.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-wrap-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const logFile = () => path.join(tmp, `job-${n++}.log`);

function run(script: string, extra: Partial<Parameters<typeof wrapProcess>[0]> = {}) {
  return wrapProcess({ file: '/bin/sh', args: ['-c', script], cwd: tmp, env: jobEnv(process.env), output: 'log', logFile: logFile(), ...extra });
}

describe('wrapProcess (output to a log, as detached)', () => {
  it('reports the exit status, the wall time and the last lines', async () => {
    let spawned: { pid: number; pidStart: string } | undefined;
    const r = await run('echo hi; echo oops >&2; exit 3', {
      onSpawn: (info) => {
        spawned = info;
        // Called right after the spawn: the child (maybe a zombie) is still in /proc.
        expect(readProcStat(info.pid)?.startTimeTicks).toBe(info.pidStart);
      },
    });
    expect(spawned?.pid).toBe(r.pid);
    expect(r.exit).toBe(3);
    expect(r.signal).toBeNull();
    expect(r.exitCode).toBe(3);
    expect(r.tail).toEqual(['hi', 'oops']);
    expect(r.wallSeconds).toBeGreaterThan(0);
    expect(r.wallSeconds).toBeLessThan(5);
  });

  it('a job killed by a signal: exit null, the signal, exit code 128+N', async () => {
    const r = await run('kill -KILL $$');
    expect(r.exit).toBeNull();
    expect(r.signal).toBe('SIGKILL');
    expect(r.exitCode).toBe(137);
  });

  it('counts the CPU time of the child and its waited-for descendants exactly', async () => {
    // A grandchild burns 0.4 s of CPU by its own count (not by the clock: the machine may be
    // busy); the shell waits for it.
    const burn = 'const u = () => { const c = process.cpuUsage(); return c.user + c.system; }; while (u() < 400000);';
    const r = await run(`"${process.execPath}" -e '${burn}'; true`);
    expect(r.exit).toBe(0);
    expect(r.cpuSeconds).toBeGreaterThanOrEqual(0.39);
    expect(r.cpuSeconds).toBeLessThan(r.wallSeconds * 2 + 0.1);
  });

  it('samples the peak RSS of the whole tree (a grandchild touching 200 MB)', async () => {
    const script = 'const b = Buffer.alloc(200 * 1024 * 1024, 1); setTimeout(() => b.length, 300)';
    const r = await run(`"${process.execPath}" -e '${script}'; true`);
    expect(r.exit).toBe(0);
    expect(r.peakRssBytes).toBeGreaterThanOrEqual(200 * 1024 * 1024);
  });

  it('gives the job PYTHONUNBUFFERED=1 unless the user set it', async () => {
    expect(jobEnv({ PATH: '/bin' }).PYTHONUNBUFFERED).toBe('1');
    expect(jobEnv({ PYTHONUNBUFFERED: '' }).PYTHONUNBUFFERED).toBe('');
    expect(jobEnv({ FLURM_DETACHED_SPEC: '{}' }).FLURM_DETACHED_SPEC).toBeUndefined();
    const r = await run('echo "[$PYTHONUNBUFFERED]"');
    expect(r.tail).toEqual(['[1]']);
  });

  it('rejects with the spawn error when the program cannot be started', async () => {
    await expect(wrapProcess({ file: path.join(tmp, 'missing'), args: [], cwd: tmp, env: process.env, output: 'log', logFile: logFile() })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('helpers', () => {
  it('exitCodeOf: the status, or 128 + the signal number', () => {
    expect(exitCodeOf(0, null)).toBe(0);
    expect(exitCodeOf(3, null)).toBe(3);
    expect(exitCodeOf(null, 'SIGTERM')).toBe(143);
    expect(exitCodeOf(null, 'SIGINT')).toBe(130);
  });

  it('OutputRing keeps the last bytes only', () => {
    const ring = new OutputRing(10);
    ring.push(Buffer.from('abc'));
    expect(ring.contents().toString()).toBe('abc');
    expect(ring.dropped).toBe(false);
    ring.push(Buffer.from('defghij'));
    ring.push(Buffer.from('klm'));
    expect(ring.contents().toString()).toBe('defghijklm');
    expect(ring.dropped).toBe(true);
    ring.push(Buffer.from('0123456789ABCDEF'));
    expect(ring.contents().toString()).toBe('6789ABCDEF');
  });

  it('inTerminalForeground: true only when our group is the terminal\'s foreground group', () => {
    const root = path.join(tmp, 'proc');
    fs.mkdirSync(path.join(root, 'self'), { recursive: true });
    // Fields from 3 on: state ppid pgrp session tty_nr tpgid ...
    const stat = (pgrp: number, tty: number, tpgid: number) =>
      fs.writeFileSync(path.join(root, 'self/stat'), `100 (flurm) S 99 ${pgrp} 99 ${tty} ${tpgid} ${'0 '.repeat(45)}0\n`);
    stat(100, 34816, 100);
    expect(inTerminalForeground(root)).toBe(true); // Ctrl-C reached the child too
    stat(100, 34816, 200);
    expect(inTerminalForeground(root)).toBe(false); // background job (`&`)
    stat(100, 0, -1);
    expect(inTerminalForeground(root)).toBe(false); // no terminal (detached, cron, tests)
  });
});
