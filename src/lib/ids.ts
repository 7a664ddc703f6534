// Ids: ULIDs (https://github.com/ulid/spec) — 48-bit millisecond time + 80 random bits in
// Crockford base32, so ids sort by time and are unique across hosts without coordination.
// Written here rather than taken from the `ulid` package because that package loads Node's whole
// crypto module (~3 ms), and ids are made on the `flurm run` fast path. Randomness comes from
// /dev/urandom; within one millisecond ids stay monotonic by incrementing the random part.
import fs from 'node:fs';

/** Crockford's base32 alphabet (ULIDs, link codes). */
export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ENCODING = CROCKFORD;
const TIME_MAX = 2 ** 48 - 1;

function randomBytes(n: number): Uint8Array {
  const buf = Buffer.alloc(n);
  try {
    const fd = fs.openSync('/dev/urandom', 'r');
    try {
      fs.readSync(fd, buf, 0, n, null);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    for (let i = 0; i < n; i++) buf[i] = Math.floor(Math.random() * 256);
  }
  return buf;
}

function encodeTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > TIME_MAX) throw new RangeError(`ULID time out of range: ${ms}`);
  let s = '';
  for (let i = 0; i < 10; i++) {
    s = ENCODING[ms % 32]! + s;
    ms = Math.floor(ms / 32);
  }
  return s;
}

/** 80 bits as 16 base32 digits (5 bits each). */
function encodeRandom(digits: number[]): string {
  return digits.map((d) => ENCODING[d]).join('');
}

function randomDigits(): number[] {
  return base32Digits(randomBytes(10));
}

/** Bytes as 5-bit digits, most significant first; a last partial digit is padded with zero bits. */
export function base32Digits(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

let lastMs = -1;
let lastDigits: number[] = [];

/** A new ULID, e.g. 01JD3Q8Z7W8R3M2K9X4V5B6N7P. Monotonic within this process. */
export function newId(nowMs: number = Date.now()): string {
  if (nowMs <= lastMs) {
    // Same (or earlier) millisecond: keep lastMs and add one to the random part.
    let i = lastDigits.length - 1;
    while (i >= 0 && lastDigits[i] === 31) lastDigits[i--] = 0;
    if (i < 0) throw new Error('ULID random part overflowed within one millisecond');
    lastDigits[i]!++;
  } else {
    lastMs = nowMs;
    lastDigits = randomDigits();
  }
  return encodeTime(lastMs) + encodeRandom(lastDigits);
}

export const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export function isUlid(s: string): boolean {
  return ULID_RE.test(s);
}

/** The time part of a ULID, in ms since the epoch. */
export function ulidTimeMs(id: string): number {
  let ms = 0;
  for (const ch of id.slice(0, 10)) ms = ms * 32 + ENCODING.indexOf(ch);
  return ms;
}
