// Parser for what `sbatch` prints on stdout when it accepts a job: `Submitted batch job 29`,
// `Submitted batch job 29 on cluster localci` (with -M), or with --parsable `18` / `31;localci`.
// An array job (`--array=0-3`) prints only the array's job id (`39`): its tasks are 39_0..39_3.
// Pure; sbatch's errors and warnings go to stderr and are the caller's to report.
import { SlurmParseError, boundedLines, sample } from './fields.js';

export interface SbatchSubmission {
  job_id: number;
  /** The cluster, when sbatch named one (--parsable with -M, or "on cluster X"). */
  cluster: string | null;
  /** Which form it was printed in. */
  form: 'parsable' | 'plain';
}

const PLAIN_RE = /^Submitted batch job (\d+)(?: on cluster (\S+))?$/;
const PARSABLE_RE = /^(\d+)(?:;(\S+))?$/;

/**
 * The job id (and cluster) from sbatch's stdout, in either form. Other lines (site job_submit
 * plugin messages printed on stdout) are skipped; the last matching line wins. Throws
 * SlurmParseError when no line is a submission.
 */
export function parseSbatchOutput(text: string): SbatchSubmission {
  const { lines } = boundedLines(text, 1000);
  let found: SbatchSubmission | null = null;
  for (const raw of lines) {
    const line = raw.trim();
    const plain = PLAIN_RE.exec(line);
    if (plain) {
      found = { job_id: Number(plain[1]), cluster: plain[2] ?? null, form: 'plain' };
      continue;
    }
    const parsable = PARSABLE_RE.exec(line);
    if (parsable) found = { job_id: Number(parsable[1]), cluster: parsable[2] ?? null, form: 'parsable' };
  }
  if (!found) {
    const first = lines.find((l) => l.trim() !== '') ?? '';
    throw new SlurmParseError('sbatch', `no job id (expected "Submitted batch job N" or --parsable "N[;cluster]"): ${sample(first)}`);
  }
  if (!Number.isSafeInteger(found.job_id) || found.job_id <= 0) throw new SlurmParseError('sbatch', `bad job id ${found.job_id}`);
  return found;
}

/** The ids of an array's tasks as SLURM names them ("39" and [0,1] → ["39_0", "39_1"]). */
export function arrayTaskIds(arrayJobId: number, taskIds: readonly number[]): string[] {
  return taskIds.map((t) => `${arrayJobId}_${t}`);
}
