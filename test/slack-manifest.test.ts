import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';

const manifest = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../slack/manifest.json'), 'utf8')) as {
  features: { slash_commands: { command: string; description: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { socket_mode_enabled: boolean };
};

describe('slack/manifest.json (what docs/slack.md has an admin paste)', () => {
  it('declares /flurm, Socket Mode and the scopes the app and doctor expect', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toContain('/flurm');
    for (const c of manifest.features.slash_commands) expect(c.description.length).toBeLessThanOrEqual(100);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write']));
    // DMs, channel posts (by name, exactly once) and the Log button's file (docs/slack.md).
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['im:write', 'im:history', 'channels:read', 'channels:history', 'files:write']));
  });
});
