// The lab's own chat commands and scheduled messages end to end (docs/chat.md): a real `flurm hub`
// with [discord] and [chat] against the local Discord (test/support/discord-server.ts). The lab
// commands are registered beside the table's and answer; /help lists them; a schedule posts in the
// lab channel once per occurrence, also across a restart (no duplicate nonce or occurrence).
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { APIEmbed, APIMessage } from 'discord-api-types/v10';
import { getJson, makeLab, runFlurm, startFlurm, startHub, waitUntil, type HubProc, type Lab } from './support/lab.js';
import { discordHubSection, startDiscordServer, type DiscordServer } from './support/discord-server.js';

const embedsText = (data: Record<string, unknown> | APIMessage | undefined): string => JSON.stringify((data as { embeds?: APIEmbed[] } | undefined)?.embeds ?? []);

describe('lab commands and schedules, as the hub runs them', () => {
  let lab: Lab;
  let srv: DiscordServer;
  const hubs: HubProc[] = [];

  afterEach(async () => {
    for (const h of hubs.splice(0)) await h.stop();
    await srv?.close();
    lab?.cleanup();
  });

  async function setup(chat: string, opts: { lease?: number } = {}) {
    lab = makeLab('flurm-chat-');
    srv = await startDiscordServer({ heartbeatIntervalMs: 1000 });
    return lab.hubConfig({
      extra: `
[delivery]
backoff_base_seconds = 0.2
[lease]
lease_seconds = ${opts.lease ?? 15}
${discordHubSection(srv, lab.root)}
${chat}
`,
    });
  }

  async function hub(config: string): Promise<HubProc> {
    const h = await startHub(config);
    hubs.push(h);
    return h;
  }
  const ready = (h: HubProc) =>
    waitUntil(async () => {
      const d = (await getJson<{ discord: { bot: { state: string; commands?: { registered: string | null } } } }>(`${h.url}/healthz`)).discord;
      return d.bot.state === 'ready' && d.bot.commands?.registered;
    }, 15_000, 'the bot ready, its commands registered');

  it('registers the lab commands beside the table\'s; /papers lists the file, /disk shows df, /help lists them; not in the CLI or the API', async () => {
    const config = await setup('');
    const list = path.join(lab.root, 'papers.txt');
    fs.writeFileSync(list, '# by our advisor\nAttention Is All You Need\n\nDeep Residual Learning\n');
    fs.appendFileSync(
      config,
      `
[[chat.commands]]
name = "papers"
description = "Papers by our advisor"
file = "${list}"
[[chat.commands]]
name = "gpu-etiquette"
reply = "Ask in #gpu before taking more than 2 GPUs."
[[chat.commands]]
name = "disk"
run = ["df", "-h", "/"]
`,
    );
    const h = await hub(config);
    await ready(h);
    const names = srv.commands(srv.guildIds[0]).map((c) => c.name).sort();
    expect(names).toEqual(['best', 'disk', 'gpu-etiquette', 'heatmap', 'help', 'history', 'inspect', 'jobs', 'link', 'papers', 'queue', 'report', 'status', 'top', 'unlink', 'users', 'when-free']);
    expect(srv.commands(srv.guildIds[0]).find((c) => c.name === 'papers')!.description).toBe('Papers by our advisor');

    const p = await srv.command('papers').final();
    expect(embedsText(p.data)).toContain('Attention Is All You Need\\nDeep Residual Learning');
    expect(embedsText(p.data)).not.toContain('by our advisor');
    const d = await srv.command('disk').final();
    expect(embedsText(d.data)).toMatch(/Filesystem.*Size.*Mounted on/);
    const g = await srv.command('gpu-etiquette').final();
    expect(embedsText(g.data)).toContain('Ask in #gpu before taking more than 2 GPUs.');
    const help = await srv.command('help').final();
    for (const n of ['/papers', '/gpu-etiquette', '/disk']) expect(embedsText(help.data)).toContain(n);

    // The file removed while the hub runs: an answer saying so, the hub still answering.
    fs.rmSync(list);
    const gone = await srv.command('papers').final();
    expect(embedsText(gone.data)).toMatch(/The list is gone/);

    // Only the chat front ends have them.
    const api = await getJson<{ commands: { name: string }[] }>(`${h.url}/api/v1/commands`);
    expect(api.commands.map((c) => c.name)).not.toContain('papers');
    const cli = await runFlurm(['papers', '--hub', h.url], { env: process.env });
    expect(cli.code).not.toBe(0);
  });

  it('a config mistake stops the hub at start-up, naming the field', async () => {
    const config = await setup(`
[[chat.commands]]
name = "ok"
reply = "fine"
[[chat.commands]]
name = "status"
reply = "clash"
`);
    await expect(hub(config)).rejects.toThrow(/chat\.commands\[1\]\.name: "status" is taken/);
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('name = "status"\nreply = "clash"', 'name = "disk"\nrun = ["dff-not-here"]'));
    await expect(hub(config)).rejects.toThrow(/chat\.commands\[1\]\.run\[0\]: "dff-not-here" is not found on the hub's PATH/);
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('name = "disk"\nrun = ["dff-not-here"]', 'name = "disk"\nrun = ["df"]') + '\n[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["discord:channel"]\ncommand = "disk-usage"\n');
    await expect(hub(config)).rejects.toThrow(/chat\.schedule\[0\]\.command: "disk-usage" is not a command/);
  });

  it('an every-second schedule posts in the lab channel once per occurrence, across a restart', async () => {
    const config = await setup(`
[[chat.schedule]]
cron = "* * * * * *"
to = ["discord:channel"]
text = "PAPER, MATT! PAPER!"
catch_up_minutes = 1
`);
    const channel = srv.channelIds()[0]!;
    const posts = () => srv.messages(channel).filter((m) => embedsText(m).includes('PAPER, MATT! PAPER!'));
    let h = await hub(config);
    await srv.waitFor(() => posts().length >= 3, 15_000, 'three scheduled posts');
    await h.stop();
    hubs.splice(hubs.indexOf(h), 1);
    const before = posts().length;
    h = await hub(config);
    await srv.waitFor(() => posts().length >= before + 3, 15_000, 'three more after the restart');
    await h.stop();
    hubs.splice(hubs.indexOf(h), 1);

    const all = posts();
    const nonces = all.map((m) => String(m.nonce));
    expect(new Set(nonces).size).toBe(all.length);
    const stamps = all.map((m) => (m.embeds[0] as APIEmbed).timestamp);
    expect(stamps.every((s) => typeof s === 'string' && /:\d\d\.000/.test(s))).toBe(true);
    expect(new Set(stamps).size).toBe(all.length);
    // Not even re-sent and caught by the nonce: the restarted hub found its rows (a graceful stop).
    const dupes = srv.requests.filter((r) => r.route === `/channels/${channel}/messages` && r.note === 'nonce-duplicate');
    expect(dupes).toHaveLength(0);
    // No allowed mentions: a scheduled post pings nobody.
    const req = srv.requests.filter((r) => r.method === 'POST' && r.route === `/channels/${channel}/messages`);
    expect(req.length).toBeGreaterThanOrEqual(all.length);
    expect((req[0]!.body as { allowed_mentions?: unknown; enforce_nonce?: boolean }).allowed_mentions).toEqual({ parse: [] });
    expect((req[0]!.body as { enforce_nonce?: boolean }).enforce_nonce).toBe(true);
  });

  it('a scheduled history posts its chart as a PNG with the text (the lab channel sees the week\'s picture)', async () => {
    const config = await setup(`
[nodes]
poll_interval_seconds = 0.3
[[chat.schedule]]
cron = "*/2 * * * * *"
to = ["discord:channel"]
command = "history"
catch_up_minutes = 1
`);
    const agent = startFlurm(['agent', '--interval', '1s', '--cluster', lab.cluster], { env: { ...process.env, FLURM_HOST: 'sched1' } });
    try {
      await hub(config);
      const channel = srv.channelIds()[0]!;
      const withPicture = await srv.waitFor(() => srv.messages(channel).find((m) => m.attachments.length > 0), 30_000, 'a scheduled post with its chart');
      expect(withPicture.attachments[0]).toMatchObject({ filename: 'history.png', content_type: 'image/png' });
      expect((withPicture.embeds[0] as APIEmbed).image?.url).toBe('attachment://history.png');
      expect(embedsText(withPicture)).toContain('CPU cores busy on sched1');
    } finally {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
  });

  it('failover: the standby (its own index, the same receipts) takes the schedule over; no occurrence posted twice', async () => {
    const config = await setup(
      `
[[chat.schedule]]
cron = "* * * * * *"
to = ["discord:channel"]
text = "Every second, once"
catch_up_minutes = 1
`,
      { lease: 2 },
    );
    // The standby keeps its own index (as on another node); the cluster dir, with receipts/, is shared.
    const standbyConfig = path.join(lab.root, 'hub-b.toml');
    fs.writeFileSync(standbyConfig, fs.readFileSync(config, 'utf8').replace(`index = "${lab.index}"`, `index = "${path.join(lab.root, 'hubstate-b', 'index.db')}"`));
    const channel = srv.channelIds()[0]!;
    const posts = () => srv.messages(channel).filter((m) => embedsText(m).includes('Every second, once'));
    const a = await hub(config);
    await srv.waitFor(() => posts().length >= 3, 15_000, 'three posts from the active hub');
    const b = await hub(standbyConfig);
    await waitUntil(async () => (await getJson<{ role: string }>(`${b.url}/healthz`)).role === 'standby', 10_000, 'b on standby');
    await a.kill9();
    hubs.splice(hubs.indexOf(a), 1);
    await waitUntil(async () => (await getJson<{ role: string }>(`${b.url}/healthz`)).role === 'active', 15_000, 'b active');
    const atTakeover = posts().length;
    await srv.waitFor(() => posts().length >= atTakeover + 3, 15_000, 'three posts from the new active hub');
    await b.stop();
    hubs.splice(hubs.indexOf(b), 1);

    const all = posts();
    const stamps = all.map((m) => (m.embeds[0] as APIEmbed).timestamp);
    expect(new Set(stamps).size).toBe(all.length);
    expect(new Set(all.map((m) => String(m.nonce))).size).toBe(all.length);
    // The standby found the receipts of what the dead hub sent and did not send it again; at most
    // the one post in flight at the kill (sent, its receipt not yet written) went again, and
    // Discord's nonce turned it away.
    const dupes = srv.requests.filter((r) => r.route === `/channels/${channel}/messages` && r.note === 'nonce-duplicate');
    expect(dupes.length).toBeLessThanOrEqual(1);
  });
});
