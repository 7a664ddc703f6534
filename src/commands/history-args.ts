// The time range the history commands share: `hours` back from now (default 24) or from `since`
// (a date or an ISO time) — one schema, so the CLI, the chats and the API word them alike.
import { z } from 'zod';
import { UserError } from '../lib/errors.js';

export const rangeArgs = {
  hours: z.number({ error: 'must be a number of hours' }).positive('must be more than 0').max(24 * 400, 'at most 9600 (400 days)').describe('how many hours back (default 24)').optional(),
  since: z
    .string()
    .refine((s) => Number.isFinite(Date.parse(s)), 'must be a date or time, e.g. 2026-11-30 or 2026-11-30T09:00')
    .describe('from this date or time instead (ISO, e.g. 2026-11-30T09:00; your time zone)')
    .optional(),
};

/** The range asked, in ms; `defaultHours` when neither is given. */
export function rangeOf(a: { hours?: number | undefined; since?: string | undefined }, nowMs: number, defaultHours = 24): { sinceMs: number; untilMs: number } {
  if (a.since !== undefined) {
    const sinceMs = Date.parse(a.since);
    if (sinceMs >= nowMs) throw new UserError(`since ${a.since} is not in the past`);
    return { sinceMs, untilMs: a.hours !== undefined ? Math.min(nowMs, sinceMs + a.hours * 3_600_000) : nowMs };
  }
  return { sinceMs: nowMs - (a.hours ?? defaultHours) * 3_600_000, untilMs: nowMs };
}
