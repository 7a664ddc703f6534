// The node snapshot, version 1: what `flurm agent` writes to <cluster dir>/nodes/<host>.json and
// the hub ingests. Types and limits only (no validation library), so the agent stays small; the
// hub validates untrusted files in hub/node-snapshot.ts. See docs/node-snapshot.md; bump
// SNAPSHOT_VERSION on any incompatible change.

export const SNAPSHOT_VERSION = 1;

/** Largest snapshot file a reader accepts. */
export const SNAPSHOT_MAX_BYTES = 2 * 1024 * 1024;
/** At most this many busy processes are listed (the busiest first). */
export const SNAPSHOT_MAX_BUSY = 200;
/** At most this many live (pid, start) pairs are listed; beyond it `pids_truncated` is set. */
export const SNAPSHOT_MAX_PIDS = 65_536;
/** Command lines in a snapshot are cut to this many characters. */
export const SNAPSHOT_CMD_MAX_CHARS = 256;
/** At most this many GPUs, and compute processes per GPU. */
export const SNAPSHOT_MAX_GPUS = 64;
export const SNAPSHOT_MAX_GPU_PROCS = 256;

/** Default thresholds for a "busy" process. */
export const BUSY_MIN_CPU_PCT = 2;
export const BUSY_MIN_RSS_BYTES = 1024 ** 3;

export interface SnapshotProcess {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot), as a decimal string like StartEvent.pid_start. */
  start: string;
  /** Unix user name (or the uid as a string when it has no name). */
  user: string;
  uid: number;
  /** %CPU between the last two samples (100 = one core). null on the first sample of a process. */
  cpu_pct: number | null;
  rss_bytes: number;
  /** rss / MemTotal × 100. */
  mem_pct: number;
  elapsed_seconds: number;
  /** Command line, cut to SNAPSHOT_CMD_MAX_CHARS. */
  cmd: string;
}

export interface SnapshotGpuProcess {
  pid: number;
  /** Owner from /proc/<pid>; null when the process is not visible (hidepid, other container). */
  user: string | null;
  uid: number | null;
  /** GPU memory used by this process; null when nvidia-smi says [N/A]. */
  mem_bytes: number | null;
  /** Process name as nvidia-smi reports it. */
  name: string;
}

export interface SnapshotGpu {
  index: number;
  uuid: string;
  name: string;
  /** Each is null when nvidia-smi reports [N/A] or [Not Supported]. */
  util_pct: number | null;
  mem_used_bytes: number | null;
  mem_total_bytes: number | null;
  temp_c: number | null;
  power_w: number | null;
  procs: SnapshotGpuProcess[];
}

export interface CollectorStatus {
  ok: boolean;
  /** Wall seconds the collector took. */
  seconds: number;
  /** Why it failed (ok=false) or what it could not see (ok=true, e.g. "hidepid"). */
  error?: string;
}

export interface NodeSnapshot {
  v: number;
  host: string;
  /** +1 per write of this host's file; the hub judges freshness only by seq changing. */
  seq: number;
  /** ISO-8601 UTC on the agent's clock: informative only, never compared with the hub's clock. */
  ts: string;
  /** How often the agent means to write (long-running --interval, or the cron period for --once). */
  interval_seconds: number;
  agent: { version: string; pid: number; user: string };
  uptime_seconds: number;
  cpus: number;
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  /** CPU busy % over the sample window (100 = all cores busy); null when not measured. */
  cpu_busy_pct: number | null;
  mem: { total_bytes: number; available_bytes: number; swap_total_bytes: number; swap_free_bytes: number };
  /**
   * Every process the agent could see, as [pid, start] pairs: the hub checks running jobs against
   * it. `pids_visible` is "all" when other users' processes can be seen, "own" under hidepid.
   */
  pids: [number, string][];
  pids_visible: 'all' | 'own';
  pids_truncated?: boolean;
  /** Processes at or above the busy thresholds, busiest first, at most SNAPSHOT_MAX_BUSY. */
  busy: SnapshotProcess[];
  /** null: no nvidia-smi on this node (or it failed: see collectors.gpu). */
  gpus: SnapshotGpu[] | null;
  collectors: Record<string, CollectorStatus>;
}
