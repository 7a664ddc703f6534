// Discord rendering: a normal message in full, and a hostile one held to every documented limit.
import { describe, expect, it } from 'vitest';
import { LAST_TAIL_LINE, hostileMessage, normalMessage } from '../../../test/support/stress-message.js';
import { DISCORD_COLOURS, codeBlock, embedSize, escapeDiscordMarkdown, renderDiscord } from './render.js';
import type { APIEmbed } from 'discord-api-types/v10';

function onlyEmbed(body: ReturnType<typeof renderDiscord>): APIEmbed {
  expect(body.embeds).toHaveLength(1);
  return body.embeds![0]!;
}

/** Every documented limit, asserted one by one (numbers a reviewer can check against the docs). */
function expectWithinDiscordLimits(body: ReturnType<typeof renderDiscord>): void {
  expect((body.content ?? '').length).toBeLessThanOrEqual(2000);
  const e = onlyEmbed(body);
  expect((e.title ?? '').length).toBeLessThanOrEqual(256);
  expect((e.description ?? '').length).toBeLessThanOrEqual(4096);
  expect((e.fields ?? []).length).toBeLessThanOrEqual(25);
  for (const f of e.fields ?? []) {
    expect(f.name.length).toBeGreaterThan(0);
    expect(f.name.length).toBeLessThanOrEqual(256);
    expect(f.value.length).toBeGreaterThan(0);
    expect(f.value.length).toBeLessThanOrEqual(1024);
  }
  expect((e.footer?.text ?? '').length).toBeLessThanOrEqual(2048);
  expect((e.author?.name ?? '').length).toBeLessThanOrEqual(256);
  const total =
    (e.title ?? '').length +
    (e.description ?? '').length +
    (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0) +
    (e.footer?.text ?? '').length +
    (e.author?.name ?? '').length;
  expect(total).toBeLessThanOrEqual(6000);
  expect(embedSize(e)).toBe(total);
}

describe('renderDiscord', () => {
  it('renders a normal job end completely', () => {
    const body = renderDiscord(normalMessage());
    const e = onlyEmbed(body);
    expect(e.title).toBe('✗ train_resnet failed on gpu3');
    expect(e.color).toBe(DISCORD_COLOURS.failure);
    expect(e.timestamp).toBe('2024-11-20T10:15:30.000Z');
    expect(e.footer?.text).toBe('flurm · job 01JD3Q8Z7W8R3M2K9X4V5B6N7P · alice@gpu3');
    expect(e.fields).toEqual([
      { name: 'exit', value: '3', inline: true },
      { name: 'duration', value: '1h 02m', inline: true },
      { name: 'peak memory', value: '15.2 GiB', inline: true },
      { name: 'command', value: 'python train.py --lr 0.1 --epochs 90', inline: false },
    ]);
    expect(e.description).toContain('exit 3 after 1h 02m');
    expect(e.description).toContain('**cuda-oom** — the GPU ran out of memory');
    expect(e.description).toContain('> RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n*lower the batch size or use mixed precision*');
    expect(e.description).toMatch(/```\nepoch 1 loss 2.3\nepoch 2 loss 1.9\nRuntimeError: CUDA out of memory\. Tried to allocate 2\.00 GiB\n```$/);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expectWithinDiscordLimits(body);
  });

  it('fits every Discord limit for a hostile message, keeping the last log lines', () => {
    const m = hostileMessage();
    const body = renderDiscord(m, { username: 'u'.repeat(200) });
    expectWithinDiscordLimits(body);
    expect(body.username!.length).toBeLessThanOrEqual(80);
    const e = onlyEmbed(body);
    const desc = e.description ?? '';
    // The tail is the last code block, closed, and ends with the job's real last line.
    expect(desc.endsWith(`${LAST_TAIL_LINE}\n\`\`\``)).toBe(true);
    expect(desc).toMatch(/… \d+ earlier lines cut/);
    // Fences from the log were neutralised: every ``` in the description is one of ours, paired.
    const fences = desc.match(/```/g) ?? [];
    expect(fences.length % 2).toBe(0);
    const lastBlock = desc.slice(desc.lastIndexOf('```\n', desc.length - 5) + 4, -4);
    expect(lastBlock).not.toContain('```');
    // No mention can ping.
    expect(body.allowed_mentions).toEqual({ parse: [] });
    // 40 fields → 24 shown + a line saying how many were left out.
    const fields = e.fields ?? [];
    expect(fields.at(-1)?.value).toMatch(/^\d+ more fields not shown$/);
  });

  it('keeps the end of a single enormous log line', () => {
    const m = { ...normalMessage(), logTail: ['a'.repeat(50_000) + 'THE END'] };
    const body = renderDiscord(m);
    expectWithinDiscordLimits(body);
    expect(onlyEmbed(body).description).toMatch(/THE END\n```$/);
  });

  it('handles an empty message and drops an invalid timestamp', () => {
    const body = renderDiscord({ title: '', severity: 'info', timestamp: 'yesterday', fields: [{ name: '', value: '' }] });
    const e = onlyEmbed(body);
    expect(e.title).toBeUndefined();
    expect(e.timestamp).toBeUndefined();
    expect(e.fields?.[0]?.name.length).toBeGreaterThan(0);
    expect(e.fields?.[0]?.value.length).toBeGreaterThan(0);
    expect(e.color).toBe(DISCORD_COLOURS.info);
  });

  it('escapes markdown in user text but not inside code blocks', () => {
    expect(escapeDiscordMarkdown('my_run_v2 *x* `y` ~z~ |s| [l](u)')).toBe('my\\_run\\_v2 \\*x\\* \\`y\\` \\~z\\~ \\|s\\| \\[l\\](u)');
    expect(escapeDiscordMarkdown('> quote\n# head\n- item')).toBe('\\> quote\n\\# head\n\\- item');
    expect(codeBlock(['a_b', '```rm'], 100)).toBe('```\na_b\n`\u200b`\u200b`rm\n```');
  });

  it('stays within limits for emoji-heavy text (UTF-16 pairs are never split)', () => {
    const m = { ...normalMessage(), title: '😀'.repeat(300), logTail: Array.from({ length: 500 }, () => '🔥'.repeat(30)) };
    const body = renderDiscord(m);
    expectWithinDiscordLimits(body);
    const e = onlyEmbed(body);
    expect(e.title).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('hints in Discord', () => {
  it('a hint names the slash command, in the footer, after the footer text', () => {
    const body = renderDiscord({
      title: 'No node fits',
      severity: 'failure',
      footer: 'data 12s old',
      hints: [{ text: 'SLURM is here too: {command} asks it', command: 'best', args: { slurm: true } }, { text: '{command} for one node', command: 'top', args: { node: 'NODE' } }],
    });
    expect(body.embeds![0]!.footer!.text).toBe('data 12s old · SLURM is here too: /best slurm:true asks it · /top node:NODE for one node');
  });
});
