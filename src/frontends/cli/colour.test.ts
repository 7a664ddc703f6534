import { describe, expect, it } from 'vitest';
import { nodeStateCell } from '../../model/node-facts.js';
import { colourEnabled, paint } from './colour.js';
import { stateColourOf } from './message.js';

describe('colour', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };

  it('is on only on a TTY, with NO_COLOR unset or empty and TERM not dumb', () => {
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colourEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('FORCE_COLOR forces it anywhere, as in Node; FORCE_COLOR=0 does not', () => {
    expect(colourEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourEnabled(tty, { FORCE_COLOR: 'false' })).toBe(true);
  });

  it('paints only when on', () => {
    expect(paint('fresh', 'green', true)).toBe('\u001b[32mfresh\u001b[39m');
    expect(paint('fresh', 'green', false)).toBe('fresh');
    expect(paint('x', null, true)).toBe('x');
    expect((['fresh', 'stale', 'down', 'waiting'] as const).map((s) => stateColourOf(nodeStateCell(s)))).toEqual(['green', 'yellow', 'red', null]);
  });
});
