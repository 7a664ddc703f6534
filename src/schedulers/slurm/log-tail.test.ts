// Reading a finished SLURM job's log tail: error file first, then output; only the last 64 KiB of
// a file of any size; never a FIFO, a device, a symlink or (with ownerUid) someone else's file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { TAIL_MAX_LINES, TAIL_MAX_LINE_CHARS } from '../../spool/events.js';
import { SLURM_TAIL_MAX_BYTES, readFileTail, readSlurmTail } from './log-tail.js';

let dir: string;
const at = (name: string) => path.join(dir, name);
const write = (name: string, text: string) => {
  fs.writeFileSync(at(name), text);
  return at(name);
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-slurm-tail-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe('readSlurmTail', () => {
  it('the real TIMEOUT output: its last lines, from the first path that exists', () => {
    const out = write('slurm-131.out', slurmFixture('job-output-timeout.txt'));
    const got = readSlurmTail([at('missing.err'), out]);
    expect(got).toEqual({ file: out, lines: ['start', expect.stringMatching(/DUE TO TIME LIMIT \*\*\*$/)] });
  });

  it('prefers the error file, falls back to the output file when the error file is empty', () => {
    const err = write('e1.err', 'Traceback (most recent call last):\nValueError: bad\n');
    const out = write('e1.out', 'epoch 1\n');
    expect(readSlurmTail([err, out])).toEqual({ file: err, lines: ['Traceback (most recent call last):', 'ValueError: bad'] });
    const empty = write('e2.err', '\n\n');
    expect(readSlurmTail([empty, out])).toEqual({ file: out, lines: ['epoch 1'] });
    // Every readable file empty: the first of them, with no lines.
    const empty2 = write('e2.out', '');
    expect(readSlurmTail([null, empty, empty2])).toEqual({ file: empty, lines: [] });
  });

  it('null when nothing can be read: no paths, missing files, relative paths', () => {
    expect(readSlurmTail([])).toBeNull();
    expect(readSlurmTail([null, undefined, at('nope.out')])).toBeNull();
    write('rel.out', 'x\n');
    expect(readSlurmTail(['rel.out'])).toBeNull();
    expect(readFileTail('rel.out')).toEqual({ ok: false, skip: 'relative' });
  });

  it('a 200 MB sparse file: only the last 64 KiB are read, and its last lines come back', () => {
    const big = at('big.out');
    const fd = fs.openSync(big, 'w');
    fs.ftruncateSync(fd, 200 * 1024 * 1024);
    const tail = Array.from({ length: 80 }, (_, i) => `step ${i} loss 0.${i}`).join('\n') + '\nRuntimeError: CUDA out of memory\n';
    fs.writeSync(fd, tail, 200 * 1024 * 1024);
    fs.closeSync(fd);
    expect(fs.statSync(big).size).toBeGreaterThan(200 * 1024 * 1024);

    const reads = vi.spyOn(fs, 'readSync');
    const start = performance.now();
    const got = readSlurmTail([big]);
    const ms = performance.now() - start;
    expect(reads).toHaveBeenCalled();
    let bytes = 0;
    for (const call of reads.mock.calls) bytes += Number((call as unknown[])[3]); // length asked for (fd, buffer, offset, length, position)
    expect(bytes).toBeLessThanOrEqual(SLURM_TAIL_MAX_BYTES);
    expect(ms).toBeLessThan(1000);
    expect(got!.lines).toHaveLength(TAIL_MAX_LINES);
    expect(got!.lines.at(-1)).toBe('RuntimeError: CUDA out of memory');
    expect(got!.lines.at(-2)).toBe('step 79 loss 0.79');
    // The zeros before the text are NULs: removed by boundTail, never a 64 KiB line.
    for (const l of got!.lines) expect(l.length).toBeLessThanOrEqual(TAIL_MAX_LINE_CHARS);
  });

  it('a FIFO is never opened (no writer: a blocking open would hang), the next path is used', () => {
    const fifo = at('job.fifo');
    execFileSync('mkfifo', [fifo]);
    const out = write('after-fifo.out', 'done\n');
    const opens = vi.spyOn(fs, 'openSync');
    expect(readSlurmTail([fifo, out])).toEqual({ file: out, lines: ['done'] });
    expect(opens.mock.calls.map((c) => c[0])).toEqual([out]);
    expect(readFileTail(fifo)).toEqual({ ok: false, skip: 'not-a-file' });
  });

  it('devices and directories are skipped: /dev/null, /dev/zero, a directory', () => {
    expect(readFileTail('/dev/null')).toEqual({ ok: false, skip: 'not-a-file' });
    expect(readFileTail('/dev/zero')).toEqual({ ok: false, skip: 'not-a-file' });
    expect(readFileTail(dir)).toEqual({ ok: false, skip: 'not-a-file' });
    expect(readSlurmTail(['/dev/null', '/dev/zero'])).toBeNull();
  });

  it('a symlink is refused, even to a readable file (the hub must not read what the user could not)', () => {
    const secret = write('hub-secret.toml', 'token = "s3cr3t"\n');
    const link = at('slurm-1.out');
    fs.symlinkSync(secret, link);
    expect(readFileTail(link)).toEqual({ ok: false, skip: 'symlink' });
    expect(readSlurmTail([link])).toBeNull();
    fs.symlinkSync('/dev/zero', at('zero.out'));
    expect(readSlurmTail([at('zero.out')])).toBeNull();
  });

  it('with ownerUid, a file owned by someone else is refused', () => {
    const f = write('mine.out', 'hello\n');
    const me = fs.statSync(f).uid;
    expect(readSlurmTail([f], { ownerUid: me })).toEqual({ file: f, lines: ['hello'] });
    expect(readFileTail(f, { ownerUid: me + 1 })).toEqual({ ok: false, skip: 'foreign-owner' });
    expect(readSlurmTail([f], { ownerUid: me + 1 })).toBeNull();
  });

  it('lines as a terminal shows them, bounded: \\r progress bars, CRLF, escapes, long lines', () => {
    const f = write(
      'tqdm.err',
      '  0%|          | 0/10\r 50%|#####     | 5/10\r100%|##########| 10/10\r\n' +
        'Windows line\r\n' +
        '\x1b[31mred error\x1b[0m\n' +
        'x'.repeat(5000) +
        '\n',
    );
    const got = readSlurmTail([f])!;
    expect(got.lines.slice(0, 3)).toEqual(['100%|##########| 10/10', 'Windows line', 'red error']);
    expect(got.lines[3]!.length).toBe(TAIL_MAX_LINE_CHARS);
  });

  it('a file with no newline in its last 64 KiB keeps its last state', () => {
    const f = write('bar.err', `${'='.repeat(100_000)}\rfinal state 100%`);
    expect(readSlurmTail([f])!.lines).toEqual(['final state 100%']);
  });

  it('the same path twice is read once', () => {
    const f = write('same.out', 'one\n');
    const opens = vi.spyOn(fs, 'openSync');
    expect(readSlurmTail([f, f])).toEqual({ file: f, lines: ['one'] });
    expect(opens).toHaveBeenCalledTimes(1);
  });
});
