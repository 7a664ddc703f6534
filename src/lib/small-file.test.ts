import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSmallFile, readSmallText, readSmallTextOrNull } from './small-file.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-small-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('readSmallFile', () => {
  it('reads a file, and skips the read when its stamp is unchanged', () => {
    const f = path.join(dir, 'a.json');
    fs.writeFileSync(f, '{"x":1}');
    const first = readSmallFile(f, 1024);
    expect(first).toMatchObject({ text: '{"x":1}', uid: process.getuid!() });
    expect(readSmallFile(f, 1024, { unlessStamp: first.stamp }).text).toBeNull();
    fs.writeFileSync(`${f}.tmp`, '{"x":2}');
    fs.renameSync(`${f}.tmp`, f); // a new inode: read again
    expect(readSmallFile(f, 1024, { unlessStamp: first.stamp }).text).toBe('{"x":2}');
  });

  it('names the file and what is wrong: symlink, FIFO, too big', () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'secret');
    fs.symlinkSync(target, path.join(dir, 'link'));
    expect(() => readSmallText(path.join(dir, 'link'), 100)).toThrow(`${path.join(dir, 'link')} is a symlink (refused, not followed)`);
    const fifo = path.join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    expect(() => readSmallText(fifo, 100)).toThrow(`${fifo} is not a regular file`);
    const big = path.join(dir, 'big');
    fs.writeFileSync(big, 'x'.repeat(101));
    expect(() => readSmallText(big, 100)).toThrow(`${big} is 101 bytes; the limit is 100`);
    expect(readSmallTextOrNull(path.join(dir, 'missing'), 100)).toBeNull();
  });
});
