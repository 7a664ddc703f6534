// `flurm jobs`: the job list from the hub's API; when no hub answers, the user's own jobs read
// straight from their spool (bounded), so the command works on any node of the lab. Each job is
// named by commands/job-name.ts (the name its message used), its start shown in the reader's time
// zone (lib/time.ts); --json keeps the API's fields, ISO-8601 UTC, plus `name`.
import fs from 'node:fs';
import path from 'node:path';
import { withJobName } from '../../model/job-name.js';
import type { JobView } from '../../model/job-view.js';
import { renderTable } from '../../frontends/cli/table.js';
import { spoolDir, userName } from '../../lib/host.js';
import { UserError } from '../../lib/errors.js';
import { parseEventLine } from '../../spool/validate.js';
import type { EndEvent, StartEvent } from '../../spool/events.js';
import { endState } from '../../store/jobs.js';
import { getJson, hubUrl } from '../hub-client.js';
import { formatDuration } from '../../lib/format.js';
import { formatLocalTime } from '../../lib/time.js';

export interface JobsOptions {
  all?: boolean;
  user?: string;
  running?: boolean;
  limit: number;
  json?: boolean;
  hub?: string;
}

const SPOOL_TAIL_BYTES = 4 * 1024 * 1024;

/** The user's jobs from their spool files alone (last 4 MiB of each file). */
export function jobsFromSpool(spool: string): JobView[] {
  const jobs = new Map<string, JobView>();
  const dir = path.join(spool, 'events');
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
  } catch {
    return [];
  }
  for (const n of names.slice(0, 1000)) {
    let text = '';
    try {
      const fd = fs.openSync(path.join(dir, n), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile()) continue;
        const start = Math.max(0, st.size - SPOOL_TAIL_BYTES);
        const buf = Buffer.alloc(st.size - start);
        fs.readSync(fd, buf, 0, buf.length, start);
        text = buf.toString('utf8');
        if (start > 0) text = text.slice(text.indexOf('\n') + 1);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      const r = parseEventLine(line);
      if (r.kind !== 'event') continue;
      const e = r.event;
      const j: JobView = jobs.get(e.id) ?? { id: e.id, user: e.user, host: e.host, state: 'running' };
      if (e.type === 'start') {
        const s = e as StartEvent;
        Object.assign(j, { title: s.title, cmd: s.cmd, cwd: s.cwd, pid: s.pid, startTs: s.ts, log: s.log });
      } else if (e.type === 'end') {
        const x = e as EndEvent;
        Object.assign(j, { state: endState(x), endTs: x.ts, exit: x.exit, signal: x.signal, exitUnknown: x.exit_unknown, wallSeconds: x.wall_seconds, peakRssBytes: x.peak_rss_bytes });
        j.title ??= x.title;
      } else continue;
      jobs.set(e.id, j);
    }
  }
  return [...jobs.values()].sort((a, b) => (b.startTs ?? b.endTs ?? '').localeCompare(a.startTs ?? a.endTs ?? ''));
}

function result(j: JobView): string {
  if (j.state === 'running') return 'running';
  if (j.exitUnknown) return 'ended (exit unknown)';
  if (j.signal) return `killed ${j.signal}`;
  return `exit ${j.exit ?? '?'}`;
}

export async function run(opts: JobsOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const me = userName(env);
  const user = opts.user ?? (opts.all ? undefined : me);
  let jobs: (JobView & { name?: string })[] | null = null;
  let source = 'hub';
  const url = await hubUrl(env, opts.hub);
  if (url) {
    const q = new URLSearchParams({ limit: String(opts.limit) });
    if (user) q.set('user', user);
    if (opts.running) q.set('running', '1');
    try {
      jobs = (await getJson<{ jobs: JobView[] }>(`${url}/api/v1/jobs?${q}`)).jobs;
    } catch (err) {
      if (opts.hub) throw new UserError(`the hub at ${url} did not answer: ${(err as Error).message}`);
    }
  }
  if (!jobs) {
    if (user && user !== me) throw new UserError(`no hub answered, and without one only your own jobs can be read (from ${spoolDir(env)})`);
    source = 'spool';
    jobs = jobsFromSpool(spoolDir(env)).filter((j) => !opts.running || j.state === 'running').slice(0, opts.limit);
  }
  // The hub names its jobs (the name their messages used); an older hub, or the spool, does not.
  const named = jobs.map((j) => (typeof j.name === 'string' ? (j as JobView & { name: string }) : withJobName(j)));
  if (opts.json) {
    process.stdout.write(JSON.stringify({ source, jobs: named }, null, 2) + '\n');
    return 0;
  }
  if (source === 'spool') process.stderr.write(`flurm: no hub answered; showing your jobs from ${spoolDir(env)}\n`);
  if (jobs.length === 0) {
    process.stdout.write(opts.running ? 'No running jobs.\n' : 'No jobs yet. Start one with: flurm run -- CMD\n');
    return 0;
  }
  const rows = named.map((j) => [
    j.id.slice(-8),
    ...(user ? [] : [j.user]),
    j.host,
    result(j),
    j.name,
    j.startTs || j.endTs ? formatLocalTime((j.startTs ?? j.endTs)!) : '-',
    j.wallSeconds != null ? formatDuration(j.wallSeconds) : j.state === 'running' && j.startTs ? formatDuration((Date.now() - Date.parse(j.startTs)) / 1000) : '-',
  ]);
  const cols = ['ID', ...(user ? [] : ['USER']), 'HOST', 'RESULT', 'NAME', 'STARTED', 'DURATION'];
  process.stdout.write(renderTable(cols, rows) + '\n');
  return 0;
}
