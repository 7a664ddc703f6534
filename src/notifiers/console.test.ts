// Console: stream choice and refusals.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors.js';
import { normalMessage } from '../../test/support/stress-message.js';
import { createConsoleNotifier } from './console.js';
import { parseDestination } from './registry.js';

function sinkStream(): Writable & { text: string } {
  const s = new Writable({
    write(chunk: Buffer, _enc, cb) {
      s.text += chunk.toString('utf8');
      cb();
    },
  }) as Writable & { text: string };
  s.text = '';
  return s;
}

describe('console notifier', () => {
  it('console://stderr writes the text rendering to stderr only', async () => {
    const stdout = sinkStream();
    const stderr = sinkStream();
    await createConsoleNotifier({ stdout, stderr }).parse(new URL('console://stderr')).send(normalMessage(), { timeoutMs: 1000 });
    expect(stdout.text).toBe('');
    expect(stderr.text).toContain('✗ train_resnet failed on gpu3\nexit 3 after 1h 02m');
  });

  it.each(['console://stdwhat', 'console://stdout/x', 'console://?x=1'])('%s is refused', (input) => {
    expect(() => parseDestination(input)).toThrow(ConfigError);
  });
});
