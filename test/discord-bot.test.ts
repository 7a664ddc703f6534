// The bot in-process against the local Discord: the paths a real hub rarely takes in a test —
// a command slower than Discord's patience (defer, then the original edited), a data source that
// fails, and a definition change that registers again.
import { afterEach, describe, expect, it } from 'vitest';
import { REST } from '@discordjs/rest';
import { DiscordBot, DEFER_AFTER_MS } from '../src/frontends/discord/bot.js';
import type { DataSource } from '../src/commands/source.js';
import { createHubSource } from '../src/hub/source.js';
import type { HubApi } from '../src/hub/http/server.js';
import { COMMANDS } from '../src/commands/registry.js';
import { createLogger } from '../src/lib/logger.js';
import { startDiscordServer, type DiscordServer } from './support/discord-server.js';
import { GENERATED, lab } from './support/nodes.js';

let srv: DiscordServer | undefined;
let bot: DiscordBot | null = null;

afterEach(async () => {
  await bot?.stop();
  bot = null;
  await srv?.close();
  srv = undefined;
});

/** The hub's own source over fixture nodes (the same one POST /api/v1/commands uses). */
function hubSource(): DataSource {
  const api = { nodes: () => ({ generated: GENERATED, nodes: lab() }), slurm: () => null, jobs: () => [], nodeHistory: () => [] } as unknown as HubApi;
  return createHubSource(api, () => 'http://hub.test:7077');
}

async function startBot(source: DataSource, hashes = new Map<string, string>(), guilds?: readonly string[]): Promise<void> {
  srv ??= await startDiscordServer({ heartbeatIntervalMs: 1000 });
  const s = srv;
  const rest = new REST({ version: '10', api: `${s.url}/api` }).setToken(s.token);
  bot = new DiscordBot({
    token: s.token,
    api: s.url,
    guildIds: guilds ?? s.guildIds,
    rest,
    services: {
      source,
      commands: COMMANDS,
      log: createLogger({ level: 'error', write: () => undefined }),
      userOf: () => null,
      link: () => ({ title: 'Link your unix user', severity: 'info', summary: 'flurm link X' }),
      unlink: () => ({ title: 'Unlink', severity: 'info', summary: 'You were not linked.' }),
      registeredHash: (s) => hashes.get(s) ?? null,
      recordHash: (s, h) => void hashes.set(s, h),
      button: async () => ({ title: 't', text: 'x' }),
      whenFree: async () => ({ messages: [] }),
    },
  });
  bot.start();
  await s.waitFor(() => bot!.health().commands.registered, 10_000, 'commands registered');
}

describe('DiscordBot in-process', () => {
  it('answers a quick command directly (type 4)', async () => {
    await startBot(hubSource());
    const a = await srv!.command('status', {}).final();
    expect(a.callbackType).toBe(4);
    expect(JSON.stringify(a.data)).toContain(lab()[0]!.host);
    expect(bot!.health().interactions.deferred).toBe(0);
  });

  it('defers a command slower than 1.5 s (type 5) and edits the original with the answer', async () => {
    const base = hubSource();
    const slow: DataSource = { ...base, nodes: async (q) => (await new Promise((r) => setTimeout(r, DEFER_AFTER_MS + 700)), base.nodes(q)) };
    await startBot(slow);
    const a = await srv!.command('status', {}).final();
    expect(a.callbackType).toBe(5);
    expect(a.via).toBe('edit-original');
    expect(JSON.stringify(a.data)).toContain(lab()[0]!.host);
    expect(a.latencyMs).toBeGreaterThanOrEqual(DEFER_AFTER_MS + 700);
    expect(bot!.health().interactions.deferred).toBe(1);
  });

  it('a failing data source is an answer saying so, not a dead interaction', async () => {
    const broken: DataSource = { ...hubSource(), nodes: async () => Promise.reject(new Error('index is locked')) };
    await startBot(broken);
    const a = await srv!.command('status', {}).final();
    expect(JSON.stringify(a.data)).toMatch(/The hub could not answer: index is locked/);
  });

  it('registers only when the definitions changed (the stored hash), once per guild', async () => {
    const hashes = new Map<string, string>();
    await startBot(hubSource(), hashes);
    expect(srv!.commandWrites).toBe(1);
    await bot!.stop();
    await startBot(hubSource(), hashes);
    expect(srv!.commandWrites).toBe(1);
    // Another definition (an older flurm registered these): one bulk overwrite brings them up to date.
    for (const k of hashes.keys()) hashes.set(k, 'stale');
    await bot!.stop();
    await startBot(hubSource(), hashes);
    await srv!.waitFor(() => srv!.commandWrites === 2, 5000, 'a second overwrite');
  });

  it('with no guild_ids, registers global commands (one bulk overwrite) and none in the guild', async () => {
    await startBot(hubSource(), new Map(), []);
    expect(srv!.commands().map((c) => c.name)).toContain('when-free');
    expect(srv!.commands(srv!.guildIds[0])).toEqual([]);
    expect(srv!.commandWrites).toBe(1);
  });
});
