// The files table: where the ingest is in each spool file (inode, offset, and whether it is
// skipping an over-long line), so a hub restart neither loses nor repeats an event. The cursor of
// a chunk is saved in the same transaction as the jobs and outbox rows made from it.
import type { Db } from './db.js';
import { getMeta, setMeta } from './db.js';
import type { Cursor } from '../spool/tail-reader.js';

export class FileStore {
  constructor(private readonly db: Db) {}

  /**
   * True the first time anything is ingested into this index (no file recorded, never marked);
   * marks the index as ingested at `nowMs`, so a restart is not "fresh" again.
   */
  claimFresh(nowMs: number): boolean {
    const none = (this.db.prepare('SELECT COUNT(*) AS n FROM files').get() as { n: number }).n === 0;
    const fresh = none && !getMeta(this.db, 'ingested');
    if (fresh) setMeta(this.db, 'ingested', new Date(nowMs).toISOString());
    return fresh;
  }

  /** The saved cursor of `file`, or undefined when it was never read. */
  cursor(file: string): Cursor | undefined {
    const row = this.db.prepare('SELECT inode, offset, skipping FROM files WHERE path = ?').get(file) as { inode: number | null; offset: number; skipping: number } | undefined;
    return row && { inode: row.inode, offset: row.offset, skipping: !!row.skipping };
  }

  /** Save where the ingest is in `file` (clears a refusal); in the caller's transaction. */
  saveCursor(file: string, user: string, kind: 'events' | 'legacy', cursor: Cursor, nowMs: number): void {
    this.db
      .prepare(`INSERT INTO files (path, user, kind, inode, offset, skipping, refused, updated_ms) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)
        ON CONFLICT(path) DO UPDATE SET inode = excluded.inode, offset = excluded.offset, skipping = excluded.skipping, refused = NULL, updated_ms = excluded.updated_ms`)
      .run(file, user, kind, cursor.inode, cursor.offset, cursor.skipping ? 1 : 0, nowMs);
  }
}
