import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isUlid } from '../lib/ids.js';
import { legacyJobId, parseLegacyLine } from './legacy.js';
import { isValidTimeZone } from '../lib/time.js';

const FIX = new URL('../../test/fixtures/spools/pingchilling', import.meta.url);
const berlin = { timeZone: 'Europe/Berlin' };

describe('parseLegacyLine', () => {
  it('parses the fixture: brackets and spaces in titles, empty title, negative exit, bad lines', () => {
    const lines = fs.readFileSync(FIX, 'utf8').split('\n').filter(Boolean);
    const r = lines.map((l) => parseLegacyLine(l, berlin));
    expect(r.slice(0, 6)).toEqual([
      { kind: 'start', pid: 48213, host: 'gpu1', title: 'train resnet', ts: '2024-03-31T00:30:00.000Z' },
      { kind: 'finish', pid: 48213, host: 'gpu1', exit: 0, ts: '2024-03-31T02:10:12.000Z' },
      { kind: 'start', pid: 50110, host: 'gpu2', title: 'sweep [lr=0.1] [bs=64]', ts: '2024-10-27T00:30:00.000Z' },
      { kind: 'finish', pid: 50110, host: 'gpu2', exit: 137, ts: '2024-10-27T02:05:00.000Z' },
      { kind: 'start', pid: 777, host: 'ws-3.lab', title: '', ts: '2024-01-15T22:59:59.000Z' },
      { kind: 'finish', pid: 777, host: 'ws-3.lab', exit: -1, ts: '2024-01-15T23:00:01.000Z' },
    ]);
    expect(r.slice(6).map((x) => x.kind)).toEqual(['invalid', 'invalid', 'invalid']);
  });

  it('keeps the brackets of a title that ends with one', () => {
    expect(parseLegacyLine('1@h: Started [[a] b [c]] 2024-01-01 00:00:00', { timeZone: 'UTC' })).toMatchObject({ title: '[a] b [c]' });
  });

  it('DST in Europe/Berlin: the skipped hour reads as summer time after the jump, the repeated hour as its first occurrence', () => {
    const ts = (wall: string) => {
      const r = parseLegacyLine(`1@h: Started [x] ${wall}`, berlin);
      return r.kind === 'start' ? r.ts : r;
    };
    expect(ts('2024-03-31 01:59:59')).toBe('2024-03-31T00:59:59.000Z'); // CET, +1
    expect(ts('2024-03-31 02:30:00')).toBe('2024-03-31T01:30:00.000Z'); // does not exist: = 03:30 CEST
    expect(ts('2024-03-31 03:00:00')).toBe('2024-03-31T01:00:00.000Z'); // CEST, +2
    expect(ts('2024-10-27 01:59:59')).toBe('2024-10-26T23:59:59.000Z'); // CEST
    expect(ts('2024-10-27 02:30:00')).toBe('2024-10-27T00:30:00.000Z'); // twice: the first (CEST)
    expect(ts('2024-10-27 03:00:00')).toBe('2024-10-27T02:00:00.000Z'); // CET
  });

  it('DST in America/New_York (other hemisphere of the offset sign)', () => {
    const ny = { timeZone: 'America/New_York' };
    const ts = (wall: string) => {
      const r = parseLegacyLine(`1@h: Finished [0] ${wall}`, ny);
      return r.kind === 'finish' ? r.ts : r;
    };
    expect(ts('2024-03-10 01:30:00')).toBe('2024-03-10T06:30:00.000Z'); // EST -5
    expect(ts('2024-03-10 02:30:00')).toBe('2024-03-10T07:30:00.000Z'); // gap → 03:30 EDT
    expect(ts('2024-11-03 01:30:00')).toBe('2024-11-03T05:30:00.000Z'); // first 01:30 (EDT)
    expect(ts('2024-11-03 02:30:00')).toBe('2024-11-03T07:30:00.000Z'); // EST
  });

  it('a job across the autumn change has its real duration', () => {
    const s = parseLegacyLine('9@h: Started [x] 2024-10-27 01:30:00', berlin);
    const f = parseLegacyLine('9@h: Finished [0] 2024-10-27 03:30:00', berlin);
    if (s.kind !== 'start' || f.kind !== 'finish') throw new Error('parse failed');
    expect((Date.parse(f.ts) - Date.parse(s.ts)) / 3600_000).toBe(3);
  });

  describe('without a configured zone it uses the TZ of the process', () => {
    const saved = process.env.TZ;
    afterEach(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });
    it('TZ=Asia/Tokyo', () => {
      process.env.TZ = 'Asia/Tokyo';
      expect(parseLegacyLine('1@h: Started [x] 2024-06-01 09:00:00')).toMatchObject({ ts: '2024-06-01T00:00:00.000Z' });
    });
  });

  it('names what is wrong with bad lines', () => {
    expect(parseLegacyLine('garbage', berlin)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('not a legacy line') });
    expect(parseLegacyLine('123@gpu1: Finished [oops] 2024-01-01 00:00:00', berlin)).toEqual({
      kind: 'invalid',
      reason: 'legacy line: exit status must be an integer, got [oops]',
    });
    expect(parseLegacyLine('123@gpu1: Started [x] 2024-02-30 12:00:00', berlin)).toEqual({ kind: 'invalid', reason: 'legacy line: no such date/time 2024-02-30 12:00:00' });
    expect(parseLegacyLine('123@gpu1: Started [x] 2024-02-01 24:00:00', berlin).kind).toBe('invalid');
    expect(parseLegacyLine('0@gpu1: Started [x] 2024-02-01 10:00:00', berlin).kind).toBe('invalid');
    expect(parseLegacyLine('1@gpu1: Started [x] 2024-02-01 10:00:00', { timeZone: 'Mars/Olympus' })).toEqual({
      kind: 'invalid',
      reason: 'legacy line: unknown time zone "Mars/Olympus"',
    });
    expect(parseLegacyLine(`1@gpu1: Started [${'x'.repeat(5000)}] 2024-02-01 10:00:00`, berlin).kind).toBe('invalid');
    expect(parseLegacyLine('1@gpu1: Started x 2024-02-01 10:00:00', berlin).kind).toBe('invalid');
  });

  it('reads the lines the published pingch function writes: two spaces before [, any run of blanks, a trailing blank or CR', () => {
    // As written by test/fixtures/spools/pingch.bash under bash (`pingch -t mytitle ...`).
    const utc = { timeZone: 'UTC' };
    expect(parseLegacyLine('8220@vm: Started  [mytitle] 2026-12-01 19:42:46', utc)).toEqual({ kind: 'start', pid: 8220, host: 'vm', title: 'mytitle', ts: '2026-12-01T19:42:46.000Z' });
    expect(parseLegacyLine('8220@vm: Finished [3] 2026-12-01 19:42:46', utc)).toEqual({ kind: 'finish', pid: 8220, host: 'vm', exit: 3, ts: '2026-12-01T19:42:46.000Z' });
    const same = { kind: 'start', pid: 1, host: 'h', title: 'a  b', ts: '2024-01-01T00:00:00.000Z' };
    expect(parseLegacyLine('1@h:\tStarted\t\t[a  b]\t2024-01-01\t00:00:00', utc)).toEqual(same);
    expect(parseLegacyLine('1@h:   Started   [a  b]   2024-01-01   00:00:00 \r', utc)).toEqual(same);
    expect(parseLegacyLine('1@h: Started [a  b] 2024-01-01 00:00:00 \t', utc)).toEqual(same);
    // Blanks separate fields; they do not stand in for one.
    expect(parseLegacyLine('1@h: Started[x] 2024-01-01 00:00:00', utc).kind).toBe('invalid');
    expect(parseLegacyLine('1@h:Started [x] 2024-01-01 00:00:00', utc).kind).toBe('invalid');
    expect(parseLegacyLine('1@h: Started [x]2024-01-01 00:00:00', utc).kind).toBe('invalid');
    expect(parseLegacyLine('1 @h: Started [x] 2024-01-01 00:00:00', utc).kind).toBe('invalid');
  });

  it('accepts CRLF line ends and cuts long titles to the title limit', () => {
    const r = parseLegacyLine(`1@h: Started [${'t'.repeat(300)}] 2024-01-01 00:00:00\r`, { timeZone: 'UTC' });
    expect(r.kind === 'start' && r.title.length).toBe(200);
  });

  it('isValidTimeZone', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Nowhere/Land')).toBe(false);
  });
});

describe('legacyJobId', () => {
  it('is a deterministic ULID whose time part is the start time', () => {
    const a = legacyJobId('gpu1', 48213, '2024-03-31T00:30:00.000Z');
    expect(isUlid(a)).toBe(true);
    expect(legacyJobId('gpu1', 48213, '2024-03-31T00:30:00.000Z')).toBe(a);
    expect(legacyJobId('gpu1', 48213, '2024-03-31T00:30:00Z')).toBe(a); // same instant, other spelling
    // Crockford time part of 2024-03-31T00:30:00Z.
    const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const ms = [...a.slice(0, 10)].reduce((n, c) => n * 32 + B32.indexOf(c), 0);
    expect(ms).toBe(Date.parse('2024-03-31T00:30:00.000Z'));
  });

  it('differs by host, pid and start, and sorts by start time', () => {
    const base = legacyJobId('gpu1', 1, '2024-01-01T00:00:00.000Z');
    expect(legacyJobId('gpu2', 1, '2024-01-01T00:00:00.000Z')).not.toBe(base);
    expect(legacyJobId('gpu1', 2, '2024-01-01T00:00:00.000Z')).not.toBe(base);
    const later = legacyJobId('gpu1', 1, '2024-01-01T00:00:01.000Z');
    expect(later > base).toBe(true);
  });

  it('throws on a start time that is not a time', () => {
    expect(() => legacyJobId('h', 1, 'yesterday')).toThrow(RangeError);
  });
});
