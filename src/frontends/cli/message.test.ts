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
    states: [[null, null, 'ok'], [null, null, 'bad'], [null, null, null]],
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

  it('paints exactly the cells that have a state, and nothing moves', () => {
    const text = renderMessageForTerminal(m, { colour: true });
    expect(text).toContain('\u001b[32mfresh\u001b[39m');
    expect(text).toContain('\u001b[31mDOWN ✗\u001b[39m');
    expect(text).not.toMatch(/\u001b\[\d+mwaiting/);
    expect(text.replace(/\u001b\[\d+m/g, '')).toBe(renderMessageForTerminal(m, { colour: false }));
  });

  it('renders a hint in the syntax it is given, after the footer', () => {
    const hinted: Message = { title: 'No node fits', severity: 'failure', titleState: 'bad', footer: 'note', hints: [{ text: 'SLURM is here too: {command} asks it', command: 'best', args: { slurm: true } }] };
    const text = renderMessageForTerminal(hinted, { colour: false, renderHint: (h) => `flurm ${h.command} --slurm` });
    expect(text).toBe('No node fits\n\nnote · SLURM is here too: `flurm best --slurm` asks it\n');
    expect(renderMessageForTerminal(hinted, { colour: true })).toContain('\u001b[31mNo node fits\u001b[39m');
  });
});
