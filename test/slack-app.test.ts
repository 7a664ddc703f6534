// The Slack app in-process against the local Slack (real Bolt, Socket Mode): connect, /flurm and an
// alias answered through response_url within the ack deadline, a refresh disconnect survived.
import { afterEach, describe, expect, it } from 'vitest';
import { SlackApp } from '../src/frontends/slack/app.js';
import { COMMANDS } from '../src/commands/registry.js';
import { createHubSource } from '../src/hub/source.js';
import type { HubApi } from '../src/hub/http/server.js';
import { createLogger } from '../src/lib/logger.js';
import { startSlackServer, type SlackServer } from './support/slack-server.js';
import { GENERATED, lab } from './support/nodes.js';

let srv: SlackServer | undefined;
let app: SlackApp | undefined;

afterEach(async () => {
  await app?.stop();
  app = undefined;
  await srv?.close();
  srv = undefined;
});

async function start(): Promise<SlackServer> {
  const s = await startSlackServer();
  srv = s;
  const api = { nodes: () => ({ generated: GENERATED, nodes: lab() }), slurm: () => null, jobs: () => [], nodeHistory: () => [] } as unknown as HubApi;
  app = new SlackApp({
    botToken: s.botToken,
    appToken: s.appToken,
    api: s.apiUrl,
    aliases: { sciencecluster: 'best' },
    source: createHubSource(api, () => 'http://hub:7077'),
    commands: COMMANDS,
    userOf: () => null,
    log: createLogger({ level: 'error', write: () => undefined }),
  });
  await app.start();
  await s.waitForConnection();
  return s;
}

describe('SlackApp over Socket Mode', () => {
  it('connects, knows its team and scopes, answers /flurm status in the channel via response_url', async () => {
    const s = await start();
    expect(app!.health()).toMatchObject({ state: 'ready', scopes: expect.arrayContaining(['commands', 'chat:write']) });
    const h = s.slashCommand('/flurm', 'status');
    const ack = await h.ack;
    expect(ack.acked).toBe(true);
    expect(ack.latencyMs).toBeLessThan(3000);
    const answer = await h.final();
    expect(JSON.stringify(answer)).toContain(lab()[0]!.host);
    expect(answer.ephemeral).toBe(false);
  });

  it('answers an alias (/sciencecluster) with best, and a typo with a usage answer only the asker sees', async () => {
    const s = await start();
    const a = await s.slashCommand('/sciencecluster', '').final();
    expect(JSON.stringify(a)).toMatch(/Best node/);
    const t = await s.slashCommand('/flurm', 'bset').final();
    expect(JSON.stringify(t)).toContain('Did you mean');
    expect(t.ephemeral).toBe(true);
  });

  it('reconnects after Slack asks for a refresh, and still answers', async () => {
    const s = await start();
    s.disconnect('refresh_requested');
    await s.waitForConnection(2, 15_000);
    const a = await s.slashCommand('/flurm', 'help').final();
    expect(JSON.stringify(a)).toContain('/flurm best');
  });
});
