// Trust checks for reading users' spools (DESIGN.md "Trust"): the hub trusts the filesystem, not
// the content. A spool must be a real directory (its owner is the user of every event in it); an
// events file is opened without following a symlink and without blocking (a FIFO must never stall
// the hub), then checked through the open descriptor: a regular file owned by the spool's owner,
// or it is closed again and refused with a reason. Refusals are results, never exceptions.
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export type SpoolInspection =
  | { ok: true; uid: number; gid: number; mode: number; inode: number }
  | { ok: false; code: 'missing' | 'symlink' | 'not-directory' | 'error'; reason: string };

export type RefusalCode = 'missing' | 'symlink' | 'not-regular' | 'wrong-owner' | 'error';

export type TrustedOpen =
  | { ok: true; handle: FileHandle; stat: fs.BigIntStats; inode: number }
  | { ok: false; code: RefusalCode; reason: string };

/**
 * A 64-bit inode number as a JS number. NFS and XFS hand out inodes above 2^53; the low 53 bits
 * keep neighbouring inodes (a file replaced by rename) distinct where a plain Number() would not.
 */
export function inodeNumber(ino: bigint | number): number {
  if (typeof ino === 'number') return ino;
  return ino <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ino) : Number(ino & BigInt(Number.MAX_SAFE_INTEGER));
}

function kindOf(st: fs.Stats | fs.BigIntStats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFile()) return 'a regular file';
  return 'not a regular file';
}

/** lstat a spool directory: refuses symlinks and non-directories; returns its owner. */
export async function inspectSpool(dir: string, label: string = dir): Promise<SpoolInspection> {
  let st: fs.BigIntStats;
  try {
    st = await fs.promises.lstat(dir, { bigint: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { ok: false, code: 'missing', reason: `${label} does not exist` };
    return { ok: false, code: 'error', reason: `${label}: cannot inspect (${e.code ?? e.message})` };
  }
  if (st.isSymbolicLink()) return { ok: false, code: 'symlink', reason: `${label} is a symlink — refused, not followed` };
  if (!st.isDirectory()) return { ok: false, code: 'not-directory', reason: `${label} is ${kindOf(st)}, not a directory — refused` };
  return { ok: true, uid: Number(st.uid), gid: Number(st.gid), mode: Number(st.mode & 0o7777n), inode: inodeNumber(st.ino) };
}

// libuv opens every file with O_CLOEXEC on Linux; Node does not export the constant (it is 0 here).
const O_CLOEXEC = (fs.constants as unknown as Record<string, number | undefined>).O_CLOEXEC ?? 0;
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | O_CLOEXEC;

/**
 * Open `file` for reading only if it is a regular file owned by `expectedUid`. Never follows a
 * symlink in the last path component (O_NOFOLLOW), never blocks on a FIFO (O_NONBLOCK), and judges
 * the descriptor it opened (fstat), not the name, so a swap between check and open cannot fool it.
 * `label` names the file in reasons (e.g. "events/gpu1.jsonl"). On success the caller closes
 * `handle`.
 */
export async function openTrusted(file: string, expectedUid: number, label: string = file): Promise<TrustedOpen> {
  let handle: FileHandle;
  try {
    handle = await fs.promises.open(file, OPEN_FLAGS);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ELOOP') return { ok: false, code: 'symlink', reason: `${label} is a symlink — refused, not followed` };
    if (e.code === 'ENOENT') return { ok: false, code: 'missing', reason: `${label} does not exist` };
    if (e.code === 'ENXIO' || e.code === 'EWOULDBLOCK' || e.code === 'EAGAIN') {
      return { ok: false, code: 'not-regular', reason: `${label} is not a regular file (open: ${e.code}) — refused` };
    }
    return { ok: false, code: 'error', reason: `${label}: cannot open (${e.code ?? e.message})` };
  }
  let st: fs.BigIntStats;
  try {
    st = await handle.stat({ bigint: true });
  } catch (err) {
    await handle.close().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: 'error', reason: `${label}: cannot stat (${e.code ?? e.message})` };
  }
  if (!st.isFile()) {
    await handle.close().catch(() => undefined);
    return { ok: false, code: 'not-regular', reason: `${label} is ${kindOf(st)}, not a regular file — refused` };
  }
  if (Number(st.uid) !== expectedUid) {
    await handle.close().catch(() => undefined);
    return { ok: false, code: 'wrong-owner', reason: `${label} is owned by uid ${st.uid}, not the spool owner ${expectedUid} — refused` };
  }
  return { ok: true, handle, stat: st, inode: inodeNumber(st.ino) };
}
