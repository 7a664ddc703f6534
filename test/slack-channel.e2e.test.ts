// Slack channels as the hub runs them: a real `flurm hub` process (and a real agent) against the
// local Slack — a schedule to `slack:channel` and `slack:#general` posts once in each, a node
// alert to `slack:channel` arrives in the lab channel, and the Log button under a failure DM
// uploads a long tail as a file (docs/slack.md, docs/chat.md).
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getJson, makeLab, runFlurm, startFlurm, startHub, waitUntil, type HubProc, type Lab, type Proc, killAll } from './support/lab.js';
import { DEFAULT_SLACK_USERS, startSlackServer, type SlackMessage, type SlackServer } from './support/slack-server.js';

const ME = os.userInfo().username;
const SLACK_ME = DEFAULT_SLACK_USERS[0]!.id;
const GENERAL = 'C0GENERAL1';
const LAB = 'C0LAB00001';

describe('Slack channels and the Log file, as the hub runs them', () => {
  let lab: Lab;
  let srv: SlackServer;
  let h: HubProc | undefined;
  const procs: Proc[] = [];

  afterEach(async () => {
    await killAll(procs);
    await h?.stop();
    h = undefined;
    await srv?.close();
    lab?.cleanup();
  });

  async function setup(extra: string): Promise<string> {
    lab = makeLab('flurm-slackch-');
    srv = await startSlackServer({ channels: [{ id: GENERAL, name: 'general' }, { id: LAB, name: 'lab' }] });
    const bot = path.join(lab.root, 'slack-bot');
    const app = path.join(lab.root, 'slack-app');
    fs.writeFileSync(bot, `${srv.botToken}\n`, { mode: 0o600 });
    fs.writeFileSync(app, `${srv.appToken}\n`, { mode: 0o600 });
    return lab.hubConfig({
      extra: `
[slack]
bot_token_file = "${bot}"
app_token_file = "${app}"
api = "${srv.apiUrl}"
channel = "${LAB}"
[users.${ME}]
slack = "${SLACK_ME}"
${extra}`,
    });
  }
  const drained = async () => (await getJson<{ outbox: Record<string, number> }>(`${h!.url}/healthz`)).outbox.pending === 0;
  const said = (m: SlackMessage, text: string) => JSON.stringify([m.text, m.blocks]).includes(text);

  it('a schedule to slack:channel and slack:#general posts once in each; a node alert to slack:channel reaches the lab channel', async () => {
    // One occurrence a minute, a few seconds from now: the test sees exactly one.
    const second = (new Date().getUTCSeconds() + 6) % 60;
    const config = await setup(`
[nodes]
poll_interval_seconds = 0.3
stale_after_intervals = 3
down_after_intervals = 4
min_down_after_seconds = 0
[alerts]
to = ["slack:channel"]
load_per_core = 0
memory_available_pct = 0
gpu_idle_minutes = 0
[[chat.schedule]]
cron = "${second} * * * * *"
tz = "UTC"
to = ["slack:channel", "slack:#general"]
text = "PAPER, MATT! PAPER!"
catch_up_minutes = 1
[[chat.schedule]]
cron = "*/3 * * * * *"
to = ["slack:channel"]
command = "history"
catch_up_minutes = 1
`);
    const agent = startFlurm(['agent', '--interval', '1s', '--cluster', lab.cluster], { env: { ...process.env, FLURM_HOST: 'cpu1', PATH: `/nonexistent:${process.env.PATH}` } });
    procs.push(agent);
    h = await startHub(config);
    const paper = (ch: string) => srv.messages(ch).filter((m) => said(m, 'PAPER, MATT! PAPER!'));
    // A slow start past that second waits for the next minute's.
    await srv.waitFor(() => paper(LAB).length >= 1 && paper(GENERAL).length >= 1, 75_000, 'the scheduled post in both channels');
    await waitUntil(drained, 10_000, 'the outbox drained');
    expect(paper(LAB)).toHaveLength(1);
    expect(paper(GENERAL)).toHaveLength(1);
    expect(paper(LAB)[0]!.metadata?.event_payload.key).not.toBe(paper(GENERAL)[0]!.metadata?.event_payload.key);
    // The scheduled history posts its text, then its chart uploaded into the same channel.
    const chart = await srv.waitFor(() => srv.files.find((f) => f.channel === LAB && f.filename.endsWith('.png') && f.completedAtMs), 30_000, 'the scheduled chart');
    expect(chart.filename).toBe('cpu-cores-busy-on-cpu1.png');
    expect(chart.bytes!.subarray(1, 4).toString()).toBe('PNG');

    // The agent stops: the lab channel hears that cpu1 stopped reporting.
    await waitUntil(async () => (await getJson<{ nodes: { host: string; state: string }[] }>(`${h!.url}/api/v1/nodes`)).nodes.some((n) => n.host === 'cpu1' && n.state === 'fresh'), 15_000, 'cpu1 fresh');
    agent.child.kill('SIGKILL');
    await agent.exited;
    const down = await srv.waitFor(() => srv.messages(LAB).find((m) => said(m, 'node cpu1 stopped reporting')), 30_000, 'the node-down alert in the lab channel');
    expect(down.metadata?.event_type).toBe('flurm_message');
    expect(srv.messages(GENERAL).filter((m) => said(m, 'cpu1'))).toHaveLength(0);
  }, 150_000);

  it('the Log button of a failure whose tail does not fit one section uploads the whole tail as JOB.log, and says so', async () => {
    const config = await setup('');
    h = await startHub(config);
    await waitUntil(async () => (await getJson<{ slack: { state: string } }>(`${h!.url}/healthz`)).slack.state === 'ready', 15_000, 'the Slack app ready');
    const alice = lab.home('alice');
    const pad = 'a'.repeat(90);
    await runFlurm(['run', '-t', 'long-log', '--', 'sh', '-c', `i=0; while [ $i -lt 60 ]; do i=$((i+1)); echo "line-$i ${pad}"; done; exit 3`], { env: alice.env });
    const dm = srv.dmChannel(SLACK_ME);
    const fail = await srv.waitFor(() => srv.messages(dm).find((m) => said(m, 'long-log')), 15_000, 'the failure DM');
    const actions = ((fail.blocks ?? []) as { type: string; elements?: { action_id: string; value: string }[] }[]).find((b) => b.type === 'actions')!;
    const logButton = actions.elements!.find((e) => e.action_id.startsWith('flurm:log:'))!;
    const answer = await srv.blockAction(logButton.action_id, logButton.value, { userId: SLACK_ME, message: fail }).final();
    expect(answer.ephemeral).toBe(true);
    expect(JSON.stringify(answer)).toMatch(/Last 50 lines of long-log: uploaded as long-log\.log/);
    const file = srv.files.find((f) => f.filename === 'long-log.log');
    expect(file?.channel).toBe(dm);
    const tail = Array.from({ length: 50 }, (_, i) => `line-${i + 11} ${pad}`);
    expect(file!.bytes!.toString('utf8')).toBe(`${tail.join('\n')}\n`);
    expect(srv.messages(dm).find((m) => m.files?.some((f) => f.name === 'long-log.log'))?.text).toMatch(/Log of long-log/);

    // An upload Slack refuses: the answer is the cut tail (its last lines), and the hub says why.
    srv.failNext('files.getUploadURLExternal', [{ error: 'missing_scope', extra: { needed: 'files:write' } }]);
    const cut = await srv.blockAction(logButton.action_id, logButton.value, { userId: SLACK_ME, message: fail }).final();
    expect(cut.ephemeral).toBe(true);
    expect(JSON.stringify(cut.blocks)).toMatch(/earlier lines? cut/);
    expect(JSON.stringify(cut.blocks)).toContain('line-60 ');
    await waitUntil(() => /slack log upload failed/.test(h!.text()), 5000, 'the warning in the hub log');

    // A short tail still answers in the ephemeral message itself.
    await runFlurm(['run', '-t', 'short-log', '--', 'sh', '-c', 'echo "RuntimeError: CUDA out of memory"; exit 3'], { env: alice.env });
    const short = await srv.waitFor(() => srv.messages(dm).find((m) => said(m, 'short-log')), 15_000, 'the second failure DM');
    const b = ((short.blocks ?? []) as { type: string; elements?: { action_id: string; value: string }[] }[]).find((x) => x.type === 'actions')!.elements![0]!;
    const shortAnswer = await srv.blockAction(b.action_id, b.value, { userId: SLACK_ME, message: short }).final();
    expect(JSON.stringify(shortAnswer.blocks)).toContain('CUDA out of memory');
    expect(srv.files.filter((f) => f.completedAtMs)).toHaveLength(1);
  }, 60_000);
});
