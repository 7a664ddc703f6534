// What the buttons under a failure message do, for every chat (Discord's and Slack's): Log (the
// last lines the job's `end` carried), Mute 1 h (that user's messages held, a job's own --to
// still sent) and Diagnosis (every known pattern in those lines). Only the job's owner may use
// them; the chat front end says who pressed (its link to a unix user) and renders the answer.
import { formatLocalTime } from '../lib/time.js';
import type { Message } from '../model/message.js';
import { withJobName } from '../model/job-name.js';
import type { JobStore } from '../store/jobs.js';
import type { MuteStore } from '../store/bot.js';
import type { Enqueuer } from './enqueue.js';

export const MUTE_MS = 3_600_000;
export type JobAction = 'log' | 'mute' | 'diag';

export interface JobActionDeps {
  jobs: JobStore;
  mutes: MuteStore;
  enqueuer: Pick<Enqueuer, 'diagnose'>;
  now: () => number;
}

const notice = (title: string, summary: string, severity: Message['severity'] = 'info'): Message[] => [{ title, severity, summary }];

/** Whether a message about job `refId` gets the buttons (failed or vanished), and Diagnosis among them. */
export function jobButtons(jobs: JobStore, refId: string | undefined): { jobId: string; diagnosis: boolean } | null {
  const job = refId ? jobs.get(refId) : null;
  return job && (job.state === 'failed' || job.state === 'vanished') ? { jobId: job.id, diagnosis: (job.tail?.length ?? 0) > 0 } : null;
}

/**
 * One press. `user`: the unix user the presser is linked to (null: not linked); `by`: who, in the
 * chat's own terms (recorded with a mute); `linkHint`: how to get linked in that chat.
 */
export function jobAction(d: JobActionDeps, action: JobAction, jobId: string, user: string | null, by: string, linkHint: string): Message[] {
  const raw = d.jobs.get(jobId);
  if (!raw) return notice('Unknown job', 'The hub no longer has that job.', 'warning');
  const job = withJobName(raw);
  if (!user) return notice('Not linked', `${linkHint} first: only the job's owner may use these buttons.`, 'warning');
  if (user !== job.user) return notice('Not your job', `Only ${job.user} may use the buttons of this job.`, 'warning');
  if (action === 'mute') {
    const until = d.now() + MUTE_MS;
    d.mutes.mute(user, until, by);
    return notice('Muted for 1 hour', `No messages about ${user}'s jobs until ${formatLocalTime(new Date(until).toISOString())} (a job's own --to still goes out).`);
  }
  const tail = job.tail ?? [];
  if (action === 'log') {
    if (!tail.length) return notice(`Log of ${job.name}`, 'The job\'s end carried no log lines.');
    // The job's name in `data`: a chat that cannot show the whole tail attaches it as NAME.log.
    return [{ title: `Last lines of ${job.name}`, severity: 'info', logTail: tail, data: { job_name: job.name } }];
  }
  const diagnosis = d.enqueuer.diagnose(tail, job.exit ?? null, job.signal ?? null);
  if (!diagnosis.length) return notice(`Diagnosis of ${job.name}`, 'No known failure pattern in its last lines. "Log" shows them.');
  return [{ title: `Diagnosis of ${job.name}`, severity: 'failure', diagnosis }];
}
