// Messages for renderer and notifier tests: a normal job end, and a hostile one that breaks every
// service limit at once (5,000-char title, 40 fields, 20,000-char log tail with backticks and
// @everyone), whose last tail line must survive every renderer's cut.
import type { Message } from '../../src/model/message.js';

export const LAST_TAIL_LINE = 'FINAL LINE: Traceback ends here — exit 3';

export function normalMessage(): Message {
  return {
    title: '✗ train_resnet failed on gpu3',
    severity: 'failure',
    summary: 'exit 3 after 1h 02m',
    fields: [
      { name: 'exit', value: '3', inline: true },
      { name: 'duration', value: '1h 02m', inline: true },
      { name: 'peak memory', value: '15.2 GiB', inline: true },
      { name: 'command', value: 'python train.py --lr 0.1 --epochs 90', inline: false },
    ],
    diagnosis: [
      {
        pattern: 'cuda-oom',
        description: 'the GPU ran out of memory',
        line: 'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB',
        hint: 'lower the batch size or use mixed precision',
      },
    ],
    logTail: ['epoch 1 loss 2.3', 'epoch 2 loss 1.9', 'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB'],
    footer: 'flurm · job 01JD3Q8Z7W8R3M2K9X4V5B6N7P · alice@gpu3',
    timestamp: '2024-11-20T10:15:30.000Z',
  };
}

export function hostileMessage(): Message {
  const tail: string[] = [];
  for (let i = 0; tail.join('\n').length < 20_000; i++) {
    tail.push(`line ${String(i).padStart(4, '0')} ${'x'.repeat(40)} \`\`\` @everyone <@123> & <b>`);
  }
  tail.push('```', '@everyone @here', LAST_TAIL_LINE);
  const fields = Array.from({ length: 40 }, (_, i) => ({
    name: `field ${i} ${'n'.repeat(i % 3 === 0 ? 400 : 5)}`,
    value: `value ${i} ${'v'.repeat(i % 2 === 0 ? 3000 : 10)} & <tag> *bold*`,
    inline: i % 2 === 0,
  }));
  return {
    title: 'T'.repeat(5000),
    severity: 'failure',
    summary: 'S'.repeat(5000) + ' @everyone',
    fields,
    diagnosis: Array.from({ length: 5 }, (_, i) => ({ pattern: `pattern-${i}`, description: 'd'.repeat(500), line: '`'.repeat(6) + 'l'.repeat(800) })),
    logTail: tail,
    table: { columns: ['node', 'load', 'free GiB'], rows: Array.from({ length: 200 }, (_, i) => [`gpu${i}`, String(i / 10), '```' + i]) },
    footer: 'F'.repeat(5000),
    timestamp: '2024-11-20T10:15:30.000Z',
  };
}
