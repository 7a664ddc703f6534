// Link codes: the one-time code `/link` in Discord (or `/flurm link` in Slack) shows and `flurm
// link CODE` writes into the user's spool (a `link` event), proving that whoever owns that spool
// also holds that chat account (docs/linking.md). A code is signed, not stored, so a link comes
// back when the index is rebuilt from the spools:
//   payload = account (8 bytes, big-endian) ‖ issue minute since the epoch (u32)
//   account = a Discord id (a snowflake, below 2^63: the top bit clear), or a Slack id
//             ("U0123ABCDEF": a letter and up to 11 more of [A-Z0-9], read as a base-36 number,
//             below 36^12 < 2^63) with the top bit set
//   mac     = the first 6 bytes of HMAC-SHA256(key, payload)
//   code    = Crockford base32 of payload ‖ mac (18 bytes → 29 characters; the last one carries a
//             zero padding bit, so every character counts)
// Shown in groups separated by '-'; read back ignoring '-', blanks and case, with O read as 0 and
// I, L as 1 (Crockford). Parsing needs no key (the CLI and the event validator refuse a malformed
// code); verifying needs the hub's key (hub/links.ts keeps it beside the index).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { base32Digits, CROCKFORD } from '../lib/ids.js';

const ALPHABET = CROCKFORD;
/** A code links within this many minutes of the end of the minute it was issued in (the hub's clock). */
export const LINK_CODE_TTL_MINUTES = 10;
/** Characters of a code once normalised. */
export const LINK_CODE_CHARS = 29;
/** The longest `code` a `link` event (or the command line) may carry, dashes and blanks included. */
export const LINK_CODE_MAX_CHARS = 64;
const PAYLOAD_BYTES = 12;
const MAC_BYTES = 6;
const CODE_BYTES = PAYLOAD_BYTES + MAC_BYTES;
const TOP_BIT = 1n << 63n;
const SLACK_ID = /^[A-Z][A-Z0-9]{1,11}$/;
const U32_MAX = 2 ** 32 - 1;

/** What a well-formed code says (before its signature is checked). */
export interface LinkCode {
  /** The 29 characters, upper case, no dashes: the code's identity (a used code is recorded by it). */
  canonical: string;
  /** The chat the code was issued in. */
  chat: LinkChat;
  /** The account it was issued to: a Discord id (decimal, as Discord writes ids) or a Slack id (U…). */
  account: string;
  /** When it was issued, in whole minutes since the epoch (the hub's clock). */
  issuedMinutes: number;
  payload: Buffer;
  mac: Buffer;
}

/** The chats a code links an account of. */
export type LinkChat = 'discord' | 'slack';
export const LINK_CHATS: readonly LinkChat[] = ['discord', 'slack'];

export type ParsedLinkCode = { ok: true; code: LinkCode } | { ok: false; reason: string };

/** Upper case, without '-' and blanks, O → 0 and I, L → 1. */
export function normaliseLinkCode(text: string): string {
  return text.replace(/[\s-]+/g, '').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1');
}

/** "ABCDE-FGHJK-MNPQR-STVWX-YZ012-3456": groups of five, the last of four, for reading aloud. */
export function formatLinkCode(canonical: string): string {
  return (canonical.match(/.{1,5}/g) ?? []).join('-');
}

function encode(bytes: Buffer): string {
  return base32Digits(bytes)
    .map((d) => ALPHABET[d])
    .join('');
}

/** The bytes of a normalised code, or why not. */
function decode(s: string): Buffer | string {
  const out = Buffer.alloc(CODE_BYTES);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return `"${ch}" is not a letter or digit a code uses`;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  // 29 × 5 = 145 bits: one padding bit, which a code flurm made leaves at zero.
  if (acc !== 0) return 'its last character is not one a code can end with';
  return out;
}

/** Parse a code as a person typed or pasted it. Never throws; the reason says what is wrong. */
export function parseLinkCode(text: string): ParsedLinkCode {
  if (text.length > LINK_CODE_MAX_CHARS) return { ok: false, reason: `it is ${text.length} characters long (at most ${LINK_CODE_MAX_CHARS})` };
  const canonical = normaliseLinkCode(text);
  if (canonical.length === 0) return { ok: false, reason: 'it is empty' };
  const bad = [...canonical].find((ch) => !ALPHABET.includes(ch));
  if (bad !== undefined) return { ok: false, reason: `"${bad}" is not a letter or digit a code uses` };
  if (canonical.length !== LINK_CODE_CHARS) return { ok: false, reason: `it has ${canonical.length} letters and digits, not ${LINK_CODE_CHARS}` };
  const bytes = decode(canonical);
  if (typeof bytes === 'string') return { ok: false, reason: bytes };
  const payload = bytes.subarray(0, PAYLOAD_BYTES);
  const n = payload.readBigUInt64BE(0);
  const slack = (n & TOP_BIT) !== 0n;
  const account = slack ? (n ^ TOP_BIT).toString(36).toUpperCase() : n.toString();
  if (!(slack ? isCodeAccount('slack', account) : isCodeAccount('discord', account))) return { ok: false, reason: 'it names no chat user' };
  return { ok: true, code: { canonical, chat: slack ? 'slack' : 'discord', account, issuedMinutes: payload.readUInt32BE(8), payload, mac: bytes.subarray(PAYLOAD_BYTES) } };
}

/**
 * An account that fits a code: a Discord id (1 to 19 digits, 1 to 2^63 - 1: snowflakes stay
 * below that for a century), or a Slack id of at most 12 characters (today's are 9 to 11).
 */
export function isCodeAccount(chat: LinkChat, id: string): boolean {
  if (chat === 'slack') return SLACK_ID.test(id);
  if (!/^\d{1,19}$/.test(id)) return false;
  const n = BigInt(id);
  return n > 0n && n < TOP_BIT;
}

/** The 8 account bytes of a code. */
function accountBits(chat: LinkChat, id: string): bigint {
  if (chat === 'discord') return BigInt(id);
  let n = 0n;
  for (const ch of id) n = n * 36n + BigInt(parseInt(ch, 36));
  return n | TOP_BIT;
}

function macOf(key: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
}

/** The canonical code (29 characters) for `account` in `chat`, issued at `issuedMinutes`, signed with `key`. */
export function signLinkCode(key: Buffer, chat: LinkChat, account: string, issuedMinutes: number): string {
  if (!isCodeAccount(chat, account)) throw new RangeError(`not a ${chat === 'slack' ? 'Slack' : 'Discord'} user id: "${account}"`);
  if (!Number.isInteger(issuedMinutes) || issuedMinutes < 0 || issuedMinutes > U32_MAX) throw new RangeError(`issue minute out of range: ${issuedMinutes}`);
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload.writeBigUInt64BE(accountBits(chat, account), 0);
  payload.writeUInt32BE(issuedMinutes, 8);
  return encode(Buffer.concat([payload, macOf(key, payload)]));
}

/** True when `code` was signed with `key` (constant-time comparison). */
export function verifyLinkCode(key: Buffer, code: LinkCode): boolean {
  return timingSafeEqual(macOf(key, code.payload), code.mac);
}
