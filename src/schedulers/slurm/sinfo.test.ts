import { describe, expect, it } from 'vitest';
import { slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { SlurmParseError } from './fields.js';
import {
  SINFO_NODE_FORMAT,
  SINFO_PARTITION_FORMAT,
  parseCpuCounts,
  parseNodeState,
  parseSinfoNodes,
  parseSinfoPartitions,
  sinfoNodeArgs,
  sinfoPartitionArgs,
  uniqueNodes,
} from './sinfo.js';

const MiB = 1024 ** 2;

describe('sinfo: the formats flurm runs', () => {
  it('constants as capture.sh ran them', () => {
    const sh = slurmFixture('capture.sh');
    expect(sh).toContain(`SINFO_NODE_FORMAT='${SINFO_NODE_FORMAT}'\n`);
    expect(sh).toContain(`SINFO_PARTITION_FORMAT='${SINFO_PARTITION_FORMAT}'\n`);
    expect(sinfoNodeArgs()).toEqual(['-N', '-o', SINFO_NODE_FORMAT]);
    expect(sinfoPartitionArgs()).toEqual(['-o', SINFO_PARTITION_FORMAT]);
  });
});

describe('sinfo -N: the real node (slurm 22.05.8, 2 CPUs)', () => {
  it('both CPUs busy: allocated 2/0/0/2', () => {
    const [n] = parseSinfoNodes(slurmFixture('sinfo-nodes-allocated.txt')).nodes;
    expect(n).toMatchObject({ partition: 'debug', default_partition: true, state: 'allocated', state_flags: [], cpus: 2, cpu_counts: { allocated: 2, idle: 0, other: 0, total: 2 }, gres: [], gpus: null, reason: null });
  });

  it('one CPU busy: mixed 1/1/0/2, memory and free memory in bytes, load', () => {
    const { nodes } = parseSinfoNodes(slurmFixture('sinfo-nodes-mixed.txt'));
    expect(nodes).toHaveLength(1);
    const n = nodes[0]!;
    expect(n).toMatchObject({ state: 'mixed', cpu_counts: { allocated: 1, idle: 1, other: 0, total: 2 } });
    expect(n.memory_bytes).toBe(Number(n.fields.get('MEMORY')) * MiB);
    expect(n.free_memory_bytes!).toBeGreaterThan(0);
    expect(n.free_memory_bytes!).toBeLessThanOrEqual(n.memory_bytes!);
    expect(n.cpu_load!).toBeGreaterThanOrEqual(0);
    const { line: _a, fields: _b, ...withHeader } = parseSinfoNodes(slurmFixture('sinfo-nodes-header.txt')).nodes[0]!;
    const { line: _c, fields: _d, ...without } = n;
    expect(withHeader).toEqual(without);
  });

  it('partitions: debug (default), up, infinite, by node state', () => {
    expect(parseSinfoPartitions(slurmFixture('sinfo-partitions-allocated.txt')).partitions).toEqual([
      expect.objectContaining({ partition: 'debug', default_partition: true, avail: 'up', time_limit_seconds: null, nodes: 1, state: 'allocated', cpu_counts: { allocated: 2, idle: 0, other: 0, total: 2 }, gpus: null }),
    ]);
    const [p] = parseSinfoPartitions(slurmFixture('sinfo-partitions-header.txt')).partitions;
    expect(p).toMatchObject({ partition: 'debug', state: 'mixed', cpu_counts: { allocated: 1, idle: 1, other: 0, total: 2 } });
    expect(p!.node_list).toBe(parseSinfoNodes(slurmFixture('sinfo-nodes-mixed.txt')).nodes[0]!.node);
  });
});

describe('sinfo: hand-written forms from GPU clusters (none on the capture machine)', () => {
  const text = [
    'NODELIST|PARTITION|STATE|CPUS|CPUS(A/I/O/T)|MEMORY|FREE_MEM|GRES|CPU_LOAD|REASON',
    'gpu01|gpu*|mixed-|64|32/32/0/64|515000|401234|gpu:a100:4(S:0-1)|31.50|none',
    'gpu01|long|mixed-|64|32/32/0/64|515000|401234|gpu:a100:4(S:0-1)|31.50|none',
    'gpu02|gpu*|drained*|64|0/0/64/64|515000|N/A|gpu:a100:4(S:0-1),gpu:v100:2(S:1)|N/A|GPU 3 ECC errors | ticket 42',
    'cn01|cpu|idle~|128|0/128/0/128|256000|250000|(null)|0.00|none',
    'cn02|cpu|allocated+|128|128/0/0/128|256000|1000|(null)|128.01|none',
    'cn03|cpu|idle+drain|128|0/128/0/128|256000|250000|(null)|0.01|maintenance',
  ].join('\n');
  const { nodes } = parseSinfoNodes(text);

  it('GRES → GPU count and types', () => {
    expect(nodes[0]).toMatchObject({ node: 'gpu01', default_partition: true, state: 'mixed', state_flags: ['planned'], gpus: 4, gpu_types: ['a100'], cpu_load: 31.5, memory_bytes: 515000 * MiB });
    expect(nodes[0]!.gres).toEqual([{ name: 'gpu', type: 'a100', count: 4, detail: 'S:0-1' }]);
    expect(nodes[2]).toMatchObject({ gpus: 6, gpu_types: ['a100', 'v100'], free_memory_bytes: null, cpu_load: null });
  });

  it('state suffixes become flags; a reason may hold | and spaces', () => {
    expect(nodes.map((n) => [n.state, n.state_flags])).toEqual([
      ['mixed', ['planned']],
      ['mixed', ['planned']],
      ['drained', ['not_responding']],
      ['idle', ['powered_off']],
      ['allocated', ['completing']],
      ['idle', ['drain']],
    ]);
    expect(nodes[2]!.reason).toBe('GPU 3 ECC errors | ticket 42');
    expect(uniqueNodes(nodes).map((n) => n.node)).toEqual(['gpu01', 'gpu02', 'cn01', 'cn02', 'cn03']);
  });

  it('every suffix of man sinfo', () => {
    expect(parseNodeState('down*')).toEqual({ state: 'down', flags: ['not_responding'] });
    expect(parseNodeState('idle#').flags).toEqual(['powering_up']);
    expect(parseNodeState('idle!').flags).toEqual(['power_down_pending']);
    expect(parseNodeState('idle%').flags).toEqual(['powering_down']);
    expect(parseNodeState('maint$').flags).toEqual(['maintenance']);
    expect(parseNodeState('idle@').flags).toEqual(['reboot_pending']);
    expect(parseNodeState('mixed^').flags).toEqual(['reboot_issued']);
    expect(parseNodeState('DRAINING')).toEqual({ state: 'draining', flags: [] });
    expect(() => parseNodeState('??')).toThrow(SlurmParseError);
  });

  it('grouped partition rows: 1-day limit, counts with "+" (hand-written)', () => {
    const { partitions } = parseSinfoPartitions('gpu*|up|1-00:00:00|12|mixed|300/468/0/768|gpu:a100:4|gpu[01-12]\nlong|drain|7-00:00:00|2+|idle|0/128/0/128|(null)|cn[01-02]\n');
    expect(partitions[0]).toMatchObject({ partition: 'gpu', default_partition: true, time_limit_seconds: 86400, nodes: 12, gpus: 4 });
    expect(partitions[1]).toMatchObject({ partition: 'long', default_partition: false, avail: 'drain', time_limit_seconds: 7 * 86400, nodes: 2 });
  });

  it('garbage throws SlurmParseError naming line and field', () => {
    expect(() => parseSinfoNodes('vm|debug*|idle|2|2-0-0-2|24105|22347|(null)|1.31|none\n')).toThrow(/line 1: CPUS\(A\/I\/O\/T\): not CPUS/);
    expect(() => parseSinfoNodes('vm|debug*|idle|2|0/2/0/2|lots|22347|(null)|1.31|none\n')).toThrow(/line 1: MEMORY: not a count/);
    expect(() => parseSinfoNodes('vm|debug*|idle|2|0/2/0/2|24105|22347|(null)|high|none\n')).toThrow(/line 1: CPU_LOAD: not a load/);
    expect(() => parseSinfoNodes('NODELIST   PARTITION STATE\nvm debug* idle\n')).toThrow(/line 1: 1 fields where 10 were expected/);
    expect(() => parseSinfoPartitions('debug*|up|forever|1|idle|0/2/0/2|(null)|vm\n')).toThrow(/line 1: TIMELIMIT: not a duration/);
    expect(parseCpuCounts('N/A')).toBeNull();
  });
});
