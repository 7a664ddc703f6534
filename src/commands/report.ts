// `report`: who used what over the last days — core-hours, GPU-hours, memory GB-hours (agent
// nodes and SLURM), jobs by result and failures by their first diagnosis: the weekly lab summary
// a `[[chat.schedule]]` can post (`command = "report"`). Only a hub keeps the history.
import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import { localTimeZone } from '../lib/time.js';
import type { Message } from '../model/message.js';
import { rangeSubtitle } from './history-chart.js';
import { defineCommand } from './table.js';

const hours = (v: number) => (v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export default defineCommand({
  name: 'report',
  description: 'who used what over the last days: core-hours, GPU-hours, memory, jobs, failures',
  args: z.object({
    days: z.number({ error: 'must be a number of days' }).positive('must be more than 0').max(400, 'at most 400').describe('how many days back (default 7)').default(7),
    limit: z.number().int().positive().describe('at most this many users (default 20)').default(20),
  }),
  async run(a, source) {
    const untilMs = Date.now();
    const sinceMs = untilMs - a.days * 86_400_000;
    const r = await source.history({ kind: 'report', sinceMs, untilMs });
    if (!r.ok) throw new UserError(`no report: ${r.why}`, { exitCode: 1 });
    if (r.data.kind !== 'report') throw new Error(`the hub answered a ${r.data.kind} history to a report question`);
    const users = r.data.users;
    const shown = users.slice(0, a.limit);
    const total = (k: 'core_hours' | 'gpu_hours') => users.reduce((s, u) => s + u[k], 0);
    const failed = users.reduce((s, u) => s + u.jobs.failed, 0);
    const ended = users.reduce((s, u) => s + u.jobs.succeeded + u.jobs.failed + u.jobs.other, 0);
    const m: Message = {
      title: `Lab report: ${a.days === 7 ? 'the last week' : a.days === 1 ? 'the last day' : `the last ${a.days} days`}`,
      severity: 'info',
      summary: users.length
        ? `${users.length} users · ${hours(total('core_hours'))} core-hours · ${hours(total('gpu_hours'))} GPU-hours · ${ended} jobs ended, ${failed} failed · ${rangeSubtitle(sinceMs, untilMs, localTimeZone()).replace(/^last [^·]+· /, '')}`
        : 'Nothing recorded in this range yet: the hub records usage as nodes report and SLURM answers.',
      ...(shown.length
        ? {
            table: {
              columns: ['user', 'core-h', 'GPU-h', 'mem GB-h', 'jobs', 'failed', 'top failure'],
              rows: shown.map((u) => [
                u.user,
                hours(u.core_hours),
                hours(u.gpu_hours),
                hours(u.mem_gb_hours),
                String(u.jobs.succeeded + u.jobs.failed + u.jobs.other),
                String(u.jobs.failed),
                u.failures[0] ? `${u.failures[0].diagnosis} (${u.failures[0].count})` : '',
              ]),
              states: shown.map((u) => [null, null, null, null, null, u.jobs.failed ? 'bad' : null, null]),
            },
          }
        : {}),
      ...(users.length > shown.length ? { footer: `${users.length - shown.length} more users not shown (limit ${a.limit})` } : {}),
    };
    return { messages: [m], result: { since: new Date(sinceMs).toISOString(), until: new Date(untilMs).toISOString(), users }, where: r.where, exitCode: 0 };
  },
});
