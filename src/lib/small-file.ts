// Reading a small file that a user (or another host) wrote: a regular file, not followed through a
// symlink, never blocking (a FIFO), and never more than `maxBytes` — checked on the descriptor and
// again while reading, so a file growing under us cannot make us read more. Dependency-free: the
// `flurm run` path uses it (hub.json, config.toml).
import fs from 'node:fs';

/** The file's text; throws an Error whose message says what is wrong (not a file, too big...). */
export function readSmallText(file: string, maxBytes: number): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error(`${file} is not a regular file`);
    if (st.size > maxBytes) throw new Error(`${file} is ${st.size} bytes; the limit is ${maxBytes}`);
    const buf = Buffer.alloc(maxBytes + 1);
    let got = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > maxBytes) throw new Error(`${file} grew past the limit of ${maxBytes} bytes while being read`);
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Like readSmallText, but null for a missing, odd, oversized or unreadable file. */
export function readSmallTextOrNull(file: string, maxBytes: number): string | null {
  try {
    return readSmallText(file, maxBytes);
  } catch {
    return null;
  }
}
