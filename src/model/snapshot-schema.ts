// Validating a node snapshot file that an agent wrote into the shared cluster dir: the hub (and the
// CLI fallback) trust nothing in it beyond its shape. parseSnapshot() names the field that is
// wrong; readSnapshotFile() adds the bounded, no-symlink, no-FIFO read.
import { z } from 'zod';
import {
  SNAPSHOT_CMD_MAX_CHARS,
  SNAPSHOT_MAX_BUSY,
  SNAPSHOT_MAX_BYTES,
  SNAPSHOT_MAX_GPU_PROCS,
  SNAPSHOT_MAX_GPUS,
  SNAPSHOT_MAX_PIDS,
  SNAPSHOT_VERSION,
  type NodeSnapshot,
} from './snapshot.js';
import { readSmallText } from '../lib/small-file.js';
import { formatPath } from '../lib/field-path.js';

const num = z.number().finite();
const nonneg = num.nonnegative();
const nullableNum = num.nullable();
const short = (max: number) => z.string().max(max);

const processSchema = z.object({
  pid: z.number().int().positive(),
  start: z.string().regex(/^\d{1,20}$/),
  user: short(64),
  uid: z.number().int().nonnegative(),
  cpu_pct: nonneg.nullable(),
  rss_bytes: nonneg,
  mem_pct: nonneg,
  elapsed_seconds: nonneg,
  cmd: short(SNAPSHOT_CMD_MAX_CHARS * 2),
});

const gpuSchema = z.object({
  index: z.number().int().nonnegative(),
  uuid: short(128),
  name: short(128),
  util_pct: nullableNum,
  mem_used_bytes: nullableNum,
  mem_total_bytes: nullableNum,
  temp_c: nullableNum,
  power_w: nullableNum,
  procs: z
    .array(
      z.object({
        pid: z.number().int().positive(),
        user: short(64).nullable(),
        uid: z.number().int().nonnegative().nullable(),
        mem_bytes: nullableNum,
        name: short(SNAPSHOT_CMD_MAX_CHARS * 2),
      }),
    )
    .max(SNAPSHOT_MAX_GPU_PROCS),
});

export const snapshotSchema = z.object({
  v: z.number().int().positive(),
  host: z.string().min(1).max(253),
  seq: z.number().int().nonnegative(),
  ts: short(64),
  interval_seconds: num.positive().max(86_400),
  agent: z.object({ version: short(64), pid: z.number().int().nonnegative(), user: short(64) }),
  uptime_seconds: nonneg,
  cpus: z.number().int().positive().max(100_000),
  load: z.tuple([nonneg, nonneg, nonneg]),
  cpu_busy_pct: nonneg.max(100.5).nullable(),
  mem: z.object({ total_bytes: nonneg, available_bytes: nonneg, swap_total_bytes: nonneg, swap_free_bytes: nonneg }),
  pids: z.array(z.tuple([z.number().int().positive(), z.string().regex(/^\d{1,20}$/)])).max(SNAPSHOT_MAX_PIDS),
  pids_visible: z.enum(['all', 'own']),
  pids_truncated: z.boolean().optional(),
  busy: z.array(processSchema).max(SNAPSHOT_MAX_BUSY),
  gpus: z.array(gpuSchema).max(SNAPSHOT_MAX_GPUS).nullable(),
  collectors: z.record(z.string().max(64), z.object({ ok: z.boolean(), seconds: nonneg, error: short(1000).optional() })),
});

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** Parse and validate snapshot JSON text; throws SnapshotError naming what is wrong. */
export function parseSnapshot(text: string): NodeSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SnapshotError(`not JSON: ${(err as Error).message}`);
  }
  const v = (raw as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v > SNAPSHOT_VERSION) {
    throw new SnapshotError(`snapshot version ${v} is newer than this flurm understands (${SNAPSHOT_VERSION}); upgrade the hub`);
  }
  const r = snapshotSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new SnapshotError(`${formatPath(i.path)}: ${i.message}`);
  }
  return r.data as NodeSnapshot;
}

/** Read and validate one nodes/<host>.json (bounded, never through a symlink or into a FIFO). */
export function readSnapshotFile(file: string): NodeSnapshot {
  let text: string;
  try {
    text = readSmallText(file, SNAPSHOT_MAX_BYTES);
  } catch (err) {
    throw new SnapshotError((err as Error).message);
  }
  return parseSnapshot(text);
}
