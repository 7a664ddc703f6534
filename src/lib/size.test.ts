import { describe, expect, it } from 'vitest';
import { UserError } from './errors.js';
import { parseSize } from './size.js';

describe('parseSize', () => {
  it('reads the forms users type, base 1024', () => {
    expect(parseSize('32G', '--mem')).toBe(32 * 1024 ** 3);
    expect(parseSize('32GB', '--mem')).toBe(32 * 1024 ** 3);
    expect(parseSize('32GiB', '--mem')).toBe(32 * 1024 ** 3);
    expect(parseSize('32g', '--mem')).toBe(32 * 1024 ** 3);
    expect(parseSize('500M', '--mem')).toBe(500 * 1024 ** 2);
    expect(parseSize('1.5T', '--mem')).toBe(1.5 * 1024 ** 4);
    expect(parseSize('1024', '--mem')).toBe(1024);
    expect(parseSize('512B', '--mem')).toBe(512);
    expect(parseSize(' 8 G ', '--mem')).toBe(8 * 1024 ** 3);
    expect(parseSize('0', '--mem')).toBe(0);
  });

  it('refuses anything else with a UserError naming the option and the value', () => {
    for (const bad of ['', 'lots', '32X', '-1G', '1,5G', 'G', '3 2G', '1e3', 'Infinity']) {
      let err: unknown;
      try {
        parseSize(bad, '--gpu-mem');
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as Error).message).toContain('--gpu-mem');
      expect((err as Error).message).toContain(`"${bad}"`);
    }
  });
});
