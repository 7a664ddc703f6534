import { describe, expect, it } from 'vitest';
import { SlackApp, slackBodies } from './app.js';
import { COMMANDS } from '../../commands/registry.js';
import { createHubSource } from '../../hub/source.js';
import type { HubApi } from '../../hub/http/server.js';
import { createLogger } from '../../lib/logger.js';
import type { Message } from '../../model/message.js';
import { validateSlackBody } from '../../../test/support/fake-services.js';
import { GENERATED, lab } from '../../../test/support/nodes.js';

function app(): SlackApp {
  const api = { nodes: () => ({ generated: GENERATED, nodes: lab() }), slurm: () => null, jobs: () => [], nodeHistory: () => [] } as unknown as HubApi;
  return new SlackApp({
    botToken: 'xoxb-1',
    appToken: 'xapp-1',
    api: 'http://127.0.0.1:9/api/',
    aliases: { sciencecluster: 'best' },
    source: createHubSource(api, () => 'http://hub:7077'),
    commands: COMMANDS,
    userOf: () => null,
    log: createLogger({ level: 'error', write: () => undefined }),
  });
}

const text = (b: { text: string; blocks: unknown[] }[]) => JSON.stringify(b);

describe('Slack answers, from the command table', () => {
  it('/flurm status and /flurm best gpus=1 answer what the table answers, in the channel', async () => {
    const s = await app().answer('/flurm', 'status', 'U1');
    expect(s.ephemeral).toBe(false);
    for (const n of lab()) expect(text(s.bodies)).toContain(n.host);
    const b = await app().answer('/flurm', 'best gpus=1', 'U1');
    expect(text(b.bodies)).toContain('Best node: gpu1');
    for (const body of [...s.bodies, ...b.bodies]) expect(validateSlackBody(body)).toBeUndefined();
  });

  it('an alias answers its command, in the channel: /sciencecluster is best', async () => {
    const a = await app().answer('/sciencecluster', '', 'U1');
    expect(a.ephemeral).toBe(false);
    expect(text(a.bodies)).toMatch(/Best node: /);
  });

  it('a typo, a bad value and help are answered to the asker only', async () => {
    const typo = await app().answer('/flurm', 'bset gpus=1', 'U1');
    expect(typo.ephemeral).toBe(true);
    expect(text(typo.bodies)).toContain('Did you mean `/flurm best`?');
    const bad = await app().answer('/flurm', 'best mem=32Q', 'U1');
    expect(bad.ephemeral).toBe(true);
    expect(text(bad.bodies)).toMatch(/mem: .*32Q.*not a size/);
    const help = await app().answer('/flurm', '', 'U1');
    expect(help.ephemeral).toBe(true);
    expect(text(help.bodies)).toContain('/flurm best [cpus=N]');
    expect(text(help.bodies)).toContain('/sciencecluster');
  });

  it('a 100-row table is every row, in messages of at most 50 blocks that Slack accepts', () => {
    const hosts = Array.from({ length: 100 }, (_, i) => `node${String(i).padStart(3, '0')}`);
    const m: Message = { title: '100 nodes', severity: 'info', table: { columns: ['HOST', 'STATE', 'USERS'], rows: hosts.map((h) => [h, 'fresh', 'alice, bob, carol, dave']) } };
    const bodies = slackBodies([m]);
    for (const h of hosts) expect(text(bodies)).toContain(h);
    for (const b of bodies) expect(validateSlackBody(b)).toBeUndefined();
  });
});
