// The Discord bot end to end: a real `flurm hub` process (and real agents, real `flurm run` jobs)
// against the local Discord (test/support/discord-server.ts), which speaks the gateway and REST
// protocols and refuses what Discord refuses. Connect, register, slash commands, autocomplete,
// job end → DM with buttons, Mute 1 h, a dropped connection resumed, 429 on a DM, a user who
// cannot be DMed, /when-free, and the hub killed between Discord's 2xx and the "sent" write.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { APIEmbed, APIMessage } from 'discord-api-types/v10';
import { fakeNvidiaSmi, getJson, makeLab, runFlurm, startFlurm, startHub, waitUntil, type HubProc, type Lab, type Proc, killAll } from './support/lab.js';
import { discordHubSection, startDiscordServer, type DiscordServer } from './support/discord-server.js';

const ALICE = '1180000000000001001';
const BOB = '1180000000000001002';
const CAROL = '1180000000000001003';
/** The unix user running the tests: the owner of every spool file the lab writes. */
const ME = os.userInfo().username;

interface DiscordHealth {
  bot: { state: string; commands?: { error: string | null; registered: string | null }; resumes?: number };
  dm: { sent: number; resent: number; channel_fallbacks: number; cannot_dm: string[] };
  when_free: number;
}

const embedsText = (data: Record<string, unknown> | APIMessage | undefined): string => JSON.stringify((data as { embeds?: APIEmbed[] } | undefined)?.embeds ?? []);

describe('the Discord bot, as the hub runs it', () => {
  let lab: Lab;
  let srv: DiscordServer;
  const hubs: HubProc[] = [];
  const procs: Proc[] = [];

  afterEach(async () => {
    await killAll(procs);
    for (const h of hubs.splice(0)) {
      try {
        process.kill(h.child.pid!, 'SIGCONT');
      } catch {
        /* gone */
      }
      await h.stop();
    }
    await srv?.close();
    lab?.cleanup();
  });

  async function setup(opts: { extra?: string; lease?: number; undmable?: string[]; link?: string } = {}) {
    lab = makeLab('flurm-discord-');
    srv = await startDiscordServer({
      heartbeatIntervalMs: 1000,
      users: [
        { id: ALICE, username: 'alice' },
        { id: BOB, username: 'bob' },
        { id: CAROL, username: 'carol' },
      ],
      undmable: opts.undmable ?? [],
    });
    const config = lab.hubConfig({
      extra: `
[delivery]
backoff_base_seconds = 0.2
[nodes]
poll_interval_seconds = 0.3
[lease]
lease_seconds = ${opts.lease ?? 15}
${discordHubSection(srv, lab.root)}${opts.link === '' ? '' : `[users.${ME}]\ndiscord = "${opts.link ?? ALICE}"`}
${opts.extra ?? ''}
`,
    });
    return { config, alice: lab.home('alice') };
  }

  async function hub(config: string): Promise<HubProc> {
    const h = await startHub(config);
    hubs.push(h);
    return h;
  }

  const discordHealth = async (h: HubProc) => (await getJson<{ discord: DiscordHealth }>(`${h.url}/healthz`)).discord;
  const ready = (h: HubProc) => waitUntil(async () => (await discordHealth(h)).bot.state === 'ready' && (await discordHealth(h)).bot.commands?.registered, 15_000, 'the bot ready, its commands registered');

  function agent(host: string, env: NodeJS.ProcessEnv = {}): Proc {
    const p = startFlurm(['agent', '--interval', '1s', '--cluster', lab.cluster], { env: { ...process.env, FLURM_HOST: host, ...env } });
    procs.push(p);
    return p;
  }

  it('connects, registers the table once, answers slash commands with the CLI\'s facts, autocompletes node names', async () => {
    const { config, alice } = await setup();
    agent('cpu1', { PATH: `/nonexistent:${process.env.PATH}` });
    let h = await hub(config);
    await ready(h);
    const names = srv.commands(srv.guildIds[0]).map((c) => c.name).sort();
    expect(names).toEqual(['best', 'heatmap', 'help', 'history', 'inspect', 'jobs', 'link', 'queue', 'report', 'status', 'top', 'unlink', 'users', 'when-free']);
    expect(srv.commandWrites).toBe(1);
    // No privileged intent: the gateway accepted the IDENTIFY.
    expect(srv.sessions[0]!.intents).toBe(0);

    // A restart with the same definitions registers nothing (Discord allows 200 creates a day).
    await h.stop();
    hubs.splice(hubs.indexOf(h), 1);
    h = await hub(config);
    await ready(h);
    expect(srv.commandWrites).toBe(1);
    expect(srv.identifies).toBe(2);

    await waitUntil(async () => (await getJson<{ nodes: { host: string; state: string }[] }>(`${h.url}/api/v1/nodes`)).nodes.some((n) => n.host === 'cpu1' && n.state === 'fresh'), 15_000, 'cpu1 fresh');
    const cli = await runFlurm(['status', '--hub', h.url], { env: alice.env });
    expect(cli.stdout).toContain('cpu1');
    const status = await srv.command('status', {}, { userId: BOB }).final();
    expect(status.ephemeral).toBe(false);
    expect(embedsText(status.data)).toContain('cpu1');
    expect(status.latencyMs).toBeLessThan(3000);

    const best = await srv.command('best', { cpus: 1 }, { userId: BOB }).final();
    expect(embedsText(best.data)).toContain('cpu1');
    const bad = await srv.command('best', { mem: '32Q' }, { userId: BOB }).final();
    expect(embedsText(bad.data)).toMatch(/mem.*32Q.*not a size/);
    const none = await srv.command('best', { gpus: 4 }, { userId: BOB }).final();
    expect(embedsText(none.data)).toMatch(/No node|nothing|fits/i);

    // Personal answers are ephemeral; /jobs of a linked user are theirs.
    const jobs = await srv.command('jobs', {}, { userId: ALICE }).final();
    expect(jobs.ephemeral).toBe(true);
    // A job's command is its owner's: the linked owner sees it, someone unlinked does not.
    const script = path.join(lab.root, 'secret-flag-xyz');
    fs.writeFileSync(script, '#!/bin/sh\ntrue\n', { mode: 0o755 });
    await runFlurm(['run', '--', script], { env: alice.env });
    await waitUntil(async () => (await getJson<{ jobs: { cmd?: string; state: string }[] }>(`${h.url}/api/v1/jobs?limit=5`)).jobs.some((j) => j.cmd?.includes('secret-flag-xyz') && j.state !== 'running'), 15_000, 'the job ended');
    expect(embedsText((await srv.command('jobs', { all: true }, { userId: ALICE }).final()).data)).toContain('secret-flag-xyz');
    const theirs = embedsText((await srv.command('jobs', { all: true }, { userId: BOB }).final()).data);
    expect(theirs).not.toContain('secret-flag-xyz');
    expect(theirs.length).toBeGreaterThan(0);
    const help = await srv.command('help', {}, { userId: BOB }).final();
    expect(embedsText(help.data)).toContain('/when-free');

    // /history answers with its figures and the chart as a PNG attached to the embed.
    await waitUntil(async () => (await getJson<{ hosts: unknown[] }>(`${h.url}/api/v1/history?kind=nodes&metric=cpu&since=${Date.now() - 3_600_000}`)).hosts.length > 0, 15_000, 'history samples');
    const hist = await srv.command('history', { hours: 1 }, { userId: BOB }).final(15_000);
    expect(embedsText(hist.data)).toMatch(/CPU cores busy on cpu1/);
    const embed = (hist.data.embeds as { image?: { url: string } }[])[0]!;
    expect(embed.image?.url).toBe('attachment://history.png');
    const att = hist.message!.attachments[0]!;
    expect(att).toMatchObject({ filename: 'history.png', content_type: 'image/png' });
    expect(att.size).toBeGreaterThan(10_000);

    const choices = await srv.autocomplete('inspect', { node: 'cp' }, 'node', { userId: BOB });
    expect(choices.map((c) => c.value)).toEqual(['cpu1']);
    const top = await srv.command('top', { node: 'cpu1' }, { userId: BOB }).final();
    expect(embedsText(top.data)).toContain('cpu1');

    const doctor = await runFlurm(['doctor'], { env: { ...alice.env, FLURM_HUB_URL: h.url } });
    expect(doctor.stdout).toMatch(/discord bot — connected as .* in 1 guild/);
  });

  it('DMs a linked owner when a job ends, once; the failure DM\'s buttons work for the owner only; Mute 1 h holds the next one', async () => {
    const { config, alice } = await setup();
    const h = await hub(config);
    await ready(h);
    const fail = await runFlurm(['run', '-t', 'train-7b', '--', 'sh', '-c', 'echo "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"; exit 3'], { env: alice.env });
    expect(fail.code).toBe(3);
    const dm = await srv.waitFor(() => srv.dms(ALICE)[0], 15_000, 'the DM');
    expect(embedsText(dm)).toContain('train-7b');
    expect(typeof dm.nonce).toBe('string');
    const ids = ((dm.components ?? []) as { components?: { custom_id?: string }[] }[]).flatMap((r) => r.components ?? []).map((c) => c.custom_id);
    expect(ids.map((i) => i?.split(':')[1])).toEqual(['log', 'mute', 'diag']);

    const log = await srv.button(ids[0]!, { userId: ALICE, message: dm }).final();
    expect(log.ephemeral).toBe(true);
    expect(embedsText(log.data)).toContain('CUDA out of memory');
    const diag = await srv.button(ids[2]!, { userId: ALICE, message: dm }).final();
    expect(embedsText(diag.data)).toMatch(/out of memory/i);

    const mute = await srv.button(ids[1]!, { userId: ALICE, message: dm }).final();
    expect(embedsText(mute.data)).toMatch(/Muted for 1 hour/);
    // Muted: the next job's DM is held, its own --to still goes (and tells us the hub is done with it).
    const again = await runFlurm(['run', '-t', 'second', '--to', `console://stderr`, '--', 'false'], { env: alice.env });
    expect(again.code).toBe(1);
    await waitUntil(() => h.text().includes('second'), 15_000, 'the second job delivered to its own --to');
    expect(srv.messages(srv.dmChannelId(ALICE))).toHaveLength(1);
  });

  it('/link → `flurm link CODE` on a node → a "linked" DM, then job ends as DMs; /unlink ends them', async () => {
    // No config link for this one: the person links themselves.
    const { config, alice } = await setup({ link: '' });
    const h = await hub(config);
    await ready(h);
    const link = await srv.command('link', {}, { userId: BOB }).final();
    expect(link.ephemeral).toBe(true);
    const line = /flurm link ([0-9A-Z-]{29,40})/.exec(embedsText(link.data))?.[1];
    expect(line, embedsText(link.data)).toBeTruthy();
    const linked = await runFlurm(['link', line!], { env: { ...alice.env, FLURM_HUB_URL: h.url } });
    expect(linked.code, linked.stderr).toBe(0);
    const hello = await srv.waitFor(() => srv.messages(srv.dmChannelId(BOB)).find((m) => embedsText(m).includes(`Linked to ${ME}`)), 15_000, 'the "linked" DM');
    expect(hello).toBeTruthy();
    const st = await runFlurm(['link', '--status'], { env: { ...alice.env, FLURM_HUB_URL: h.url } });
    expect(st.stdout).toContain(BOB);
    await runFlurm(['run', '-t', 'bobs-job', '--', 'true'], { env: alice.env });
    await srv.waitFor(() => srv.messages(srv.dmChannelId(BOB)).find((m) => embedsText(m).includes('bobs-job')), 15_000, 'the job DM');
    const jobs = await srv.command('jobs', {}, { userId: BOB }).final();
    expect(embedsText(jobs.data)).toContain('bobs-job');
    const un = await srv.command('unlink', {}, { userId: BOB }).final();
    expect(embedsText(un.data)).toContain(`Unlinked from ${ME}`);
    const st2 = await runFlurm(['link', '--status'], { env: { ...alice.env, FLURM_HUB_URL: h.url } });
    expect(st2.code).toBe(1);
  });

  it('a Discord that cannot be reached delays nothing else: the hub starts, other destinations deliver, DMs wait', async () => {
    const { config, alice } = await setup();
    await srv.close();
    const h = await hub(config);
    await waitUntil(async () => ['down', 'reconnecting', 'connecting'].includes((await discordHealth(h)).bot.state) && (await discordHealth(h)).bot.state !== 'connecting', 10_000, 'the bot down');
    const t0 = Date.now();
    await runFlurm(['run', '-t', 'while-discord-is-down', '--to', 'console://stderr', '--', 'true'], { env: alice.env });
    await waitUntil(() => h.text().includes('while-discord-is-down'), 10_000, 'the console destination delivered');
    expect(Date.now() - t0).toBeLessThan(5000);
    // The DM is queued and retried, not lost.
    await waitUntil(async () => (await getJson<{ outbox: Record<string, number> }>(`${h.url}/healthz`)).outbox.pending === 1, 10_000, 'the DM pending');
    const d = await discordHealth(h);
    expect(d.bot.state).not.toBe('ready');
  });

  it('resumes after a dropped connection and a RECONNECT, and waits out a 429 on a DM', async () => {
    const { config, alice } = await setup();
    const h = await hub(config);
    await ready(h);
    srv.dropConnection();
    await srv.waitFor(() => srv.resumes >= 1, 15_000, 'a RESUME');
    expect(srv.identifies).toBe(1);
    expect(embedsText((await srv.command('help', {}, { userId: BOB }).final()).data)).toContain('/status');
    srv.sendReconnect();
    await srv.waitFor(() => srv.resumes >= 2, 15_000, 'a second RESUME');
    expect((await srv.command('help', {}, { userId: BOB }).final()).callbackType).toBe(4);

    srv.failNext('POST', /^\/channels\/\d+\/messages$/, [{ status: 429, retryAfter: 1 }]);
    await runFlurm(['run', '-t', 'after-429', '--', 'true'], { env: alice.env });
    const dm = await srv.waitFor(() => srv.dms(ALICE)[0], 20_000, 'the DM after the 429');
    expect(embedsText(dm)).toContain('after-429');
    const posts = srv.requests.filter((r) => r.method === 'POST' && /\/channels\/\d+\/messages$/.test(r.path));
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    expect(posts[1]!.atMs - posts[0]!.answeredAtMs!).toBeGreaterThanOrEqual(950);
    expect(srv.dms(ALICE)).toHaveLength(1);
  });

  it('mentions a user who cannot be DMed in the lab channel, and doctor names them', async () => {
    const { config, alice: carol } = await setup({ undmable: [CAROL], link: CAROL });
    const h = await hub(config);
    await ready(h);
    await runFlurm(['run', '-t', 'carol-job', '--', 'sh', '-c', 'echo "Killed"; exit 137'], { env: carol.env });
    const msg = await srv.waitFor(() => srv.messages(srv.channelIds()[0]).find((m) => embedsText(m).includes('carol-job')), 15_000, 'the lab-channel mention');
    expect(msg.content).toContain(`<@${CAROL}>`);
    expect(msg.mentions.map((u) => u.id)).toEqual([CAROL]);
    // In the lab channel everyone sees the buttons; only the job's owner may use them.
    const log = ((msg.components ?? []) as { components?: { custom_id?: string }[] }[]).flatMap((r) => r.components ?? []).map((c) => c.custom_id)[0]!;
    const notYours = await srv.button(log, { userId: BOB, message: msg }).final();
    expect(notYours.ephemeral).toBe(true);
    expect(embedsText(notYours.data)).toMatch(/Not linked/);
    const linkedOther = await srv.button(log, { userId: CAROL, message: msg }).final();
    expect(embedsText(linkedOther.data)).toContain('Killed');
    const d = await discordHealth(h);
    expect(d.dm.cannot_dm).toEqual([ME]);
    const doctor = await runFlurm(['doctor'], { env: { ...carol.env, FLURM_HUB_URL: h.url } });
    expect(doctor.stdout).toMatch(new RegExp(`discord DMs — Discord will not let the bot DM ${ME}`));
  });

  it('/when-free DMs once when a node fits, and lists and cancels requests; best --wait waits in a terminal', async () => {
    const { config, alice } = await setup();
    agent('cpu1', { PATH: `/nonexistent:${process.env.PATH}` });
    const h = await hub(config);
    await ready(h);
    await waitUntil(async () => (await getJson<{ nodes: { host: string; state: string }[] }>(`${h.url}/api/v1/nodes`)).nodes.some((n) => n.state === 'fresh'), 15_000, 'a fresh node');
    const now = await srv.command('when-free', { mem: '1M' }, { userId: ALICE }).final();
    expect(embedsText(now.data)).toMatch(/Fits now/);
    const waiting = await srv.command('when-free', { gpus: 2 }, { userId: ALICE }).final();
    expect(waiting.ephemeral).toBe(true);
    expect(embedsText(waiting.data)).toMatch(/I will DM you once when a node does \(request #1/);
    await srv.command('when-free', { gpus: 8, mem: '1T' }, { userId: ALICE }).final();
    const list = await srv.command('when-free', {}, { userId: ALICE }).final();
    expect(embedsText(list.data)).toMatch(/2 GPUs/);
    const cancel = await srv.command('when-free', { cancel: '2' }, { userId: ALICE }).final();
    expect(embedsText(cancel.data)).toMatch(/Cancelled 1 request/);

    // The CLI's way to wait for the same thing: `flurm best --wait` exits 0 once a node fits.
    const waiter = startFlurm(['best', '--gpus', '2', '--wait', '--wait-minutes', '2', '--hub', h.url], { env: { ...alice.env, FLURM_WAIT_EVERY_MS: '300' } });
    procs.push(waiter);
    await waitUntil(() => waiter.text().includes('not yet; asking again'), 15_000, 'best --wait waiting');
    // A GPU node comes up: one DM, once.
    agent('gpu1', { PATH: `${fakeNvidiaSmi(lab.root)}:${process.env.PATH}` });
    const exit = await Promise.race([waiter.exited, new Promise((r) => setTimeout(() => r('still waiting'), 30_000))]);
    expect(exit, waiter.text()).toEqual({ code: 0, signal: null });
    expect(waiter.text()).toContain('gpu1');
    const dm = await srv.waitFor(() => srv.dms(ALICE).find((m) => embedsText(m).includes('A node fits')), 20_000, 'the /when-free DM');
    expect(embedsText(dm)).toContain('gpu1');
    await waitUntil(async () => (await discordHealth(h)).when_free === 0, 10_000, 'no request open');
    expect(srv.dms(ALICE).filter((m) => embedsText(m).includes('A node fits'))).toHaveLength(1);
  }, 90_000);

  it('the hub killed between Discord\'s 2xx and the "sent" write, 20 times: each DM shows once', async () => {
    const { config, alice } = await setup();
    let h = await hub(config);
    await ready(h);
    const ROUNDS = 20;
    let killed = 0;
    // Discord makes the message, then the hub is frozen before it reads the 2xx, and killed.
    srv.beforeRespond(
      (r) => r.method === 'POST' && /\/channels\/\d+\/messages$/.test(r.path) && r.note !== 'nonce-duplicate',
      () => {
        process.kill(h.child.pid!, 'SIGSTOP');
        killed++;
      },
    );
    for (let i = 0; i < ROUNDS; i++) {
      await runFlurm(['run', '-t', `round-${i}-end`, '--', 'true'], { env: alice.env });
      await srv.waitFor(() => killed === i + 1, 20_000, `round ${i}: the DM made`);
      await h.kill9();
      hubs.splice(hubs.indexOf(h), 1);
      h = await hub(config);
      // The restarted hub sends the row again with the same nonce: Discord answers with the message it made.
      await srv.waitFor(() => srv.requests.filter((r) => r.note === 'nonce-duplicate').length === i + 1, 20_000, `round ${i}: the resend deduplicated`);
    }
    await waitUntil(async () => (await getJson<{ outbox: Record<string, number> }>(`${h.url}/healthz`)).outbox.pending === 0, 15_000, 'outbox drained');
    const dms = srv.dms(ALICE);
    expect(dms).toHaveLength(ROUNDS);
    expect(new Set(dms.map((m) => m.nonce)).size).toBe(ROUNDS);
    for (let i = 0; i < ROUNDS; i++) expect(dms.filter((m) => embedsText(m).includes(`round-${i}-end`))).toHaveLength(1);
  }, 240_000);

  it('failover: the standby\'s bot connects when the active hub dies; no interaction is answered twice', async () => {
    const { config, alice } = await setup({ lease: 2, link: '' });
    const a = await hub(config);
    await ready(a);
    const b = await hub(config);
    await waitUntil(async () => (await discordHealth(b)).bot.state === 'standby', 10_000, 'b on standby');
    // A link made through the active hub is one the standby verifies too (one key, in the cluster dir).
    const code = /flurm link ([0-9A-Z-]{29,40})/.exec(embedsText((await srv.command('link', {}, { userId: BOB }).final()).data))![1]!;
    expect((await runFlurm(['link', code], { env: { ...alice.env, FLURM_HUB_URL: a.url } })).code).toBe(0);
    await waitUntil(async () => (await getJson<{ linked: boolean }>(`${b.url}/api/v1/links/${ME}`)).linked, 10_000, 'the standby has the link');
    expect(srv.identifies).toBe(1);
    const first = await srv.command('help', {}, { userId: BOB }).final();
    expect(first.callbackType).toBe(4);
    await a.kill9();
    hubs.splice(hubs.indexOf(a), 1);
    await ready(b);
    expect(srv.identifies).toBe(2);
    const second = await srv.command('help', {}, { userId: BOB }).final();
    expect(embedsText(second.data)).toContain('/status');
    await runFlurm(['run', '-t', 'after-failover', '--', 'true'], { env: alice.env });
    await srv.waitFor(() => srv.messages(srv.dmChannelId(BOB)).find((m) => embedsText(m).includes('after-failover')), 15_000, 'the DM from the new active hub');
    // The "linked" DM came once, though both hubs read the link event.
    await waitUntil(async () => (await getJson<{ outbox: Record<string, number> }>(`${b.url}/healthz`)).outbox.pending === 0, 10_000, 'b\'s outbox drained');
    expect(srv.messages(srv.dmChannelId(BOB)).filter((m) => embedsText(m).includes(`Linked to ${ME}`))).toHaveLength(1);
    // Every interaction got exactly one callback (a second one would have been refused with 40060).
    const callbacks = srv.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/callback'));
    expect(callbacks.every((r) => r.status === 204 || r.status === 200)).toBe(true);
    expect(callbacks).toHaveLength(srv.interactions.length);
  });
});
