import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import {
  CLK_TCK,
  isEnded,
  parseCmdline,
  parseProcStat,
  parseProcStatus,
  parseUptime,
  processAgeSeconds,
  readCmdline,
  readProcStat,
  readProcStatus,
  readUptime,
} from './proc.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../test/fixtures/proc');
const pids = Object.fromEntries(
  fs
    .readFileSync(path.join(FIXTURE, 'pids.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('=') as [string, string]),
);
const parent = Number(pids.parent);
const children = pids.children!.split(' ').map(Number);
const zombie = Number(pids.zombie);
const fixture = (p: string) => fs.readFileSync(path.join(FIXTURE, p), 'utf8');

describe('parseProcStat', () => {
  it('splits after the last ")" so a comm with spaces and parentheses parses', () => {
    const st = parseProcStat(fixture(`${parent}/stat`));
    expect(st.pid).toBe(parent);
    expect(st.comm).toBe('a) b (c');
    expect(st.state).toBe('S');
    expect(st.ppid).toBeGreaterThan(1);
    expect(st.startTimeTicks).toMatch(/^\d+$/);
    expect(st.rssPages).toBeGreaterThan(0);
    expect(st.numThreads).toBe(1);
  });

  it('reads the children\'s ppid, and a zombie\'s state', () => {
    for (const c of children) expect(parseProcStat(fixture(`${c}/stat`)).ppid).toBe(parent);
    const z = parseProcStat(fixture(`${zombie}/stat`));
    expect(z.state).toBe('Z');
    expect(z.rssPages).toBe(0);
    expect(isEnded(z)).toBe(true);
    expect(isEnded(parseProcStat(fixture(`${parent}/stat`)))).toBe(false);
    expect(isEnded(null)).toBe(true);
  });

  it('gives utime, stime, cutime, cstime, tty and process groups at their field numbers', () => {
    // Synthetic line, fields numbered from 1 as in proc(5): 14 utime, 15 stime, 16 cutime, 17 cstime.
    const fields = Array.from({ length: 52 }, (_, i) => String(i + 1));
    const line = `42 (x) y) ${fields.slice(2).join(' ')}`.replace(' 3 ', ' R ');
    const st = parseProcStat(line);
    expect(st.comm).toBe('x) y');
    expect(st.state).toBe('R');
    expect([st.ppid, st.pgrp, st.session, st.ttyNr, st.tpgid]).toEqual([4, 5, 6, 7, 8]);
    expect([st.utimeTicks, st.stimeTicks, st.cutimeTicks, st.cstimeTicks]).toEqual([14, 15, 16, 17]);
    expect(st.numThreads).toBe(20);
    expect(st.startTimeTicks).toBe('22');
    expect(st.rssPages).toBe(24);
  });

  it('rejects text that is not a stat line', () => {
    expect(() => parseProcStat('')).toThrow();
    expect(() => parseProcStat('1 (init) S 0')).toThrow(/short/);
  });
});

describe('parseProcStatus', () => {
  it('reads name, uid, VmRSS and VmHWM in bytes', () => {
    const st = parseProcStatus(fixture(`${parent}/status`));
    expect(st.name).toBe('a) b (c');
    expect(st.state).toBe('S');
    // PPid: 27134, Uid: 0 0 0 0, VmHWM: 1700 kB, VmRSS: 1700 kB
    expect(st.uid).toBe(0);
    expect(st.ppid).toBe(27134);
    expect(st.vmRssBytes).toBe(1700 * 1024);
    expect(st.vmHwmBytes).toBe(1700 * 1024);
    // Uid is "real effective saved fs": the owner is the first (a hand-edited line; the capture ran as root).
    expect(parseProcStatus(fixture(`${parent}/status`).replace(/^Uid:.*$/m, 'Uid:\t1000\t1001\t1002\t1003')).uid).toBe(1000);
  });

  it('has no memory figures for zombies and kernel threads', () => {
    expect(parseProcStatus(fixture(`${zombie}/status`)).vmRssBytes).toBeUndefined();
    const k = parseProcStatus(fixture('2/status'));
    expect(k.name).toBe('kthreadd');
    expect(k.vmRssBytes).toBeUndefined();
    expect(k.vmHwmBytes).toBeUndefined();
  });
});

describe('parseUptime, parseCmdline, processAgeSeconds', () => {
  it('parses /proc/uptime', () => {
    const u = parseUptime(fixture('uptime'));
    expect(u).toEqual({ uptimeSeconds: 1076.89, idleSeconds: 1350.36 }); // "1076.89 1350.36" (idle sums all CPUs)
    expect(() => parseUptime('x')).toThrow();
  });

  it('splits cmdline on NUL, keeping arguments with spaces whole', () => {
    const argv = parseCmdline(fixture(`${parent}/cmdline`));
    expect(argv.slice(1)).toEqual(['-c', 'sleep 30 & sleep 30 & wait']);
    expect(path.basename(argv[0]!)).toBe('a) b (c');
    expect(parseCmdline(fixture(`${zombie}/cmdline`))).toEqual([]);
  });

  it('ages a process from its start ticks and the uptime', () => {
    const st = parseProcStat(fixture(`${parent}/stat`));
    const up = parseUptime(fixture('uptime'));
    const age = processAgeSeconds(st.startTimeTicks, up.uptimeSeconds);
    expect(age).toBeGreaterThan(0);
    expect(age).toBeLessThan(5); // captured half a second after the start
    expect(processAgeSeconds('500', 10, CLK_TCK)).toBe(5);
    expect(processAgeSeconds('2000', 10)).toBe(0); // never negative
  });
});

describe('readers', () => {
  it('read the fixture through procRoot', () => {
    expect(readProcStat(parent, { procRoot: FIXTURE })?.comm).toBe('a) b (c');
    expect(readProcStatus(children[0]!, { procRoot: FIXTURE })?.name).toBe('sleep');
    expect(readCmdline(children[0]!, { procRoot: FIXTURE })).toEqual(['sleep', '30']);
    expect(readProcStat('self', { procRoot: FIXTURE })?.comm).toBe('cat');
    expect(readUptime({ procRoot: FIXTURE }).uptimeSeconds).toBeGreaterThan(0);
  });

  it('return null for a process that does not exist', () => {
    expect(readProcStat(999_999_999, { procRoot: FIXTURE })).toBeNull();
    expect(readProcStatus(999_999_999)).toBeNull();
    expect(readCmdline(999_999_999)).toBeNull();
  });

  it('read the real /proc of this process', () => {
    const st = readProcStat(process.pid)!;
    expect(st.pid).toBe(process.pid);
    expect(st.ppid).toBe(process.ppid);
    expect(readProcStat('self')!.pid).toBe(process.pid);
    expect(readProcStatus(process.pid)!.vmRssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(readCmdline(process.pid)!.length).toBeGreaterThan(0);
  });
});
