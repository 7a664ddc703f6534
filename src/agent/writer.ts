// Writes this node's snapshot to <cluster dir>/nodes/<host>.json the way readers on other NFS
// clients can trust: the whole file to a temp name in the same dir (hidden, not *.json), mode
// 0644 whatever the umask, then rename(2) over the old one, so a reader sees the old or the new
// file, never half of one. `seq` is the previous value + 1: kept in memory, and read back from the
// existing file (bounded read; a bad or foreign file means "start at 1") the first time.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { safeHostFileName } from '../lib/host.js';
import { readSmallTextOrNull } from '../lib/small-file.js';
import { SNAPSHOT_MAX_BYTES, type NodeSnapshot } from '../model/snapshot.js';

/** <clusterDir>/nodes/<safe host>.json */
export function snapshotFile(clusterDir: string, host: string): string {
  return path.join(clusterDir, 'nodes', `${safeHostFileName(host)}.json`);
}

/** The seq of an existing snapshot file, or 0 when it is missing, unreadable or not a snapshot. */
export function readSeq(file: string): number {
  const text = readSmallTextOrNull(file, SNAPSHOT_MAX_BYTES);
  if (text === null) return 0;
  try {
    const seq = (JSON.parse(text) as { seq?: unknown } | null)?.seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : 0;
  } catch {
    return 0;
  }
}

export class SnapshotWriter {
  readonly file: string;
  private lastSeq: number | null = null;

  constructor(readonly clusterDir: string, host: string) {
    this.file = snapshotFile(clusterDir, host);
  }

  /** The seq the next write will carry. */
  nextSeq(): number {
    this.lastSeq ??= readSeq(this.file);
    return this.lastSeq + 1;
  }

  /** Write `snap` with the next seq; returns what was written. Throws on I/O errors. */
  write(snap: NodeSnapshot): NodeSnapshot {
    const out: NodeSnapshot = { ...snap, seq: this.nextSeq() };
    const dir = path.dirname(this.file);
    const created = fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    // The umask may have taken bits away: every dir made here must be readable by the hub's user.
    if (created !== undefined) {
      for (let d = dir; ; d = path.dirname(d)) {
        fs.chmodSync(d, 0o755);
        if (d === created || path.dirname(d) === d) break;
      }
    }
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
    const text = JSON.stringify(out) + '\n';
    try {
      const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
      try {
        fs.fchmodSync(fd, 0o644);
        fs.writeSync(fd, text);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    this.lastSeq = out.seq;
    return out;
  }
}
