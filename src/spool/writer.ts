// The spool writer: appends one event to <spool>/events/<host>.jsonl with a single write(2) of one
// complete line, then fsyncs, so the hub never sees half an event and a crash never loses one that
// was reported written. One file per (user, host): no two NFS clients append to the same file.
// Kept dependency-free: it is on the `flurm run` fast path.
import fs from 'node:fs';
import path from 'node:path';
import { MAX_EVENT_BYTES, SPOOL_VERSION, type SpoolEvent, boundTail, clip, TITLE_MAX_CHARS, COMMAND_MAX_CHARS, MESSAGE_MAX_CHARS, PATH_MAX_CHARS } from './events.js';
import { safeHostFileName } from '../lib/host.js';
import { UserError } from '../lib/errors.js';

export function eventsDir(spool: string): string {
  return path.join(spool, 'events');
}

export function eventsFile(spool: string, host: string): string {
  return path.join(eventsDir(spool), `${safeHostFileName(host)}.jsonl`);
}

/** Create the spool (0700) and its events dir if missing. */
export function ensureSpool(spool: string): void {
  try {
    fs.mkdirSync(eventsDir(spool), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new UserError(`cannot create the flurm spool ${spool}: ${(err as Error).message} (set FLURM_SPOOL to a writable directory)`, { cause: err });
  }
}

/**
 * Serialise an event to one line no larger than MAX_EVENT_BYTES: the tail, then the title and
 * command are shrunk until it fits. Never throws on size.
 */
export function serializeEvent(event: SpoolEvent): string {
  const e: Record<string, unknown> = { ...event, v: event.v ?? SPOOL_VERSION };
  if (typeof e.title === 'string') e.title = clip(e.title, TITLE_MAX_CHARS);
  if (typeof e.cmd === 'string') e.cmd = clip(e.cmd, COMMAND_MAX_CHARS);
  if (typeof e.message === 'string') e.message = clip(e.message, MESSAGE_MAX_CHARS);
  for (const k of ['cwd', 'log'] as const) if (typeof e[k] === 'string') e[k] = clip(e[k] as string, PATH_MAX_CHARS);
  if (Array.isArray(e.tail)) e.tail = boundTail(e.tail as string[]);
  let line = JSON.stringify(e) + '\n';
  while (Buffer.byteLength(line) > MAX_EVENT_BYTES) {
    if (Array.isArray(e.tail) && (e.tail as string[]).length > 0) {
      e.tail = (e.tail as string[]).slice(Math.ceil((e.tail as string[]).length / 2));
    } else {
      for (const k of Object.keys(e)) {
        const v = e[k];
        if (typeof v === 'string' && v.length > 256) e[k] = clip(v, 256);
        if (Array.isArray(v) && k !== 'tail') e[k] = v.slice(0, 8);
      }
      e.tail = [];
      if (Buffer.byteLength(JSON.stringify(e) + '\n') > MAX_EVENT_BYTES) throw new UserError('event too large even after shrinking');
    }
    line = JSON.stringify(e) + '\n';
  }
  return line;
}

/** Append `event` to this host's events file in `spool`; returns the file written. */
export function appendEvent(spool: string, event: SpoolEvent): string {
  ensureSpool(spool);
  const file = eventsFile(spool, event.host);
  const line = Buffer.from(serializeEvent(event));
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    throw new UserError(`cannot write to ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const n = fs.writeSync(fd, line, 0, line.length);
    if (n !== line.length) throw new UserError(`short write to ${file} (${n} of ${line.length} bytes)`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}
