// Reading a small file that a user (or another host) wrote: a regular file, not followed through a
// symlink, never blocking (a FIFO), and never more than `maxBytes` — checked on the descriptor and
// again while reading, so a file growing under us cannot make us read more. Dependency-free: the
// `flurm run` path uses it (hub.json, config.toml).
import fs from 'node:fs';

export interface SmallFile {
  /** The text; null when the file's stamp equals `unlessStamp` (unchanged: not read). */
  text: string | null;
  /** inode:size:mtime of the open file (open() revalidates NFS attributes; fstat is then fresh). */
  stamp: string;
  /** Owner of the file. */
  uid: number;
}

/**
 * Open, check and read `file`; throws an Error whose message names the file and says what is
 * wrong (a symlink, not a regular file, too big, unreadable...). With `unlessStamp`, a file whose
 * stamp has not changed is not read.
 */
export function readSmallFile(file: string, maxBytes: number, opts: { unlessStamp?: string } = {}): SmallFile {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw Object.assign(new Error(`${file} is a symlink (refused, not followed)`), { code });
    if (code === 'EACCES') throw Object.assign(new Error(`${file} is not readable (permission denied)`), { code });
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error(`${file} is not a regular file`);
    if (st.size > maxBytes) throw new Error(`${file} is ${st.size} bytes; the limit is ${maxBytes}`);
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (opts.unlessStamp === stamp) return { text: null, stamp, uid: st.uid };
    // Sized by fstat; grown (once, to the limit) only if the file grows while we read it.
    let buf = Buffer.alloc(st.size + 1);
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (buf.length > maxBytes) throw new Error(`${file} grew past the limit of ${maxBytes} bytes while being read`);
        const bigger = Buffer.alloc(maxBytes + 1);
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    return { text: buf.subarray(0, got).toString('utf8'), stamp, uid: st.uid };
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's text; throws as readSmallFile does. */
export function readSmallText(file: string, maxBytes: number): string {
  return readSmallFile(file, maxBytes).text!;
}

/** Like readSmallText, but null for a missing, odd, oversized or unreadable file. */
export function readSmallTextOrNull(file: string, maxBytes: number): string | null {
  try {
    return readSmallText(file, maxBytes);
  } catch {
    return null;
  }
}
