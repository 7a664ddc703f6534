// The log tail of a finished SLURM job, read by the hub from the job's output files on the shared
// filesystem: the last lines of the error file, else the output file (the order the caller gives),
// at most the last 64 KiB of a file of any size, bounded like every tail (boundTail).
//
// The paths come from what a user registered (sbatch --output/--error), so the read is defensive:
// - only a regular file is read: lstat first, so a FIFO, a device (/dev/zero, /dev/tty…) or a
//   socket is never even opened; the open itself uses O_NOFOLLOW (a symlink swapped in after the
//   lstat is refused) and O_NONBLOCK (a FIFO swapped in cannot block), and fstat must show the same
//   regular file (device and inode) the lstat saw;
// - a symlink is refused, and with `ownerUid` a file owned by anyone else is too: a user cannot make
//   the hub send them the tail of a file they could not read (the hub's own config, another user's
//   log);
// - relative paths are refused (the hub's working directory means nothing to the job).
// Never throws: an unreadable or refused file is skipped.
import fs from 'node:fs';
import path from 'node:path';
import { boundTail } from '../../spool/events.js';
import { readTailText, tailLines } from '../local/tail.js';

/** The most read from the end of one file (the same bound as readLogTail). */
export const SLURM_TAIL_MAX_BYTES = 64 * 1024;

export interface SlurmTail {
  /** The file the lines came from. */
  file: string;
  /** Its last lines, bounded by boundTail (TAIL_MAX_LINES, TAIL_MAX_LINE_CHARS, TAIL_MAX_BYTES). */
  lines: string[];
}

export interface SlurmTailOptions {
  /** Read only files owned by this uid (the job's owner). Default: any owner. */
  ownerUid?: number;
  /** Bytes read from the end of the file; default SLURM_TAIL_MAX_BYTES. */
  maxBytes?: number;
}

/** Why a path gave no lines; for tests and logs. */
export type TailSkip = 'relative' | 'missing' | 'symlink' | 'not-a-file' | 'foreign-owner' | 'changed' | 'unreadable';

export interface FileTail {
  ok: true;
  lines: string[];
}

/**
 * The last lines of one file, reading at most `maxBytes` from its end; or why it was skipped.
 * A first line cut by the read window is dropped.
 */
export function readFileTail(file: string, opts: SlurmTailOptions = {}): FileTail | { ok: false; skip: TailSkip } {
  if (!path.isAbsolute(file)) return { ok: false, skip: 'relative' };
  const maxBytes = Math.max(1, Math.floor(opts.maxBytes ?? SLURM_TAIL_MAX_BYTES));
  let before: fs.Stats;
  try {
    before = fs.lstatSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, skip: code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unreadable' };
  }
  if (before.isSymbolicLink()) return { ok: false, skip: 'symlink' };
  if (!before.isFile()) return { ok: false, skip: 'not-a-file' };
  if (opts.ownerUid !== undefined && before.uid !== opts.ownerUid) return { ok: false, skip: 'foreign-owner' };

  let fd: number;
  try {
    const c = fs.constants;
    fd = fs.openSync(file, c.O_RDONLY | c.O_NONBLOCK | c.O_NOFOLLOW | c.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, skip: code === 'ELOOP' ? 'symlink' : code === 'ENOENT' ? 'missing' : 'unreadable' };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { ok: false, skip: 'not-a-file' };
    if (st.ino !== before.ino || st.dev !== before.dev) return { ok: false, skip: 'changed' };
    if (opts.ownerUid !== undefined && st.uid !== opts.ownerUid) return { ok: false, skip: 'foreign-owner' };
    // From the middle of the file the first line is probably cut and is dropped.
    const text = readTailText(fd, st.size, 0, maxBytes);
    return { ok: true, lines: boundTail(tailLines(text)) };
  } catch {
    return { ok: false, skip: 'unreadable' };
  } finally {
    fs.closeSync(fd);
  }
}

function hasText(lines: readonly string[]): boolean {
  return lines.some((l) => l.trim() !== '');
}

/**
 * The job's tail: the first of `paths` (error file first, then output, as the caller orders them;
 * null entries and repeats skipped) that is a readable regular file with some text. When every
 * readable file is empty, the first readable one with no lines; null when none can be read.
 */
export function readSlurmTail(paths: readonly (string | null | undefined)[], opts: SlurmTailOptions = {}): SlurmTail | null {
  let emptyFile: string | null = null;
  const seen = new Set<string>();
  for (const p of paths) {
    if (!p || seen.has(p)) continue;
    seen.add(p);
    const got = readFileTail(p, opts);
    if (!got.ok) continue;
    if (hasText(got.lines)) return { file: p, lines: got.lines };
    emptyFile ??= p;
  }
  return emptyFile === null ? null : { file: emptyFile, lines: [] };
}
