import { describe, expect, it } from 'vitest';
import type { Message } from '../../model/message.js';
import { validateDiscordBody } from '../../../test/support/fake-services.js';
import { answerBodies, buttonId, dmBody, failureButtons, MESSAGE_EMBEDS, parseButtonId } from './answer.js';
import { splitTable } from '../text/render.js';
import { DISCORD_LIMITS, embedSize } from './render.js';
import { dmNonce } from '../../hub/discord.js';

const hosts = Array.from({ length: 100 }, (_, i) => `node${String(i).padStart(3, '0')}`);
const status: Message = {
  title: '100 nodes: 100 fresh',
  severity: 'info',
  summary: 'as of 12:00',
  table: {
    columns: ['HOST', 'STATE', 'LOAD', 'MEM', 'GPUS', 'USERS'],
    rows: hosts.map((h) => [h, 'fresh', '12.3/64', '200/512 GiB', '6/8 free', 'alice, bob, carol']),
    states: hosts.map(() => [null, 'ok']),
  },
  hints: [{ text: 'where to run: {command}', command: 'best', args: { gpus: 1 } }],
};

describe('answers within Discord limits', () => {
  it('a 100-node /status shows every row, across embeds and follow-ups each within the limits', () => {
    const bodies = answerBodies([status]);
    const all = JSON.stringify(bodies);
    for (const h of hosts) expect(all).toContain(h);
    for (const b of bodies) {
      expect(b.embeds!.length).toBeLessThanOrEqual(MESSAGE_EMBEDS);
      expect(b.embeds!.reduce((n, e) => n + embedSize(e), 0)).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
      expect(validateDiscordBody(b)).toBeUndefined();
    }
    // The hint (footer) once, on the last part; the title on the first.
    const embeds = bodies.flatMap((b) => b.embeds!);
    expect(embeds[0]!.title).toBe('100 nodes: 100 fresh');
    expect(embeds.filter((e) => e.footer?.text.includes('/best gpus:1'))).toHaveLength(1);
    expect(embeds.at(-1)!.footer?.text).toContain('/best gpus:1');
    expect(embeds.at(-1)!.title).toMatch(/\(\d+\/\d+\)$/);
  });

  it('a table that fits stays one message; row states travel with their rows', () => {
    expect(splitTable({ ...status, table: { ...status.table!, rows: status.table!.rows.slice(0, 5) } }, 3600)).toHaveLength(1);
    const parts = splitTable(status, 3600);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flatMap((p) => p.table!.rows)).toEqual(status.table!.rows);
    expect(parts.flatMap((p) => p.table!.states!)).toEqual(status.table!.states);
  });

  it('many messages pack into at most 10 embeds and 6000 characters per message', () => {
    const many: Message[] = Array.from({ length: 23 }, (_, i) => ({ title: `part ${i}`, severity: 'info', summary: 'x'.repeat(900) }));
    const bodies = answerBodies(many);
    expect(bodies.flatMap((b) => b.embeds!)).toHaveLength(23);
    for (const b of bodies) {
      expect(b.embeds!.length).toBeLessThanOrEqual(10);
      expect(validateDiscordBody(b)).toBeUndefined();
    }
  });

  it('an empty answer is still a message Discord accepts', () => {
    const [b] = answerBodies([{ title: '', severity: 'info' }]);
    expect(validateDiscordBody(b)).toBeUndefined();
  });
});

describe('DMs and buttons', () => {
  it('a DM carries a nonce of at most 25 characters, enforce_nonce, and pings nobody', () => {
    const nonce = dmNonce('01J9ZK0000000000000000000:end:discord-dm://1180000000000001001');
    expect(nonce).toHaveLength(25);
    expect(dmNonce('a')).not.toBe(dmNonce('b'));
    const b = dmBody(status, { nonce });
    expect(b).toMatchObject({ nonce, enforce_nonce: true, allowed_mentions: { parse: [] } });
    const lab = dmBody(status, { nonce, mention: '1180000000000001003', note: 'I could not DM you:' });
    expect(lab.content).toBe('<@1180000000000001003> I could not DM you:');
    expect(lab.allowed_mentions).toEqual({ parse: [], users: ['1180000000000001003'] });
  });

  it('failure buttons carry the job id within custom_id limits, and parse back', () => {
    const id = '01J9ZK4N3S6Q0M8W2V5T7R1XYZ';
    const [row] = failureButtons(id, { diagnosis: true });
    const ids = row!.components.map((c) => (c as { custom_id: string }).custom_id);
    expect(ids).toEqual([`flurm:log:${id}`, `flurm:mute:${id}`, `flurm:diag:${id}`]);
    for (const c of ids) expect(c.length).toBeLessThanOrEqual(100);
    expect(parseButtonId(buttonId('wf-cancel', '12'))).toEqual({ action: 'wf-cancel', ref: '12' });
    expect(parseButtonId('something:else')).toBeNull();
    expect(failureButtons(id, { diagnosis: false })[0]!.components).toHaveLength(2);
  });
});
