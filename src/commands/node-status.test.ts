import { describe, expect, it } from 'vitest';
import { renderText } from '../frontends/text/render.js';
import { nodeStatus, type StatusRow } from './node-status.js';
import { lab } from '../../test/support/nodes.js';

describe('status', () => {
  const m = nodeStatus(lab());
  const row = (host: string) => m.table!.rows.find((r) => r[0] === host)!;
  const col = (name: string) => m.table!.columns.indexOf(name);

  it('has a line per node, sorted by host, and a summary by state', () => {
    expect(m.table!.rows.map((r) => r[0])).toEqual(['cpu1', 'gpu1', 'gpu2', 'gpu3', 'gpu4']);
    expect(m.summary).toBe('5 nodes: 3 fresh, 1 down, 1 waiting');
    expect(m.severity).toBe('warning');
  });

  it('marks a down node so it shows without colour, and a waiting node has no age', () => {
    expect(row('gpu2')[col('STATE')]).toMatch(/DOWN/);
    expect(row('gpu2')[col('AGE')]).toBe('2h');
    expect(row('gpu3')[col('STATE')]).toBe('waiting');
    expect(row('gpu3')[col('AGE')]).toBe('—');
    expect(row('gpu1')[col('AGE')]).toBe('12s');
  });

  it('shows 5-min load over cores, CPU, memory used/total, GPUs busy/total and active users', () => {
    expect(row('cpu1')[col('LOAD/CORES')]).toBe('58.3/64');
    expect(row('cpu1')[col('CPU')]).toBe('91%');
    expect(row('cpu1')[col('MEM')]).toBe('383/503 GiB');
    expect(row('cpu1')[col('GPUS')]).toBe('—');
    expect(row('cpu1')[col('USERS')]).toBe('alice, bob, carol');
    // The GPU held idle by carol counts as busy, and carol is on the node.
    expect(row('gpu1')[col('GPUS')]).toBe('1/8');
    expect(row('gpu1')[col('USERS')]).toBe('carol');
    expect(row('gpu4')[col('GPUS')]).toBe('3/4');
    expect(row('gpu4')[col('USERS')]).toBe('dave, erin');
  });

  it('carries the rows as data and renders as text', () => {
    const rows = m.data!.nodes as StatusRow[];
    expect(rows.find((r) => r.host === 'gpu1')).toMatchObject({ state: 'fresh', gpus_busy: 1, gpus_total: 8, cpus: 32 });
    const text = renderText(m);
    expect(text).toContain('Cluster status');
    expect(text).toMatch(/gpu2\s+DOWN/);
  });

  it('says what to do when no node is known', () => {
    expect(nodeStatus([]).summary).toMatch(/flurm agent/);
  });
});
