// The poller on a real SQLite index with SLURM's answers replayed from real captures
// (test/fixtures/slurm): one squeue per interval whatever the number of jobs, sacct retried while
// it lags, scontrol when accounting is off, one alert for a controller that stops answering,
// nothing sent twice, and a new poller on the same index resumes every open job.
import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { OutboxStore } from '../store/outbox.js';
import { NodeStore } from '../store/nodes.js';
import { SlurmJobStore } from '../store/slurm-jobs.js';
import { Enqueuer } from './enqueue.js';
import { SlurmPoller, type SlurmCommand } from './slurm-poller.js';
import { validateHubConfig, validateUserConfig } from '../config/schema.js';
import { createLogger } from '../lib/logger.js';
import { ExecError } from '../lib/errors.js';
import { newId as newUlid } from '../lib/ids.js';
import type { SlurmEvent } from '../spool/events.js';
import type { Message } from '../model/message.js';
import { slurmFixture, captureJobs } from '../../test/fixtures/slurm/fixtures.js';

const J = captureJobs();
const SQUEUE_HEADER = slurmFixture('squeue-all-users-header.txt').split('\n')[0]!;
const SACCT_HEADER = slurmFixture('sacct-header.txt').split('\n')[0]!;

type Answer = string | Error;

interface World {
  db: Db;
  outbox: OutboxStore;
  store: SlurmJobStore;
  poller: SlurmPoller;
  calls: { cmd: SlurmCommand; args: readonly string[] }[];
  answers: Partial<Record<SlurmCommand, Answer[] | ((args: readonly string[]) => Answer)>>;
  clock: { ms: number };
  messages(dest?: string): Message[];
  register(jobId: string, opts?: { array?: string; tasks?: number }): string;
  newPoller(): SlurmPoller;
}

function world(slurm: Record<string, unknown> = {}, db: Db = openDb(':memory:')): World {
  const cfg = validateHubConfig({ slurm: { enabled: true, poll_interval_seconds: 30, sinfo_interval_seconds: 0, down_alert_after_seconds: 60, ...slurm } });
  const jobs = new JobStore(db);
  const outbox = new OutboxStore(db);
  const nodeStore = new NodeStore(db);
  const store = new SlurmJobStore(db, jobs);
  const clock = { ms: Date.parse('2026-11-21T16:30:00Z') };
  const log = createLogger({ level: 'error', write: () => {} });
  const enqueuer = new Enqueuer(outbox, { routes: [], patterns: [], fallback: ['json://127.0.0.1:9/me'], maxPerUserPerMinute: 10_000, log, now: () => clock.ms });
  const calls: World['calls'] = [];
  const answers: World['answers'] = {};
  const make = () =>
    new SlurmPoller({
      db, store, nodeStore, enqueuer, log, cfg: cfg.slurm,
      isActive: () => true,
      userConfig: () => validateUserConfig({}),
      labDests: () => ['json://127.0.0.1:9/lab'],
      onQueued: () => {},
      now: () => clock.ms,
      run: async (cmd, args) => {
        calls.push({ cmd, args });
        const a = answers[cmd];
        const next = typeof a === 'function' ? a(args) : a && a.length > 1 ? a.shift()! : a?.[0];
        if (next === undefined) throw new Error(`no scripted answer for ${cmd}`);
        if (next instanceof Error) throw next;
        return { stdout: next, stderr: '' };
      },
    });
  const w: World = {
    db, outbox, store, calls, answers, clock,
    poller: make(),
    newPoller: make,
    messages: (dest) =>
      (db.prepare('SELECT dest, message_json FROM outbox ORDER BY id').all() as { dest: string; message_json: string }[])
        .filter((r) => !dest || r.dest.includes(dest))
        .map((r) => JSON.parse(r.message_json) as Message),
    register(jobId, opts = {}) {
      const ev: SlurmEvent = {
        v: 1, type: 'slurm', id: newUlid(), ts: new Date(clock.ms).toISOString(), user: 'cloudsdk', host: 'login1',
        slurm: { job_id: jobId, cluster: 'localci', array: opts.array ?? null, tasks: opts.tasks ?? null, name: 'job' },
        cwd: '/nonexistent', output: '/nonexistent/slurm-%j.out', error: null,
      };
      expect(store.register(ev, 'cloudsdk', clock.ms)).toBe('new');
      return ev.id;
    },
  };
  return w;
}

/** squeue's answer with these rows (lines of the real all-users capture, by job id). */
function squeueWith(...ids: string[]): string {
  const lines = slurmFixture('squeue-all-users-header.txt').split('\n').slice(1);
  return [SQUEUE_HEADER, ...lines.filter((l) => ids.some((id) => l.startsWith(`${id}|`) || l.startsWith(`${id}_`)))].join('\n') + '\n';
}

const unreachable = () =>
  new ExecError('squeue exited with 1', { command: 'squeue', exitCode: 1, stderr: 'squeue: error: Unable to contact slurm controller (connect failure)\n' });

const count = (w: World, cmd: SlurmCommand) => w.calls.filter((c) => c.cmd === cmd).length;

describe('SlurmPoller', () => {
  it('ends a job that left the queue from its sacct record, once, with the real exit code', async () => {
    const w = world();
    w.register(J.exit3);
    w.answers.squeue = [SQUEUE_HEADER + '\n'];
    w.answers.sacct = [slurmFixture('sacct-header.txt')];
    await w.poller.tick();
    const msgs = w.messages();
    expect(msgs).toHaveLength(1);
    expect(JSON.stringify(msgs[0])).toMatch(/exit code 3/);
    expect(msgs[0]!.severity).toBe('failure');
    // Later polls change nothing: the row is closed.
    w.clock.ms += 31_000;
    await w.poller.tick();
    expect(w.messages()).toHaveLength(1);
    expect(w.store.countOpen()).toBe(0);
  });

  it('one squeue per interval whatever the number of watched jobs', async () => {
    for (const n of [1, 100, 1000]) {
      const w = world();
      for (let i = 0; i < n; i++) w.register(String(500_000 + i));
      // Every watched job still running: squeue lists them all.
      const rows = Array.from({ length: n }, (_, i) => `${500_000 + i}|${500_000 + i}|N/A|RUNNING|None|cloudsdk|1000|debug|0:03|1:00|1|1|1G|N/A|2026-11-21T16:25:02|2026-11-21T16:25:03|vm|j${i}`);
      w.answers.squeue = [[SQUEUE_HEADER, ...rows].join('\n') + '\n'];
      for (let t = 0; t < 10; t++) {
        await w.poller.tick();
        w.clock.ms += 30_000;
      }
      expect(count(w, 'squeue'), `${n} jobs`).toBe(10);
      expect(count(w, 'sacct')).toBe(0);
      expect(w.messages()).toHaveLength(0);
    }
  });

  it('asks sacct again with backoff while the record lags, then sends', async () => {
    const w = world();
    w.register(J.ok);
    w.answers.squeue = [SQUEUE_HEADER + '\n'];
    // First: sacct does not know the job yet (header only); then the real record.
    w.answers.sacct = [SACCT_HEADER + '\n', SACCT_HEADER + '\n', slurmFixture('sacct-header.txt')];
    await w.poller.tick();
    expect(w.messages()).toHaveLength(0);
    w.clock.ms += 1_000;
    await w.poller.tick();
    expect(w.messages()).toHaveLength(0);
    w.clock.ms += 2_000;
    await w.poller.tick();
    expect(w.messages()).toHaveLength(1);
    expect(w.messages()[0]!.severity).toBe('success');
    expect(count(w, 'squeue')).toBe(1); // the retries are sacct only
    expect(count(w, 'sacct')).toBe(3);
  });

  it('gives up on a record that never comes and says the state is unknown', async () => {
    const w = world({ final_record_timeout_seconds: 60 });
    w.register('777777');
    w.answers.squeue = [SQUEUE_HEADER + '\n'];
    w.answers.sacct = [SACCT_HEADER + '\n'];
    for (let t = 0; t < 20 && w.messages().length === 0; t++) {
      await w.poller.tick();
      w.clock.ms += 10_000;
    }
    expect(w.messages()).toHaveLength(1);
    expect(JSON.stringify(w.messages()[0])).toMatch(/unknown/i);
  });

  it('uses scontrol when accounting is off, and says so', async () => {
    const w = world();
    w.register(J.exit3);
    w.answers.squeue = [SQUEUE_HEADER + '\n'];
    w.answers.sacct = [new ExecError('sacct exited with 1', { command: 'sacct', exitCode: 1, stderr: slurmFixture('sacct-disabled.txt.stderr') })];
    w.answers.scontrol = [slurmFixture('scontrol-exit3.txt')];
    await w.poller.tick();
    const msgs = w.messages();
    expect(msgs).toHaveLength(1);
    expect(JSON.stringify(msgs[0])).toMatch(/exit code 3/);
    expect(JSON.stringify(msgs[0])).toMatch(/scontrol/);
    expect(w.poller.health().mode).toBe('scontrol');
  });

  it('a controller that stops answering: backoff, ONE lab alert for all jobs, one "back", then the jobs are told', async () => {
    const w = world({ down_alert_after_seconds: 60 });
    for (const id of [J.ok, J.exit3, J.timeout]) w.register(id);
    w.answers.squeue = [unreachable()];
    const start = w.clock.ms;
    while (w.clock.ms - start < 20 * 60_000) {
      await w.poller.tick();
      w.clock.ms += 5_000;
    }
    const lab = w.messages('/lab');
    expect(lab).toHaveLength(1);
    expect(lab[0]!.title).toMatch(/SLURM is not answering/);
    expect(w.messages('/me')).toHaveLength(0);
    // Backoff: far fewer calls than one per 5 s tick.
    expect(count(w, 'squeue')).toBeLessThan(20);
    const h = w.poller.health();
    expect(h.problem).toMatch(/slurmctld unreachable/);
    expect(h.failing_since).not.toBeNull();

    w.answers.squeue = [SQUEUE_HEADER + '\n'];
    w.answers.sacct = [slurmFixture('sacct-header.txt')];
    w.clock.ms += 10 * 60_000;
    await w.poller.tick();
    expect(w.messages('/lab')).toHaveLength(2);
    expect(w.messages('/lab')[1]!.title).toMatch(/answers again/);
    expect(w.messages('/me')).toHaveLength(3);
    expect(w.poller.health().problem).toBeNull();
  });

  it('an array is one unit: one message with the counts and the failed task ids', async () => {
    const w = world({ max_task_messages: 0 });
    w.register(J.array, { array: '0-3', tasks: 4 });
    w.answers.squeue = [SQUEUE_HEADER + '\n'];
    w.answers.sacct = [slurmFixture('sacct-header.txt')];
    await w.poller.tick();
    const msgs = w.messages();
    expect(msgs).toHaveLength(1);
    const data = msgs[0]!.data as { slurm: { failed_task_ids: number[]; tasks_total: number } };
    expect(data.slurm.tasks_total).toBe(4);
    expect(data.slurm.failed_task_ids.length).toBeGreaterThan(0);
  });

  it('a new poller on the same index resumes the open jobs (a hub restart)', async () => {
    const w = world();
    w.register(J.exit3);
    w.register(J.ok);
    // Both still queued at first.
    w.answers.squeue = [squeueWith(J.timeout).replaceAll(`${J.timeout}|`, `${J.exit3}|`)];
    await w.poller.tick();
    expect(w.messages()).toHaveLength(0);
    w.poller.stop();
    const again = w.newPoller();
    w.answers.squeue = [SQUEUE_HEADER + '\n'];
    w.answers.sacct = [slurmFixture('sacct-header.txt')];
    w.clock.ms += 30_000;
    await again.tick();
    expect(w.messages()).toHaveLength(2);
  });
});
