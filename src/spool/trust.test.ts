import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectSpool, openTrusted } from './trust.js';

const isRoot = process.getuid?.() === 0;
const myUid = process.getuid?.() ?? 0;
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-trust-'));
  fs.mkdirSync(path.join(dir, 'events'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Resolves with `p`'s value, or rejects if it takes longer than `ms` (a blocked open). */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still pending after ${ms} ms (blocked?)`)), ms))]);
}

describe('inspectSpool', () => {
  it('returns the owner of a real directory', async () => {
    expect(await inspectSpool(dir)).toMatchObject({ ok: true, uid: myUid });
  });
  it('refuses a symlink to a directory without following it', async () => {
    const link = path.join(dir, 'spool-link');
    fs.symlinkSync(path.join(dir, 'events'), link);
    expect(await inspectSpool(link, '~bob/.flurm')).toEqual({ ok: false, code: 'symlink', reason: '~bob/.flurm is a symlink — refused, not followed' });
  });
  it('refuses a regular file and reports a missing spool', async () => {
    fs.writeFileSync(path.join(dir, 'f'), '');
    expect(await inspectSpool(path.join(dir, 'f'), 'f')).toEqual({ ok: false, code: 'not-directory', reason: 'f is a regular file, not a directory — refused' });
    expect(await inspectSpool(path.join(dir, 'nope'))).toMatchObject({ ok: false, code: 'missing' });
  });
});

describe('openTrusted', () => {
  it('opens a regular file owned by the expected uid and reads it', async () => {
    const f = path.join(dir, 'events/gpu1.jsonl');
    fs.writeFileSync(f, 'hello\n');
    const r = await openTrusted(f, myUid);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    try {
      const buf = Buffer.alloc(6);
      await r.handle.read(buf, 0, 6, 0);
      expect(buf.toString()).toBe('hello\n');
      expect(r.inode).toBe(fs.statSync(f).ino);
    } finally {
      await r.handle.close();
    }
  });

  it('refuses a symlink (even to a good file) and does not follow it', async () => {
    const target = path.join(dir, 'real.jsonl');
    fs.writeFileSync(target, 'x\n');
    const link = path.join(dir, 'events/gpu1.jsonl');
    fs.symlinkSync(target, link);
    const before = openFds();
    const r = await openTrusted(link, myUid, 'events/gpu1.jsonl');
    expect(r).toEqual({ ok: false, code: 'symlink', reason: 'events/gpu1.jsonl is a symlink — refused, not followed' });
    expect(openFds()).toBe(before);
  });

  it('refuses a FIFO at once: opening it never waits for a writer', async () => {
    const fifo = path.join(dir, 'events/gpu1.jsonl');
    execFileSync('mkfifo', [fifo]);
    const before = openFds();
    const r = await within(openTrusted(fifo, myUid, 'events/gpu1.jsonl'), 3000);
    expect(r).toEqual({ ok: false, code: 'not-regular', reason: 'events/gpu1.jsonl is a FIFO (named pipe), not a regular file — refused' });
    expect(openFds()).toBe(before);
  });

  it('refuses a symlink to a FIFO without blocking', async () => {
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    fs.symlinkSync(fifo, path.join(dir, 'events/gpu1.jsonl'));
    const r = await within(openTrusted(path.join(dir, 'events/gpu1.jsonl'), myUid), 3000);
    expect(r).toMatchObject({ ok: false, code: 'symlink' });
  });

  it('refuses a directory and reports a missing file', async () => {
    expect(await openTrusted(path.join(dir, 'events'), myUid, 'events')).toMatchObject({ ok: false, code: 'not-regular', reason: 'events is a directory, not a regular file — refused' });
    expect(await openTrusted(path.join(dir, 'events/none.jsonl'), myUid, 'events/none.jsonl')).toEqual({ ok: false, code: 'missing', reason: 'events/none.jsonl does not exist' });
  });

  it.skipIf(!isRoot)('refuses a file owned by another uid than the spool owner (needs root for chown)', async () => {
    const f = path.join(dir, 'events/gpu1.jsonl');
    fs.writeFileSync(f, '{}\n');
    fs.chownSync(f, 1234, 1234);
    const before = openFds();
    const r = await openTrusted(f, 1000, 'events/gpu1.jsonl');
    expect(r).toEqual({ ok: false, code: 'wrong-owner', reason: 'events/gpu1.jsonl is owned by uid 1234, not the spool owner 1000 — refused' });
    expect(openFds()).toBe(before);
    // ...and the same file is fine for its real owner.
    const ok = await openTrusted(f, 1234);
    expect(ok.ok).toBe(true);
    if (ok.ok) await ok.handle.close();
  });

});
