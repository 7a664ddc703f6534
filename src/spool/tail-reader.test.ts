import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES, SPOOL_VERSION, type NoteEvent } from './events.js';
import { discoverEventFiles, initialCursor, readNew, type Cursor, type ReadOptions } from './tail-reader.js';
import { parseEventLine } from './validate.js';
import { serializeEvent } from './writer.js';
import { isUlid } from '../lib/ids.js';

const uid = process.getuid?.() ?? 0;
const isRoot = uid === 0;
const OPTS: ReadOptions = { expectedUid: uid, maxBytes: 256 * 1024, maxLineBytes: MAX_EVENT_BYTES };
const FIX = new URL('../../test/fixtures/spools/', import.meta.url);

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-tail-'));
  fs.mkdirSync(path.join(dir, 'events'));
  file = path.join(dir, 'events/gpu1.jsonl');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A distinct ULID per i, cheaply (the ulid package draws crypto randomness per character). */
function seqId(i: number): string {
  const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let s = '';
  for (let k = 0; k < 16; k++, i = Math.floor(i / 32)) s = B32[i % 32]! + s;
  return '01HF6MWV00' + s;
}

const texts = (r: { lines: { text: string }[] }) => r.lines.map((l) => l.text);

describe('readNew', () => {
  it('returns complete lines with their end offsets; a partial last line waits for its newline', async () => {
    fs.writeFileSync(file, 'one\ntwo\nthr');
    const r1 = await readNew(file, initialCursor(), OPTS);
    expect(r1.lines).toEqual([
      { text: 'one', endOffset: 4 },
      { text: 'two', endOffset: 8 },
    ]);
    expect(r1.cursor).toEqual({ inode: fs.statSync(file).ino, offset: 8, skipping: false });
    expect(r1.eof).toBe(true);

    const again = await readNew(file, r1.cursor, OPTS);
    expect(again.lines).toEqual([]);
    expect(again.cursor.offset).toBe(8);

    fs.appendFileSync(file, 'ee\nfour\n');
    const r2 = await readNew(file, r1.cursor, OPTS);
    expect(r2.lines).toEqual([
      { text: 'three', endOffset: 14 },
      { text: 'four', endOffset: 19 },
    ]);
    expect(r2.cursor.offset).toBe(fs.statSync(file).size);
  });

  it('reads the partial-line fixture: two events, the cut third one left for later', async () => {
    fs.copyFileSync(new URL('partial.jsonl', FIX), file);
    const r = await readNew(file, initialCursor(), OPTS);
    expect(r.lines.map((l) => parseEventLine(l.text).kind)).toEqual(['event', 'event']);
    expect(r.cursor.offset).toBe(r.lines[1]!.endOffset);
    expect(r.cursor.offset).toBeLessThan(fs.statSync(file).size);
  });

  it('skips a 20 MB line with no newline at O(maxBytes) per call, then reads the next good line', async () => {
    const maxBytes = 256 * 1024;
    const total = 20 * 1024 * 1024;
    const fd = fs.openSync(file, 'w');
    const chunk = Buffer.alloc(1024 * 1024, 0x78);
    for (let i = 0; i < 20; i++) fs.writeSync(fd, chunk);
    fs.closeSync(fd);

    let cursor: Cursor = initialCursor();
    const notes: string[] = [];
    let calls = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    while (cursor.offset < total) {
      const r = await readNew(file, cursor, { ...OPTS, maxBytes });
      calls++;
      expect(r.lines).toEqual([]);
      // Each call consumes at most maxBytes: the line is never held whole.
      expect(r.cursor.offset - cursor.offset).toBeGreaterThan(0);
      expect(r.cursor.offset - cursor.offset).toBeLessThanOrEqual(maxBytes);
      expect(r.cursor.skipping).toBe(true);
      notes.push(...r.notes);
      cursor = r.cursor;
      if (calls > 200) throw new Error('no progress');
    }
    expect(calls).toBe(total / maxBytes);
    expect(notes).toEqual([`${file}: line at offset 0 longer than ${MAX_EVENT_BYTES} bytes skipped`]);
    // Strings are never built from the long line (it would be 20 MB of heap at least).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(10 * 1024 * 1024);

    // Still no newline: the same state, nothing returned.
    const idle = await readNew(file, cursor, OPTS);
    expect(idle).toMatchObject({ lines: [], cursor: { offset: total, skipping: true }, eof: true });

    fs.appendFileSync(file, 'xxx tail of the long line\n{"good":1}\n');
    const r = await readNew(file, cursor, OPTS);
    expect(r.lines).toEqual([{ text: '{"good":1}', endOffset: fs.statSync(file).size }]);
    expect(r.cursor.skipping).toBe(false);
  });

  it('skips an over-long line that has its newline in the same read, keeping its neighbours', async () => {
    const long = 'y'.repeat(MAX_EVENT_BYTES); // + newline = one byte over the limit
    const ok = 'z'.repeat(MAX_EVENT_BYTES - 1); // + newline = exactly the limit
    fs.writeFileSync(file, `a\n${long}\nb\n${ok}\n`);
    const r = await readNew(file, initialCursor(), OPTS);
    expect(texts(r)).toEqual(['a', 'b', ok]);
    expect(r.notes).toEqual([`${file}: line at offset 2 longer than ${MAX_EVENT_BYTES} bytes skipped`]);
    expect(r.cursor.offset).toBe(fs.statSync(file).size);
  });

  it('a line of exactly maxLineBytes split across reads is still read whole', async () => {
    const ok = 'q'.repeat(MAX_EVENT_BYTES - 1);
    fs.writeFileSync(file, `${'p'.repeat(100)}\n${ok}\n`);
    // maxBytes = maxLineBytes: the first call ends inside the long line, the next reads it.
    const opts = { ...OPTS, maxBytes: MAX_EVENT_BYTES };
    const r1 = await readNew(file, initialCursor(), opts);
    expect(r1.lines.length).toBe(1);
    expect(r1.eof).toBe(false);
    const r2 = await readNew(file, r1.cursor, opts);
    expect(texts(r2)).toEqual([ok]);
    expect(r2.notes).toEqual([]);
  });

  it('re-reads from 0 when the file was truncated', async () => {
    fs.writeFileSync(file, 'first line\nsecond line\n');
    const r1 = await readNew(file, initialCursor(), OPTS);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, 'new\n');
    const r2 = await readNew(file, r1.cursor, OPTS);
    expect(texts(r2)).toEqual(['new']);
    expect(r2.notes).toEqual([`${file} shrank to 4 bytes, below the saved offset 23 (truncated); re-reading from offset 0`]);
    expect(r2.cursor).toMatchObject({ offset: 4, inode: r1.cursor.inode });
  });

  it('re-reads from 0 when the file was replaced by rename (new inode), even if it is longer', async () => {
    fs.writeFileSync(file, 'a\nb\n');
    const r1 = await readNew(file, initialCursor(), OPTS);
    const tmp = path.join(dir, 'events/.tmp');
    fs.writeFileSync(tmp, 'x1\nx2\nx3\n');
    fs.renameSync(tmp, file);
    const newIno = fs.statSync(file).ino;
    expect(newIno).not.toBe(r1.cursor.inode);
    const r2 = await readNew(file, r1.cursor, OPTS);
    expect(texts(r2)).toEqual(['x1', 'x2', 'x3']);
    expect(r2.cursor.inode).toBe(newIno);
    expect(r2.notes[0]).toMatch(/was replaced \(inode \d+ → \d+\); re-reading from offset 0/);
  });

  it('replaces invalid UTF-8 instead of failing', async () => {
    fs.writeFileSync(file, Buffer.concat([Buffer.from('caf'), Buffer.from([0xc3, 0xa9, 0x20, 0xff, 0xfe]), Buffer.from('!\n')]));
    const r = await readNew(file, initialCursor(), OPTS);
    expect(texts(r)).toEqual(['café \ufffd\ufffd!']);
    expect(r.cursor.offset).toBe(fs.statSync(file).size);
  });

  it('reads the garbage fixture line by line without throwing', async () => {
    fs.copyFileSync(new URL('garbage.jsonl', FIX), file);
    const r = await readNew(file, initialCursor(), OPTS);
    expect(r.lines.length).toBe(9);
    expect(r.cursor.offset).toBe(fs.statSync(file).size);
  });

  it('refuses a symlink and a FIFO, leaving the cursor as it was', async () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'secret\n');
    fs.symlinkSync(target, file);
    const c: Cursor = { inode: 5, offset: 3, skipping: false };
    const r = await readNew(file, c, { ...OPTS, label: 'events/gpu1.jsonl' });
    expect(r).toEqual({ lines: [], cursor: c, notes: [], refused: 'events/gpu1.jsonl is a symlink — refused, not followed', refusedCode: 'symlink', eof: true });

    const fifo = path.join(dir, 'events/fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    const f = await readNew(fifo, initialCursor(), OPTS);
    expect(f.refused).toMatch(/FIFO/);
  });

  it.skipIf(!isRoot)('refuses a file owned by someone else (needs root for chown)', async () => {
    fs.writeFileSync(file, '{}\n');
    fs.chownSync(file, 1234, 1234);
    const r = await readNew(file, initialCursor(), { ...OPTS, expectedUid: 1000, label: 'events/gpu1.jsonl' });
    expect(r.refused).toBe('events/gpu1.jsonl is owned by uid 1234, not the spool owner 1000 — refused');
    expect(r.lines).toEqual([]);
  });

  it('rejects a per-call budget smaller than one line (it could never make progress)', async () => {
    fs.writeFileSync(file, 'a\n');
    await expect(readNew(file, initialCursor(), { ...OPTS, maxBytes: 1000 })).rejects.toThrow(RangeError);
  });

  it('reads 100,000 events in chunks whose offsets cover the file exactly, each line once', async () => {
    const parts: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const e: NoteEvent = {
        v: SPOOL_VERSION,
        type: 'note',
        id: seqId(i),
        ts: new Date(1_700_000_000_000 + i).toISOString(),
        user: 'alice',
        host: 'gpu1',
        src: 'node',
        message: `event ${i} ${'é'.repeat(i % 13)}`,
      };
      parts.push(serializeEvent(e));
    }
    expect(isUlid(seqId(99_999))).toBe(true);
    const content = Buffer.from(parts.join(''));
    fs.writeFileSync(file, content);

    let cursor = initialCursor();
    let expectedStart = 0;
    let count = 0;
    let calls = 0;
    for (;;) {
      const r = await readNew(file, cursor, { ...OPTS, maxBytes: 64 * 1024 + 123 });
      calls++;
      for (const l of r.lines) {
        // Each line starts where the previous ended and ends just past its own newline.
        if (l.endOffset !== expectedStart + Buffer.byteLength(l.text) + 1 || content[l.endOffset - 1] !== 0x0a) {
          throw new Error(`line ${count}: endOffset ${l.endOffset} does not follow ${expectedStart}`);
        }
        expectedStart = l.endOffset;
        if (count % 997 === 0) {
          const p = parseEventLine(l.text);
          expect(p.kind === 'event' && p.event.message).toBe(`event ${count} ${'é'.repeat(count % 13)}`);
        }
        count++;
      }
      expect(r.notes).toEqual([]);
      cursor = r.cursor;
      if (r.eof) break;
      if (calls > 10_000) throw new Error('no progress');
    }
    expect(count).toBe(100_000);
    expect(expectedStart).toBe(content.length);
    expect(cursor.offset).toBe(content.length);
    expect(calls).toBeGreaterThan(100);
  });
});

describe('discoverEventFiles', () => {
  it('lists events/*.jsonl with lstat info, flags symlinks/FIFOs and skips bad names', async () => {
    fs.writeFileSync(path.join(dir, 'events/gpu1.jsonl'), 'x\n');
    fs.writeFileSync(path.join(dir, 'events/ws-2.lab.jsonl'), '');
    fs.writeFileSync(path.join(dir, 'events/notes.txt'), '');
    fs.writeFileSync(path.join(dir, 'events/.hidden.jsonl'), '');
    fs.writeFileSync(path.join(dir, 'events/bad name.jsonl'), '');
    fs.symlinkSync('/etc/passwd', path.join(dir, 'events/evil.jsonl'));
    execFileSync('mkfifo', [path.join(dir, 'events/pipe.jsonl')]);
    const r = await discoverEventFiles(dir, { expectedUid: uid });
    expect(r.files.map((f) => [f.name, f.kind, f.refused ?? null])).toEqual([
      ['evil.jsonl', 'symlink', 'events/evil.jsonl is a symlink — refused, not followed'],
      ['gpu1.jsonl', 'file', null],
      ['pipe.jsonl', 'fifo', 'events/pipe.jsonl is a FIFO, not a regular file — refused'],
      ['ws-2.lab.jsonl', 'file', null],
    ]);
    expect(r.files[1]).toMatchObject({ host: 'gpu1', sizeBytes: 2, uid, path: path.join(dir, 'events/gpu1.jsonl') });
    expect(r.notes.sort()).toEqual([
      `${path.join(dir, 'events')}: ignoring badly named file ".hidden.jsonl"`,
      `${path.join(dir, 'events')}: ignoring badly named file "bad name.jsonl"`,
    ]);
    expect(r.truncated).toBe(false);
  });

  it('stops at maxFiles and says so', async () => {
    for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(dir, `events/h${i}.jsonl`), '');
    const r = await discoverEventFiles(dir, { maxFiles: 5 });
    expect(r.files.length).toBe(5);
    expect(r.truncated).toBe(true);
    expect(r.notes.join('\n')).toContain('more than 5 events files');
  });

  it('refuses an events dir that is a symlink, and returns nothing for a spool without one', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-other-'));
    try {
      fs.writeFileSync(path.join(other, 'gpu1.jsonl'), 'x\n');
      fs.rmSync(path.join(dir, 'events'), { recursive: true });
      fs.symlinkSync(other, path.join(dir, 'events'));
      const r = await discoverEventFiles(dir);
      expect(r.files).toEqual([]);
      expect(r.notes).toEqual([`${path.join(dir, 'events')} is a symlink — refused, not followed`]);
      fs.unlinkSync(path.join(dir, 'events'));
      expect(await discoverEventFiles(dir)).toEqual({ files: [], notes: [], truncated: false });
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it.skipIf(!isRoot)('flags files owned by another uid (needs root for chown)', async () => {
    fs.writeFileSync(path.join(dir, 'events/gpu1.jsonl'), 'x\n');
    fs.chownSync(path.join(dir, 'events/gpu1.jsonl'), 1234, 1234);
    const r = await discoverEventFiles(dir, { expectedUid: uid });
    expect(r.files[0]!.refused).toBe(`events/gpu1.jsonl is owned by uid 1234, not the spool owner ${uid} — refused`);
  });
});
