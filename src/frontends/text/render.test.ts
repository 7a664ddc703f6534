// Plain-text rendering: layout, and cuts to a char or byte budget that keep the last log lines.
import { describe, expect, it } from 'vitest';
import { LAST_TAIL_LINE, hostileMessage, normalMessage } from '../../../test/support/stress-message.js';
import { utf8Bytes } from '../../lib/format.js';
import { formatTable, neutralizeBackticks, renderText } from './render.js';

describe('renderText', () => {
  it('renders every part of a normal message', () => {
    expect(renderText(normalMessage(), { timeZone: 'UTC' })).toBe(
      [
        '✗ train_resnet failed on gpu3',
        'exit 3 after 1h 02m',
        '',
        'exit: 3',
        'duration: 1h 02m',
        'peak memory: 15.2 GiB',
        'command: python train.py --lr 0.1 --epochs 90',
        '',
        'Diagnosis:',
        '- cuda-oom: the GPU ran out of memory',
        '  > RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB',
        '  hint: lower the batch size or use mixed precision',
        '',
        'Log (last 3 lines):',
        'epoch 1 loss 2.3',
        'epoch 2 loss 1.9',
        'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB',
        '',
        'flurm · job 01JD3Q8Z7W8R3M2K9X4V5B6N7P · alice@gpu3 · 2024-11-20 10:15 UTC',
      ].join('\n'),
    );
  });

  it("shows the message's time in the hub's zone (TZ), named; the message keeps it in UTC", () => {
    const savedTz = process.env.TZ;
    try {
      process.env.TZ = 'Europe/Berlin';
      const m = normalMessage();
      expect(renderText(m).split('\n').at(-1)).toBe('flurm · job 01JD3Q8Z7W8R3M2K9X4V5B6N7P · alice@gpu3 · 2024-11-20 11:15 CET');
      expect(m.timestamp).toBe('2024-11-20T10:15:30.000Z');
      process.env.TZ = 'UTC';
      expect(renderText(m).split('\n').at(-1)).toMatch(/ · 2024-11-20 10:15 UTC$/);
    } finally {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
  });

  it('can leave the title out (e-mail and ntfy carry it separately)', () => {
    expect(renderText(normalMessage(), { title: false }).startsWith('exit 3 after 1h 02m\n')).toBe(true);
  });

  it.each([
    ['maxBytes', { maxBytes: 4096 }],
    ['maxChars', { maxChars: 2000 }],
  ])('cuts a hostile message to %s, keeping the last log lines', (_, opts) => {
    const m = { ...hostileMessage(), footer: 'flurm · job 01J · alice@gpu3' };
    const out = renderText(m, { ...opts, timeZone: 'UTC' });
    if ('maxBytes' in opts) expect(utf8Bytes(out)).toBeLessThanOrEqual(opts.maxBytes);
    else expect(out.length).toBeLessThanOrEqual(opts.maxChars);
    expect(out).toContain(LAST_TAIL_LINE);
    expect(out).toMatch(/Log \(last \d+ lines; \d+ earlier cut\):/);
    expect(out.startsWith('TTTT')).toBe(true);
    expect(out.endsWith('flurm · job 01J · alice@gpu3 · 2024-11-20 10:15 UTC')).toBe(true);
  });

  it('respects tiny limits', () => {
    expect(renderText(hostileMessage(), { maxChars: 10 }).length).toBeLessThanOrEqual(10);
    expect(renderText(hostileMessage(), { maxBytes: 0 })).toBe('');
  });

  it('lays out tables in aligned columns', () => {
    expect(formatTable({ columns: ['node', 'load'], rows: [['gpu1', '0.5'], ['gpu10', '12']] })).toBe(
      'node   load\ngpu1   0.5\ngpu10  12',
    );
  });

  it('neutralises runs of backticks', () => {
    expect(neutralizeBackticks('a ``` b ` c')).toBe('a `\u200b`\u200b` b ` c');
  });
});
