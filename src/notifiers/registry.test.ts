// Registry: duplicates refused, unknown or malformed URLs named without leaking secrets.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors.js';
import { NOTIFIERS, createRegistry, listNotifiers, parseDestination } from './registry.js';
import type { Notifier } from './types.js';

describe('notifier registry', () => {
  it('lists every built-in notifier once, in registry order', () => {
    expect(listNotifiers().map((n) => n.name)).toEqual(['discord', 'discord-dm', 'discord-channel', 'slack', 'slack-dm', 'slack-channel', 'ntfy', 'email', 'json', 'console', 'desktop']);
    for (const n of listNotifiers()) expect(n.help.length).toBeGreaterThan(10);
  });

  it('refuses a duplicate name or scheme when registering', () => {
    const extra: Notifier = { name: 'discord', schemes: ['dc'], help: 'x', parse: () => { throw new Error('unused'); } };
    expect(() => createRegistry([...NOTIFIERS, extra])).toThrow(/notifier "discord" is registered twice/);
    const clash: Notifier = { name: 'other', schemes: ['SMTP'], help: 'x', parse: () => { throw new Error('unused'); } };
    expect(() => createRegistry([...NOTIFIERS, clash])).toThrow(/scheme "smtp" is claimed by both "email" and "other"/);
  });

  it('an unknown scheme lists the known ones', () => {
    expect(() => parseDestination('telegram://bot/chat')).toThrow(ConfigError);
    expect(() => parseDestination('telegram://bot/chat')).toThrow(
      /unknown destination kind "telegram:\/\/" \(known: discord:\/\/, discord-dm:\/\/, discord-channel:\/\/, slack:\/\/, slack-dm:\/\/, slack-channel:\/\/, ntfy:\/\/, ntfy\+http:\/\/, smtp:\/\/, smtps:\/\/, json:\/\/, jsons:\/\/, console:\/\/, desktop:\/\/\)/,
    );
  });

  it('a malformed URL is named without echoing it (it may hold a token)', () => {
    for (const bad of ['discord://[bad/secret-token-123', 'just some words secret-token-123']) {
      let msg = '';
      try {
        parseDestination(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        msg = (err as Error).message;
      }
      expect(msg).toMatch(/not a valid destination URL/);
      expect(msg).not.toContain('secret-token-123');
    }
  });

  it('an empty string is refused', () => {
    expect(() => parseDestination('   ')).toThrow(/empty destination URL/);
  });

  it('an unknown https URL points to the jsons:// form', () => {
    expect(() => parseDestination('https://hooks.example.org/notify')).toThrow(/write it as jsons:\/\/hooks.example.org\/…/);
  });

  it('schemes are case-insensitive', () => {
    expect(parseDestination('NTFY://lab-jobs').toUrl()).toBe('ntfy://lab-jobs');
  });
});
