// `jobs`: what ran, how it ended — from the hub's index, or (the CLI with no hub) the person's own
// jobs from their spool. Each job is named by model/job-name.ts (the name its message used), its
// start shown in the reader's time zone; the JSON keeps the index's fields, ISO-8601 UTC, plus
// `name`. Without `user` or `all`: the asker's own jobs, where the asker is known.
import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import { formatDuration } from '../lib/format.js';
import { formatLocalTime } from '../lib/time.js';
import type { JobView } from '../model/job-view.js';
import type { CellState, Message } from '../model/message.js';
import { count, userName } from './args.js';
import { clockOf } from './clock.js';
import { defineCommand } from './table.js';

function resultText(j: JobView): string {
  if (j.state === 'running' || j.state === 'pending') return j.state;
  if (j.exitUnknown) return 'ended (exit unknown)';
  if (j.signal) return `killed ${j.signal}`;
  if (j.state === 'vanished') return 'vanished';
  return `exit ${j.exit ?? '?'}`;
}

function resultState(j: JobView): CellState | null {
  return j.state === 'succeeded' ? 'ok' : j.state === 'failed' ? 'bad' : j.state === 'unknown' || j.state === 'vanished' ? 'warn' : null;
}

export default defineCommand({
  name: 'jobs',
  description: 'list jobs from the index',
  args: z.object({
    all: z.boolean().describe('all users and all ended jobs, not only yours and recent').optional(),
    user: userName('only this user').optional(),
    running: z.boolean().describe('only running jobs').optional(),
    limit: count('at most this many').default(20),
  }),
  cli: { short: { all: 'a', user: 'u', running: 'r', limit: 'n' } },
  personal: true,
  async run(a, source, ctx) {
    const user = a.user ?? (a.all ? undefined : (ctx.user ?? undefined));
    const r = await source.jobs({ ...(user !== undefined ? { user } : {}), ...(a.running ? { running: true } : {}), limit: a.limit });
    if (!r.ok) throw new UserError(r.why);
    const now = clockOf(r.where).now!;
    const jobs = r.jobs;
    const m: Message = jobs.length
      ? {
          title: '',
          severity: 'info',
          table: {
            columns: ['ID', ...(user ? [] : ['USER']), 'HOST', 'RESULT', 'NAME', 'STARTED', 'DURATION'],
            rows: jobs.map((j) => [
              j.id.slice(-8),
              ...(user ? [] : [j.user]),
              j.host,
              resultText(j),
              j.name,
              j.startTs || j.endTs ? formatLocalTime((j.startTs ?? j.endTs)!) : '-',
              j.wallSeconds != null ? formatDuration(j.wallSeconds) : j.state === 'running' && j.startTs ? formatDuration((now() - Date.parse(j.startTs)) / 1000) : '-',
            ]),
            states: jobs.map((j) => [null, ...(user ? [] : [null]), null, resultState(j)]),
          },
        }
      : { title: '', severity: 'info', summary: a.running ? 'No running jobs.' : 'No jobs yet. Start one with: flurm run -- CMD' };
    return { messages: [m], result: { jobs }, where: r.where, exitCode: 0 };
  },
});
