// Link codes as a person handles them: what /link shows, typed back in any case with or without
// dashes, mistyped, tampered with, or checked by a hub with another key.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LINK_CODE_CHARS, formatLinkCode, normaliseLinkCode, parseLinkCode, signLinkCode, verifyLinkCode } from './link-code.js';

const KEY = randomBytes(32);
const DISCORD = '123456789012345678';
const MINUTE = Math.floor(Date.parse('2025-03-01T12:34:56Z') / 60_000);

function mustParse(text: string) {
  const r = parseLinkCode(text);
  if (!r.ok) throw new Error(`expected a code, got: ${r.reason}`);
  return r.code;
}

describe('link codes', () => {
  it('round-trip: 29 characters, shown in dashed groups, naming the Discord user and the minute', () => {
    const canonical = signLinkCode(KEY, 'discord', DISCORD, MINUTE);
    expect(canonical).toMatch(/^[0-9A-HJKMNP-TV-Z]{29}$/);
    const shown = formatLinkCode(canonical);
    expect(shown).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}-[0-9A-Z]{4}$/);
    const code = mustParse(shown);
    expect(code).toMatchObject({ canonical, chat: 'discord', account: DISCORD, issuedMinutes: MINUTE });
    expect(verifyLinkCode(KEY, code)).toBe(true);
    // The largest id a code holds (2^63 - 1; snowflakes stay below it for a century) survives too.
    expect(mustParse(signLinkCode(KEY, 'discord', '9223372036854775807', 0)).account).toBe('9223372036854775807');
    expect(() => signLinkCode(KEY, 'discord', '9223372036854775808', 0)).toThrow(RangeError);
  });

  it('names a Slack user the same way: ids of today (U + 8 to 10) and two characters longer, the same 29 characters', () => {
    for (const id of ['U01ABCDEF', 'U0123ABCDEF', 'W0123456789', 'UZZZZZZZZZZZ', 'B1']) {
      const canonical = signLinkCode(KEY, 'slack', id, MINUTE);
      expect(canonical).toHaveLength(LINK_CODE_CHARS);
      const code = mustParse(formatLinkCode(canonical).toLowerCase());
      expect(code).toMatchObject({ chat: 'slack', account: id, issuedMinutes: MINUTE });
      expect(verifyLinkCode(KEY, code)).toBe(true);
    }
    // A Discord id and a Slack id never read as each other.
    expect(mustParse(signLinkCode(KEY, 'discord', '1', MINUTE)).chat).toBe('discord');
    expect(() => signLinkCode(KEY, 'slack', 'U0123ABCDEF12', MINUTE)).toThrow(/not a Slack user id/);
    expect(() => signLinkCode(KEY, 'slack', 'u0123abcdef', MINUTE)).toThrow(RangeError);
    expect(() => signLinkCode(KEY, 'slack', '0123', MINUTE)).toThrow(RangeError);
  });

  it('reads a code typed back in lower case, without dashes, with blanks, O for 0 and I or L for 1', () => {
    // A canonical code holding both a 0 and a 1, so the look-alike letters are exercised.
    let canonical = '';
    for (let m = MINUTE; !/0/.test(canonical) || !/1/.test(canonical); m++) canonical = signLinkCode(KEY, 'discord', DISCORD, m);
    const typed = formatLinkCode(canonical).toLowerCase().replace(/0/g, 'o').replace(/1/, 'i').replace(/1/g, 'l').replace(/-/g, ' - ');
    expect(typed).not.toContain('0');
    const code = mustParse(`  ${typed}\n`);
    expect(code.canonical).toBe(canonical);
    expect(verifyLinkCode(KEY, code)).toBe(true);
    expect(normaliseLinkCode('ab-cd efOIL')).toBe('ABCDEF011');
  });

  it('refuses any one character changed: the signature or the padding bit catches it', () => {
    const canonical = signLinkCode(KEY, 'discord', DISCORD, MINUTE);
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    for (let i = 0; i < LINK_CODE_CHARS; i++) {
      for (const ch of alphabet) {
        if (ch === canonical[i]) continue;
        const tampered = canonical.slice(0, i) + ch + canonical.slice(i + 1);
        const r = parseLinkCode(tampered);
        expect(r.ok && verifyLinkCode(KEY, r.code), `position ${i} → ${ch}`).toBe(false);
      }
    }
  });

  it('refuses a code signed with another key (another hub, or a guess)', () => {
    const code = mustParse(signLinkCode(KEY, 'discord', DISCORD, MINUTE));
    expect(verifyLinkCode(randomBytes(32), code)).toBe(false);
  });

  it('says what is wrong with something that is not a code', () => {
    const canonical = signLinkCode(KEY, 'discord', DISCORD, MINUTE);
    expect(parseLinkCode('')).toEqual({ ok: false, reason: 'it is empty' });
    expect(parseLinkCode('ABC-123')).toEqual({ ok: false, reason: 'it has 6 letters and digits, not 29' });
    expect(parseLinkCode(canonical.slice(0, 28) + 'U')).toEqual({ ok: false, reason: '"U" is not a letter or digit a code uses' });
    expect(parseLinkCode(canonical + 'A')).toMatchObject({ ok: false, reason: 'it has 30 letters and digits, not 29' });
    expect(parseLinkCode('x'.repeat(65))).toMatchObject({ ok: false, reason: 'it is 65 characters long (at most 64)' });
    expect(parseLinkCode('0'.repeat(29))).toEqual({ ok: false, reason: 'it names no chat user' });
    expect(() => signLinkCode(KEY, 'discord', '12ab', MINUTE)).toThrow(/not a Discord user id/);
    expect(() => signLinkCode(KEY, 'discord', '18446744073709551616', MINUTE)).toThrow(/not a Discord user id/);
  });
});
