// Incremental, bounded reading of an append-only spool file (events/<host>.jsonl, ~/.pingchilling).
// Each call opens the file through trust.ts, reads at most `maxBytes` new bytes from the saved
// offset and returns the complete lines in them, each with the offset just past its newline, so
// the caller can commit that offset in the same transaction as the event (exactly once across
// crashes). A partial last line waits for its newline. A line longer than `maxLineBytes` is skipped
// without being buffered: the cursor enters `skipping` until the next newline, so a 20 MB line
// costs O(maxBytes) memory per call. A shrunk file or a replaced one (new inode) is re-read from 0.
import fs from 'node:fs';
import path from 'node:path';
import { inodeNumber, openTrusted } from './trust.js';

export interface Cursor {
  /** Inode of the file the offset belongs to; null before the first read. */
  inode: number | null;
  /** Byte offset of the first byte not yet consumed. */
  offset: number;
  /** True while the reader is discarding an over-long line up to its newline. */
  skipping: boolean;
}

export interface ReadOptions {
  /** Owner the file must have (the spool's owner). */
  expectedUid: number;
  /** At most this many bytes are read per call; must be >= maxLineBytes. */
  maxBytes: number;
  /** Longest accepted line, newline included (MAX_EVENT_BYTES for events). */
  maxLineBytes: number;
  /** Names the file in notes and refusals (default: the path). */
  label?: string;
}

export interface ReadLine {
  /** The line without its newline; invalid UTF-8 replaced by U+FFFD. */
  text: string;
  /** Offset just past this line's newline: commit it with the event. */
  endOffset: number;
}

export interface ReadResult {
  lines: ReadLine[];
  /** Where the next call starts; commit it after the lines (it can be past the last endOffset). */
  cursor: Cursor;
  /** Things worth a log line: skipped long lines, truncation, replacement. */
  notes: string[];
  /** Set when the file was refused (trust.ts); the cursor is returned unchanged. */
  refused?: string;
  /** Code of the refusal ("missing", "symlink", "not-regular", "wrong-owner", "error"). */
  refusedCode?: string;
  /** True when everything written so far has been consumed (no need to call again now). */
  eof: boolean;
}

export function initialCursor(): Cursor {
  return { inode: null, offset: 0, skipping: false };
}

const NL = 0x0a;

/** Read the complete new lines of `file` from `cursor` (see the module comment). */
export async function readNew(file: string, cursor: Cursor, opts: ReadOptions): Promise<ReadResult> {
  const label = opts.label ?? file;
  if (!Number.isInteger(opts.maxLineBytes) || opts.maxLineBytes < 2) throw new RangeError('maxLineBytes must be an integer >= 2');
  if (!Number.isInteger(opts.maxBytes) || opts.maxBytes < opts.maxLineBytes) {
    // A buffer smaller than the longest line could never hold that line: no progress, ever.
    throw new RangeError(`maxBytes (${opts.maxBytes}) must be an integer >= maxLineBytes (${opts.maxLineBytes})`);
  }
  const opened = await openTrusted(file, opts.expectedUid, label);
  if (!opened.ok) return { lines: [], cursor: { ...cursor }, notes: [], refused: opened.reason, refusedCode: opened.code, eof: true };
  const { handle, stat } = opened;
  const notes: string[] = [];
  const cur: Cursor = { ...cursor };
  try {
    const size = Number(stat.size);
    if (cur.inode !== null && cur.inode !== opened.inode) {
      notes.push(`${label} was replaced (inode ${cur.inode} → ${opened.inode}); re-reading from offset 0`);
      cur.offset = 0;
      cur.skipping = false;
    } else if (size < cur.offset) {
      notes.push(`${label} shrank to ${size} bytes, below the saved offset ${cur.offset} (truncated); re-reading from offset 0`);
      cur.offset = 0;
      cur.skipping = false;
    }
    cur.inode = opened.inode;

    // Read up to maxBytes; the file may have grown since fstat, which is fine.
    const buf = Buffer.allocUnsafe(opts.maxBytes);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, cur.offset + n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    const hitEof = n < buf.length;
    const data = buf.subarray(0, n);
    const lines: ReadLine[] = [];
    const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    const base = cur.offset;
    let pos = 0;

    if (cur.skipping) {
      const nl = data.indexOf(NL, 0);
      if (nl < 0) {
        cur.offset = base + n;
        return { lines, cursor: cur, notes, eof: hitEof };
      }
      pos = nl + 1;
      cur.skipping = false;
      cur.offset = base + pos;
    }

    while (pos < n) {
      const nl = data.indexOf(NL, pos);
      if (nl < 0) {
        const pending = n - pos;
        if (pending >= opts.maxLineBytes) {
          // With its newline this line will exceed maxLineBytes: drop it without keeping it.
          notes.push(`${label}: line at offset ${base + pos} longer than ${opts.maxLineBytes} bytes skipped`);
          cur.skipping = true;
          cur.offset = base + n;
        }
        // Otherwise a partial last line: it waits for its newline; offset stays at its start.
        break;
      }
      const lineBytes = nl + 1 - pos;
      if (lineBytes > opts.maxLineBytes) {
        notes.push(`${label}: line at offset ${base + pos} longer than ${opts.maxLineBytes} bytes skipped`);
      } else {
        lines.push({ text: decoder.decode(data.subarray(pos, nl)), endOffset: base + nl + 1 });
      }
      pos = nl + 1;
      cur.offset = base + pos;
    }
    // eof: nothing left to read beyond what we consumed or are waiting on (a partial line).
    return { lines, cursor: cur, notes, eof: hitEof };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

// ---- discovery ----------------------------------------------------------------------------------

/** Default bound on events files per spool. */
export const MAX_EVENT_FILES = 1000;
/** Names the writers produce: safeHostFileName(host) + ".jsonl", no leading dot. */
const EVENT_FILE_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}\.jsonl$/;

export interface EventFileInfo {
  name: string;
  path: string;
  /** Host part of the name (the file's writer host, as the writer made it file-safe). */
  host: string;
  /** From lstat: what the name itself is, before anything is followed. */
  kind: 'file' | 'symlink' | 'directory' | 'fifo' | 'other';
  uid: number;
  inode: number;
  sizeBytes: number;
  /** Set when the entry must not be read: symlink, not a regular file, other owner (with expectedUid). */
  refused?: string;
}

export interface DiscoverResult {
  files: EventFileInfo[];
  /** Names skipped and why (bad names, refusals of the events dir, the bound). */
  notes: string[];
  /** True when the bound was reached and some entries were not looked at. */
  truncated: boolean;
}

/**
 * List `<spool>/events/*.jsonl` with lstat information, at most `maxFiles` of them (directory
 * entries looked at are bounded too). The events directory itself must be a real directory.
 * With `expectedUid`, entries that are symlinks, not regular files or owned by someone else carry
 * a `refused` reason; the caller still opens files only through openTrusted/readNew.
 */
export async function discoverEventFiles(
  spoolDir: string,
  opts: { maxFiles?: number; expectedUid?: number } = {},
): Promise<DiscoverResult> {
  const maxFiles = opts.maxFiles ?? MAX_EVENT_FILES;
  const maxEntries = maxFiles * 4;
  const dir = path.join(spoolDir, 'events');
  const notes: string[] = [];
  const files: EventFileInfo[] = [];
  let dst: fs.BigIntStats;
  try {
    dst = await fs.promises.lstat(dir, { bigint: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') notes.push(`${dir}: cannot inspect (${e.code ?? e.message})`);
    return { files, notes, truncated: false };
  }
  if (dst.isSymbolicLink()) return { files, notes: [`${dir} is a symlink — refused, not followed`], truncated: false };
  if (!dst.isDirectory()) return { files, notes: [`${dir} is not a directory — refused`], truncated: false };
  if (opts.expectedUid !== undefined && Number(dst.uid) !== opts.expectedUid) {
    return { files, notes: [`${dir} is owned by uid ${dst.uid}, not the spool owner ${opts.expectedUid} — refused`], truncated: false };
  }

  let truncated = false;
  let seen = 0;
  let d: fs.Dir;
  try {
    d = await fs.promises.opendir(dir, { bufferSize: 64 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { files, notes: [`${dir}: cannot list (${e.code ?? e.message})`], truncated: false };
  }
  try {
    for (;;) {
      const ent = await d.read();
      if (ent === null) break;
      if (++seen > maxEntries || files.length >= maxFiles) {
        truncated = true;
        notes.push(`${dir}: more than ${files.length >= maxFiles ? `${maxFiles} events files` : `${maxEntries} entries`}; the rest are ignored`);
        break;
      }
      const name = ent.name;
      if (!name.endsWith('.jsonl')) continue;
      if (!EVENT_FILE_RE.test(name)) {
        notes.push(`${dir}: ignoring badly named file ${JSON.stringify(name.slice(0, 80))}`);
        continue;
      }
      const p = path.join(dir, name);
      let st: fs.BigIntStats;
      try {
        st = await fs.promises.lstat(p, { bigint: true });
      } catch {
        continue; // removed between readdir and lstat
      }
      const kind: EventFileInfo['kind'] = st.isSymbolicLink()
        ? 'symlink'
        : st.isFile()
          ? 'file'
          : st.isDirectory()
            ? 'directory'
            : st.isFIFO()
              ? 'fifo'
              : 'other';
      const info: EventFileInfo = {
        name,
        path: p,
        host: name.slice(0, -'.jsonl'.length),
        kind,
        uid: Number(st.uid),
        inode: inodeNumber(st.ino),
        sizeBytes: Number(st.size),
      };
      const rel = `events/${name}`;
      if (kind === 'symlink') info.refused = `${rel} is a symlink — refused, not followed`;
      else if (kind !== 'file') info.refused = `${rel} is ${kind === 'fifo' ? 'a FIFO' : `a ${kind}`}, not a regular file — refused`;
      else if (opts.expectedUid !== undefined && info.uid !== opts.expectedUid) {
        info.refused = `${rel} is owned by uid ${info.uid}, not the spool owner ${opts.expectedUid} — refused`;
      }
      files.push(info);
    }
  } finally {
    await d.close().catch(() => undefined);
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { files, notes, truncated };
}
