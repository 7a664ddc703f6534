import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES, TAIL_MAX_LINES, TITLE_MAX_CHARS } from './events.js';
import { parseEventLine } from './validate.js';
import { formatLinkCode, signLinkCode } from './link-code.js';

const FIX = new URL('../../test/fixtures/spools/', import.meta.url);
const fixtureLines = (rel: string) => fs.readFileSync(new URL(rel, FIX), 'utf8').split('\n').filter((l) => l !== '');

const START = {
  v: 1,
  type: 'start',
  id: '01JD3Q8Z7W8R3M2K9X4V5B6N7P',
  ts: '2024-11-20T09:14:03.512Z',
  user: 'alice',
  host: 'gpu1',
  src: 'node',
  pid: 48213,
  pid_start: '9120443',
  cwd: '/home/alice',
  title: 'train',
  cmd: 'python train.py',
  to: ['ntfy://ntfy.sh/x'],
  log: '/home/alice/train.log',
  detached: true,
  attached: false,
};
const END = {
  v: 1,
  type: 'end',
  id: '01JD3Q8Z7W8R3M2K9X4V5B6N7P',
  ts: '2024-11-20T11:02:17.930Z',
  user: 'alice',
  host: 'gpu1',
  src: 'node',
  exit: 0,
  signal: null,
  exit_unknown: false,
  wall_seconds: 12.5,
  cpu_seconds: 3.25,
  peak_rss_bytes: 1024,
  tail: ['a', 'b'],
  title: 'train',
  cmd: 'python train.py',
  to: ['ntfy://ntfy.sh/x'],
};
const NOTE = {
  v: 1,
  type: 'note',
  id: '01JD3QA1V2K8M4N5P6Q7R8S9T0',
  ts: '2024-11-20T09:15:44.001Z',
  user: 'alice',
  host: 'gpu1',
  title: 'hi',
  message: 'hello',
  to: ['ntfy://ntfy.sh/x'],
};

function reasonOf(obj: unknown): string {
  const r = parseEventLine(JSON.stringify(obj));
  if (r.kind !== 'invalid') throw new Error(`expected invalid, got ${r.kind}: ${JSON.stringify(r)}`);
  return r.reason;
}

describe('parseEventLine: valid events', () => {
  it('accepts every Node-written fixture event of a known type and keeps unknown fields', () => {
    const results = fixtureLines('node/events/gpu1.jsonl').map((l) => parseEventLine(l));
    expect(results.map((r) => r.kind)).toEqual(['event', 'event', 'event', 'event', 'event', 'ignored']);
    const withExtra = results[3]!;
    expect(withExtra.kind === 'event' && withExtra.unknownFields).toEqual(['gpu_index']);
    expect(withExtra.kind === 'event' && withExtra.event.gpu_index).toEqual([0, 1]);
    const end = results[2]!;
    expect(end.kind === 'event' && end.unknownFields).toEqual([]);
  });

  it('accepts the bash-written fixture events', () => {
    const results = fixtureLines('bash/events/ws2.jsonl').map((l) => parseEventLine(l));
    expect(results.map((r) => r.kind)).toEqual(['event', 'event', 'event']);
    for (const r of results) expect(r.kind === 'event' && r.unknownFields).toEqual([]);
  });

  it('accepts full start, end and note events with every optional field', () => {
    for (const e of [START, END, NOTE]) {
      const r = parseEventLine(JSON.stringify(e));
      expect(r, JSON.stringify(r)).toMatchObject({ kind: 'event', unknownFields: [] });
    }
  });

  it('accepts a newer schema version when the line still parses as v1', () => {
    const r = parseEventLine(JSON.stringify({ ...NOTE, v: 7, color: 'red' }));
    expect(r).toMatchObject({ kind: 'event', unknownFields: ['color'], event: { v: 7, color: 'red' } });
  });

  it('ignores unknown types (bounded name), not invalid', () => {
    expect(parseEventLine(JSON.stringify({ ...NOTE, type: 'heartbeat' }))).toMatchObject({ kind: 'ignored', type: 'heartbeat' });
    expect(parseEventLine('   ')).toMatchObject({ kind: 'ignored', reason: 'blank line' });
  });

  it('accepts a killed job: exit null with a signal name', () => {
    expect(parseEventLine(JSON.stringify({ ...END, exit: null, signal: 'SIGKILL' })).kind).toBe('event');
  });
});

describe('parseEventLine: invalid lines name what is wrong', () => {
  it('names the field and what it must be, with the caller context as prefix', () => {
    const r = parseEventLine(JSON.stringify({ ...END, exit: '0' }), 'line 1');
    expect(r).toEqual({ kind: 'invalid', reason: 'line 1: end event: field `exit` must be an integer or null' });
  });

  it('says a required field is missing', () => {
    const { exit: _drop, ...noExit } = END;
    expect(reasonOf(noExit)).toBe('end event: field `exit` is required (an integer or null)');
    const { message: _m, ...noMessage } = NOTE;
    expect(reasonOf(noMessage)).toContain('field `message` is required');
  });

  it('reports non-JSON, non-objects and a missing or bad type', () => {
    expect(parseEventLine('this is not json')).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^not JSON: /) });
    expect(parseEventLine('[1,2,3]')).toEqual({ kind: 'invalid', reason: 'not a JSON object (got an array)' });
    expect(parseEventLine('null')).toEqual({ kind: 'invalid', reason: 'not a JSON object (got null)' });
    expect(reasonOf({ ...NOTE, type: undefined })).toContain('field `type` is required');
    expect(reasonOf({ ...NOTE, type: 5 })).toContain('field `type` must be a string');
    expect(reasonOf({ ...NOTE, type: 'x'.repeat(65) })).toContain('field `type` must be a string of at most 64');
  });

  // Every field of every type, given a wrong value, is named in the reason.
  const bad: Record<string, unknown[]> = {
    v: [0, 1.5, '1', null],
    id: ['01jd3q8z7w8r3m2k9x4v5b6n7p', '01JD3Q8Z7W8R3M2K9X4V5B6N7U', '01JD3Q8Z7W8R3M2K9X4V5B6N7', 5],
    ts: ['2024-11-20 09:14:03', '2024-11-20T09:14:03+01:00', '2024-13-45T99:99:99Z', 0],
    user: ['', 'u'.repeat(257), 3],
    host: ['', 'h'.repeat(256), null],
    src: [1, 's'.repeat(33)],
    pid: [0, -4, 1.5, '12', 2 ** 31],
    pid_start: [9120443, '-1', '12a', ''],
    cwd: [1, 'c'.repeat(4097)],
    title: [1, 't'.repeat(TITLE_MAX_CHARS + 1)],
    cmd: [['a'], 'c'.repeat(4001)],
    to: ['ntfy://x', [1], Array(17).fill('x')],
    log: [false],
    detached: ['yes'],
    attached: [1],
    exit: ['0', 1.5, true],
    signal: [9, 'S'.repeat(33)],
    exit_unknown: ['no'],
    wall_seconds: [-1, '3', null, 2e9],
    cpu_seconds: [-0.5, '1'],
    peak_rss_bytes: [-1, 1.5, '100'],
    tail: ['line', [1], Array(TAIL_MAX_LINES + 1).fill('x'), ['x'.repeat(501)], Array(40).fill('é'.repeat(250))],
    message: [5, 'm'.repeat(4001), null],
  };
  const owners: Record<string, object[]> = {
    start: [START],
    end: [END],
    note: [NOTE],
  };
  for (const [type, [base]] of Object.entries(owners)) {
    for (const field of Object.keys(base!)) {
      if (field === 'type') continue;
      for (const value of bad[field] ?? []) {
        it(`${type}: ${field} = ${JSON.stringify(value)?.slice(0, 40)} is refused and named`, () => {
          const reason = reasonOf({ ...base, [field]: value });
          expect(reason).toContain(`field \`${field}`);
          expect(reason).toMatch(/ must be | is required /);
        });
      }
    }
  }

  it('names the array element at fault', () => {
    expect(reasonOf({ ...END, tail: ['ok', 'x'.repeat(501)] })).toContain('field `tail[1]` must be');
  });

  it('refuses numbers that JSON turns into Infinity', () => {
    const line = JSON.stringify(END).replace('"wall_seconds":12.5', '"wall_seconds":1e999');
    expect(parseEventLine(line)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('field `wall_seconds`') });
  });

  it('refuses a line over MAX_EVENT_BYTES before parsing it', () => {
    const line = JSON.stringify({ ...NOTE, pad: 'x'.repeat(MAX_EVENT_BYTES) });
    expect(parseEventLine(line)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining(`limit of ${MAX_EVENT_BYTES} bytes`) });
  });

  it('classifies every line of the garbage fixture without throwing', () => {
    const lines = fs.readFileSync(new URL('garbage.jsonl', FIX), 'latin1').split('\n').slice(0, -1);
    const kinds = lines.map((l) => parseEventLine(Buffer.from(l, 'latin1').toString('utf8')).kind);
    expect(kinds).toEqual(['event', 'invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'ignored', 'event']);
    const bad = parseEventLine(lines[6]!);
    expect(bad.kind === 'invalid' && bad.reason).toMatch(/field `id`.*field `ts`.*field `pid`.*field `pid_start`/);
  });
});

describe('parseEventLine: link events (flurm link / flurm unlink)', () => {
  const CODE = signLinkCode(Buffer.alloc(32, 7), 'discord', '123456789012345678', 29_000_000);
  const LINK = { v: 1, type: 'link', id: '01JD3QA1V2K8M4N5P6Q7R8S9T1', ts: '2024-11-20T09:16:00.000Z', user: 'alice', host: 'gpu1', src: 'node', code: formatLinkCode(CODE) };

  it('accepts a code as typed (dashes, lower case) and an unlink without one', () => {
    expect(parseEventLine(JSON.stringify(LINK))).toMatchObject({ kind: 'event', unknownFields: [], event: { type: 'link', code: LINK.code } });
    expect(parseEventLine(JSON.stringify({ ...LINK, code: LINK.code.toLowerCase() })).kind).toBe('event');
    const { code: _c, ...noCode } = LINK;
    expect(parseEventLine(JSON.stringify({ ...noCode, unlink: true }))).toMatchObject({ kind: 'event', event: { unlink: true } });
  });

  it('refuses a malformed code, naming the field', () => {
    for (const code of ['ABC', CODE.slice(0, 28) + 'U', 'x'.repeat(65), 42]) {
      expect(reasonOf({ ...LINK, code })).toMatch(/^link event: field `code` must be a flurm link code/);
    }
  });

  it('needs a code unless it unlinks, and an unlink carries none', () => {
    const { code: _c, ...noCode } = LINK;
    expect(reasonOf(noCode)).toMatch(/^link event: field `code` is required \(a flurm link code/);
    expect(reasonOf({ ...noCode, unlink: false })).toContain('field `code` is required');
    expect(reasonOf({ ...LINK, unlink: true })).toContain('field `unlink` must be a boolean; `unlink: true` ends the link and comes without `code`');
    expect(reasonOf({ ...noCode, unlink: 'yes' })).toContain('field `unlink` must be');
  });

  it('an unlink may name one chat (flurm unlink --chat slack); a link may not, nor an unknown chat', () => {
    const { code: _c, ...noCode } = LINK;
    expect(parseEventLine(JSON.stringify({ ...noCode, unlink: true, chat: 'slack' }))).toMatchObject({ kind: 'event', event: { unlink: true, chat: 'slack' } });
    expect(reasonOf({ ...noCode, unlink: true, chat: 'irc' })).toContain('field `chat` must be with `unlink: true`, the chat whose link ends: discord or slack');
    expect(reasonOf({ ...LINK, chat: 'slack' })).toContain('field `chat`');
  });
});

describe('parseEventLine: login events (flurm dashboard)', () => {
  const LOGIN = { v: 1, type: 'login', id: '01JD3QA1V2K8M4N5P6Q7R8S9T1', ts: '2024-11-20T09:16:00.000Z', user: 'alice', host: 'gpu1', src: 'node', hash: 'a'.repeat(64) };

  it('accepts the SHA-256 of a code', () => {
    expect(parseEventLine(JSON.stringify(LOGIN))).toMatchObject({ kind: 'event', unknownFields: [], event: { type: 'login', hash: LOGIN.hash } });
  });

  it('refuses a missing, short, long or upper-case hash, saying what it must be', () => {
    for (const hash of [undefined, 'a'.repeat(63), 'a'.repeat(65), 'A'.repeat(64), 'x'.repeat(64), 7]) {
      const r = parseEventLine(JSON.stringify({ ...LOGIN, hash }));
      expect(r.kind, String(hash)).toBe('invalid');
      expect(r.kind === 'invalid' && r.reason).toMatch(/`hash`.*SHA-256 of a login code: 64 lower-case hex digits/);
    }
  });
});
