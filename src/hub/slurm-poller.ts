// The hub's SLURM poller: ONE `squeue` call per interval for every watched job and the queue
// views, ONE `sacct` call for the jobs that left the queue (their final record; retried while
// accounting lags), `scontrol show job` instead when accounting is off, and `sinfo` once a minute
// for status/best/queue. There is no per-job process: the open rows of slurm_jobs are the state,
// so a hub restart resumes every job. Only the active hub polls and sends.
//
// Commands per minute at the defaults (30 s, sinfo 60 s): 2 squeue + 1 sinfo, plus at most one
// sacct per interval when jobs ended — constant in the number of watched jobs.
//
// Faults: a failing or slow command (timeout) is retried with backoff, the failure shows in the
// health answer (`flurm doctor`), and a controller unreachable for `down_alert_after_seconds`
// raises ONE lab alert (and one "back"), not a message per job. While squeue fails no job is
// judged ended.
import { inTransaction, type Db } from '../store/db.js';
import type { HubConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../lib/logger.js';
import type { SlurmJobRow, SlurmJobStore } from '../store/slurm-jobs.js';
import type { NodeStore } from '../store/nodes.js';
import type { Enqueuer, JobMessageBuilder } from './enqueue.js';
import type { EndEvent } from '../spool/events.js';
import type { Message } from '../model/message.js';
import { execCommand, findExecutable } from '../lib/exec.js';
import { ExecError, errorMessage } from '../lib/errors.js';
import { userNameOf } from '../lib/users.js';
import { Ticker } from '../lib/ticker.js';
import { parseSqueue, squeueArgs, type SqueueRow } from '../schedulers/slurm/squeue.js';
import { parseSacct, sacctArgs, isSacctDisabled, arrayTasks, type SacctResult } from '../schedulers/slurm/sacct.js';
import { parseScontrolJobs, type ScontrolJob } from '../schedulers/slurm/scontrol.js';
import { isFinalState } from '../schedulers/slurm/states.js';
import {
  outcomeFromSacct,
  outcomeFromScontrol,
  unknownOutcome,
  arrayOutcome,
  endFacts,
  taskOutputPath,
  type SlurmOutcome,
  type SlurmArrayOutcome,
} from '../schedulers/slurm/outcome.js';
import { readSlurmTail } from '../schedulers/slurm/log-tail.js';
import { buildSlurmJobMessage, buildSlurmArrayMessage, buildSlurmTaskMessage } from '../messages/slurm-message.js';
import { slurmDownMessage, slurmBackMessage } from '../messages/alert-message.js';
import { sinfoArgs, parseSinfoLong } from '../schedulers/slurm/sinfo.js';
import type { SlurmClusterView } from '../model/slurm-view.js';
import { buildSlurmView } from '../schedulers/slurm/view.js';
import { firstNode } from '../schedulers/slurm/fields.js';
import type { HistoryStore } from '../store/history.js';

export type SlurmCommand = 'squeue' | 'sacct' | 'scontrol' | 'sinfo';
export type SlurmRunner = (cmd: SlurmCommand, args: readonly string[]) => Promise<{ stdout: string; stderr: string }>;

export interface SlurmPollerOptions {
  db: Db;
  store: SlurmJobStore;
  nodeStore: NodeStore;
  /** Partitions, node states and users' usage per bucket (store/history.ts); absent: not kept. */
  history?: HistoryStore;
  enqueuer: Enqueuer;
  log: Logger;
  cfg: HubConfig['slurm'];
  isActive: () => boolean;
  userConfig: (user: string) => UserConfig;
  labDests: () => readonly string[];
  /** Something was queued: wake the sender. */
  onQueued: () => void;
  /** The cluster view changed after a poll (`slurm`), or a SLURM job ended (`jobs`): the dashboard's stream. */
  onChange?: (what: 'slurm' | 'jobs') => void;
  /** Runs one SLURM command; default: the binaries on PATH (or bin_dir) through lib/exec. */
  run?: SlurmRunner;
  now?: () => number;
}

/** The longest one command's output may be (squeue of a large cluster). */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
/** Ids per sacct call (command-line length). */
const SACCT_CHUNK = 500;
/** First retry of a failed command, doubled up to the interval × 8 (at least 5 min). */
const BACKOFF_BASE_MS = 5_000;
/** sacct lags the end by ~0.1–0.2 s; ask again after 1, 2, 4 … s, at most every interval. */
const FINAL_RETRY_BASE_MS = 1_000;
/** Array states that count as a task failure worth its own message while the array runs. */
const TASK_FAILURE_STATES = new Set(['FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE']);

interface CommandStats {
  calls: number;
  failures: number;
  last_ok_ms: number | null;
  last_error: string | null;
  last_ms: number | null;
}

export interface SlurmHealth {
  enabled: true;
  mode: 'sacct' | 'scontrol';
  watching: number;
  /** Calls per command since start, and the latest failure. */
  commands: Record<SlurmCommand, CommandStats>;
  /** The controller has not answered since (ISO), null when fine. */
  failing_since: string | null;
  consecutive_failures: number;
  next_attempt_in_seconds: number | null;
  problem: string | null;
  /** SLURM commands per minute over the last 10 minutes. */
  commands_per_minute: number;
}

/** Resolve the SLURM binaries (bin_dir, else PATH); null when squeue is not there. */
export function findSlurm(cfg: HubConfig['slurm'], env: NodeJS.ProcessEnv = process.env): Record<SlurmCommand, string> | null {
  const find = (name: SlurmCommand): string | null => (cfg.bin_dir ? `${cfg.bin_dir.replace(/\/$/, '')}/${name}` : findExecutable(name, env));
  const squeue = find('squeue');
  if (!squeue) return null;
  return { squeue, sacct: find('sacct') ?? 'sacct', scontrol: find('scontrol') ?? 'scontrol', sinfo: find('sinfo') ?? 'sinfo' };
}

export function defaultRunner(bins: Record<SlurmCommand, string>, timeoutMs: number): SlurmRunner {
  return async (cmd, args) => {
    const r = await execCommand(bins[cmd], args, { timeoutMs, maxOutputBytes: MAX_OUTPUT_BYTES, env: { ...process.env, SLURM_TIME_FORMAT: 'standard' } });
    return { stdout: r.stdout, stderr: r.stderr };
  };
}

/** The failure in one line a user can act on. */
function describeFailure(cmd: SlurmCommand, err: unknown): string {
  if (err instanceof ExecError) {
    const d = err.details;
    const stderr = (d.stderr ?? '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
    if (d.timedOut) return `${cmd} timed out (slurmctld slow or unreachable)`;
    if (/Unable to contact slurm controller|Connection refused|Socket timed out|Zero Bytes were transmitted/i.test(d.stderr ?? '')) return `slurmctld unreachable: ${stderr}`;
    return stderr ? `${cmd} failed: ${stderr}` : err.message;
  }
  return `${cmd} failed: ${errorMessage(err)}`;
}

export class SlurmPoller {
  private readonly now: () => number;
  private readonly run: SlurmRunner;
  private readonly ticker: Ticker;
  private ticking = false;
  /** The last view told to onChange, without its times. */
  private lastViewKey: string | null = null;
  /** accounting off → scontrol for the hub's lifetime. */
  private mode: 'sacct' | 'scontrol' = 'sacct';
  private readonly stats: Record<SlurmCommand, CommandStats> = {
    squeue: { calls: 0, failures: 0, last_ok_ms: null, last_error: null, last_ms: null },
    sacct: { calls: 0, failures: 0, last_ok_ms: null, last_error: null, last_ms: null },
    scontrol: { calls: 0, failures: 0, last_ok_ms: null, last_error: null, last_ms: null },
    sinfo: { calls: 0, failures: 0, last_ok_ms: null, last_error: null, last_ms: null },
  };
  /** Start times (hub clock) of recent commands, for commands per minute. */
  private readonly recent: number[] = [];
  private failingSinceMs: number | null = null;
  private consecutiveFailures = 0;
  private nextSqueueMs = 0;
  private nextSinfoMs = 0;
  private problem: string | null = null;
  private queue: { rows: SqueueRow[]; atMs: number } | null = null;
  private sinfo: { text: string; atMs: number } | null = null;

  constructor(private readonly o: SlurmPollerOptions, bins?: Record<SlurmCommand, string>) {
    this.now = o.now ?? Date.now;
    this.run = o.run ?? defaultRunner(bins ?? { squeue: 'squeue', sacct: 'sacct', scontrol: 'scontrol', sinfo: 'sinfo' }, o.cfg.command_timeout_seconds * 1000);
    // After each round (a failed one too): wait until the next squeue, sinfo or final record is due.
    this.ticker = new Ticker({
      run: () => this.tick(),
      intervalMs: () => this.nextDueMs() - this.now(),
      onError: (err) => this.o.log.error('SLURM poll failed; will retry', { error: errorMessage(err) }),
      unref: true,
    });
  }

  start(): void {
    this.ticker.start(0);
  }

  /** Stop polling; resolves when a round in progress has ended. */
  stop(): Promise<void> {
    return this.ticker.stop();
  }

  private nextDueMs(): number {
    const now = this.now();
    let next = this.nextSqueueMs;
    if (this.o.cfg.sinfo_interval_seconds > 0) next = Math.min(next, this.nextSinfoMs);
    const final = this.o.store.nextFinalMs();
    if (final !== null) next = Math.min(next, final);
    return Math.max(next, now + 200);
  }

  /** One round: squeue when due, final records when due, sinfo when due. Public for tests and `hub --once`. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    if (!this.o.isActive()) {
      this.nextSqueueMs = this.now() + this.o.cfg.poll_interval_seconds * 1000;
      return;
    }
    this.ticking = true;
    try {
      const now = this.now();
      if (now >= this.nextSqueueMs) await this.pollQueue();
      await this.pollFinals();
      if (this.o.cfg.sinfo_interval_seconds > 0 && this.now() >= this.nextSinfoMs) await this.pollSinfo();
    } finally {
      this.ticking = false;
    }
    if (this.o.onChange) {
      // The view without its clock fields: only what a page shows.
      const v = this.view();
      const key = JSON.stringify({ ...v, generated: null, sinfo_at: null, squeue_at: null });
      if (key !== this.lastViewKey) {
        this.lastViewKey = key;
        this.o.onChange('slurm');
      }
    }
  }

  private async command(cmd: SlurmCommand, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    const t0 = this.now();
    const s = this.stats[cmd];
    s.calls++;
    this.recent.push(t0);
    while (this.recent.length && this.recent[0]! < t0 - 600_000) this.recent.shift();
    try {
      const r = await this.run(cmd, args);
      s.last_ok_ms = this.now();
      s.last_ms = this.now() - t0;
      return r;
    } catch (err) {
      s.failures++;
      s.last_ms = this.now() - t0;
      s.last_error = describeFailure(cmd, err);
      throw err;
    }
  }

  // ---- the controller's health -------------------------------------------------------------

  private controllerFailed(cmd: SlurmCommand, err: unknown): void {
    const now = this.now();
    this.consecutiveFailures++;
    this.failingSinceMs ??= now;
    this.problem = describeFailure(cmd, err);
    const backoff = Math.min(BACKOFF_BASE_MS * 2 ** (this.consecutiveFailures - 1), Math.max(this.o.cfg.poll_interval_seconds * 8_000, 300_000));
    this.nextSqueueMs = now + backoff;
    this.o.log.once(`slurm-fail:${this.problem}`, 'warn', 'SLURM command failed; retrying with backoff', { problem: this.problem, retry_in_seconds: Math.round(backoff / 1000) });
    const downFor = now - this.failingSinceMs;
    if (downFor >= this.o.cfg.down_alert_after_seconds * 1000) {
      const key = 'slurm:controller';
      const st = this.o.nodeStore.alert(key);
      if (!st?.active) {
        this.o.nodeStore.putAlert({ key, host: 'slurm', kind: 'slurmctld-down', active: true, fired_ms: now, cleared_ms: null });
        this.labAlert(`alert:slurm:down:${this.failingSinceMs}`, slurmDownMessage(this.problem, downFor / 1000, this.o.store.countOpen()));
      }
    }
  }

  private controllerOk(): void {
    const now = this.now();
    if (this.failingSinceMs !== null) {
      const key = 'slurm:controller';
      const st = this.o.nodeStore.alert(key);
      if (st?.active) {
        this.o.nodeStore.putAlert({ key, host: 'slurm', kind: 'slurmctld-down', active: false, fired_ms: st.fired_ms, cleared_ms: now });
        this.labAlert(`alert:slurm:back:${now}`, slurmBackMessage((now - this.failingSinceMs) / 1000));
      }
      this.o.log.info('SLURM answers again', { after_seconds: Math.round((now - this.failingSinceMs) / 1000) });
    }
    this.failingSinceMs = null;
    this.consecutiveFailures = 0;
    this.problem = null;
  }

  private labAlert(keyBase: string, message: Message): void {
    const dests = this.o.labDests();
    if (dests.length === 0) {
      this.o.log.warn(message.title, { summary: message.summary });
      return;
    }
    if (this.o.enqueuer.labAlert(keyBase, 'slurm', message, dests, this.now())) this.o.onQueued();
  }

  // ---- squeue: which watched jobs are still queued ----------------------------------------

  private async pollQueue(): Promise<void> {
    const startMs = this.now();
    this.nextSqueueMs = startMs + this.o.cfg.poll_interval_seconds * 1000;
    let rows: SqueueRow[];
    try {
      // Jobs that ended within MinJobAge show with their final state; older ones are absent.
      const r = await this.command('squeue', squeueArgs());
      rows = parseSqueue(r.stdout).rows;
    } catch (err) {
      this.controllerFailed('squeue', err);
      return;
    }
    this.controllerOk();
    this.queue = { rows, atMs: this.now() };
    if (this.o.history && this.sinfo) {
      try {
        this.o.history.recordSlurm(this.view(), this.queue.atMs);
      } catch (err) {
        this.o.log.warn('cannot record SLURM history', { error: (err as Error).message });
      }
    }
    const byJob = new Map<string, SqueueRow[]>();
    for (const row of rows) {
      const key = row.array_job_id !== null ? String(row.array_job_id) : row.job_id;
      let list = byJob.get(key);
      if (!list) byJob.set(key, (list = []));
      list.push(row);
    }
    const open = this.o.store.open();
    const taskFailures: SlurmJobRow[] = [];
    inTransaction(this.o.db, () => {
      for (const job of open) {
        if (job.left_queue_ms !== null) continue;
        const mine = byJob.get(job.job_id) ?? [];
        const live = mine.filter((r) => r.state === null || !isFinalState(r.state));
        if (live.length === 0) {
          // Gone from squeue or final there: its record comes from sacct/scontrol.
          const final = mine.length === 1 && job.array_spec === null ? mine[0]!.state : null;
          this.o.store.markLeftQueue(job.id, startMs, final);
          continue;
        }
        const running = live.some((r) => r.state === 'RUNNING' || r.state === 'COMPLETING');
        const main = live.find((r) => r.state === 'RUNNING') ?? live[0]!;
        this.o.store.updateFromQueue(job.id, {
          state: main.state ?? 'UNKNOWN',
          jobState: running ? 'running' : 'pending',
          nodeList: main.node_list,
          info: { partition: main.partition, cpus: main.cpus, nodes: main.nodes, time_limit_seconds: main.time_limit_seconds, reason: main.reason, start: main.start },
        });
        if (job.array_spec !== null && mine.some((r) => r.array_task_id !== null && r.state !== null && TASK_FAILURE_STATES.has(r.state))) taskFailures.push(job);
      }
    });
    if (taskFailures.length) await this.taskMessages(taskFailures, byJob);
  }

  // ---- final records -------------------------------------------------------------------------

  private async pollFinals(): Promise<void> {
    const now = this.now();
    const due = this.o.store.dueFinals(now);
    if (due.length === 0) return;
    if (this.mode === 'sacct') {
      for (let i = 0; i < due.length; i += SACCT_CHUNK) {
        const chunk = due.slice(i, i + SACCT_CHUNK);
        const result = await this.sacct(chunk.map((r) => r.job_id));
        if (result === 'disabled') break;
        if (result === null) {
          for (const r of chunk) this.retry(r);
          continue;
        }
        await this.resolveUids(result.rows.map((row) => row.by_uid));
        for (const r of chunk) await this.finishFromSacct(r, result);
      }
      if (this.mode === 'sacct') return;
    }
    // Accounting is off: one `scontrol show job -o` for all jobs, filtered here.
    const records = await this.scontrolAll();
    for (const r of due) {
      if (records === null) {
        this.retry(r);
        continue;
      }
      await this.finishFromScontrol(r, records);
    }
  }

  /** sacct for these ids: parsed, 'disabled' (switches to scontrol), or null on failure. */
  private async sacct(ids: string[]): Promise<SacctResult | 'disabled' | null> {
    try {
      const r = await this.command('sacct', sacctArgs(ids));
      return parseSacct(r.stdout);
    } catch (err) {
      if (err instanceof ExecError && isSacctDisabled(err.details.stderr ?? '')) {
        this.mode = 'scontrol';
        this.o.log.warn('SLURM accounting is off: final records come from scontrol (no peak memory or CPU time; jobs older than MinJobAge cannot be read)', {});
        return 'disabled';
      }
      this.o.log.once(`sacct-fail`, 'warn', 'sacct failed; will retry', { error: describeFailure('sacct', err) });
      return null;
    }
  }

  private async scontrolAll(): Promise<ScontrolJob[] | null> {
    try {
      const r = await this.command('scontrol', ['show', 'job', '-o', '--details']);
      return parseScontrolJobs(r.stdout).jobs;
    } catch (err) {
      // "No jobs in the system" is exit 0; anything else is a failure.
      this.o.log.once('scontrol-fail', 'warn', 'scontrol failed; will retry', { error: describeFailure('scontrol', err) });
      return null;
    }
  }

  /** Not there yet: ask again with backoff, until final_record_timeout_seconds, then end it as unknown. */
  private retry(r: SlurmJobRow): boolean {
    const now = this.now();
    if (r.left_queue_ms !== null && now - r.left_queue_ms >= this.o.cfg.final_record_timeout_seconds * 1000) return false;
    const delay = Math.min(FINAL_RETRY_BASE_MS * 2 ** r.final_attempts, this.o.cfg.poll_interval_seconds * 1000);
    this.o.store.retryFinal(r.id, now + delay);
    return true;
  }

  /** uid → name for "cancelled by alice", resolved (async, cached) before the outcomes are made. */
  private readonly names = new Map<number, string>();
  private userName = (uid: number): string | null => this.names.get(uid) ?? null;

  private async resolveUids(uids: Iterable<number | null>): Promise<void> {
    for (const uid of uids) if (uid !== null && !this.names.has(uid)) this.names.set(uid, await userNameOf(uid));
  }

  private async finishFromSacct(r: SlurmJobRow, result: SacctResult): Promise<void> {
    if (r.array_spec !== null) {
      const tasks = arrayTasks(result, Number(r.job_id));
      const outcomes = tasks.map((t) => {
        const o = t.array_task_id === null ? null : outcomeFromSacct(t, { userName: this.userName });
        return o ? { ...o, task_id: t.array_task_id! } : null;
      });
      // Every task final, none still an unsplit pending "39_[4-7]" row, and as many as were submitted.
      const complete = tasks.length > 0 && outcomes.every((o) => o !== null) && (r.tasks === null || tasks.length >= r.tasks);
      if (!complete) {
        if (!this.retry(r)) await this.finishArray(r, this.partialArray(r, outcomes.filter(isTask)));
        return;
      }
      await this.finishArray(r, arrayOutcome(r.job_id, outcomes.filter(isTask), r.tasks ?? outcomes.length));
      return;
    }
    const job = result.jobs.get(r.job_id);
    const o = job ? outcomeFromSacct(job, { userName: this.userName }) : null;
    if (!o) {
      if (!this.retry(r)) await this.finishOne(r, unknownOutcome(r.job_id, 'no final record from sacct'));
      return;
    }
    await this.finishOne(r, o);
  }

  private async finishFromScontrol(r: SlurmJobRow, records: ScontrolJob[]): Promise<void> {
    if (r.array_spec !== null) {
      const mine = records.filter((j) => j.array_job_id === Number(r.job_id) && j.array_task_id !== null);
      const outcomes = mine.map((t) => {
        const o = outcomeFromScontrol(t, { userName: this.userName });
        return o ? { ...o, task_id: t.array_task_id! } : null;
      });
      const total = r.tasks ?? mine.length;
      if (mine.length < total || outcomes.some((o) => o === null)) {
        if (!this.retry(r)) await this.finishArray(r, this.partialArray(r, outcomes.filter(isTask)));
        return;
      }
      await this.finishArray(r, arrayOutcome(r.job_id, outcomes.filter(isTask), total));
      return;
    }
    const rec = records.find((j) => String(j.job_id) === r.job_id && j.array_task_id === null);
    const o = rec ? outcomeFromScontrol(rec, { userName: this.userName }) : null;
    if (!o) {
      if (!this.retry(r)) await this.finishOne(r, unknownOutcome(r.job_id, 'gone from scontrol (older than MinJobAge) and accounting is off'));
      return;
    }
    await this.finishOne(r, o);
  }

  private partialArray(r: SlurmJobRow, known: (SlurmOutcome & { task_id: number })[]): SlurmArrayOutcome {
    return arrayOutcome(r.job_id, known, r.tasks ?? known.length);
  }

  private pathsFor(r: SlurmJobRow, o: SlurmOutcome, taskId: number | null): (string | null)[] {
    const ctx = {
      // %j of an array task is the task's own job id (sacct JobIDRaw), not the array's.
      jobId: o.raw_job_id ?? (Number(o.job_id.split('_')[0]) || Number(r.job_id)),
      arrayJobId: Number(r.job_id),
      arrayTaskId: taskId,
      jobName: r.name ?? undefined,
      user: r.user,
      nodeName: firstNode(o.node_list) ?? undefined,
      workDir: r.work_dir ?? undefined,
    };
    const out = r.output ? taskOutputPath(r.output, ctx) : null;
    const err = r.error ? taskOutputPath(r.error, ctx) : null;
    return [err, out];
  }

  /** The tail of the job's error (else output) file: last 64 KiB at most, only a regular file the job's owner owns. */
  private tail(r: SlurmJobRow, o: SlurmOutcome, taskId: number | null) {
    return readSlurmTail(this.pathsFor(r, o, taskId), r.owner_uid === null ? {} : { ownerUid: r.owner_uid });
  }

  private async finishOne(r: SlurmJobRow, o: SlurmOutcome): Promise<void> {
    const tail = this.tail(r, o, null);
    this.end(r, o, tail?.lines ?? [], (job, diagnoses) => buildSlurmJobMessage(job, o, diagnoses, { hideCommand: !job.cmd, logFile: tail?.file ?? null }), o.node_list);
  }

  private async finishArray(r: SlurmJobRow, a: SlurmArrayOutcome): Promise<void> {
    const firstFailed = a.tasks.find((t) => !t.success);
    const tail = firstFailed ? this.tail(r, firstFailed, firstFailed.task_id) : null;
    this.end(r, a, tail?.lines ?? [], (job, diagnoses) => buildSlurmArrayMessage(job, a, diagnoses, { hideCommand: !job.cmd, logFile: tail?.file ?? null }), a.tasks[0]?.node_list ?? null);
  }

  private end(r: SlurmJobRow, o: SlurmOutcome | SlurmArrayOutcome, tail: string[], message: JobMessageBuilder, nodeList: string | null): void {
    const now = this.now();
    const f = endFacts(o);
    const end: EndEvent = {
      v: 1, type: 'end', id: r.id, ts: new Date(now).toISOString(), user: r.user, host: firstNode(nodeList) ?? 'slurm', src: 'slurm',
      exit: f.exit, signal: f.signal, exit_unknown: f.exit_unknown, wall_seconds: f.wall_seconds, cpu_seconds: f.cpu_seconds, peak_rss_bytes: f.peak_rss_bytes, tail,
    };
    let queued = 0;
    inTransaction(this.o.db, () => {
      const job = this.o.store.finish(r.id, end, { state: 'state' in o ? o.state : arrayState(o), nodeList, extra: { slurm_final: o } }, now);
      if (!job) return;
      queued = this.o.enqueuer.jobEnded(job, this.o.userConfig(r.user), now, { silent: !!r.silent, message });
    });
    this.o.log.info('SLURM job ended', { user: r.user, job_id: r.job_id, state: 'state' in o ? o.state : arrayState(o), queued });
    this.o.onChange?.('jobs');
    if (queued) this.o.onQueued();
  }

  // ---- array tasks that failed while the array runs ------------------------------------------

  private async taskMessages(arrays: SlurmJobRow[], byJob: Map<string, SqueueRow[]>): Promise<void> {
    const cap = this.o.cfg.max_task_messages;
    if (cap === 0) return;
    const need: SlurmJobRow[] = [];
    for (const a of arrays) {
      const info = a.info_json ? (JSON.parse(a.info_json) as { task_msgs?: number[] }) : {};
      const sent = new Set(info.task_msgs ?? []);
      if (sent.size >= cap) continue;
      const failed = (byJob.get(a.job_id) ?? []).filter((r) => r.array_task_id !== null && r.state !== null && TASK_FAILURE_STATES.has(r.state) && !sent.has(r.array_task_id));
      if (failed.length) need.push(a);
    }
    if (need.length === 0 || this.mode !== 'sacct') return;
    const result = await this.sacct(need.map((a) => a.job_id));
    if (result === null || result === 'disabled') return;
    await this.resolveUids(result.rows.map((row) => row.by_uid));
    for (const a of need) {
      const job = this.o.store.get(a.id);
      if (!job || job.done) continue;
      const info = job.info_json ? (JSON.parse(job.info_json) as Record<string, unknown> & { task_msgs?: number[] }) : {};
      const sent = info.task_msgs ?? [];
      for (const t of arrayTasks(result, Number(a.job_id))) {
        if (sent.length >= cap) break;
        if (t.array_task_id === null || sent.includes(t.array_task_id)) continue;
        const o = outcomeFromSacct(t, { userName: this.userName });
        if (!o || o.success || o.state === 'CANCELLED') continue;
        sent.push(t.array_task_id);
        const tail = this.tail(a, o, t.array_task_id);
        const view = this.o.store.jobView(a.id);
        if (!view) continue;
        const task = { ...o, task_id: t.array_task_id };
        const msg = buildSlurmTaskMessage(view, task, this.o.enqueuer.diagnose(tail?.lines ?? [], o.exit_code, null), { index: sent.length, cap }, { tail: tail?.lines ?? [], logFile: tail?.file ?? null, hideCommand: !view.cmd });
        const now = this.now();
        let queued = 0;
        inTransaction(this.o.db, () => {
          this.o.store.setInfo(a.id, { ...info, task_msgs: sent });
          if (!a.silent) queued = this.o.enqueuer.jobWarning(view, `${a.id}:task:${t.array_task_id}`, msg, this.o.userConfig(a.user), now);
        });
        if (queued) this.o.onQueued();
      }
    }
  }

  // ---- sinfo -------------------------------------------------------------------------------

  private async pollSinfo(): Promise<void> {
    const now = this.now();
    this.nextSinfoMs = now + this.o.cfg.sinfo_interval_seconds * 1000;
    try {
      const r = await this.command('sinfo', sinfoArgs());
      parseSinfoLong(r.stdout); // refuse a malformed answer here, not in every view
      this.sinfo = { text: r.stdout, atMs: this.now() };
    } catch (err) {
      this.problem ??= describeFailure('sinfo', err);
      this.o.log.once('sinfo-fail', 'warn', 'sinfo failed; will retry', { error: describeFailure('sinfo', err) });
    }
  }

  // ---- what the API and doctor see -------------------------------------------------------------

  view(): SlurmClusterView {
    const now = this.now();
    return buildSlurmView({
      sinfo: this.sinfo ? parseSinfoLong(this.sinfo.text) : null,
      squeue: this.queue?.rows ?? [],
      sinfoAt: this.sinfo ? new Date(this.sinfo.atMs).toISOString() : null,
      squeueAt: this.queue ? new Date(this.queue.atMs).toISOString() : null,
      problem: this.problem,
      problemSince: this.failingSinceMs === null ? null : new Date(this.failingSinceMs).toISOString(),
      now: new Date(now),
    });
  }

  health(): SlurmHealth {
    const now = this.now();
    const cutoff = now - 600_000;
    const recent = this.recent.filter((t) => t >= cutoff);
    const span = Math.min(600_000, Math.max(60_000, now - (this.recent[0] ?? now)));
    return {
      enabled: true,
      mode: this.mode,
      watching: this.o.store.countOpen(),
      commands: this.stats,
      failing_since: this.failingSinceMs === null ? null : new Date(this.failingSinceMs).toISOString(),
      consecutive_failures: this.consecutiveFailures,
      next_attempt_in_seconds: this.failingSinceMs === null ? null : Math.max(0, Math.round((this.nextSqueueMs - now) / 1000)),
      problem: this.problem,
      commands_per_minute: Math.round((recent.length / (span / 60_000)) * 100) / 100,
    };
  }
}

function isTask(o: (SlurmOutcome & { task_id: number }) | null): o is SlurmOutcome & { task_id: number } {
  return o !== null;
}

/** The state word of an array outcome for logs: COMPLETED when all succeeded, else the worst. */
function arrayState(a: SlurmArrayOutcome): string {
  if (a.success) return 'COMPLETED';
  const states = Object.keys(a.counts).filter((s) => s !== 'COMPLETED');
  return states[0] ?? 'FAILED';
}

