// Parsers for `sinfo` in two `|`-separated forms: per node (`-N -o SINFO_NODE_FORMAT`) and per
// partition (`-o SINFO_PARTITION_FORMAT`). Typed: node state split from its flag suffixes, the
// `%C` CPU counts allocated/idle/other/total, memory in bytes, GRES → GPU count and type, CPU
// load, partition time limit in seconds. Header-driven when the header line is there.
//
// Facts (slurm-wlm 22.05.8 man sinfo(1), test/fixtures/slurm):
// - %P marks the default partition with `*` ("debug*"); it is stripped into `default_partition`.
// - %T is the long state in lower case (idle, mixed, allocated, drained, draining, down...) with
//   one-character flags appended: `*` not responding, `~` powered off, `#` powering up, `!`
//   pending power down, `%` powering down, `$` maintenance reservation, `@` pending reboot, `^`
//   reboot issued, `-` planned by backfill; `allocated+` / `mixed+` mean jobs completing. Newer
//   versions may join states with `+` ("idle+drain"): the extra words go to `flags` too.
// - %C is "A/I/O/T"; %m and %e are MB (%e "N/A" when unknown); %O is the load (N/A when
//   unknown); %G is "(null)" without GRES, else e.g. "gpu:a100:4(S:0-1)"; %E is "none" without a
//   reason. Grouped (non -N) output may print "2+" for counts that differ between nodes.
// - Per partition, %T splits a partition into one row per node state.
import {
  type GresEntry,
  type PipeRow,
  SlurmParseError,
  cellOf,
  field,
  fieldReader,
  gresGpus,
  looksLikeHeader,
  nullable,
  parseDurationSeconds,
  parseFormatTable,
  parseGres,
  parsePipeTable,
  sample,
} from './fields.js';

/** Per node: name, partition, state, CPUs, CPUs A/I/O/T, memory MB, free MB, GRES, load, reason. */
export const SINFO_NODE_FORMAT = '%N|%P|%T|%c|%C|%m|%e|%G|%O|%E';
/** Per partition (and node state): name, avail, time limit, nodes, state, CPUs A/I/O/T, GRES, nodes. */
export const SINFO_PARTITION_FORMAT = '%P|%a|%l|%D|%T|%C|%G|%N';

export const SINFO_HEADERS: Readonly<Record<string, string>> = {
  N: 'NODELIST',
  n: 'HOSTNAMES',
  P: 'PARTITION',
  R: 'PARTITION',
  T: 'STATE',
  t: 'STATE',
  c: 'CPUS',
  C: 'CPUS(A/I/O/T)',
  m: 'MEMORY',
  e: 'FREE_MEM',
  G: 'GRES',
  O: 'CPU_LOAD',
  E: 'REASON',
  f: 'AVAIL_FEATURES',
  a: 'AVAIL',
  l: 'TIMELIMIT',
  D: 'NODES',
};

export function sinfoNodeArgs(): string[] {
  return ['-N', '-o', SINFO_NODE_FORMAT];
}

export function sinfoPartitionArgs(): string[] {
  return ['-o', SINFO_PARTITION_FORMAT];
}

/** Node state flag suffixes (man sinfo, NODE STATE CODES). */
export const NODE_STATE_FLAGS: Readonly<Record<string, string>> = {
  '*': 'not_responding',
  '~': 'powered_off',
  '#': 'powering_up',
  '!': 'power_down_pending',
  '%': 'powering_down',
  $: 'maintenance',
  '@': 'reboot_pending',
  '^': 'reboot_issued',
  '-': 'planned',
  '+': 'completing',
};

export interface NodeState {
  /** The base state, lower case: idle, mixed, allocated, drained, draining, down, ... */
  state: string;
  /** Flag names from suffixes and `+`-joined extra states ("drain" of "idle+drain"). */
  flags: string[];
}

/** `mixed-` → { mixed, [planned] }; `down*` → { down, [not_responding] }; `idle+drain` → { idle, [drain] }. */
export function parseNodeState(text: string): NodeState {
  let t = text.trim().toLowerCase();
  const flags: string[] = [];
  while (t.length > 1 && NODE_STATE_FLAGS[t[t.length - 1]!] !== undefined) {
    flags.unshift(NODE_STATE_FLAGS[t[t.length - 1]!]!);
    t = t.slice(0, -1);
  }
  const [base, ...extra] = t.split('+');
  if (!base || !/^[a-z_]+$/.test(base)) throw new SlurmParseError('slurm', `not a node state: ${sample(text)}`);
  for (const e of extra) if (e !== '' && !flags.includes(e)) flags.push(e);
  return { state: base, flags };
}

export interface CpuCounts {
  allocated: number;
  idle: number;
  other: number;
  total: number;
}

/** `%C`: "1/1/0/2" → allocated/idle/other/total. */
export function parseCpuCounts(text: string | undefined): CpuCounts | null {
  const t = nullable(text);
  if (t === null) return null;
  const m = /^(\d+)\/(\d+)\/(\d+)\/(\d+)$/.exec(t);
  if (!m) throw new SlurmParseError('slurm', `not CPUS(A/I/O/T): ${sample(t)}`);
  return { allocated: Number(m[1]), idle: Number(m[2]), other: Number(m[3]), total: Number(m[4]) };
}

/** A count that grouped sinfo output may print as "2+" (at least 2). */
function countPlus(text: string | undefined): number | null {
  const t = nullable(text);
  if (t === null) return null;
  const m = /^(\d+)\+?$/.exec(t);
  if (!m) throw new SlurmParseError('slurm', `not a count: ${sample(t)}`);
  return Number(m[1]);
}

function mbBytes(text: string | undefined): number | null {
  const n = countPlus(text);
  return n === null ? null : n * 1024 * 1024;
}

function partitionName(text: string | undefined): { name: string | null; isDefault: boolean } {
  const t = nullable(text);
  if (t === null) return { name: null, isDefault: false };
  return t.endsWith('*') ? { name: t.slice(0, -1), isDefault: true } : { name: t, isDefault: false };
}

export interface SinfoNode {
  line: number;
  node: string;
  partition: string | null;
  /** The partition is the cluster's default (sinfo's `*`). */
  default_partition: boolean;
  state: string | null;
  state_flags: string[];
  cpus: number | null;
  cpu_counts: CpuCounts | null;
  memory_bytes: number | null;
  free_memory_bytes: number | null;
  gres: GresEntry[];
  /** Sum of the `gpu` GRES; null when none. */
  gpus: number | null;
  /** GPU types ("a100"), distinct, in order. */
  gpu_types: string[];
  cpu_load: number | null;
  /** Why the node is down/drained; null for none. */
  reason: string | null;
  fields: Map<string, string>;
}

export interface SinfoPartition {
  line: number;
  partition: string;
  default_partition: boolean;
  /** up, down, drain, inact. */
  avail: string | null;
  /** null for infinite. */
  time_limit_seconds: number | null;
  nodes: number | null;
  /** The node state of this row's nodes (sinfo splits a partition by state). */
  state: string | null;
  state_flags: string[];
  cpu_counts: CpuCounts | null;
  gres: GresEntry[];
  gpus: number | null;
  node_list: string | null;
  fields: Map<string, string>;
}

function stateOf(command: string, row: PipeRow): NodeState | null {
  const t = nullable(cellOf(row, 'STATE'));
  return t === null ? null : field(command, row.line, 'STATE', () => parseNodeState(t));
}

function parseNodeRow(row: PipeRow): SinfoNode {
  const line = row.line;
  const f = fieldReader('sinfo', line, (name) => cellOf(row, name));
  const node = nullable(cellOf(row, 'NODELIST', 'HOSTNAMES'));
  if (node === null) throw new SlurmParseError('sinfo', 'empty node name', { line, field: 'NODELIST' });
  const part = partitionName(cellOf(row, 'PARTITION'));
  const st = stateOf('sinfo', row);
  const gres = parseGres(cellOf(row, 'GRES'));
  const load = nullable(cellOf(row, 'CPU_LOAD'));
  if (load !== null && !/^\d+(\.\d+)?$/.test(load)) throw new SlurmParseError('sinfo', `not a load: ${sample(load)}`, { line, field: 'CPU_LOAD' });
  return {
    line,
    node,
    partition: part.name,
    default_partition: part.isDefault,
    state: st?.state ?? null,
    state_flags: st?.flags ?? [],
    cpus: f('CPUS', countPlus),
    cpu_counts: f('CPUS(A/I/O/T)', parseCpuCounts),
    memory_bytes: f('MEMORY', mbBytes),
    free_memory_bytes: f('FREE_MEM', mbBytes),
    gres,
    gpus: gresGpus(gres),
    gpu_types: [...new Set(gres.filter((g) => g.name === 'gpu' && g.type !== null).map((g) => g.type!))],
    cpu_load: load === null ? null : Number(load),
    reason: nullable(cellOf(row, 'REASON')),
    fields: row.cells,
  };
}

function parsePartitionRow(row: PipeRow): SinfoPartition {
  const line = row.line;
  const f = fieldReader('sinfo', line, (name) => cellOf(row, name));
  const part = partitionName(cellOf(row, 'PARTITION'));
  if (part.name === null) throw new SlurmParseError('sinfo', 'empty partition name', { line, field: 'PARTITION' });
  const st = stateOf('sinfo', row);
  const gres = parseGres(cellOf(row, 'GRES'));
  return {
    line,
    partition: part.name,
    default_partition: part.isDefault,
    avail: nullable(cellOf(row, 'AVAIL')),
    time_limit_seconds: f('TIMELIMIT', parseDurationSeconds),
    nodes: f('NODES', countPlus),
    state: st?.state ?? null,
    state_flags: st?.flags ?? [],
    cpu_counts: f('CPUS(A/I/O/T)', parseCpuCounts),
    gres,
    gpus: gresGpus(gres),
    node_list: nullable(cellOf(row, 'NODELIST')),
    fields: row.cells,
  };
}

export interface SinfoOptions {
  /** The `-o` format of output without a header line. */
  format?: string;
  maxLines?: number;
}

function table(text: string, format: string, opts: SinfoOptions) {
  return parseFormatTable(text, { command: 'sinfo', format: opts.format ?? format, headers: SINFO_HEADERS, freeText: 'REASON', maxLines: opts.maxLines });
}

/** Parse `sinfo -N -o SINFO_NODE_FORMAT` (one row per node and partition). */
export function parseSinfoNodes(text: string, opts: SinfoOptions = {}): { nodes: SinfoNode[]; truncated: boolean } {
  const t = table(text, SINFO_NODE_FORMAT, opts);
  return { nodes: t.rows.map(parseNodeRow), truncated: t.truncated };
}

/** Parse `sinfo -o SINFO_PARTITION_FORMAT` (one row per partition and node state). */
export function parseSinfoPartitions(text: string, opts: SinfoOptions = {}): { partitions: SinfoPartition[]; truncated: boolean } {
  const t = table(text, SINFO_PARTITION_FORMAT, opts);
  return { partitions: t.rows.map(parsePartitionRow), truncated: t.truncated };
}

/** Nodes listed once per partition by `-N`: one entry per node name (the first row's values). */
export function uniqueNodes(nodes: readonly SinfoNode[]): SinfoNode[] {
  const seen = new Map<string, SinfoNode>();
  for (const n of nodes) if (!seen.has(n.node)) seen.set(n.node, n);
  return [...seen.values()];
}

// ---- one call for nodes AND partitions: `sinfo -N -O SINFO_NODE_FIELDS` ----------------------
//
// Facts (slurm-wlm 22.05.8 man sinfo(1) --Format, test/fixtures/slurm/views-*.txt):
// - Each field is `Type:|`: no size (so no padding, no cut: "If no size is specified, 20
//   characters" applies to `Type` alone, not to `Type:suffix`) and `|` appended. So every line,
//   the header included, ENDS with `|`: "vm|debug*|up|infinite|idle|...|none|".
// - Headers: NODELIST PARTITION AVAIL TIMELIMIT STATE CPUS(A/I/O/T) MEMORY ALLOCMEM FREE_MEM GRES
//   GRES_USED CPU_LOAD REASON. Memory, AllocMem and FreeMem are MB (FreeMem N/A when unknown).
// - One row per node and partition, so each partition's avail and time limit come with its nodes.
// - StateLong is %T (state + flag suffixes); a drained node reads "drained" (0/0/2/2: its CPUs are
//   "other"), a drained node still running jobs "draining" (2/0/0/2).
// - GresUsed is "(null)" without GRES, else like "gpu:a100:2(IDX:0-1)" or "gpu:0" (hand-written:
//   no GPU on the capture machine).
// - Reason is free text and may hold `|` ("views capture | drain test"): it is the last field.

/** sinfo --Format types, in order; Reason last (free text). Each is printed `Type:|`. */
export const SINFO_NODE_FIELDS = [
  'NodeList',
  'Partition',
  'Available',
  'Time',
  'StateLong',
  'CPUsState',
  'Memory',
  'AllocMem',
  'FreeMem',
  'Gres',
  'GresUsed',
  'CPUsLoad',
  'Reason',
] as const;

/** The header sinfo prints for each --Format type (22.05 spelling). */
export const SINFO_FIELD_HEADERS: Readonly<Record<(typeof SINFO_NODE_FIELDS)[number], string>> = {
  NodeList: 'NODELIST',
  Partition: 'PARTITION',
  Available: 'AVAIL',
  Time: 'TIMELIMIT',
  StateLong: 'STATE',
  CPUsState: 'CPUS(A/I/O/T)',
  Memory: 'MEMORY',
  AllocMem: 'ALLOCMEM',
  FreeMem: 'FREE_MEM',
  Gres: 'GRES',
  GresUsed: 'GRES_USED',
  CPUsLoad: 'CPU_LOAD',
  Reason: 'REASON',
};

/** The `-O` argument: "NodeList:|,Partition:|,...,Reason:|". */
export const SINFO_NODE_FORMAT_LONG = SINFO_NODE_FIELDS.map((f) => `${f}:|`).join(',');

/** Arguments for the one sinfo call behind the SLURM views (header kept). */
export function sinfoArgs(): string[] {
  return ['-N', '-O', SINFO_NODE_FORMAT_LONG];
}

/** A row of `sinfo -N -O SINFO_NODE_FORMAT_LONG`: one node in one partition. */
export interface SinfoNodeRow extends SinfoNode {
  /** The partition's availability: up, down, drain, inact. */
  avail: string | null;
  /** The partition's time limit; null for infinite. */
  time_limit_seconds: number | null;
  /** Memory allocated to jobs (AllocMem), bytes. */
  alloc_memory_bytes: number | null;
  /** GRES in use (GresUsed). */
  gres_used: GresEntry[];
  /** GPUs in use: 0 on a node without GPUs; null when the node has GPUs but GresUsed does not say. */
  gpus_alloc: number | null;
}

const LONG_HEADERS = Object.values(SINFO_FIELD_HEADERS);

/**
 * Parse `sinfo -N -O SINFO_NODE_FORMAT_LONG` (with or without `-h`). Header-driven: with the header
 * line, columns are found by name in any order. The `|` that ends every line is dropped first.
 * Throws SlurmParseError naming the line and field.
 */
export function parseSinfoLong(text: string, opts: { maxLines?: number } = {}): { rows: SinfoNodeRow[]; truncated: boolean } {
  const t = parsePipeTable(text.replace(/\|(?=\r?\n|$)/g, ''), {
    command: 'sinfo',
    columns: SINFO_NODE_FIELDS.map((f) => SINFO_FIELD_HEADERS[f]),
    isHeader: (cells) => looksLikeHeader(cells, LONG_HEADERS),
    freeText: 'REASON',
    maxLines: opts.maxLines,
  });
  const rows = t.rows.map((row): SinfoNodeRow => {
    const base = parseNodeRow(row);
    const line = row.line;
    const used = parseGres(cellOf(row, 'GRES_USED'));
    const usedGpus = gresGpus(used);
    return {
      ...base,
      cpus: base.cpus ?? base.cpu_counts?.total ?? null,
      avail: nullable(cellOf(row, 'AVAIL')),
      time_limit_seconds: field('sinfo', line, 'TIMELIMIT', () => parseDurationSeconds(cellOf(row, 'TIMELIMIT'))),
      alloc_memory_bytes: field('sinfo', line, 'ALLOCMEM', () => mbBytes(cellOf(row, 'ALLOCMEM'))),
      gres_used: used,
      gpus_alloc: usedGpus ?? (base.gpus === null ? 0 : null),
    };
  });
  return { rows, truncated: t.truncated };
}
