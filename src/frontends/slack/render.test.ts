// Slack rendering: Block Kit limits, mrkdwn escaping, and the log tail's last lines.
import { describe, expect, it } from 'vitest';
import type { KnownBlock } from '@slack/types';
import { LAST_TAIL_LINE, hostileMessage, normalMessage } from '../../../test/support/stress-message.js';
import { escapeSlack, renderSlack, truncateEscaped } from './render.js';

/** All mrkdwn strings in a body, for escaping checks. */
function mrkdwnTexts(blocks: KnownBlock[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.type === 'section') {
      if (b.text?.type === 'mrkdwn') out.push(b.text.text);
      for (const f of b.fields ?? []) if (f.type === 'mrkdwn') out.push(f.text);
    }
    if (b.type === 'context') for (const e of b.elements) if (e.type === 'mrkdwn') out.push(e.text);
  }
  return out;
}

/** Slack's documented Block Kit limits, asserted one by one. */
function expectWithinSlackLimits(body: ReturnType<typeof renderSlack>): void {
  expect(body.text.length).toBeGreaterThan(0);
  expect(body.text.length).toBeLessThanOrEqual(3000);
  expect(body.blocks.length).toBeLessThanOrEqual(50);
  for (const b of body.blocks) {
    if (b.type === 'header') {
      expect(b.text.type).toBe('plain_text');
      expect(b.text.text.length).toBeGreaterThan(0);
      expect(b.text.text.length).toBeLessThanOrEqual(150);
    } else if (b.type === 'section') {
      expect(b.text !== undefined || (b.fields?.length ?? 0) > 0).toBe(true);
      if (b.text) {
        expect(b.text.text.length).toBeGreaterThan(0);
        expect(b.text.text.length).toBeLessThanOrEqual(3000);
      }
      expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
      for (const f of b.fields ?? []) {
        expect(f.text.length).toBeGreaterThan(0);
        expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    } else if (b.type === 'context') {
      expect(b.elements.length).toBeLessThanOrEqual(10);
      for (const e of b.elements) if ('text' in e) expect(e.text.length).toBeLessThanOrEqual(3000);
    } else {
      throw new Error(`unexpected block type ${b.type}`);
    }
  }
}

/** No raw &, < or > in mrkdwn except entities, our date token and ">" quote markers. */
function expectEscaped(texts: string[]): void {
  for (const t of texts) {
    const stripped = t
      .replace(/&(amp|lt|gt);/g, '')
      .replace(/<!date\^\d+\^[^|>]*\|[^>]*>/g, '')
      .replace(/^> /gm, '');
    expect(stripped).not.toMatch(/[&<>]/);
  }
}

describe('renderSlack', () => {
  it('renders a normal job end as header, summary, fields, diagnosis, log and context', () => {
    const body = renderSlack(normalMessage());
    expectWithinSlackLimits(body);
    expect(body.text).toBe(':x: ✗ train_resnet failed on gpu3 — exit 3 after 1h 02m');
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'section', 'context']);
    const texts = mrkdwnTexts(body.blocks);
    expect(texts).toContain('*exit*\n3');
    expect(texts).toContain('*cuda-oom* — the GPU ran out of memory\n> RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n_lower the batch size or use mixed precision_');
    expect(texts).toContain('*peak memory*\n15.2 GiB');
    expect(texts.some((t) => t.endsWith('Tried to allocate 2.00 GiB\n```'))).toBe(true);
    // Slack shows the time in each reader's zone; clients that cannot, show the hub's (TZ), named.
    const savedTz = process.env.TZ;
    try {
      process.env.TZ = 'Europe/Berlin';
      expect(mrkdwnTexts(renderSlack(normalMessage()).blocks)).toContain('<!date^1732097730^{date_short_pretty} {time_secs}|2024-11-20 11:15 CET>');
      process.env.TZ = 'UTC';
      expect(mrkdwnTexts(renderSlack(normalMessage()).blocks)).toContain('<!date^1732097730^{date_short_pretty} {time_secs}|2024-11-20 10:15 UTC>');
    } finally {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
  });

  it('fits every Block Kit limit for a hostile message, keeping the last log lines', () => {
    const body = renderSlack(hostileMessage());
    expectWithinSlackLimits(body);
    const texts = mrkdwnTexts(body.blocks);
    expectEscaped(texts);
    expectEscaped([body.text]);
    const tail = texts.find((t) => t.includes('earlier lines cut'));
    expect(tail).toBeDefined();
    expect(tail!.endsWith(`${LAST_TAIL_LINE}\n\`\`\``)).toBe(true);
    // The log's own ``` lines cannot close our block early.
    expect(tail!.slice(4, -4)).not.toContain('```');
    // All 40 fields fit in 4 sections of 10.
    const fieldCount = body.blocks.reduce((n, b) => n + (b.type === 'section' ? (b.fields?.length ?? 0) : 0), 0);
    expect(fieldCount).toBe(40);
  });

  it('says how many fields were left out when they exceed the block budget', () => {
    const m = { ...normalMessage(), fields: Array.from({ length: 600 }, (_, i) => ({ name: `f${i}`, value: String(i) })) };
    const body = renderSlack(m);
    expectWithinSlackLimits(body);
    const texts = mrkdwnTexts(body.blocks);
    expect(texts.some((t) => /^_\d+ more fields not shown_$/.test(t))).toBe(true);
    // The log tail still made it in.
    expect(texts.some((t) => t.includes('RuntimeError'))).toBe(true);
  });

  it('escapes &, < and > and never leaves half an entity after a cut', () => {
    expect(escapeSlack('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(truncateEscaped(escapeSlack('xx&yy'), 5)).toBe('xx…');
  });
});

describe('hints in Slack', () => {
  it('a hint names the /flurm subcommand, in the context line', () => {
    const body = renderSlack({ title: 'No node fits', severity: 'failure', hints: [{ text: 'SLURM is here too: {command} asks it', command: 'best', args: { slurm: true } }] });
    const ctx = body.blocks.find((b) => b.type === 'context') as { elements: { text: string }[] } | undefined;
    expect(ctx?.elements[0]!.text).toBe('SLURM is here too: `/flurm best slurm=true` asks it');
  });
});
