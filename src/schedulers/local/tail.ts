// The last lines of a job's output, for the `end` event: a bounded line buffer fed with the
// job's stdout and stderr as they pass through, and a reader of a log file's last lines.
//
// Lines are kept as a terminal would show them: "\r" returns to the start of the line, so a
// progress bar (tqdm) that redraws itself with "\r" leaves only its last state, and a CRLF line
// ends cleanly. Memory stays bounded whatever the job prints: at most `maxLines` lines, each cut
// to `maxLineChars`, and a partial line that never ends is cut too.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { TAIL_MAX_LINES, TAIL_MAX_LINE_CHARS } from '../../spool/events.js';

/** What is left of a line after carriage returns: the text after the last "\r" not at its end. */
export function afterCarriageReturn(line: string): string {
  let s = line;
  while (s.endsWith('\r')) s = s.slice(0, -1);
  const cr = s.lastIndexOf('\r');
  return cr >= 0 ? s.slice(cr + 1) : s;
}

/** The last `maxLines` lines of several interleaved streams (stdout, stderr), in arrival order. */
export class TailBuffer {
  private readonly lines: string[] = [];
  private readonly partial = new Map<string, string>();
  private readonly decoders = new Map<string, StringDecoder>();

  constructor(
    private readonly maxLines: number = TAIL_MAX_LINES,
    private readonly maxLineChars: number = TAIL_MAX_LINE_CHARS * 2,
  ) {}

  /** Feed a chunk of `stream`'s bytes (or text). */
  push(stream: string, chunk: Buffer | string): void {
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else {
      let dec = this.decoders.get(stream);
      if (!dec) this.decoders.set(stream, (dec = new StringDecoder('utf8')));
      text = dec.write(chunk);
    }
    this.pushText(stream, text);
  }

  private pushText(stream: string, text: string): void {
    if (text.length === 0) return;
    // Only the last maxLines + 1 newlines of a big chunk can matter: skip what is before them.
    let start = 0;
    let pos = text.length;
    let newlines = 0;
    while (newlines <= this.maxLines) {
      const nl = text.lastIndexOf('\n', pos - 1);
      if (nl < 0) break;
      newlines++;
      pos = nl;
      if (newlines === this.maxLines + 1) start = nl + 1;
    }
    let partial = this.partial.get(stream) ?? '';
    if (start > 0) partial = '';
    let from = start;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl < 0) break;
      this.addLine(partial + text.slice(from, nl));
      partial = '';
      from = nl + 1;
    }
    partial = this.boundPartial(partial + text.slice(from));
    this.partial.set(stream, partial);
  }

  private boundPartial(s: string): string {
    // A progress bar that never prints "\n": keep only its latest state.
    const cr = s.lastIndexOf('\r', s.length - 2);
    if (cr >= 0) s = s.slice(cr + 1);
    return s.length > this.maxLineChars ? s.slice(0, this.maxLineChars) : s;
  }

  private addLine(raw: string): void {
    const line = afterCarriageReturn(raw);
    this.lines.push(line.length > this.maxLineChars ? line.slice(0, this.maxLineChars) : line);
    if (this.lines.length > this.maxLines) this.lines.shift();
  }

  /** The last lines so far, each stream's unfinished last line included. Call once, at the end. */
  finish(): string[] {
    const out = [...this.lines];
    for (const [stream, dec] of this.decoders) {
      const rest = dec.end();
      if (rest) this.partial.set(stream, (this.partial.get(stream) ?? '') + rest);
    }
    this.decoders.clear();
    for (const p of this.partial.values()) {
      const line = afterCarriageReturn(p);
      if (line.length > 0) out.push(line);
    }
    return out.slice(-this.maxLines);
  }
}

/** The last `maxLines` lines of some output (bytes as a terminal would have shown them). */
export function tailLines(output: Buffer | string, maxLines: number = TAIL_MAX_LINES): string[] {
  const tail = new TailBuffer(maxLines);
  tail.push('out', output);
  return tail.finish();
}

/**
 * The last `maxLines` lines of `file`, reading at most `maxBytes` from its end and nothing before
 * `fromOffset` (where this job started appending). [] when the file cannot be read.
 */
/**
 * The text of an open regular file of `size` bytes from `fromOffset` on, but at most its last
 * `maxBytes`. When the window starts after `fromOffset` its first (probably cut) line is dropped.
 */
export function readTailText(fd: number, size: number, fromOffset: number, maxBytes: number): string {
  const start = Math.max(fromOffset > size ? 0 : fromOffset, size - maxBytes);
  const buf = Buffer.alloc(size - start);
  let got = 0;
  while (got < buf.length) {
    const n = fs.readSync(fd, buf, got, buf.length - got, start + got);
    if (n === 0) break;
    got += n;
  }
  const text = buf.subarray(0, got).toString('utf8');
  return start > fromOffset ? text.slice(text.indexOf('\n') + 1) : text;
}

export function readLogTail(file: string, fromOffset = 0, maxLines: number = TAIL_MAX_LINES, maxBytes = 64 * 1024): string[] {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return [];
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return [];
    return tailLines(readTailText(fd, st.size, fromOffset, maxBytes), maxLines);
  } catch {
    return [];
  } finally {
    fs.closeSync(fd);
  }
}
