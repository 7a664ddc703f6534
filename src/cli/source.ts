// The CLI's DataSource (commands/source.ts): the hub over HTTP (--hub, else as `flurm run` finds
// it), and when no hub answers:
//   nodes — the snapshots the agents wrote into <cluster dir>/nodes/*.json; every node is then
//     "waiting" (only a hub judges freshness, by watching seq change), with one warning on stderr;
//   SLURM — `sinfo` and `squeue` run here (lib/exec.ts: timeout, output cap; $FLURM_SINFO /
//     $FLURM_SQUEUE, else PATH), built into the same SlurmClusterView and marked "live";
//     $FLURM_SLURM=off never runs them;
//   jobs — the person's own jobs, read from their spool (bounded).
// A hub named with --hub is only asked: it never falls back. Every answer is checked against the
// API's schema (model/api.ts). Each hub document is asked for at most once per command.
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource, JobsAnswer, JobsQuery, NodesAnswer, SlurmAnswer, SlurmMode } from '../commands/source.js';
import { CLI_ENTRY } from '../lib/cli-entry.js';
import { ExecError, HttpError, UserError, errorMessage } from '../lib/errors.js';
import { execCommand, findExecutable } from '../lib/exec.js';
import { safeHostFileName, spoolDir, userName } from '../lib/host.js';
import { historyQueryParams, type HistoryData } from '../model/history.js';
import { checkAnswer, historyAnswerSchema, jobsResponseSchema, nodeHistorySchema, nodesResponseSchema, slurmViewSchema } from '../model/api.js';
import { withJobName } from '../model/job-name.js';
import type { JobView } from '../model/job-view.js';
import type { NodeView, NodesResponse } from '../model/node-view.js';
import type { NodeSnapshot } from '../model/snapshot.js';
import { parseSnapshot, readSnapshotFile } from '../model/snapshot-schema.js';
import type { SlurmClusterView } from '../model/slurm-view.js';
import { parseSinfoLong, sinfoArgs } from '../schedulers/slurm/sinfo.js';
import { parseSqueue, squeueArgs } from '../schedulers/slurm/squeue.js';
import { buildSlurmView } from '../schedulers/slurm/view.js';
import type { EndEvent, StartEvent } from '../spool/events.js';
import { parseEventLine } from '../spool/validate.js';
import { endState } from '../store/jobs.js';
import { clusterDirFor, getJson, hubFailure, hubUrl } from './hub-client.js';

/** At most this many snapshot files are read in the no-hub fallback (the hub's limit too). */
export const MAX_NODE_FILES = 5000;
/** At most this many "skipping <file>" warnings are printed. */
const MAX_FILE_WARNINGS = 10;
/** How long the hub may take to answer. */
const HUB_TIMEOUT_MS = 5000;
/** A week of 100 nodes is a larger answer than the others. */
const HISTORY_TIMEOUT_MS = 15_000;

/** The `error` of a hub's JSON error answer, if it is one. */
function hubErrorText(body: string): string | null {
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    return typeof e === 'string' ? e.slice(0, 500) : null;
  } catch {
    return null;
  }
}
/** Each live SLURM command is killed after this long. */
export const SLURM_COMMAND_TIMEOUT_MS = 20_000;
/** The most output a live SLURM command may print (squeue -t all of a large cluster). */
export const SLURM_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
/** The most of each spool file the no-hub `jobs` reads (its end). */
const SPOOL_TAIL_BYTES = 4 * 1024 * 1024;
export const SSH_TIMEOUT_MS = 20_000;
export const SSH_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** How much of ssh's stderr an error quotes. */
const SSH_STDERR_CHARS = 1000;

export type Warn = (line: string) => void;

export const stderrWarn: Warn = (line) => {
  process.stderr.write(`flurm: ${line}\n`);
};

export interface CliSourceOptions {
  /** --hub: ask only this hub. */
  hub?: string;
  env?: NodeJS.ProcessEnv;
  warn?: Warn;
}

type HubNodes = { ok: true; url: string; response: NodesResponse } | { ok: false; url: string | null; why: string };
type HubSlurm = { kind: 'view'; url: string; view: SlurmClusterView } | { kind: 'off'; url: string; why: string } | { kind: 'none'; url: string | null; why: string };

export function createCliSource(opts: CliSourceOptions = {}): DataSource {
  const env = opts.env ?? process.env;
  const warn = opts.warn ?? stderrWarn;
  const explicit = Boolean(opts.hub);
  let url: Promise<string | null> | undefined;
  const hub = () => (url ??= hubUrl(env, opts.hub));
  const once = new Map<string, Promise<unknown>>();
  const memo = <T>(key: string, f: () => Promise<T>): Promise<T> => {
    if (!once.has(key)) once.set(key, f());
    return once.get(key) as Promise<T>;
  };

  const askNodes = (busy: number | undefined) =>
    memo(`nodes?${busy}`, async (): Promise<HubNodes> => {
      const u = await hub();
      if (!u) return { ok: false, url: null, why: 'no hub is configured' };
      const p = `/api/v1/nodes${busy === undefined ? '' : `?busy=${busy}`}`;
      try {
        return { ok: true, url: u, response: checkAnswer(nodesResponseSchema, await getJson(`${u}${p}`, HUB_TIMEOUT_MS), `${u}${p}`) as NodesResponse };
      } catch (err) {
        const f = hubFailure(err, u, '/api/v1/nodes');
        if (f.status === 404) return { ok: false, url: u, why: `${f.why} (a hub older than this flurm?)` };
        return { ok: false, url: u, why: f.status === null && !(err as { cause?: unknown }).cause ? errorMessage(err) : f.why };
      }
    });

  const askSlurm = () =>
    memo('slurm', async (): Promise<HubSlurm> => {
      const u = await hub();
      if (!u) return { kind: 'none', url: null, why: 'no hub is configured' };
      try {
        return { kind: 'view', url: u, view: checkAnswer(slurmViewSchema, await getJson(`${u}/api/v1/slurm`, HUB_TIMEOUT_MS), `${u}/api/v1/slurm`) as SlurmClusterView };
      } catch (err) {
        if (err instanceof HttpError) return { kind: 'off', url: u, why: err.status === 404 ? `the hub at ${u} has SLURM off` : `the hub at ${u} answered /api/v1/slurm with HTTP ${err.status}` };
        if (!(err as { cause?: unknown }).cause) return { kind: 'off', url: u, why: errorMessage(err) };
        return { kind: 'none', url: u, why: hubFailure(err, u, '/api/v1/slurm').why };
      }
    });

  return {
    async nodes(q): Promise<NodesAnswer> {
      const h = await askNodes(q.busy);
      if (h.ok) return { ok: true, where: { source: 'hub', hub: h.url, generated: h.response.generated }, nodes: h.response.nodes };
      if (explicit || q.hubOnly) return { ok: false, why: h.why, fatal: explicit };
      const cluster = await clusterDirFor(env);
      const dir = path.join(cluster, 'nodes');
      const nodes = nodesFromFiles(cluster, warn);
      if (nodes.length === 0) {
        return { ok: false, fatal: false, why: `${h.why}, and there is no node snapshot in ${dir}: run \`flurm agent\` on each node (and \`flurm hub\` on one), or \`flurm up\` on a single workstation` };
      }
      warn(`${h.why}; showing the snapshots in ${dir} — freshness unknown`);
      return { ok: true, where: { source: 'files', hub: null, generated: new Date().toISOString() }, nodes };
    },

    async slurm(mode: SlurmMode): Promise<SlurmAnswer> {
      const h = await askSlurm();
      if (h.kind === 'view') {
        return { ok: true, slurm: { where: { source: 'hub', hub: h.url, generated: h.view.generated }, view: h.view, source: `from the hub at ${h.url}`, live: false } };
      }
      if (explicit) {
        if (h.kind === 'none' && mode === 'fallback') throw new UserError(h.why);
        return { ok: false, why: h.why };
      }
      if (h.kind === 'off' && mode === 'no-hub') return { ok: false, why: h.why };
      const bins = slurmBinaries(env);
      if ('why' in bins) return { ok: false, why: `${h.why}, and ${bins.why}` };
      const view = await memo('live-slurm', () => liveSlurm(bins, env));
      return { ok: true, slurm: { where: { source: 'live', hub: null, generated: view.generated }, view, source: `live from sinfo and squeue on this host (${h.why})`, live: true } };
    },

    async slurmAvailable(): Promise<boolean> {
      const h = await askSlurm();
      if (h.kind === 'view') return true;
      if (explicit) return false;
      return !('why' in slurmBinaries(env));
    },

    async jobs(q: JobsQuery): Promise<JobsAnswer> {
      const u = await hub();
      const me = userName(env);
      if (u) {
        const s = new URLSearchParams({ limit: String(q.limit) });
        if (q.user) s.set('user', q.user);
        if (q.running) s.set('running', '1');
        try {
          const r = checkAnswer(jobsResponseSchema, await getJson(`${u}/api/v1/jobs?${s}`), `${u}/api/v1/jobs`);
          // An older hub does not name its jobs; name them as it would.
          const jobs = r.jobs.map((j) => (typeof j.name === 'string' ? (j as JobView & { name: string }) : withJobName(j as JobView)));
          return { ok: true, where: { source: 'hub', hub: u, generated: new Date().toISOString() }, jobs };
        } catch (err) {
          if (explicit) throw new UserError(`the hub at ${u} did not answer: ${errorMessage(err)}`);
        }
      }
      const spool = spoolDir(env);
      if (q.user && q.user !== me) return { ok: false, why: `no hub answered, and without one only your own jobs can be read (from ${spool})` };
      warn(`no hub answered; showing your jobs from ${spool}`);
      const jobs = jobsFromSpool(spool)
        .filter((j) => !q.running || j.state === 'running')
        .slice(0, q.limit)
        .map((j) => withJobName(j));
      return { ok: true, where: { source: 'spool', hub: null, generated: new Date().toISOString() }, jobs };
    },

    async nodeHistory(host, q) {
      const u = await hub();
      if (!u) return { ok: false, why: 'no hub is configured, and only a hub keeps history' };
      const p = `/api/v1/nodes/${encodeURIComponent(host)}/history?resolution=${q.resolutionSeconds}&hours=${q.hours}`;
      try {
        const r = checkAnswer(nodeHistorySchema, await getJson(`${u}${p}`, HUB_TIMEOUT_MS), `${u}${p}`);
        return { ok: true, where: { source: 'hub', hub: u, generated: new Date().toISOString() }, samples: r.samples };
      } catch (err) {
        if (explicit) throw new UserError(hubFailure(err, u, '/api/v1/nodes/HOST/history').why);
        return { ok: false, why: hubFailure(err, u, '/api/v1/nodes/HOST/history').why };
      }
    },

    async history(q) {
      const u = await hub();
      if (!u) return { ok: false, why: 'no hub is configured, and only a hub keeps history' };
      const p = `/api/v1/history?${historyQueryParams(q)}`;
      try {
        const data = checkAnswer(historyAnswerSchema, await getJson(`${u}${p}`, HISTORY_TIMEOUT_MS), `${u}${p}`) as unknown as HistoryData;
        return { ok: true, where: { source: 'hub', hub: u, generated: new Date().toISOString() }, data };
      } catch (err) {
        // The hub refusing the range (400) says why: that is the person's to fix, not a missing hub.
        const f = hubFailure(err, u, '/api/v1/history');
        if (err instanceof HttpError && err.status === 400) throw new UserError(hubErrorText(err.body) ?? f.why);
        if (explicit) throw new UserError(f.why);
        return { ok: false, why: f.why };
      }
    },

    liveNode: (node: string) => liveSnapshot(node, env),
  };
}

/** Every readable snapshot in <clusterDir>/nodes, as waiting NodeViews; a bad file is skipped with a warning. */
export function nodesFromFiles(clusterDir: string, warn: Warn): NodeView[] {
  const dir = path.join(clusterDir, 'nodes');
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  } catch {
    return [];
  }
  names.sort();
  if (names.length > MAX_NODE_FILES) {
    warn(`${dir} holds ${names.length} snapshots; reading the first ${MAX_NODE_FILES}`);
    names = names.slice(0, MAX_NODE_FILES);
  }
  const nodes = new Map<string, NodeView>();
  let skipped = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const snapshot = readSnapshotFile(file);
      // As the hub does: a file speaks only for the host it is named after.
      if (`${safeHostFileName(snapshot.host)}.json` !== name) throw new Error(`it names host "${snapshot.host}", not the one of its file name`);
      nodes.set(snapshot.host, { host: snapshot.host, state: 'waiting', age_seconds: null, snapshot, jobs: [], idle_since: null });
    } catch (err) {
      if (++skipped <= MAX_FILE_WARNINGS) warn(`skipping ${file}: ${errorMessage(err)}`);
    }
  }
  if (skipped > MAX_FILE_WARNINGS) warn(`skipped ${skipped - MAX_FILE_WARNINGS} more bad snapshot files in ${dir}`);
  return [...nodes.values()];
}

/** The SLURM binaries to run here, or why not: $FLURM_SQUEUE / $FLURM_SINFO, else PATH. */
export function slurmBinaries(env: NodeJS.ProcessEnv): { squeue: string; sinfo: string | null } | { why: string } {
  if ((env.FLURM_SLURM ?? '').trim().toLowerCase() === 'off') return { why: 'FLURM_SLURM=off' };
  const squeue = env.FLURM_SQUEUE?.trim() || findExecutable('squeue', env);
  if (!squeue) return { why: 'squeue is not on PATH (set FLURM_SQUEUE)' };
  const sinfo = env.FLURM_SINFO?.trim() || findExecutable('sinfo', env);
  return { squeue, sinfo };
}

/** "squeue: exit 1: slurm_load_jobs error: Unable to contact slurm controller (connect failure)". */
function describeFailure(command: string, err: unknown): string {
  if (err instanceof ExecError) {
    const line = (err.details.stderr ?? '').trim().split('\n').filter(Boolean).slice(-1)[0];
    if (err.details.timedOut) return `${command} timed out after ${SLURM_COMMAND_TIMEOUT_MS / 1000} s`;
    if (err.details.exitCode !== undefined && err.details.exitCode !== null) return `${command}: exit ${err.details.exitCode}${line ? `: ${line.slice(0, 300)}` : ''}`;
    return `${command}: ${err.message.replace(/^cannot run \S+/, 'cannot run it').slice(0, 300)}`;
  }
  return `${command}: ${errorMessage(err).slice(0, 300)}`;
}

/** Run sinfo and squeue here (in parallel) and build the view; a failing command becomes `problem`. */
export async function liveSlurm(bins: { squeue: string; sinfo: string | null }, env: NodeJS.ProcessEnv, now: () => number = Date.now): Promise<SlurmClusterView> {
  const run = (file: string, args: string[]) => execCommand(file, args, { timeoutMs: SLURM_COMMAND_TIMEOUT_MS, maxOutputBytes: SLURM_MAX_OUTPUT_BYTES, env });
  // Both at once; their failures reported in a fixed order (sinfo, then squeue).
  const problems: { sinfo?: string; squeue?: string } = {};
  const [sinfo, squeue] = await Promise.all([
    bins.sinfo === null
      ? ((problems.sinfo = 'sinfo is not on PATH (set FLURM_SINFO)'), null)
      : run(bins.sinfo, sinfoArgs()).then(
          (r) => ({ rows: parseSinfoLong(r.stdout).rows, at: new Date(now()).toISOString() }),
          (err: unknown) => {
            problems.sinfo = describeFailure('sinfo', err);
            return null;
          },
        ),
    run(bins.squeue, squeueArgs()).then(
      (r) => ({ rows: parseSqueue(r.stdout).rows, at: new Date(now()).toISOString() }),
      (err: unknown) => {
        problems.squeue = describeFailure('squeue', err);
        return null;
      },
    ),
  ]);
  const problem = [problems.sinfo, problems.squeue].filter((p): p is string => p !== undefined);
  return buildSlurmView({
    sinfo: sinfo?.rows ?? null,
    squeue: squeue?.rows ?? null,
    sinfoAt: sinfo?.at ?? null,
    squeueAt: squeue?.at ?? null,
    problem: problem.length ? problem.join('; ') : null,
    now: now(),
  });
}

/** The person's jobs from their spool files alone (last 4 MiB of each file). */
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

/** One word for the remote shell (ssh joins its arguments with spaces and hands them to a shell). */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `flurm agent --print` on `node` over ssh ($FLURM_SSH, default "ssh"), parsed and validated. */
export async function liveSnapshot(node: string, env: NodeJS.ProcessEnv): Promise<NodeSnapshot> {
  const ssh = env.FLURM_SSH?.trim() || 'ssh';
  const remote = [process.execPath, CLI_ENTRY, 'agent', '--print'].map(shellWord);
  let stdout: string;
  try {
    ({ stdout } = await execCommand(ssh, ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', node, ...remote], { timeoutMs: SSH_TIMEOUT_MS, maxOutputBytes: SSH_MAX_OUTPUT_BYTES }));
  } catch (err) {
    if (!(err instanceof ExecError)) throw err;
    const d = err.details;
    const stderr = (d.stderr ?? '').trim().slice(-SSH_STDERR_CHARS);
    const why = d.timedOut ? `timed out after ${SSH_TIMEOUT_MS / 1000} s` : d.exitCode != null ? `exit ${d.exitCode}` : d.signal ? `killed by ${d.signal}` : err.message;
    throw new UserError(`cannot ask ${node} over ssh (${why})${stderr ? `:\n${stderr}` : ''}`, { cause: err, exitCode: 1 });
  }
  try {
    return parseSnapshot(stdout);
  } catch (err) {
    throw new UserError(`${node} answered over ssh, but not with a node snapshot (${errorMessage(err)}); is flurm on that node this version?`, { cause: err, exitCode: 1 });
  }
}
