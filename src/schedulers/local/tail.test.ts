import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TailBuffer, afterCarriageReturn, readLogTail, tailLines } from './tail.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-tail-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('TailBuffer', () => {
  it('keeps the last lines of interleaved streams, in arrival order', () => {
    const t = new TailBuffer(3);
    t.push('stdout', Buffer.from('one\ntwo\n'));
    t.push('stderr', Buffer.from('err1\n'));
    t.push('stdout', Buffer.from('three\nfour'));
    expect(t.finish()).toEqual(['err1', 'three', 'four']);
  });

  it('shows a progress bar redrawn with \\r as its last state, and ends CRLF lines cleanly', () => {
    expect(afterCarriageReturn('10%\r50%\r100%')).toBe('100%');
    expect(afterCarriageReturn('done\r')).toBe('done');
    expect(tailLines('epoch 1\r\n 10%|#  \r 60%|###  \r100%|#####\nok\r\n')).toEqual(['epoch 1', '100%|#####', 'ok']);
  });

  it('stays bounded: a huge chunk, a line that never ends, a bar that never prints \\n', () => {
    const t = new TailBuffer(50, 100);
    t.push('stdout', Buffer.from(Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join('\n') + '\n'));
    const lines = t.finish();
    expect(lines).toHaveLength(50);
    expect(lines.at(-1)).toBe('line 99999');
    expect(lines[0]).toBe('line 99950');

    const long = new TailBuffer(5, 100);
    long.push('stdout', 'x'.repeat(10_000));
    long.push('stdout', 'y'.repeat(10_000));
    expect(long.finish()).toEqual(['x'.repeat(100)]);

    const bar = new TailBuffer(5, 100);
    for (let i = 0; i < 1000; i++) bar.push('stderr', `\r${i}/1000`);
    expect(bar.finish()).toEqual(['999/1000']);
  });

  it('decodes UTF-8 split across chunks', () => {
    const t = new TailBuffer();
    const bytes = Buffer.from('héllo wörld ✓\n');
    t.push('stdout', bytes.subarray(0, 2));
    t.push('stdout', bytes.subarray(2, 13));
    t.push('stdout', bytes.subarray(13));
    expect(t.finish()).toEqual(['héllo wörld ✓']);
  });
});

describe('readLogTail', () => {
  it('reads the last lines from a given offset on, and nothing before it', () => {
    const f = path.join(tmp, 'a.log');
    fs.writeFileSync(f, 'old run\nold end\n');
    const offset = fs.statSync(f).size;
    fs.appendFileSync(f, 'new 1\nnew 2\nlast, no newline');
    expect(readLogTail(f, offset)).toEqual(['new 1', 'new 2', 'last, no newline']);
    expect(readLogTail(f)).toEqual(['old run', 'old end', 'new 1', 'new 2', 'last, no newline']);
  });

  it('reads only the end of a big log and drops the cut first line', () => {
    const f = path.join(tmp, 'big.log');
    fs.writeFileSync(f, Array.from({ length: 20_000 }, (_, i) => `row ${i} ${'.'.repeat(i % 7)}`).join('\n') + '\n');
    const lines = readLogTail(f, 0, 50, 4096);
    expect(lines).toHaveLength(50);
    expect(lines.at(-1)).toMatch(/^row 19999/);
  });

  it('is empty for a missing file or a directory', () => {
    expect(readLogTail(path.join(tmp, 'nope.log'))).toEqual([]);
    expect(readLogTail(tmp)).toEqual([]);
  });
});
