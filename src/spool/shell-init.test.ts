// Runs shell-init.sh under REAL bash and checks what it writes against the validator and against
// the Node writer's events for the same job shapes.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUlid } from '../lib/ids.js';
import { SPOOL_VERSION, type EndEvent, type NoteEvent, type SpoolEvent, type StartEvent } from './events.js';
import { parseEventLine } from './validate.js';
import { serializeEvent } from './writer.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const SCRIPT = fileURLToPath(new URL('./shell-init.sh', import.meta.url));
const HOST = 'node7';
let spool: string;

beforeEach(() => {
  spool = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-bash-'));
});
afterEach(() => fs.rmSync(spool, { recursive: true, force: true }));

interface BashResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function bash(script: string, opts: { env?: Record<string, string>; detached?: boolean; onSpawn?: (pid: number) => void } = {}): Promise<BashResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: spool, FLURM_SPOOL: spool, FLURM_HOST: HOST, LANG: 'C.UTF-8', ...opts.env };
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `source '${SCRIPT}' || exit 99\n${script}`], { env, detached: opts.detached, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    if (child.pid) opts.onSpawn?.(child.pid);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 }));
  });
}

function eventsFile(): string {
  return path.join(spool, 'events', `${HOST}.jsonl`);
}

function readEvents(): Record<string, unknown>[] {
  const text = fs.readFileSync(eventsFile(), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      expect(Buffer.byteLength(line) + 1).toBeLessThan(4096);
      const r = parseEventLine(line);
      if (r.kind !== 'event') throw new Error(`bash wrote a line the hub rejects: ${JSON.stringify(r)}\n${line}`);
      expect(r.unknownFields).toEqual([]);
      return r.event as Record<string, unknown>;
    });
}

/** Field name → JSON type ("string", "number", "boolean", "null", "array", "object"). */
function shape(e: object): Record<string, string> {
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v]));
}

/** What the Node writer puts in the file for an event (serialized and read back). */
function nodeWritten(e: SpoolEvent): Record<string, unknown> {
  return JSON.parse(serializeEvent(e)) as Record<string, unknown>;
}

const common = { v: SPOOL_VERSION, id: '01JD3Q8Z7W8R3M2K9X4V5B6N7P', ts: new Date().toISOString(), user: 'alice', host: HOST, src: 'node' };
const nodeStart: StartEvent = { ...common, type: 'start', pid: 4242, pid_start: '123456', cwd: '/home/alice', title: 'hello', cmd: "sh -c 'echo out; exit 3'" };
const nodeEnd: EndEvent = {
  ...common,
  type: 'end',
  exit: 3,
  signal: null,
  wall_seconds: 0.25,
  cpu_seconds: 0.01,
  peak_rss_bytes: 3_000_000,
  tail: ['out'],
  title: 'hello',
  cmd: "sh -c 'echo out; exit 3'",
};
const nodeNote: NoteEvent = { ...common, type: 'note', title: 'hi', message: 'hello' };

/** Same fields and types as the Node writer's; peak_rss_bytes is null from bash (no sampler). */
function expectSameShapeAsNode(bashEvent: Record<string, unknown>, node: SpoolEvent): void {
  const b = shape(bashEvent);
  const n = shape(nodeWritten(node));
  expect(b.peak_rss_bytes ?? 'absent').toBe(n.peak_rss_bytes ? 'null' : 'absent');
  if (n.peak_rss_bytes) b.peak_rss_bytes = n.peak_rss_bytes;
  expect({ ...b, src: bashEvent.src }).toEqual({ ...n, src: 'bash' });
}

describe('shell-init.sh under real bash', () => {
  it('flurm_run: passes output through, returns the exit status, writes start/end like the Node writer', async () => {
    const r = await bash(`cd '${spool}' && flurm_run -t hello -- sh -c "echo out; exit 3"; echo "status=$?"`);
    expect(r.stdout).toBe(`out\nstatus=3\n`);
    expect(r.stderr).toBe('');
    const [start, end, ...rest] = readEvents();
    expect(rest).toEqual([]);
    expect(start).toMatchObject({ type: 'start', src: 'bash', host: HOST, title: 'hello', cmd: "sh -c 'echo out; exit 3'", cwd: spool });
    expect(end).toMatchObject({ type: 'end', exit: 3, signal: null, peak_rss_bytes: null, tail: ['out'], title: 'hello' });
    expect(end!.id).toBe(start!.id);
    expect(isUlid(start!.id as string)).toBe(true);
    expect(start!.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(start!.ts as string) - Date.now())).toBeLessThan(60_000);
    expect(end!.wall_seconds).toBeGreaterThanOrEqual(0);
    expect(end!.wall_seconds).toBeLessThan(30);
    expectSameShapeAsNode(start!, nodeStart);
    expectSameShapeAsNode(end!, nodeEnd);
    // The temp copy of the output is gone.
    expect(fs.readdirSync(spool)).toEqual(['events']);
    expect((fs.statSync(eventsFile()).mode & 0o777).toString(8)).toBe('600');
    expect((fs.statSync(path.join(spool, 'events')).mode & 0o777).toString(8)).toBe('700');
  });

  it('flurm_run returns the command status for 0, 1 and 255', async () => {
    const r = await bash(`for s in 0 1 255; do flurm_run -- sh -c "exit $s"; echo "$?"; done`);
    expect(r.stdout).toBe('0\n1\n255\n');
    expect(readEvents().filter((e) => e.type === 'end').map((e) => e.exit)).toEqual([0, 1, 255]);
  });

  it('start carries the pid and /proc start time (field 22) of the job process itself', async () => {
    const info = path.join(spool, 'job-stat');
    const r = await bash(`flurm_run -- sh -c 'cat /proc/$$/stat > "${info}"; echo $$ >> "${info}"'`);
    expect(r.code).toBe(0);
    const [stat, pid] = fs.readFileSync(info, 'utf8').trim().split('\n');
    const field22 = stat!.slice(stat!.lastIndexOf(')') + 2).split(' ')[19];
    const [start] = readEvents();
    expect(start!.pid).toBe(Number(pid));
    expect(start!.pid_start).toBe(field22);
  });

  it('a job killed by a signal: exit null, the signal name, status 128+N, a plain message', async () => {
    const r = await bash(`flurm_run -t doomed -- sh -c 'echo before; kill -KILL $$'; echo "status=$?"`);
    expect(r.stdout).toBe('before\nstatus=137\n');
    expect(r.stderr).toBe(`flurm_run: sh -c 'echo before; kill -KILL $$': killed by SIGKILL\n`);
    const [start, end] = readEvents();
    expect(end).toMatchObject({ type: 'end', exit: null, signal: 'SIGKILL', tail: ['before'] });
    expectSameShapeAsNode(start!, nodeStart);
    expectSameShapeAsNode(end!, { ...nodeEnd, exit: null, signal: 'SIGKILL' });
  });

  it('Ctrl-C: the job dies of SIGINT, the end event is still written, then the script is interrupted too', async () => {
    let pgid = 0;
    const done = bash(`flurm_run -- sh -c 'echo started; exec sleep 30'; echo "not reached"`, { detached: true, onSpawn: (p) => (pgid = p) });
    const deadline = Date.now() + 10_000;
    const started = () => fs.existsSync(eventsFile()) && fs.readFileSync(eventsFile(), 'utf8').includes('"start"');
    while (!started()) {
      if (Date.now() > deadline) throw new Error('no start event');
      await new Promise((res) => setTimeout(res, 20));
    }
    await new Promise((res) => setTimeout(res, 100)); // let the start event's exec of sleep happen
    process.kill(-pgid, 'SIGINT'); // what the terminal does: the whole foreground process group
    const r = await done;
    expect(r.stdout).toBe('started\n');
    expect(r.signal).toBe('SIGINT');
    const [, end] = readEvents();
    // The output copy survived the Ctrl-C that hit the whole process group.
    expect(end).toMatchObject({ type: 'end', exit: null, signal: 'SIGINT', tail: ['started'] });
  });

  it('flurm_notify: quotes, backslashes, newlines, tabs, control characters, unicode and invalid UTF-8 make valid JSON', async () => {
    const msg = 'say "hi" \\ back\\slash\nsecond line\ttab \x01\x1b[31m é € 😀 ✓';
    fs.writeFileSync(path.join(spool, 'msg'), Buffer.concat([Buffer.from(msg), Buffer.from([0xff, 0xc3])]));
    const r = await bash(`flurm_notify -t 'title "q"' "$(cat '${path.join(spool, 'msg')}')"; echo "status=$?"`);
    expect(r.stdout).toBe('status=0\n');
    const [note] = readEvents();
    expect(note).toMatchObject({ type: 'note', title: 'title "q"', message: `${msg}\ufffd\ufffd` });
    expectSameShapeAsNode(note!, nodeNote);
  });

  it('caps the end event under 4 KiB with the newest output last, and passes all output through', async () => {
    const r = await bash(`flurm_run -- sh -c 'i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo "line $i $(printf "%0300d" 0)"; done; printf "\\033[1mlast\\033[0m\\r\\n"'`);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').length).toBe(502);
    const [, end] = readEvents();
    const tail = end!.tail as string[];
    expect(tail.length).toBeGreaterThan(3);
    expect(tail.length).toBeLessThanOrEqual(50);
    expect(tail.at(-1)).toBe('last');
    expect(tail.at(-2)).toMatch(/^line 500 0+$/);
    expect(Buffer.byteLength(JSON.stringify(end))).toBeLessThan(4000);
  });

  it('a line over 500 bytes in the tail is cut, not dropped; a very long title is cut', async () => {
    const r = await bash(`flurm_run -t "$(printf 'T%.0s' {1..300})" -- sh -c 'printf "%0900d\\n" 7'`);
    expect(r.code).toBe(0);
    const [start, end] = readEvents();
    expect((start!.title as string).length).toBeLessThanOrEqual(200);
    expect((end!.tail as string[])[0]).toMatch(/^0+…$/);
    expect(Buffer.byteLength((end!.tail as string[])[0]!)).toBeLessThanOrEqual(500);
  });

  it.skipIf(!hasStrace)('each event is one write(2) to the events file (needs strace)', async () => {
    const log = path.join(spool, 'strace.log');
    const r = await bash(`strace -f -y -e trace=write -o '${log}' bash -c "source '${SCRIPT}'; flurm_run -t x -- sh -c 'seq 1 2000'; flurm_notify '$(printf 'n%.0s' {1..3000})'" >/dev/null`);
    expect(r.code).toBe(0);
    const writes = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`${HOST}.jsonl>`));
    expect(writes.length).toBe(3);
    expect(readEvents().length).toBe(3);
  });

  it('works under set -euo pipefail and restores those options', async () => {
    const r = await bash(`set -euo pipefail; flurm_run -- true; flurm_notify hi; echo "opts=$- $(shopt -qo pipefail && echo pipefail)"`);
    expect(r.stdout).toMatch(/^opts=\S*e\S*u\S* pipefail\n$/);
    expect(r.stderr).toBe('');
    expect(readEvents().map((e) => e.type)).toEqual(['start', 'end', 'note']);
  });

  it('runs shell functions too, and still runs the job when the spool cannot be written', async () => {
    const r = await bash(`f() { echo "in f $1"; return 4; }; flurm_run f arg; echo "status=$?"`);
    expect(r.stdout).toBe('in f arg\nstatus=4\n');
    expect(readEvents().map((e) => e.type)).toEqual(['start', 'end']);

    const blocked = path.join(spool, 'blocked');
    fs.writeFileSync(blocked, 'a file where the spool dir should be');
    const r2 = await bash(`flurm_run -- echo still-ran; echo "status=$?"`, { env: { FLURM_SPOOL: blocked } });
    expect(r2.stdout).toBe('still-ran\nstatus=0\n');
    expect(r2.stderr).toContain('cannot create the flurm spool');
  });

  it('refuses to write through a symlinked events file', async () => {
    fs.mkdirSync(path.join(spool, 'events'));
    const target = path.join(spool, 'elsewhere');
    fs.writeFileSync(target, '');
    fs.symlinkSync(target, eventsFile());
    const r = await bash(`flurm_notify hi; echo "status=$?"`);
    expect(r.stdout).toBe('status=1\n');
    expect(r.stderr).toContain('is a symlink; event not written');
    expect(fs.readFileSync(target, 'utf8')).toBe('');
  });

  it('usage errors return 2', async () => {
    const r = await bash(`flurm_run; echo "a=$?"; flurm_run -x -- true; echo "b=$?"; flurm_notify; echo "c=$?"`);
    expect(r.stdout).toBe('a=2\nb=2\nc=2\n');
  });

  describe('doorbell', () => {
    let server: http.Server;
    let hits: string[];
    afterEach(() => new Promise<void>((res) => server.close(() => res())));

    it('rings FLURM_HUB_URL for start, end and note with the user name', async () => {
      hits = [];
      server = http.createServer((req, res) => {
        hits.push(`${req.method} ${req.url}`);
        res.end('ok');
      });
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await bash(`flurm_run -- true; flurm_notify hello`, { env: { FLURM_HUB_URL: url } });
      expect(r.code).toBe(0);
      // The start bell rings in the background: give it a moment.
      const deadline = Date.now() + 5000;
      while (hits.length < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      const user = readEvents()[0]!.user as string;
      expect(hits).toEqual(Array(3).fill(`POST /doorbell?user=${encodeURIComponent(user)}`));
    });

    it('a hub that never answers delays flurm_run by about a second, not more', async () => {
      server = http.createServer(() => {
        /* never answers */
      });
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await bash(`flurm_run -- true; echo "status=$?"`, { env: { FLURM_HUB_URL: url } });
      expect(r.stdout).toBe('status=0\n');
      expect(r.ms).toBeLessThan(4000);
      expect(readEvents().length).toBe(2);
      server.closeAllConnections();
    });
  });
});

