// Delivery receipts in the shared cluster dir: a file per sent notification, so a rebuilt index
// or a standby hub on another node never sends a message again. Written after the service said
// yes; checked (with open(), which NFS revalidates) before sending.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class Receipts {
  constructor(readonly dir: string | null) {}

  private file(key: string): string {
    const h = crypto.createHash('sha256').update(key).digest('hex').slice(0, 40);
    return path.join(this.dir!, h.slice(0, 2), h);
  }

  has(key: string): boolean {
    if (!this.dir) return false;
    try {
      fs.closeSync(fs.openSync(this.file(key), 'r'));
      return true;
    } catch {
      return false;
    }
  }

  /** Record that `key` was delivered. Never throws: a missing receipt only risks a duplicate on failover. */
  record(key: string, nowMs: number): void {
    if (!this.dir) return;
    const f = this.file(key);
    try {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, `${new Date(nowMs).toISOString()} ${key.split(':').slice(0, 2).join(':')}\n`, { flag: 'wx' });
    } catch {
      /* exists already, or cluster dir not writable: logged by the caller's health checks */
    }
  }
}
