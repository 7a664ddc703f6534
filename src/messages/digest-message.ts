// The digest: what a destination gets instead of a user's messages past the per-minute cap. A cap
// must never lose a job, so the messages of one window are coalesced into one message that
// counts them by result and names each (id and title), e.g. "7 more jobs ended: 5 ✓ 2 ✗".
import type { Message, Severity } from '../model/message.js';
import { plural } from '../lib/format.js';
import { clip, TITLE_MAX_CHARS } from '../spool/events.js';

/** One coalesced message: the job (or note) it was about and the message it would have been. */
export interface DigestItem {
  refId: string;
  message: Pick<Message, 'title' | 'severity' | 'timestamp'>;
}

/** Rows listed one by one in the table; the rest are counted (all are in `data`). */
export const DIGEST_MAX_ROWS = 50;
/** Messages coalesced into one digest at most; a larger flood makes several digests. */
export const DIGEST_MAX_ITEMS = 200;

const MARK: Record<Severity, string> = { success: '✓', failure: '✗', warning: '⚠', info: '✉' };
const ORDER: Severity[] = ['success', 'failure', 'warning', 'info'];

/** Strip the message's own leading result icon: the digest's table has a column for it. */
function bareTitle(title: string): string {
  return title.replace(/^[✓✗⚠✉ℹ]\uFE0F?\s+/u, '');
}

export function buildDigestMessage(user: string, items: readonly DigestItem[], opts: { limitPerMinute: number; windowEndMs: number }): Message {
  const counts: Record<Severity, number> = { success: 0, failure: 0, warning: 0, info: 0 };
  for (const it of items) counts[it.message.severity]++;
  const tally = ORDER.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${MARK[s]}`).join(' ');
  const allJobs = counts.info === 0;
  const what = allJobs ? plural(items.length, 'more job ended', 'more jobs ended') : plural(items.length, 'more message');
  const severity: Severity = counts.failure > 0 ? 'failure' : counts.warning > 0 ? 'warning' : counts.success > 0 ? 'success' : 'info';
  const shown = items.slice(0, DIGEST_MAX_ROWS);
  const rows = shown.map((it) => [MARK[it.message.severity], clip(bareTitle(it.message.title), 120), it.refId]);
  if (items.length > shown.length) rows.push(['…', `and ${items.length - shown.length} more`, '']);
  return {
    title: clip(`${what} for ${user}: ${tally}`, TITLE_MAX_CHARS),
    severity,
    summary:
      `More than ${opts.limitPerMinute} messages for ${user} in one minute, so these come as one. ` +
      'Every job is recorded, with its full message, in flurm jobs.',
    table: { columns: ['', 'job', 'id'], rows },
    footer: 'flurm · digest',
    timestamp: new Date(opts.windowEndMs).toISOString(),
    data: {
      digest: {
        user,
        count: items.length,
        counts,
        items: items.map((it) => ({ id: it.refId, title: it.message.title, severity: it.message.severity, ts: it.message.timestamp ?? null })),
      },
    },
  };
}
