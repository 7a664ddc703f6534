import { describe, expect, it } from 'vitest';
import { slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { SlurmParseError } from './fields.js';
import {
  SINFO_NODE_FIELDS,
  SINFO_NODE_FORMAT,
  SINFO_NODE_FORMAT_LONG,
  SINFO_PARTITION_FORMAT,
  parseCpuCounts,
  parseNodeState,
  parseSinfoLong,
  parseSinfoNodes,
  parseSinfoPartitions,
  sinfoArgs,
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
    // exit-codes.tsv: `sinfo --noheader -N -o %N|%P|%T|%c|%C|%m|%e|%G|%O|%E`, `sinfo -o %P|%a|%l|%D|%T|%C|%G|%N`
    expect(sinfoNodeArgs()).toEqual(['-N', '-o', '%N|%P|%T|%c|%C|%m|%e|%G|%O|%E']);
    expect(sinfoPartitionArgs()).toEqual(['-o', '%P|%a|%l|%D|%T|%C|%G|%N']);
  });
});

describe('sinfo -N: the real node (slurm 22.05.8, 2 CPUs)', () => {
  it('both CPUs busy: allocated 2/0/0/2', () => {
    // vm|debug*|allocated|2|2/0/0/2|24105|23642|(null)|0.43|none
    const [n] = parseSinfoNodes(slurmFixture('sinfo-nodes-allocated.txt')).nodes;
    expect(n).toMatchObject({ node: 'vm', partition: 'debug', default_partition: true, state: 'allocated', state_flags: [], cpus: 2, cpu_counts: { allocated: 2, idle: 0, other: 0, total: 2 }, memory_bytes: 24105 * MiB, free_memory_bytes: 23642 * MiB, gres: [], gpus: null, cpu_load: 0.43, reason: null });
  });

  it('one CPU busy: mixed 1/1/0/2, memory and free memory in bytes, load', () => {
    const { nodes } = parseSinfoNodes(slurmFixture('sinfo-nodes-mixed.txt'));
    expect(nodes).toHaveLength(1);
    const n = nodes[0]!;
    // vm|debug*|mixed|2|1/1/0/2|24105|23550|(null)|0.44|none
    expect(n).toMatchObject({ node: 'vm', partition: 'debug', default_partition: true, state: 'mixed', state_flags: [], cpus: 2, cpu_counts: { allocated: 1, idle: 1, other: 0, total: 2 }, gres: [], gpus: null, reason: null });
    expect(n.memory_bytes).toBe(24105 * MiB);
    expect(n.free_memory_bytes).toBe(23550 * MiB);
    expect(n.cpu_load).toBe(0.44);
    const { line: _a, fields: _b, ...withHeader } = parseSinfoNodes(slurmFixture('sinfo-nodes-header.txt')).nodes[0]!;
    const { line: _c, fields: _d, ...without } = n;
    expect(withHeader).toEqual(without);
  });

  it('partitions: debug (default), up, infinite, by node state', () => {
    expect(parseSinfoPartitions(slurmFixture('sinfo-partitions-allocated.txt')).partitions).toEqual([
      expect.objectContaining({ partition: 'debug', default_partition: true, avail: 'up', time_limit_seconds: null, nodes: 1, state: 'allocated', cpu_counts: { allocated: 2, idle: 0, other: 0, total: 2 }, gpus: null }),
    ]);
    // PARTITION|AVAIL|TIMELIMIT|NODES|STATE|CPUS(A/I/O/T)|GRES|NODELIST
    // debug*|up|infinite|1|mixed|1/1/0/2|(null)|vm
    const [p] = parseSinfoPartitions(slurmFixture('sinfo-partitions-header.txt')).partitions;
    expect(p).toMatchObject({ partition: 'debug', default_partition: true, avail: 'up', time_limit_seconds: null, nodes: 1, state: 'mixed', cpu_counts: { allocated: 1, idle: 1, other: 0, total: 2 }, gpus: null });
    expect(p!.node_list).toBe('vm');
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

describe('sinfo -N -O: nodes and partitions in one call (real, slurm 22.05.8, views-*.txt)', () => {
  it('the fields flurm runs, as views-capture.sh ran them', () => {
    expect(SINFO_NODE_FIELDS.at(-1)).toBe('Reason'); // the free-text field last
    expect(sinfoArgs()).toEqual(['-N', '-O', 'NodeList:|,Partition:|,Available:|,Time:|,StateLong:|,CPUsState:|,Memory:|,AllocMem:|,FreeMem:|,Gres:|,GresUsed:|,CPUsLoad:|,Reason:|']);
    expect(slurmFixture('views-capture.sh')).toContain(`SINFO_NODE_FIELDS='${SINFO_NODE_FORMAT_LONG}'\n`);
    const tsv = slurmFixture('views-exit-codes.tsv');
    expect(tsv).toContain(`views-sinfo-idle.txt\t0\tsinfo -N -O ${SINFO_NODE_FORMAT_LONG}\n`);
  });

  it('idle: partition avail and limit, CPUs, memory, allocated and free memory, no GRES; with or without header', () => {
    const { rows, truncated } = parseSinfoLong(slurmFixture('views-sinfo-idle.txt'));
    expect(truncated).toBe(false);
    expect(rows).toHaveLength(1);
    // vm|debug*|up|infinite|idle|0/2/0/2|24105|0|23275|(null)|(null)|0.49|none|
    const r = rows[0]!;
    expect(r).toMatchObject({
      node: 'vm',
      partition: 'debug',
      default_partition: true,
      avail: 'up',
      time_limit_seconds: null,
      state: 'idle',
      state_flags: [],
      cpus: 2,
      cpu_counts: { allocated: 0, idle: 2, other: 0, total: 2 },
      memory_bytes: 24105 * MiB,
      alloc_memory_bytes: 0,
      free_memory_bytes: 23275 * MiB,
      cpu_load: 0.49,
      gres: [],
      gpus: null,
      gres_used: [],
      gpus_alloc: 0,
      reason: null,
    });
    const { line: _a, fields: _b, ...bare } = parseSinfoLong(slurmFixture('views-sinfo-idle-noheader.txt')).rows[0]!;
    const { line: _c, fields: _d, ...withHeader } = r;
    expect(bare).toEqual(withHeader);
  });

  it('one job (DefMemPerCPU=1024): mixed 1/1/0/2 and 1 GiB allocated; two jobs: allocated 2/0/0/2, 2 GiB', () => {
    expect(parseSinfoLong(slurmFixture('views-sinfo-running.txt')).rows[0]).toMatchObject({ state: 'mixed', cpu_counts: { allocated: 1, idle: 1, other: 0, total: 2 }, alloc_memory_bytes: 1024 * MiB });
    expect(parseSinfoLong(slurmFixture('views-sinfo-allocated.txt')).rows[0]).toMatchObject({ state: 'allocated', cpu_counts: { allocated: 2, idle: 0, other: 0, total: 2 }, alloc_memory_bytes: 2048 * MiB });
  });

  it('drain with jobs on it: draining; once they are gone: drained, its CPUs "other"; the reason keeps its "|"', () => {
    const draining = parseSinfoLong(slurmFixture('views-sinfo-draining.txt')).rows[0]!;
    expect(draining).toMatchObject({ state: 'draining', state_flags: [], cpu_counts: { allocated: 2, idle: 0, other: 0, total: 2 }, reason: 'views capture | drain test' });
    const drained = parseSinfoLong(slurmFixture('views-sinfo-drained.txt')).rows[0]!;
    expect(drained).toMatchObject({ state: 'drained', cpu_counts: { allocated: 0, idle: 0, other: 2, total: 2 }, alloc_memory_bytes: 0, reason: 'views capture | drain test' });
  });
});

describe('sinfo -N -O: HAND-WRITTEN GPU cluster (views-handwritten-gpu-sinfo.txt; no GPU on the capture machine)', () => {
  const { rows } = parseSinfoLong(slurmFixture('views-handwritten-gpu-sinfo.txt'));
  const row = (node: string, partition: string) => rows.find((r) => r.node === node && r.partition === partition)!;

  it('one row per node and partition, each with its partition avail and time limit', () => {
    expect(rows).toHaveLength(11);
    expect(row('cpu01', 'cpu')).toMatchObject({ default_partition: true, avail: 'up', time_limit_seconds: 86400 });
    expect(row('cpu01', 'long')).toMatchObject({ default_partition: false, time_limit_seconds: 7 * 86400 });
    expect(row('cpu03', 'old')).toMatchObject({ avail: 'down', time_limit_seconds: 12 * 3600 });
  });

  it('GRES and GresUsed: typed, all used, some used, none used (IDX:N/A), untyped gpu:0', () => {
    expect(row('gpu01', 'gpu')).toMatchObject({ gpus: 4, gpu_types: ['a100'], gpus_alloc: 4, gres_used: [{ name: 'gpu', type: 'a100', count: 4, detail: 'IDX:0-3' }] });
    expect(row('gpu02', 'gpu')).toMatchObject({ gpus: 4, gpus_alloc: 1 });
    expect(row('gpu03', 'gpu')).toMatchObject({ gpus: 4, gpus_alloc: 0, gres_used: [{ name: 'gpu', type: 'a100', count: 0, detail: 'IDX:N/A' }] });
    expect(row('gpu05', 'gpu')).toMatchObject({ gpus: 4, gpu_types: [], gpus_alloc: 0, state: 'down', state_flags: ['not_responding'] });
    expect(row('gpu04', 'gpu')).toMatchObject({ gpus: 8, gpu_types: ['v100'], state: 'drained', state_flags: ['not_responding'], free_memory_bytes: null, cpu_load: null, reason: 'GPU 3 ECC errors' });
    expect(row('cpu02', 'cpu')).toMatchObject({ gpus: null, gpus_alloc: 0 });
  });

  it('a node with GPUs whose GresUsed says nothing: GPUs in use unknown (null), not 0', () => {
    const text = 'gpu09|gpu|up|infinite|idle|0/8/0/8|1000|0|900|gpu:2|(null)|0.00|none|\n';
    expect(parseSinfoLong(text).rows[0]).toMatchObject({ node: 'gpu09', gpus: 2, gpus_alloc: null });
  });

  it('garbage throws SlurmParseError naming line and field; old -o output is refused', () => {
    const head = 'NODELIST|PARTITION|AVAIL|TIMELIMIT|STATE|CPUS(A/I/O/T)|MEMORY|ALLOCMEM|FREE_MEM|GRES|GRES_USED|CPU_LOAD|REASON|\n';
    expect(() => parseSinfoLong(`${head}vm|debug*|up|forever|idle|0/2/0/2|24105|0|23275|(null)|(null)|0.49|none|\n`)).toThrow(/line 2: TIMELIMIT: not a duration/);
    expect(() => parseSinfoLong(`${head}vm|debug*|up|infinite|idle|0/2/0/2|24105|lots|23275|(null)|(null)|0.49|none|\n`)).toThrow(/line 2: ALLOCMEM: not a count/);
    expect(() => parseSinfoLong(slurmFixture('sinfo-nodes-mixed.txt'))).toThrow(SlurmParseError);
    expect(parseSinfoLong('')).toEqual({ rows: [], truncated: false });
    expect(parseSinfoLong(`${head}${'vm|debug*|up|infinite|idle|0/2/0/2|24105|0|23275|(null)|(null)|0.49|none|\n'.repeat(5)}`, { maxLines: 3 })).toMatchObject({ truncated: true });
  });
});
