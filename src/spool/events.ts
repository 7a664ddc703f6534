// The spool protocol, version 1: the event types every writer (Node CLI, bash shell-init) emits
// and the hub ingests. This file is types and limits only, so the `flurm run` path can import it
// for free. Validation of untrusted lines lives in spool/validate.ts (hub side).
// See docs/spool-protocol.md; bump SPOOL_VERSION on any incompatible change.
import type { LinkChat } from './link-code.js';

export const SPOOL_VERSION = 1;

/** Largest event line a writer emits and a reader accepts (bytes, newline included). */
export const MAX_EVENT_BYTES = 64 * 1024;
/** At most this many lines of log tail travel in an `end` event. */
export const TAIL_MAX_LINES = 50;
/** Each tail line is cut to this many characters. */
export const TAIL_MAX_LINE_CHARS = 500;
/** The whole tail is cut (oldest lines first) to this many bytes. */
export const TAIL_MAX_BYTES = 16 * 1024;
/** Titles, messages and command lines are cut to these sizes. */
export const TITLE_MAX_CHARS = 200;
export const MESSAGE_MAX_CHARS = 4000;
export const COMMAND_MAX_CHARS = 4000;
/** cwd and log paths are cut to this many characters. */
export const PATH_MAX_CHARS = 4096;
/** Most extra destinations (`to`) one event carries, and the longest URL of one. */
export const TO_MAX_ENTRIES = 16;
export const TO_URL_MAX_CHARS = 2048;

export type EventType = 'start' | 'end' | 'note' | 'slurm' | 'link' | 'login';

export interface EventBase {
  /** Schema version (SPOOL_VERSION of the writer). */
  v: number;
  type: EventType | string;
  /** ULID. For jobs, `start` and `end` share the job's id. */
  id: string;
  /** ISO-8601 UTC on the writer's clock. */
  ts: string;
  user: string;
  host: string;
  /** Which writer produced it: "node" (flurm CLI), "bash" (shell-init), "legacy" (~/.pingchilling). */
  src?: string;
  /** Unknown fields are kept by readers. */
  [extra: string]: unknown;
}

export interface StartEvent extends EventBase {
  type: 'start';
  pid: number;
  /** Process start time in clock ticks since boot, /proc/<pid>/stat field 22, as a decimal string ("0": unknown). */
  pid_start: string;
  cwd?: string;
  title?: string;
  /** The command line as the user typed it (absent with --hide-command). */
  cmd?: string;
  /** Extra destinations for this job only (`flurm run --to URL`). */
  to?: string[];
  /** Log file the job writes to (detached jobs, --log). */
  log?: string;
  detached?: boolean;
  /** Written by `flurm watch`: flurm did not start this process. */
  attached?: boolean;
}

export interface EndEvent extends EventBase {
  type: 'end';
  /** Exit status, or null when killed by a signal or not known (`flurm watch`). */
  exit: number | null;
  /** Signal name ("SIGKILL") when the job was killed by a signal. */
  signal?: string | null;
  /** True when flurm could not learn how the process ended (`flurm watch` of a non-child). */
  exit_unknown?: boolean;
  wall_seconds: number;
  cpu_seconds?: number | null;
  /** Peak resident memory of the whole process tree, sampled (bytes). */
  peak_rss_bytes?: number | null;
  /** Last lines of the job's output or log (bounded by the TAIL_* limits). */
  tail?: string[];
  /** Where `to`/title can be repeated so an `end` alone is enough to notify. */
  title?: string;
  cmd?: string;
  to?: string[];
}

export interface NoteEvent extends EventBase {
  type: 'note';
  title?: string;
  message: string;
  to?: string[];
}

/** SLURM job ids are digits; an array task is registered as its array (one unit). */
export const SLURM_JOB_ID_RE = /^\d{1,12}$/;
/** Array specs as sbatch --array takes them ("0-15%4", "1,3,5-7"). */
export const SLURM_ARRAY_MAX_CHARS = 1024;
/** Longest SLURM cluster, job or partition name a `slurm` event carries. */
export const SLURM_NAME_MAX_CHARS = 256;

/**
 * `slurm`: a batch job handed to SLURM (`flurm submit`, `flurm watch --slurm`). From here the hub
 * owns the job: its poller asks SLURM, and the `end` is made by the hub from SLURM's final record.
 * Additive to protocol v1 (old hubs ignore an unknown type). See docs/slurm.md.
 */
export interface SlurmEvent extends EventBase {
  type: 'slurm';
  slurm: {
    /** The job id sbatch printed; for an array, the array's job id (%A). */
    job_id: string;
    /** ClusterName from `sbatch --parsable` ("id;cluster"), else null. */
    cluster?: string | null;
    /** The --array spec as given ("0-15%4"); absent or null for a plain job. */
    array?: string | null;
    /** Number of array tasks (null for a plain job). */
    tasks?: number | null;
    /** --job-name (%x), else the script's base name, as sbatch names it. */
    name?: string | null;
    /** --partition as requested, when given. */
    partition?: string | null;
  };
  /** flurm's title (--title), if any. */
  title?: string;
  /** The command as typed ("sbatch -p gpu train.sh --lr 3"); absent with --hide-command. */
  cmd?: string;
  /** Where sbatch ran (the submit directory). */
  cwd?: string;
  /**
   * stdout / stderr of the batch script: sbatch filename PATTERNS made absolute against the job's
   * working directory, not expanded ("/home/a/proj/slurm-%j.out"). The hub expands them per task
   * once it knows the node (%N) and task (%a). `error` null or absent: stderr goes to `output`.
   */
  output?: string | null;
  error?: string | null;
  to?: string[];
  /** Written by `flurm watch --slurm`: submitted with plain sbatch, flurm learned of it later. */
  attached?: boolean;
}

/**
 * `link`: `flurm link CODE` links the owner of the spool file to the chat account that asked for
 * CODE (/link in Discord, /flurm link in Slack; the code names which); `flurm unlink` writes
 * `unlink: true` (and no code) to end the owner's links, or with `chat` the link in that chat.
 * The hub checks the code's signature and age (spool/link-code.ts, hub/links.ts). Additive to
 * protocol v1 (old hubs ignore an unknown type). See docs/linking.md.
 */
export interface LinkEvent extends EventBase {
  type: 'link';
  /** The code (`flurm link` writes it in dashed groups; any form that parses is read; at most LINK_CODE_MAX_CHARS). */
  code?: string;
  /** True: end this user's link (made with `flurm link`); comes without `code`. */
  unlink?: boolean;
  /** With `unlink`: only this chat's link ends (absent: every chat's). */
  chat?: LinkChat;
}

/**
 * `login`: `flurm dashboard` asks to sign the owner of the spool file in to the hub's web page or
 * API. It carries only the SHA-256 of a one-time code (spool/login-code.ts), never the code: the
 * hub accepts the code, once, within minutes of reading this event. Additive to protocol v1 (old
 * hubs ignore an unknown type). See docs/access.md.
 */
export interface LoginEvent extends EventBase {
  type: 'login';
  /** SHA-256 of the code, 64 lower-case hex digits. */
  hash: string;
}

export type SpoolEvent = StartEvent | EndEvent | NoteEvent | SlurmEvent | LinkEvent | LoginEvent;

/** Cut `s` to `max` characters, marking the cut with an ellipsis. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  return s.slice(0, Math.max(0, max - 1)) + '…';
}

/**
 * Bound a log tail: last TAIL_MAX_LINES lines, each at most TAIL_MAX_LINE_CHARS, at most
 * TAIL_MAX_BYTES in all (oldest lines dropped first). Control characters other than tab are
 * removed so a tail never carries terminal escapes into a chat message.
 */
export function boundTail(lines: string[]): string[] {
  const out: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0 && out.length < TAIL_MAX_LINES; i--) {
    // eslint-disable-next-line no-control-regex
    const clean = clip(lines[i]!.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ''), TAIL_MAX_LINE_CHARS);
    const b = Buffer.byteLength(clean) + 1;
    if (bytes + b > TAIL_MAX_BYTES) break;
    bytes += b;
    out.push(clean);
  }
  return out.reverse();
}
