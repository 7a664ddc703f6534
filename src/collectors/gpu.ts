// NVIDIA GPUs from `nvidia-smi`, run through lib/exec.ts (timeout, output cap) with two queries:
//   --query-gpu=index,uuid,name,utilization.gpu,memory.total,memory.used,temperature.gpu,power.draw
//   --query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory
// both with --format=csv, header kept. The parser is header-driven: columns are found by field
// name ("memory.used [MiB]" → memory.used), units are taken from the value ("81920 MiB",
// "250.00 W", "45 %") or else from the header, so output captured with or without `nounits`, with
// more or fewer columns, in any order, parses. Any bracketed value ([N/A], [Not Supported],
// [Unknown Error], [Insufficient Permissions]...) and a bare N/A mean null.
//
// A process name may itself contain ", " (nvidia-smi does not quote): the extra cells of a row
// are given back to its one free-text column (process_name, or name).
//
// No nvidia-smi on the node → gpus null, status ok with "nvidia-smi not found" (found by looking
// along PATH first, so GPU-less nodes never fork). nvidia-smi failing (no driver: "NVIDIA-SMI has
// failed because it couldn't communicate with the NVIDIA driver...", exit 9) → the collector
// throws with that message: gpus null, status ok:false. Compute apps failing alone keeps the GPUs.
import fs from 'node:fs';
import { execCommand, findExecutable } from '../lib/exec.js';
import { errorMessage } from '../lib/errors.js';
import { userNameOf } from '../lib/users.js';
import { SNAPSHOT_CMD_MAX_CHARS, SNAPSHOT_MAX_GPU_PROCS, SNAPSHOT_MAX_GPUS, type SnapshotGpu, type SnapshotGpuProcess } from '../model/snapshot.js';
import { type CollectorResult, type ProcRootOptions } from './types.js';

export const GPU_QUERY_FIELDS = 'index,uuid,name,utilization.gpu,memory.total,memory.used,temperature.gpu,power.draw';
export const APPS_QUERY_FIELDS = 'gpu_uuid,pid,process_name,used_gpu_memory';

export class GpuError extends Error {
  override name = 'GpuError';
}

// ---- pure parsers ------------------------------------------------------------------------------

export interface NvidiaCsv {
  /** Field names from the header, units removed ("memory.used"). */
  fields: string[];
  /** Unit from the header per field ("MiB"), or undefined. */
  units: (string | undefined)[];
  /** Cells by field name. */
  rows: Map<string, string>[];
}

/**
 * Split nvidia-smi `--format=csv` output (header line first) into named cells. `freeText` names
 * the column that takes back the extra cells of a row with more cells than the header (a
 * process name holding ", "). Throws when there is no header line.
 */
export function parseNvidiaCsv(text: string, freeText?: string): NvidiaCsv {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0];
  if (header === undefined) throw new GpuError('nvidia-smi printed nothing');
  const cols = header.split(',').map((h) => h.trim());
  const fields: string[] = [];
  const units: (string | undefined)[] = [];
  for (const c of cols) {
    const m = /^(.*?)\s*\[([^\]]*)\]$/.exec(c);
    fields.push((m ? m[1]! : c).trim());
    units.push(m ? m[2] : undefined);
  }
  if (!fields.every((f) => /^[A-Za-z_][\w.]*$/.test(f))) {
    throw new GpuError(`not nvidia-smi CSV with a header: ${JSON.stringify(header.slice(0, 120))}`);
  }
  const free = freeText === undefined ? -1 : fields.indexOf(freeText);
  const rows: Map<string, string>[] = [];
  for (const line of lines.slice(1)) {
    let cells = line.split(', ');
    if (cells.length > fields.length && free >= 0) {
      const extra = cells.length - fields.length;
      cells = [...cells.slice(0, free), cells.slice(free, free + extra + 1).join(', '), ...cells.slice(free + extra + 1)];
    }
    if (cells.length !== fields.length) continue; // a line we do not understand; skip it
    const row = new Map<string, string>();
    fields.forEach((f, i) => row.set(f, cells[i]!.trim()));
    rows.push(row);
  }
  return { fields, units, rows };
}

/** True for nvidia-smi's "no value" spellings: [N/A], [Not Supported], [Unknown Error], N/A, empty. */
export function isNullCell(cell: string | undefined): boolean {
  if (cell === undefined) return true;
  const c = cell.trim();
  return c === '' || /^\[.*\]$/.test(c) || /^n\/a$/i.test(c);
}

/** A number and its unit ("81920 MiB" → 81920, "MiB"); the header's unit when the value has none. */
export function parseCellNumber(cell: string | undefined, headerUnit?: string): { value: number; unit: string | undefined } | null {
  if (isNullCell(cell)) return null;
  const m = /^([-+]?\d+(?:\.\d+)?)\s*([A-Za-z%/]+)?$/.exec(cell!.trim());
  if (!m) return null;
  const value = Number(m[1]);
  return Number.isFinite(value) ? { value, unit: m[2] ?? headerUnit } : null;
}

const BYTES_PER: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3 };

/** A memory cell in bytes; nvidia-smi reports MiB, which is also assumed when no unit is given. */
export function parseMemoryBytes(cell: string | undefined, headerUnit?: string): number | null {
  const n = parseCellNumber(cell, headerUnit);
  if (n === null) return null;
  const per = BYTES_PER[n.unit ?? 'MiB'];
  return per === undefined ? null : Math.round(n.value * per);
}

function unitOf(csv: NvidiaCsv, field: string): string | undefined {
  const i = csv.fields.indexOf(field);
  return i < 0 ? undefined : csv.units[i];
}

function num(csv: NvidiaCsv, row: Map<string, string>, field: string): number | null {
  return parseCellNumber(row.get(field), unitOf(csv, field))?.value ?? null;
}

/** First field present in the header out of `names` (nvidia-smi spells some two ways). */
function pick(csv: NvidiaCsv, ...names: string[]): string {
  return names.find((n) => csv.fields.includes(n)) ?? names[0]!;
}

/** GPUs from `--query-gpu=... --format=csv` output (procs empty; see joinComputeApps). */
export function parseGpuQuery(text: string): SnapshotGpu[] {
  const csv = parseNvidiaCsv(text, 'name');
  const uuidF = pick(csv, 'uuid', 'gpu_uuid');
  const nameF = pick(csv, 'name', 'gpu_name');
  const totalF = pick(csv, 'memory.total');
  const usedF = pick(csv, 'memory.used');
  return csv.rows.slice(0, SNAPSHOT_MAX_GPUS).map((row, i) => {
    const index = num(csv, row, 'index');
    return {
      index: index !== null && Number.isInteger(index) && index >= 0 ? index : i,
      uuid: isNullCell(row.get(uuidF)) ? '' : row.get(uuidF)!.slice(0, 128),
      name: (row.get(nameF) ?? '').slice(0, 128),
      util_pct: num(csv, row, 'utilization.gpu'),
      mem_used_bytes: parseMemoryBytes(row.get(usedF), unitOf(csv, usedF)),
      mem_total_bytes: parseMemoryBytes(row.get(totalF), unitOf(csv, totalF)),
      temp_c: num(csv, row, 'temperature.gpu'),
      power_w: num(csv, row, pick(csv, 'power.draw', 'power.draw.average', 'power.draw.instant')),
      procs: [],
    };
  });
}

export interface ComputeApp {
  gpu_uuid: string;
  pid: number;
  name: string;
  mem_bytes: number | null;
}

/** Compute processes from `--query-compute-apps=... --format=csv` output. */
export function parseComputeApps(text: string): ComputeApp[] {
  const csv = parseNvidiaCsv(text, 'process_name');
  const memF = pick(csv, 'used_gpu_memory', 'used_memory');
  const out: ComputeApp[] = [];
  for (const row of csv.rows) {
    const pid = Number(row.get('pid'));
    if (!Number.isInteger(pid) || pid <= 0) continue; // [N/A] pid: nothing to attribute
    out.push({
      gpu_uuid: row.get('gpu_uuid') ?? '',
      pid,
      name: (isNullCell(row.get('process_name')) ? '' : row.get('process_name')!).slice(0, SNAPSHOT_CMD_MAX_CHARS),
      mem_bytes: parseMemoryBytes(row.get(memF), unitOf(csv, memF)),
    });
  }
  return out;
}

/** Attach each compute process to its GPU by uuid (a process whose GPU is not listed is dropped). */
export function joinComputeApps(gpus: SnapshotGpu[], apps: ComputeApp[], owners: Map<number, { uid: number | null; user: string | null }>): SnapshotGpu[] {
  const byUuid = new Map(gpus.filter((g) => g.uuid).map((g) => [g.uuid, g]));
  for (const app of apps) {
    const gpu = byUuid.get(app.gpu_uuid);
    if (!gpu || gpu.procs.length >= SNAPSHOT_MAX_GPU_PROCS) continue;
    const owner = owners.get(app.pid) ?? { uid: null, user: null };
    const proc: SnapshotGpuProcess = { pid: app.pid, user: owner.user, uid: owner.uid, mem_bytes: app.mem_bytes, name: app.name };
    gpu.procs.push(proc);
  }
  return gpus;
}

/** The first meaningful line of nvidia-smi's complaint. */
export function nvidiaSmiFailure(stdout: string, stderr: string, exitCode: number): string {
  const line = [stderr, stdout]
    .flatMap((t) => t.split('\n'))
    .map((l) => l.trim())
    .find((l) => l !== '');
  return (line ?? `nvidia-smi exited with status ${exitCode}`).slice(0, 500);
}

// ---- reader ------------------------------------------------------------------------------------

export interface GpuOptions extends ProcRootOptions {
  /** nvidia-smi to run: a path, or a name looked up along PATH. Default "nvidia-smi". */
  nvidiaSmi?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** uid → user name; default lib/users.ts userNameOf. */
  userNameOf?: (uid: number) => Promise<string>;
}

const EVERY_EXIT_CODE = Array.from({ length: 256 }, (_, i) => i);
const OUTPUT_CAP_BYTES = 1 << 20;

async function runNvidiaSmi(file: string, args: string[], opts: GpuOptions): Promise<string> {
  const r = await execCommand(file, args, {
    timeoutMs: opts.timeoutMs ?? 5000,
    maxOutputBytes: OUTPUT_CAP_BYTES,
    env: opts.env,
    okExitCodes: EVERY_EXIT_CODE,
  });
  if (r.exitCode !== 0) throw new GpuError(nvidiaSmiFailure(r.stdout, r.stderr, r.exitCode));
  return r.stdout;
}

/** Owner (uid, user) of each pid from <procRoot>/PID; null when the process is not visible here. */
async function ownersOf(pids: number[], opts: GpuOptions): Promise<Map<number, { uid: number | null; user: string | null }>> {
  const nameOf = opts.userNameOf ?? userNameOf;
  const out = new Map<number, { uid: number | null; user: string | null }>();
  for (const pid of new Set(pids)) {
    let uid: number | null = null;
    try {
      uid = fs.statSync(`${opts.procRoot ?? '/proc'}/${pid}`).uid;
    } catch {
      /* another PID namespace, hidepid=2, or gone */
    }
    out.set(pid, { uid, user: uid === null ? null : (await nameOf(uid)).slice(0, 64) });
  }
  return out;
}

export async function collectGpus(opts: GpuOptions = {}): Promise<CollectorResult<SnapshotGpu[] | null>> {
  const file = findExecutable(opts.nvidiaSmi ?? 'nvidia-smi', opts.env);
  if (file === null) return { value: null, note: 'nvidia-smi not found' };
  const [gpuR, appsR] = await Promise.allSettled([
    runNvidiaSmi(file, [`--query-gpu=${GPU_QUERY_FIELDS}`, '--format=csv'], opts),
    runNvidiaSmi(file, [`--query-compute-apps=${APPS_QUERY_FIELDS}`, '--format=csv'], opts),
  ]);
  if (gpuR.status === 'rejected') {
    const err = gpuR.reason as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    // Vanished between the PATH look-up and the spawn: the same as not installed.
    if (err?.cause?.code === 'ENOENT') return { value: null, note: 'nvidia-smi not found' };
    throw err instanceof Error ? err : new GpuError(errorMessage(err));
  }
  const gpus = parseGpuQuery(gpuR.value);
  if (appsR.status === 'rejected') return { value: gpus, note: `compute apps: ${errorMessage(appsR.reason)}` };
  let apps: ComputeApp[];
  try {
    apps = parseComputeApps(appsR.value);
  } catch (err) {
    return { value: gpus, note: `compute apps: ${errorMessage(err)}` };
  }
  return { value: joinComputeApps(gpus, apps, await ownersOf(apps.map((a) => a.pid), opts)) };
}
