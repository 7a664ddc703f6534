// The hub's answer to a history query (GET /api/v1/history, and the hub's DataSource): the range
// and step chosen once here (store/history.ts chooseRange), then the store's numbers; a report
// adds each user's ended jobs by result and their failures by first diagnosis (the hub's patterns,
// as the job-end messages said). The commands turn these into charts and tables.
import { UserError } from '../lib/errors.js';
import type { Diagnosis } from '../diagnose/diagnose.js';
import { JOB_RESULTS, type SampleResolution, type HistoryData, type HistoryQuery, type JobResult, type ReportUser } from '../model/history.js';
import { chooseRange, jobResult, type HistoryStore } from '../store/history.js';

export interface HistoryDeps {
  history: HistoryStore;
  /** How long each resolution is kept ([nodes] *_samples_days, store/history.ts retentionOf). */
  keep: Record<SampleResolution, number>;
  now: () => number;
  diagnose: (tail: readonly string[], exit: number | null, signal: string | null) => Diagnosis[];
}

/** The most buckets an answer has (a chart's width in points). */
export const HISTORY_MAX_POINTS = 200;

export function answerHistory(d: HistoryDeps, q: HistoryQuery): HistoryData {
  const now = d.now();
  if (!Number.isFinite(q.sinceMs) || !Number.isFinite(q.untilMs) || q.untilMs <= q.sinceMs) throw new UserError('the history range is empty: `since` must be before `until`');
  if (q.sinceMs < now - d.keep[3600]) throw new UserError(`history goes back ${Math.round(d.keep[3600] / 86_400_000)} days ([nodes] hour_samples_days); ask for less`);
  const untilMs = Math.min(q.untilMs, now + 60_000);
  if (q.kind === 'report') return { kind: 'report', ...report(d, q.sinceMs, untilMs) };
  const r = chooseRange(q.sinceMs, untilMs, d.keep, now, HISTORY_MAX_POINTS);
  if (q.kind === 'nodes') return { kind: 'nodes', ...d.history.nodes(q.metric, r, q.hosts) };
  if (q.kind === 'gpus') return { kind: 'gpus', ...d.history.gpus(r, q.hosts) };
  if (q.kind === 'slurm') return { kind: 'slurm', ...d.history.slurm(r, q.partition) };
  return { kind: 'jobs', ...d.history.jobs(r) };
}

function report(d: HistoryDeps, sinceMs: number, untilMs: number): { sinceMs: number; untilMs: number; users: ReportUser[] } {
  const by = new Map<string, ReportUser>();
  const user = (name: string): ReportUser => {
    let u = by.get(name);
    if (!u) by.set(name, (u = { user: name, core_hours: 0, gpu_hours: 0, mem_gb_hours: 0, slurm_core_hours: 0, slurm_gpu_hours: 0, jobs: { succeeded: 0, failed: 0, other: 0 }, failures: [] }));
    return u;
  };
  for (const u of d.history.usage(sinceMs, untilMs)) Object.assign(user(u.user), u);
  const failures = new Map<string, Map<string, number>>();
  for (const j of d.history.endedJobs(sinceMs, untilMs)) {
    const result: JobResult = jobResult(j.state);
    user(j.user).jobs[result]++;
    if (result !== 'failed') continue;
    const first = d.diagnose(j.tail, j.exit, j.signal)[0];
    const name = first ? first.description : 'no diagnosis';
    const f = failures.get(j.user) ?? new Map<string, number>();
    f.set(name, (f.get(name) ?? 0) + 1);
    failures.set(j.user, f);
  }
  for (const [name, f] of failures) user(name).failures = [...f].map(([diagnosis, count]) => ({ diagnosis, count })).sort((a, b) => b.count - a.count || a.diagnosis.localeCompare(b.diagnosis));
  const users = [...by.values()].sort((a, b) => b.core_hours - a.core_hours || b.gpu_hours - a.gpu_hours || JOB_RESULTS.reduce((s, r) => s + b.jobs[r] - a.jobs[r], 0) || a.user.localeCompare(b.user));
  return { sinceMs, untilMs, users };
}
