// The Slack app as the hub runs it: a real `flurm hub` process (and a real agent) against the
// local Slack (test/support/slack-server.ts) over Socket Mode — /flurm and an alias answered
// with the CLI's facts, the state in doctor, and only the active hub of a pair connected.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { getJson, makeLab, runFlurm, startFlurm, startHub, waitUntil, type HubProc, type Lab, type Proc, killAll } from './support/lab.js';
import os from 'node:os';
import { DEFAULT_SLACK_USERS, startSlackServer, type SlackServer } from './support/slack-server.js';

/** The unix user running the tests owns every spool file: link them to the server's first user. */
const ME = os.userInfo().username;
const SLACK_ME = DEFAULT_SLACK_USERS[0]!.id;

interface SlackHealth {
  state: string;
  scopes?: string[];
}

describe('the Slack app, as the hub runs it', () => {
  let lab: Lab;
  let srv: SlackServer;
  const hubs: HubProc[] = [];
  const procs: Proc[] = [];

  afterEach(async () => {
    await killAll(procs);
    for (const h of hubs.splice(0)) await h.stop();
    await srv?.close();
    lab?.cleanup();
  });

  async function setup(lease = 15, mode: 'socket' | 'http' = 'socket', opts: { configLink?: boolean; scopes?: string[] } = {}): Promise<string> {
    lab = makeLab('flurm-slack-');
    srv = await startSlackServer(opts.scopes ? { scopes: opts.scopes } : {});
    const bot = path.join(lab.root, 'slack-bot');
    const app = path.join(lab.root, 'slack-app');
    fs.writeFileSync(bot, `${srv.botToken}\n`, { mode: 0o600 });
    fs.writeFileSync(app, `${mode === 'http' ? srv.signingSecret : srv.appToken}\n`, { mode: 0o600 });
    return lab.hubConfig({
      extra: `
[nodes]
poll_interval_seconds = 0.3
[lease]
lease_seconds = ${lease}
[slack]
bot_token_file = "${bot}"
${mode === 'http' ? 'signing_secret_file' : 'app_token_file'} = "${app}"
api = "${srv.apiUrl}"
[slack.aliases]
sciencecluster = "best"
${opts.configLink === false ? '' : `[users.${ME}]\nslack = "${SLACK_ME}"`}
`,
    });
  }

  async function hub(config: string): Promise<HubProc> {
    const h = await startHub(config);
    hubs.push(h);
    return h;
  }
  const slackHealth = async (h: HubProc) => (await getJson<{ slack: SlackHealth }>(`${h.url}/healthz`)).slack;

  it('answers /flurm status and /sciencecluster with the facts the CLI prints; doctor shows the connection', async () => {
    const config = await setup();
    const agent = startFlurm(['agent', '--interval', '1s', '--cluster', lab.cluster], { env: { ...process.env, FLURM_HOST: 'cpu1', PATH: `/nonexistent:${process.env.PATH}` } });
    procs.push(agent);
    const h = await hub(config);
    await waitUntil(async () => (await slackHealth(h)).state === 'ready', 15_000, 'the Slack app ready');
    await srv.waitForConnection();
    await waitUntil(async () => (await getJson<{ nodes: { host: string; state: string }[] }>(`${h.url}/api/v1/nodes`)).nodes.some((n) => n.host === 'cpu1' && n.state === 'fresh'), 15_000, 'cpu1 fresh');

    const status = srv.slashCommand('/flurm', 'status');
    expect((await status.ack).latencyMs).toBeLessThan(3000);
    const answer = await status.final();
    expect(answer.ephemeral).toBe(false);
    expect(JSON.stringify(answer.blocks)).toContain('cpu1');
    const alias = await srv.slashCommand('/sciencecluster', 'mem=1M').final();
    expect(JSON.stringify(alias.blocks)).toMatch(/Best node: cpu1/);
    // /flurm history answers in the channel and uploads the chart as a PNG into it.
    await waitUntil(async () => (await getJson<{ hosts: unknown[] }>(`${h.url}/api/v1/history?kind=nodes&metric=cpu&since=${Date.now() - 3_600_000}`)).hosts.length > 0, 15_000, 'history samples');
    const hist = await srv.slashCommand('/flurm', 'history hours=1').final();
    expect(JSON.stringify(hist.blocks)).toMatch(/CPU cores busy on cpu1/);
    const png = await srv.waitFor(() => srv.files.find((f) => f.filename.endsWith('.png') && f.completedAtMs), 15_000, 'the chart uploaded');
    expect(png.filename).toBe('cpu-cores-busy-on-cpu1.png');
    expect(png.bytes!.subarray(1, 4).toString()).toBe('PNG');
    // Into the channel the command was run in (the server's first channel).
    expect(png.channel).toBe(srv.channels[0]!.id);
    const cli = await runFlurm(['best', '--mem', '1M', '--json', '--hub', h.url], { env: lab.home('alice').env });
    expect(JSON.parse(cli.stdout).chosen.host).toBe('cpu1');

    const doctor = await runFlurm(['doctor'], { env: { ...lab.home('alice').env, FLURM_HUB_URL: h.url } });
    expect(doctor.stdout).toMatch(/slack app — connected as .* \(Socket Mode\); scopes .*commands/);
  });

  it('only the active hub of a pair connects; the standby connects when it takes over', async () => {
    const config = await setup(2);
    const a = await hub(config);
    await waitUntil(async () => (await slackHealth(a)).state === 'ready', 15_000, 'a ready');
    const b = await hub(config);
    await waitUntil(async () => (await slackHealth(b)).state === 'standby', 10_000, 'b standby');
    await srv.waitForConnection();
    expect(srv.openConnections).toBe(1);
    await a.kill9();
    hubs.splice(hubs.indexOf(a), 1);
    await waitUntil(async () => (await slackHealth(b)).state === 'ready', 15_000, 'b took over');
    await srv.waitFor(() => srv.openConnections === 1 && srv.connections === 2, 15_000, 'b connected');
    const answer = await srv.slashCommand('/flurm', 'help').final();
    expect(JSON.stringify(answer)).toContain('/flurm best');
  });

  it('HTTP mode: a signed request to the hub\'s /slack/events is answered; unsigned, tampered and stale ones get 401 and reach no command', async () => {
    const config = await setup(15, 'http');
    const h = await hub(config);
    await waitUntil(async () => (await slackHealth(h)).state === 'ready', 15_000, 'the Slack app ready');
    const httpUrl = `${h.url}/slack/events`;
    const good = srv.slashCommand('/flurm', 'help', { via: { httpUrl, sign: 'valid' } });
    expect((await good.ack).status).toBe(200);
    expect(JSON.stringify(await good.final())).toContain('/flurm best');
    for (const sign of ['none', 'tampered', 'stale'] as const) {
      const bad = srv.slashCommand('/flurm', 'status', { via: { httpUrl, sign } });
      expect((await bad.ack).status, sign).toBe(401);
    }
    // Only the signed one was answered: the refusals are counted, no response_url was used for them.
    await waitUntil(async () => ((await slackHealth(h)) as { refused?: number }).refused === 3, 5000, 'three refused');
    expect(h.text()).toMatch(/refused a request to \/slack\/events/);
    expect(srv.requests.filter((r) => r.path.startsWith('/respond/'))).toHaveLength(1);
  });

  it('DMs a linked user when a job ends; killed between Slack\'s answer and the "sent" write 10 times, each DM shows once (found by its metadata)', async () => {
    const config = await setup();
    let h = await hub(config);
    await waitUntil(async () => (await slackHealth(h)).state === 'ready', 15_000, 'the Slack app ready');
    const alice = lab.home('alice');
    await runFlurm(['run', '-t', 'first-slack-dm', '--', 'true'], { env: alice.env });
    const dmChannel = srv.dmChannel(SLACK_ME);
    const first = await srv.waitFor(() => srv.messages(dmChannel).find((m) => JSON.stringify(m.blocks).includes('first-slack-dm')), 15_000, 'the DM');
    expect(first.metadata).toMatchObject({ event_type: 'flurm_message', event_payload: { key: expect.stringMatching(/^flurm-[0-9a-f]{32}$/) } });
    // The App Home tab lists the linked user's jobs; someone unlinked is told how to get there.
    srv.appHomeOpened(SLACK_ME);
    const home = await srv.waitFor(() => srv.homeView(SLACK_ME), 10_000, 'the home view');
    expect(JSON.stringify(home)).toContain('first-slack-dm');
    srv.appHomeOpened(DEFAULT_SLACK_USERS[1]!.id);
    const other = await srv.waitFor(() => srv.homeView(DEFAULT_SLACK_USERS[1]!.id), 10_000, 'the unlinked home view');
    expect(JSON.stringify(other)).toMatch(/`\/flurm link` shows how/);

    // A failure DM carries Log / Mute 1 h / Diagnosis; only the job's owner may use them.
    await runFlurm(['run', '-t', 'slack-fail', '--', 'sh', '-c', 'echo "RuntimeError: CUDA out of memory"; exit 3'], { env: alice.env });
    const fail = await srv.waitFor(() => srv.messages(dmChannel).find((m) => JSON.stringify(m.blocks).includes('slack-fail')), 15_000, 'the failure DM');
    const actions = ((fail.blocks ?? []) as { type: string; elements?: { action_id: string; value: string }[] }[]).find((b) => b.type === 'actions')!;
    expect(actions.elements!.map((e) => e.action_id.split(':')[1])).toEqual(['log', 'mute', 'diag']);
    const log = await srv.blockAction(actions.elements![0]!.action_id, actions.elements![0]!.value, { userId: SLACK_ME, message: fail }).final();
    expect(log.ephemeral).toBe(true);
    expect(JSON.stringify(log.blocks)).toContain('CUDA out of memory');
    const notYours = await srv.blockAction(actions.elements![0]!.action_id, actions.elements![0]!.value, { userId: DEFAULT_SLACK_USERS[1]!.id, message: fail }).final();
    expect(JSON.stringify(notYours)).toMatch(/Not linked/);

    const ROUNDS = 10;
    let frozen = 0;
    // Slack stores the message; the hub is frozen before it reads the answer, then killed.
    srv.beforeRespond(
      (r) => r.method === 'chat.postMessage',
      () => {
        process.kill(h.child.pid!, 'SIGSTOP');
        frozen++;
      },
    );
    for (let i = 0; i < ROUNDS; i++) {
      await runFlurm(['run', '-t', `slack-round-${i}-end`, '--', 'true'], { env: alice.env });
      await srv.waitFor(() => frozen === i + 1, 20_000, `round ${i}: the DM stored`);
      process.kill(h.child.pid!, 'SIGKILL');
      await h.exited;
      hubs.splice(hubs.indexOf(h), 1);
      h = await hub(config);
      // The restarted hub knows the send was in flight: it looks in the DM's history and finds it.
      await waitUntil(async () => (await getJson<{ outbox: Record<string, number> }>(`${h.url}/healthz`)).outbox.pending === 0, 20_000, `round ${i}: the outbox drained`);
    }
    const dms = srv.messages(dmChannel);
    for (let i = 0; i < ROUNDS; i++) expect(dms.filter((m) => JSON.stringify(m.blocks).includes(`slack-round-${i}-end`)), `round ${i}`).toHaveLength(1);
    expect(srv.requests.filter((r) => r.method === 'chat.postMessage')).toHaveLength(ROUNDS + 2);
    expect(srv.requests.filter((r) => r.method === 'conversations.history').length).toBeGreaterThanOrEqual(ROUNDS);
  }, 240_000);

  it('links with /flurm link and `flurm link CODE`: a "linked" DM, then job ends as DMs; /flurm unlink ends them', async () => {
    const config = await setup(15, 'socket', { configLink: false });
    const h = await hub(config);
    await waitUntil(async () => (await slackHealth(h)).state === 'ready', 15_000, 'the Slack app ready');
    await srv.waitForConnection();
    const alice = lab.home('alice');
    const asked = await srv.slashCommand('/flurm', 'link', { userId: SLACK_ME }).final();
    expect(asked.ephemeral).toBe(true);
    const code = /flurm link ([0-9A-Z]{5}(?:-[0-9A-Z]{5}){4}-[0-9A-Z]{4})/.exec(JSON.stringify(asked.blocks))?.[1];
    expect(code, JSON.stringify(asked.blocks)).toBeDefined();

    const linked = await runFlurm(['link', code!], { env: alice.env });
    expect(linked.stdout).toMatch(new RegExp(`^${ME} is linked to Slack user ${SLACK_ME} \\(since .*, by \`flurm link\` on node1\\)\\n$`));
    const dmChannel = srv.dmChannel(SLACK_ME);
    await srv.waitFor(() => srv.messages(dmChannel).find((m) => JSON.stringify(m.blocks).includes(`Linked to ${ME}`)), 15_000, 'the "linked" DM');
    const status = await runFlurm(['link', '--status'], { env: alice.env });
    expect(status.stdout).toContain(`${ME} is linked to Slack user ${SLACK_ME}`);

    await runFlurm(['run', '-t', 'linked-in-slack', '--', 'true'], { env: alice.env });
    await srv.waitFor(() => srv.messages(dmChannel).find((m) => JSON.stringify(m.blocks).includes('linked-in-slack')), 15_000, 'the job DM');
    // The answer names who they are now; the same code again is refused (each code links once).
    const again = await runFlurm(['link', code!], { env: alice.env });
    expect(again.code).toBe(0);

    const un = await srv.slashCommand('/flurm', 'unlink', { userId: SLACK_ME }).final();
    expect(JSON.stringify(un.blocks)).toContain(`Unlinked from ${ME}`);
    expect((await runFlurm(['link', '--status'], { env: alice.env })).code).toBe(1);
    const before = srv.messages(dmChannel).length;
    await runFlurm(['run', '-t', 'after-unlink', '--', 'true'], { env: alice.env });
    await waitUntil(async () => (await getJson<{ jobs: { tag?: string; name?: string; state: string }[] }>(`${h.url}/api/v1/jobs?limit=5`)).jobs.some((j) => j.name === 'after-unlink' && j.state !== 'running'), 15_000, 'the job ended');
    await waitUntil(async () => (await getJson<{ outbox: Record<string, number> }>(`${h.url}/healthz`)).outbox.pending === 0, 15_000, 'the outbox drained');
    expect(srv.messages(dmChannel)).toHaveLength(before);
  });

  it('doctor names the scopes the token lacks and what each is for', async () => {
    const config = await setup(15, 'socket', { scopes: ['commands', 'chat:write'] });
    const h = await hub(config);
    await waitUntil(async () => (await slackHealth(h)).state === 'ready', 15_000, 'the Slack app ready');
    const doctor = await runFlurm(['doctor'], { env: { ...lab.home('alice').env, FLURM_HUB_URL: h.url } });
    expect(doctor.stdout).toMatch(/slack app — connected as .*; scopes commands, chat:write; missing im:write \(DMs \(job ends, "linked"\)\), im:history \(a DM exactly once after a crash\), files:write \(a long log as a file\): add them under OAuth & Permissions/);
    // No channel destination in this config: the channel scopes are not asked for.
    expect(doctor.stdout).not.toContain('channels:read');
  });

  it('a bad alias or a missing token stops start-up naming the field', async () => {
    const config = await setup();
    fs.appendFileSync(config, '');
    const bad = fs.readFileSync(config, 'utf8').replace('sciencecluster = "best"', 'sciencecluster = "bets"');
    fs.writeFileSync(config, bad);
    const r = await runFlurm(['hub', '--config', config], { env: process.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/slack\.aliases\.sciencecluster: "bets" is not a flurm command/);
    fs.rmSync(path.join(lab.root, 'slack-app'));
    fs.writeFileSync(config, bad.replace('"bets"', '"best"'));
    const r2 = await runFlurm(['hub', '--config', config], { env: process.env });
    expect(r2.stderr).toMatch(/\[slack\] app_token_file: cannot read .*slack-app: no such file/);
  });
});
