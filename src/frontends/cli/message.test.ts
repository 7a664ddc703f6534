import { describe, expect, it } from 'vitest';
import type { Message } from '../../model/message.js';
import { renderMessageForTerminal } from './message.js';

const m: Message = {
  title: 'Cluster status',
  severity: 'info',
  summary: '3 nodes',
  fields: [{ name: 'Why', value: 'one\ntwo' }],
  table: {
    columns: ['NODE', 'USERS', 'STATE', 'AGE'],
    rows: [
      ['gpu1', 'élodie, bob', 'fresh', '12s'],
      ['gpu10', '—', 'DOWN ✗', '2h'],
      ['x', '', 'waiting', '—'],
    ],
  },
  footer: 'note',
};

describe('renderMessageForTerminal', () => {
  it('without colour: title, summary, fields, table, footer', () => {
    const text = renderMessageForTerminal(m, { colour: false });
    expect(text).toBe(
      ['Cluster status\n3 nodes', 'Why: one\n  two', 'NODE   USERS        STATE    AGE\ngpu1   élodie, bob  fresh    12s\ngpu10  —            DOWN ✗   2h\nx                   waiting  —', 'note'].join('\n\n') + '\n',
    );
  });

  it('paints exactly the cells of the named column, and nothing moves', () => {
    const text = renderMessageForTerminal(m, { colour: true, columnColours: { column: 'STATE', colours: ['green', 'red', null] } });
    expect(text).toContain('\u001b[32mfresh\u001b[39m');
    expect(text).toContain('\u001b[31mDOWN ✗\u001b[39m');
    expect(text).not.toMatch(/\u001b\[\d+mwaiting/);
    expect(text.replace(/\u001b\[\d+m/g, '')).toBe(renderMessageForTerminal(m, { colour: false }));
  });
});
