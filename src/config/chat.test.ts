// [chat] in the hub config: every mistake stops start-up with the field named (docs/chat.md).
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadHubConfig } from './load.js';
import { labDestResolver } from '../hub/lab-dests.js';
import { parseDestination } from '../notifiers/registry.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-chatcfg-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function load(toml: string) {
  const f = path.join(dir, `hub${n++}.toml`);
  fs.writeFileSync(f, toml);
  return loadHubConfig(f);
}
const DISCORD = `[discord]\ntoken_env = "T"\nchannel_id = "1180000000000000200"\n`;

describe('[[chat.commands]]', () => {
  it('accepts file, reply and run; expands ~/ and a relative file to absolute paths', () => {
    fs.writeFileSync(path.join(dir, 'papers.txt'), 'a\nb\n');
    const home = fs.mkdtempSync(path.join(os.homedir(), '.flurm-chatcfg-'));
    try {
      fs.writeFileSync(path.join(home, 'p.txt'), 'x\n');
      const rel = path.relative(os.homedir(), home);
      const me = os.userInfo().username;
      const c = load(`
[[chat.commands]]
name = "papers"
file = "papers.txt"
[[chat.commands]]
name = "mine"
file = "~/${rel}/p.txt"
pick = "random"
[[chat.commands]]
name = "theirs"
file = "~${me}/${rel}/p.txt"
[[chat.commands]]
name = "gpu-etiquette"
reply = "Ask in #gpu first."
[[chat.commands]]
name = "disk"
run = ["df", "-h", "/"]
`);
      expect(c.chat.commands.map((x) => x.name)).toEqual(['papers', 'mine', 'theirs', 'gpu-etiquette', 'disk']);
      expect(c.chat.commands[0]!.file).toBe(path.join(dir, 'papers.txt'));
      expect(c.chat.commands[1]!.file).toBe(path.join(home, 'p.txt'));
      expect(c.chat.commands[2]!.file).toBe(path.join(home, 'p.txt'));
      expect(c.chat.commands[4]!.timeout_seconds).toBe(10);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('names the field of each mistake', () => {
    expect(() => load(`[[chat.commands]]\nname = "disk"\nrun = ["dff-not-here", "-h"]\n`)).toThrow(/chat\.commands\[0\]\.run\[0\]: "dff-not-here" is not found on the hub's PATH/);
    expect(() => load(`[[chat.commands]]\nname = "a"\nreply = "x"\n[[chat.commands]]\nname = "b"\nreply = "x"\n[[chat.commands]]\nname = "disk"\nrun = ["dff-not-here"]\n`)).toThrow(/chat\.commands\[2\]\.run\[0\]/);
    expect(() => load(`[[chat.commands]]\nname = "papers"\nfile = "${dir}/nope.txt"\n`)).toThrow(/chat\.commands\[0\]\.file: cannot read .*nope\.txt/);
    expect(() => load(`[[chat.commands]]\nname = "papers"\nfile = "~nosuchuser-flurm/p.txt"\n`)).toThrow(/chat\.commands\[0\]\.file: .*nosuchuser-flurm/);
    expect(() => load(`[[chat.commands]]\nname = "x"\nreply = "a"\nrun = ["df"]\n`)).toThrow(/chat\.commands\[0\].*exactly one of file, reply or run/);
    expect(() => load(`[[chat.commands]]\nname = "x"\n`)).toThrow(/chat\.commands\[0\].*exactly one of file, reply or run/);
    expect(() => load(`[[chat.commands]]\nname = "Papers"\nreply = "a"\n`)).toThrow(/chat\.commands\[0\]\.name: must be a Discord command name/);
    expect(() => load(`[[chat.commands]]\nname = "${'x'.repeat(33)}"\nreply = "a"\n`)).toThrow(/chat\.commands\[0\]\.name/);
    expect(() => load(`[[chat.commands]]\nname = "help"\nreply = "a"\n`)).toThrow(/chat\.commands\[0\]\.name: .*bot's own/);
    expect(() => load(`[[chat.commands]]\nname = "a"\nreply = "x"\n[[chat.commands]]\nname = "a"\nreply = "y"\n`)).toThrow(/chat\.commands\[1\]\.name: "a" is used by another/);
  });
});

describe('[[chat.schedule]]', () => {
  it('accepts a cron with a zone and discord:channel with a lab channel', () => {
    const c = load(`${DISCORD}[[chat.schedule]]\ncron = "0 9 * * FRI"\ntz = "America/New_York"\nto = ["discord:channel", "ntfy://lab"]\ntext = "PAPER, MATT! PAPER!"\n`);
    expect(c.chat.schedule[0]!.catch_up_minutes).toBe(60);
  });

  it('names the field of each mistake', () => {
    expect(() => load(`[[chat.schedule]]\ncron = "0 9 * * FRX"\nto = ["ntfy://lab"]\ntext = "x"\n`)).toThrow(/chat\.schedule\[0\]\.cron: "0 9 \* \* FRX" is not a valid cron/);
    expect(() => load(`[[chat.schedule]]\ncron = "0 9 * *"\nto = ["ntfy://lab"]\ntext = "x"\n`)).toThrow(/chat\.schedule\[0\]\.cron/);
    expect(() => load(`[[chat.schedule]]\ncron = "0 9 * * *"\ntz = "Mars/Olympus"\nto = ["ntfy://lab"]\ntext = "x"\n`)).toThrow(/chat\.schedule\[0\]\.tz: "Mars\/Olympus" is not a known time zone/);
    expect(() => load(`[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["ntfy://lab"]\n`)).toThrow(/chat\.schedule\[0\].*exactly one of text or command/);
    expect(() => load(`[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["ntfy://lab"]\ntext = "x"\ncommand = "status"\n`)).toThrow(/chat\.schedule\[0\].*exactly one of text or command/);
    expect(() => load(`[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["discord:channel"]\ntext = "x"\n`)).toThrow(/chat\.schedule\[0\]\.to\[0\]: "discord:channel" needs \[discord\] channel_id/);
    expect(() => load(`[discord]\ntoken_env = "T"\n[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["ntfy://lab", "discord:channel"]\ntext = "x"\n`)).toThrow(/chat\.schedule\[0\]\.to\[1\]/);
    expect(() => load(`[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["nope://x"]\ntext = "x"\n`)).toThrow(/chat\.schedule\[0\]\.to\[0\]: unknown destination kind/);
    expect(() => load(`[[chat.schedule]]\ncron = "0 9 * * *"\nto = []\ntext = "x"\n`)).toThrow(/chat\.schedule\[0\]\.to/);
  });
});

describe('Slack channel destinations in a schedule and in alerts.to', () => {
  const SLACK = `[slack]\nbot_token_env = "B"\napp_token_env = "A"\n`;
  const resolve = (toml: string) => labDestResolver(load(toml));

  it('accept slack:channel with [slack] channel, slack:#name and slack:C…, and resolve each to the channel queued', () => {
    const c = load(`${SLACK}channel = "C0LAB00001"\n[alerts]\nto = ["slack:channel"]\n[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["slack:channel", "slack:#General", "slack:C0123ABCD"]\ntext = "x"\n`);
    const r = labDestResolver(c);
    expect(c.chat.schedule[0]!.to.map(r)).toEqual(['slack-channel://c0lab00001', 'slack-channel://%23general', 'slack-channel://c0123abcd']);
    expect(c.alerts.to.map(r)).toEqual(['slack-channel://c0lab00001']);
    // What is queued parses back to the same channel.
    expect(parseDestination('slack-channel://%23general').toUrl()).toBe('slack-channel://%23general');
    // Other destinations, and discord:channel, as before.
    expect(resolve(`${DISCORD}[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["discord:channel"]\ntext = "x"\n`)('ntfy://lab')).toBe('ntfy://lab');
    expect(resolve(`${DISCORD}`)('discord:channel')).toBe('discord-channel://1180000000000000200');
  });

  it('refuse slack:channel without [slack] channel, any slack: channel without [slack], and a misspelt one, naming the field', () => {
    expect(() => load(`${SLACK}[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["slack:channel"]\ntext = "x"\n`)).toThrow(/chat\.schedule\[0\]\.to\[0\]: "slack:channel" needs \[slack\] channel/);
    expect(() => load(`[[chat.schedule]]\ncron = "0 9 * * *"\nto = ["ntfy://lab", "slack:#general"]\ntext = "x"\n`)).toThrow(/chat\.schedule\[0\]\.to\[1\]: "slack:#general" needs \[slack\]/);
    expect(() => load(`[alerts]\nto = ["slack:C0123ABCD"]\n`)).toThrow(/alerts\.to\[0\]: "slack:C0123ABCD" needs \[slack\]/);
    expect(() => load(`${SLACK}[alerts]\nto = ["slack:channel"]\n`)).toThrow(/alerts\.to\[0\]: "slack:channel" needs \[slack\] channel/);
    expect(() => load(`${SLACK}[alerts]\nto = ["slack:general"]\n`)).toThrow(/alerts\.to\[0\]: slack-channel: expected slack:channel, slack:#NAME/);
    expect(() => load(`[alerts]\nto = ["discord:channel"]\n`)).toThrow(/alerts\.to\[0\]: "discord:channel" needs \[discord\] channel_id/);
  });
});
