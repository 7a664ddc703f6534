import { describe, expect, it } from 'vitest';
import { UserError } from '../../lib/errors.js';
import { parseIntervalSeconds } from './agent.js';

describe('parseIntervalSeconds', () => {
  it('reads seconds, minutes and hours; a bare number is seconds', () => {
    expect(parseIntervalSeconds('15s')).toBe(15);
    expect(parseIntervalSeconds('2m')).toBe(120);
    expect(parseIntervalSeconds('90')).toBe(90);
    expect(parseIntervalSeconds('1.5h')).toBe(5400);
    expect(parseIntervalSeconds(' 30 sec ')).toBe(30);
    expect(parseIntervalSeconds('1s')).toBe(1);
  });

  it('refuses anything else with a UserError naming the value', () => {
    for (const bad of ['xyz', '', '15 parsecs', '-5s', '1e3', '0.5s', '0', '2d', '25h']) {
      let err: unknown;
      try {
        parseIntervalSeconds(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(UserError);
      expect((err as UserError).message).toContain(JSON.stringify(bad));
      expect((err as UserError).exitCode).toBe(2);
    }
  });
});
