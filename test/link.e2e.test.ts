// Account linking end to end: the real `flurm` CLI from dist/ and the hub as a real process. The
// code /link would show is made as the bot makes it: signed with the key beside the hub's index.
// Asserts what the user sees in the terminal and what the hub's API answers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, hubHealth, makeLab, runFlurm, startHub, waitUntil, type HubProc, type Lab } from './support/lab.js';
import { formatLinkCode, signLinkCode } from '../src/spool/link-code.js';
import { loadOrCreateLinkKey } from '../src/hub/links.js';

const me = os.userInfo().username;
const DISCORD = '123456789012345678';

let lab: Lab;
let hub: HubProc | null = null;

afterEach(async () => {
  await hub?.stop();
  hub = null;
  lab?.cleanup();
});

/** A code as /link issues it `agoMinutes` ago, signed with this lab hub's key. */
function codeFor(discordId: string, agoMinutes = 0): string {
  const key = loadOrCreateLinkKey(path.join(lab.cluster, 'link.key'));
  return formatLinkCode(signLinkCode(key, 'discord', discordId, Math.floor(Date.now() / 60_000) - agoMinutes));
}

/** Every events file of a spool with its bytes: what "wrote nothing" is checked against. */
function spoolContents(spool: string): Record<string, string> {
  const dir = path.join(spool, 'events');
  return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

interface LinkAnswer {
  user: string;
  linked: boolean;
  discord_id?: string;
  source?: string;
  linked_at?: string;
  host?: string;
  links?: { chat: string; id: string; source: string; linked_at: string; host?: string }[];
}

describe('flurm link', () => {
  it('links the user to the Discord account of the code; the API and --status say so; unlink ends it', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    hub = await startHub(lab.hubConfig());
    const r = await runFlurm(['link', codeFor(DISCORD)], { env: alice.env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^${me} is linked to Discord user ${DISCORD} \\(since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d \\S+, by \`flurm link\` on node1\\)\\n$`));
    expect(r.code).toBe(0);

    const answer = await getJson<LinkAnswer>(`${hub.url}/api/v1/links/${me}`);
    expect(answer).toMatchObject({ user: me, linked: true, discord_id: DISCORD, source: 'spool', host: 'node1' });
    expect(Date.now() - Date.parse(answer.linked_at!)).toBeLessThan(60_000);
    expect((await fetch(`${hub.url}/api/v1/links/no%20such%20user`)).status).toBe(400);

    const status = await runFlurm(['link', '--status'], { env: alice.env });
    expect(status.stdout).toBe(r.stdout);
    expect(status.code).toBe(0);

    // Ending the Slack link only leaves the Discord one; a chat flurm does not know is refused.
    const slackOnly = await runFlurm(['unlink', '--chat', 'slack'], { env: alice.env });
    expect(slackOnly.stdout).toBe(`${me} is no longer linked to a Slack account\n`);
    expect((await getJson<LinkAnswer>(`${hub.url}/api/v1/links/${me}`)).discord_id).toBe(DISCORD);
    const irc = await runFlurm(['unlink', '--chat', 'irc'], { env: alice.env });
    expect(irc.code).toBe(2);
    expect(irc.stderr).toBe('flurm: --chat "irc" is not a chat flurm links: discord or slack\n');

    const un = await runFlurm(['unlink'], { env: alice.env });
    expect(un.stdout).toBe(`${me} is no longer linked to a Discord or Slack account\n`);
    expect(await getJson<LinkAnswer>(`${hub.url}/api/v1/links/${me}`)).toEqual({ user: me, linked: false, links: [] });
    const after = await runFlurm(['link', '--status'], { env: alice.env });
    expect(after.stdout).toBe(`${me} is not linked; run /link in Discord or /flurm link in Slack, then flurm link CODE\n`);
    expect(after.code).toBe(1);
  });

  it('the link comes back when the index is deleted and the hub rebuilds it from the spools', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    hub = await startHub(lab.hubConfig());
    expect((await runFlurm(['link', codeFor(DISCORD)], { env: alice.env })).code).toBe(0);
    const linked = await getJson<LinkAnswer>(`${hub.url}/api/v1/links/${me}`);
    expect(linked.linked).toBe(true);
    await hub.stop();
    for (const f of fs.readdirSync(path.dirname(lab.index))) if (f.startsWith('index.db')) fs.rmSync(path.join(path.dirname(lab.index), f));
    expect(fs.existsSync(lab.index)).toBe(false);
    hub = await startHub(lab.hubConfig());
    // Wait for the observable state: the rebuilt index has read the spool (the link line is an event).
    await waitUntil(async () => (await hubHealth(hub!)).ingest.events >= 1, 15_000, 'the rebuilt index to read the spool');
    // The same link; "since" is now when `flurm link` wrote it (its writer's clock), not when the first hub read it.
    const { linked_at, links, ...same } = linked;
    const back = await getJson<LinkAnswer>(`${hub.url}/api/v1/links/${me}`);
    expect(back).toMatchObject({ ...same, links: links!.map(({ linked_at: _at, ...l }) => l) });
    expect(Math.abs(Date.parse(back.linked_at!) - Date.parse(linked_at!))).toBeLessThan(5000);
  });

  it('a code the hub refuses (expired) is reported with the reason the hub gives', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    hub = await startHub(lab.hubConfig());
    const r = await runFlurm(['link', codeFor(DISCORD, 30)], { env: alice.env });
    expect(r.stderr).toMatch(/^flurm: the hub did not link you: link code expired \(issued 3\d min ago; codes last 10 min\): run \/link in Discord again\n$/);
    expect(r.code).toBe(1);
    expect(await getJson<LinkAnswer>(`${hub.url}/api/v1/links/${me}`)).toEqual({ user: me, linked: false, links: [] });
  });

  it('a malformed code exits 2 naming what is wrong, and writes nothing', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    fs.writeFileSync(path.join(alice.spool, 'events', 'node1.jsonl'), '');
    const before = spoolContents(alice.spool);
    const r = await runFlurm(['link', 'NOT-A-CODE'], { env: alice.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('flurm: CODE "NOT-A-CODE" is not a flurm link code (29 letters and digits from /link in Discord or /flurm link in Slack): it has 8 letters and digits, not 29\n');
    const typo = codeFor(DISCORD).slice(0, -1) + 'U';
    const t = await runFlurm(['link', typo], { env: alice.env });
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('"U" is not a letter or digit a code uses');
    expect(spoolContents(alice.spool)).toEqual(before);
  });

  it('--status with no hub reachable says so', async () => {
    lab = makeLab();
    const alice = lab.home('alice');
    const r = await runFlurm(['link', '--status'], { env: { ...alice.env, FLURM_HUB_URL: 'http://127.0.0.1:1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('flurm: the hub at http://127.0.0.1:1 did not answer: ECONNREFUSED: cannot tell whether you are linked\n');
    const none = await runFlurm(['link', '--status'], { env: alice.env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^flurm: no hub to ask: .*hub\.json/);
  });
});
