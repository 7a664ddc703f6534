import { describe, expect, it } from 'vitest';
import { UserError } from '../lib/errors.js';
import { top, type TopNode } from './node-top.js';
import { GiB, lab, nodeView, proc, snapshot } from '../../test/support/nodes.js';

describe('top', () => {
  it('lists busy processes per node, busiest first', () => {
    const m = top(lab());
    const cpu1 = m.table!.rows.filter((r) => r[0] === 'cpu1');
    expect(cpu1.map((r) => [r[1], r[2]])).toEqual([
      ['bob', '3180'],
      ['alice', '1590'],
      ['alice', '800'],
      ['carol', '2.5'],
    ]);
    expect(m.table!.columns).toEqual(['NODE', 'USER', '%CPU', '%MEM', 'RSS', 'ELAPSED', 'COMMAND']);
    expect(cpu1[0]![4]).toBe('200 GiB');
    expect(cpu1[0]![5]).toBe('1h 00m');
    expect(m.summary).toBe('8 busy processes on 3 of 5 nodes');
  });

  it('marks the rows of a node that is not fresh', () => {
    const nodes = lab();
    nodes.find((n) => n.host === 'gpu4')!.state = 'stale';
    const m = top(nodes);
    expect(m.table!.rows.some((r) => r[0] === 'gpu4 (stale)')).toBe(true);
    expect(m.footer).toMatch(/gpu4 is stale/);
    expect(m.severity).toBe('warning');
  });

  it('one node: no NODE column, all its processes; an unmeasured %CPU sorts last', () => {
    const n = nodeView(snapshot('x1', { busy: [proc('a', null, 5 * GiB, 'new'), proc('b', 50, 2 * GiB, 'half'), proc('c', 150, GiB, 'one and a half')] }));
    const m = top([n, ...lab()], { node: 'x1' });
    expect(m.title).toBe('Busy processes on x1');
    expect(m.table!.columns[0]).toBe('USER');
    expect(m.table!.rows.map((r) => r[0])).toEqual(['c', 'b', 'a']);
    expect(m.table!.rows[2]![1]).toBe('—');
  });

  it('across the cluster each node shows its busiest few, and says how many more', () => {
    const many = Array.from({ length: 25 }, (_, i) => proc('u', i, GiB, `job ${i}`));
    const m = top([nodeView(snapshot('big', { busy: many }))]);
    expect(m.table!.rows).toHaveLength(10);
    expect(m.table!.rows[0]![2]).toBe('24');
    expect(m.hints).toEqual([{ text: expect.stringMatching(/15 more\): \{command\} for all of one node$/), command: 'top', args: { node: 'NODE' } }]);
    expect((m.data!.nodes as TopNode[])[0]!.omitted).toBe(15);
    expect(top([nodeView(snapshot('big', { busy: many }))], { node: 'big' }).table!.rows).toHaveLength(25);
  });

  it('an unknown node is a UserError listing the known nodes', () => {
    expect(() => top(lab(), { node: 'gpu9' })).toThrow(UserError);
    expect(() => top(lab(), { node: 'gpu9' })).toThrow(/unknown node "gpu9"; known nodes: cpu1, gpu1, gpu2, gpu3, gpu4/);
  });

  it('finds a node by its short name', () => {
    const n = nodeView(snapshot('gpu7.lab.example.org', { busy: [proc('a', 10, GiB, 'x')] }));
    expect(top([n], { node: 'gpu7' }).title).toBe('Busy processes on gpu7.lab.example.org');
  });
});
