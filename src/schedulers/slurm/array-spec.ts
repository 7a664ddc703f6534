// sbatch job array index specifications (`--array=0-15%4`, `1,3,5-11:2`, `0-9:3`) to task ids,
// and task ids back to a short range string for messages.
//
// The grammar is slurmctld's (slurm_parse_array_tok in src/common/slurm_protocol_defs.c, Slurm
// 26.11): comma-separated tokens, each `N`, `N-M` or `N-M:STEP`, optionally wrapped in `[ ]`, and
// a `%LIMIT` suffix giving the most tasks that may run at once (the first `%` in the whole spec
// counts, as slurmctld reads it). Indexes run from 0 to MaxArraySize - 1 (default MaxArraySize is
// 1001); SchedulerParameters=max_array_tasks can lower the task count. Anything bigger is refused
// before a single id is enumerated, so a typo like `0-1000000000` costs nothing.
import { UserError } from '../../lib/errors.js';

/** slurm.conf's default MaxArraySize: indexes 0..1000. */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;
/** The largest MaxArraySize slurm.conf accepts ("The value may not exceed 4000001"). */
export const MAX_ARRAY_SIZE_LIMIT = 4_000_001;

export interface ArraySpecLimits {
  /** The cluster's MaxArraySize: every index must be below it. Default 1001. */
  maxArraySize?: number;
  /** SchedulerParameters=max_array_tasks: the most tasks in one array. Default maxArraySize. */
  maxArrayTasks?: number;
}

export interface ArraySpec {
  /** The spec as given. */
  spec: string;
  /** Task ids, ascending, without duplicates (slurmctld keeps a bitmap). */
  taskIds: number[];
  /** The `%N` limit on simultaneously running tasks; null when absent (or 0, which Slurm ignores). */
  maxRunning: number | null;
}

// One token: [ first ] [ - last ] [ ] ] [ : step ] [ ] ] [ %limit ]. slurmctld strips a "]" after
// each number, which is how `[0-3]` (squeue's own notation) is accepted, and ignores what follows a
// '%' in a token.
const TOKEN_RE = /^\[?(\d+)\]?(?:-(\d+)\]?(?::(\d+)\]?)?)?(?:%.*)?$/;

function bad(spec: string, why: string): UserError {
  return new UserError(`--array=${spec}: ${why}; use indexes like 0-15, 1,3,5-11:2 or 0-99%10`);
}

function toInt(text: string, spec: string): number {
  // Digits only (the regex); refuse numbers too long to be exact rather than rounding them.
  if (text.length > 15) throw bad(spec, `index ${text} is too large`);
  return Number(text);
}

/** Parse an sbatch `--array` spec into task ids. Throws UserError naming the spec when it is invalid or too large. */
export function parseArraySpec(spec: string, limits: ArraySpecLimits = {}): ArraySpec {
  const maxArraySize = limits.maxArraySize ?? DEFAULT_MAX_ARRAY_SIZE;
  if (!Number.isInteger(maxArraySize) || maxArraySize < 0 || maxArraySize > MAX_ARRAY_SIZE_LIMIT) {
    throw new UserError(`MaxArraySize ${maxArraySize} is out of range (0 to ${MAX_ARRAY_SIZE_LIMIT})`);
  }
  const maxTasks = Math.min(limits.maxArrayTasks ?? maxArraySize, maxArraySize);
  if (maxArraySize === 0) throw bad(spec, 'job arrays are disabled on this cluster (MaxArraySize=0)');
  const text = String(spec);
  if (text.trim() === '') throw bad(text, 'the index list is empty');

  const ranges: Array<{ first: number; last: number; step: number }> = [];
  // strtok_r(",") skips empty tokens ("1,,3" is 1 and 3), so do we.
  for (const tok of text.split(',').filter((t) => t !== '')) {
    const m = TOKEN_RE.exec(tok);
    if (!m) throw bad(text, `"${tok}" is not an index, a range N-M or a stepped range N-M:S (with an optional %LIMIT)`);
    const first = toInt(m[1]!, text);
    const last = m[2] !== undefined ? toInt(m[2], text) : first;
    const step = m[3] !== undefined ? toInt(m[3], text) : 1;
    if (last < first) throw bad(text, `range ${first}-${last} runs backwards`);
    if (step <= 0 || step >= maxArraySize) throw bad(text, `step ${step} must be between 1 and ${maxArraySize - 1}`);
    if (last >= maxArraySize) {
      throw bad(text, `index ${last} is above the largest allowed index ${maxArraySize - 1} (MaxArraySize=${maxArraySize})`);
    }
    ranges.push({ first, last, step });
  }
  if (ranges.length === 0) throw bad(text, 'the index list is empty');

  // The throttle is read the way slurmctld does: atoi() of what follows the first '%', so "%",
  // "%0" and even "%x" mean no limit (sbatch 22.05 takes `--array=0-3%x` as 0-3).
  let maxRunning: number | null = null;
  const pct = text.indexOf('%');
  if (pct >= 0) {
    const digits = /^\d*/.exec(text.slice(pct + 1))![0];
    const n = digits === '' ? 0 : toInt(digits, text);
    maxRunning = n > 0 ? n : null;
  }

  // Bits of a bitmap of MaxArraySize (≤ 4000001): bounded by the index check above.
  const seen = new Uint8Array(maxArraySize);
  for (const r of ranges) for (let i = r.first; i <= r.last; i += r.step) seen[i] = 1;
  const taskIds: number[] = [];
  for (let i = 0; i < seen.length; i++) if (seen[i]) taskIds.push(i);
  if (taskIds.length > maxTasks) {
    throw bad(text, `${taskIds.length} tasks is more than the ${maxTasks} this cluster allows in one array`);
  }
  return { spec: text, taskIds, maxRunning };
}

/** `[0,1,2,3,7,9,10]` → `"0-3,7,9-10"`: ascending runs of consecutive ids (input order and duplicates do not matter). */
export function formatTaskIds(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
