// The SLURM cluster as the CLI gets it: the hub's GET /api/v1/slurm (one sinfo a minute and one
// squeue per interval for the whole lab, see hub/slurm-poller.ts), or — when no hub answers, or
// the hub has SLURM off and the command asked for SLURM — from `sinfo` and `squeue` run here
// (lib/exec.ts: timeout, output cap; binaries $FLURM_SINFO / $FLURM_SQUEUE, else PATH), built
// into the same SlurmClusterView and marked "live". $FLURM_SLURM=off never runs them.
//
// When does a command go live?
//   mode "no-hub" (status, top, users, plain best): only when no hub answered at all. Behind a
//     hub the hub is the one poller: a hub that says SLURM is off means no SLURM section, so
//     `flurm status` adds no SLURM call of its own on every run.
//   mode "fallback" (queue, best --slurm/--partition): also when the hub says SLURM is off (404),
//     since the user asked for SLURM.
//   A hub named with --hub is only asked; it never falls back to live.
import type { SlurmClusterView } from '../model/slurm-view.js';
import { buildSlurmView } from '../schedulers/slurm/view.js';
import type { SlurmViewSource } from '../commands/slurm-status.js';
import { UserError, errorMessage, ExecError } from '../lib/errors.js';
import { execCommand, findExecutable } from '../lib/exec.js';
import { parseSinfoLong, sinfoArgs } from '../schedulers/slurm/sinfo.js';
import { parseSqueue, squeueArgs } from '../schedulers/slurm/squeue.js';
import type { Colour } from '../frontends/cli/colour.js';
import type { Message } from '../model/message.js';
import { getJson, hubUrl } from './hub-client.js';
import { loadNodes, printMessage, type LoadedNodes, type NodesOptions } from './nodes-client.js';

/** How long the hub may take to answer. */
const HUB_TIMEOUT_MS = 5000;
/** Each live SLURM command is killed after this long. */
export const SLURM_COMMAND_TIMEOUT_MS = 20_000;
/** The most output a live SLURM command may print (squeue -t all of a large cluster). */
export const SLURM_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface SlurmOptions {
  hub?: string;
  /** See the header. Default "no-hub". */
  mode?: 'no-hub' | 'fallback';
}

export interface LoadedSlurm {
  source: 'hub' | 'live';
  /** The hub's URL when the view came from it. */
  hub: string | null;
  view: SlurmClusterView;
  /** For the renderers: where it came from, in words. */
  src: SlurmViewSource;
}

export interface SlurmLoad {
  slurm: LoadedSlurm | null;
  /** Why there is no view (or why it is live), in words: "no hub is configured", "the hub at … has SLURM off". */
  why: string | null;
}

type HubSlurm =
  | { kind: 'view'; url: string; view: SlurmClusterView }
  | { kind: 'off'; url: string; why: string }
  | { kind: 'none'; url: string | null; why: string };

/** The parts of a SlurmClusterView the renderers rely on; anything else is an error naming the URL. */
function checkView(x: unknown, url: string): SlurmClusterView {
  const v = x as Partial<SlurmClusterView> | null;
  const where = `${url}/api/v1/slurm`;
  if (!v || typeof v !== 'object' || !Array.isArray(v.nodes) || !Array.isArray(v.partitions) || !Array.isArray(v.jobs)) {
    throw new Error(`${where}: not a SLURM view (nodes, partitions, jobs)`);
  }
  const str = (o: unknown, k: string) => typeof (o as Record<string, unknown> | null)?.[k] === 'string';
  if (!v.nodes.every((n) => str(n, 'name') && str(n, 'state') && Array.isArray(n?.flags) && Array.isArray(n?.partitions))) throw new Error(`${where}: not a SLURM view (a node entry)`);
  if (!v.partitions.every((p) => str(p, 'name') && Array.isArray(p?.nodes))) throw new Error(`${where}: not a SLURM view (a partition entry)`);
  if (!v.jobs.every((j) => str(j, 'job_id') && str(j, 'user') && str(j, 'state') && typeof j?.gpus === 'number')) throw new Error(`${where}: not a SLURM view (a job entry)`);
  return {
    ...(v as SlurmClusterView),
    generated: typeof v.generated === 'string' ? v.generated : new Date().toISOString(),
    sinfo_at: v.sinfo_at ?? null,
    squeue_at: v.squeue_at ?? null,
    problem: v.problem ?? null,
  };
}

/** Ask the hub (--hub, else as `flurm run` finds it) for its SLURM view. Never throws. */
export async function askHubSlurm(opts: SlurmOptions, env: NodeJS.ProcessEnv): Promise<HubSlurm> {
  const url = await hubUrl(env, opts.hub);
  if (!url) return { kind: 'none', url: null, why: 'no hub is configured' };
  try {
    return { kind: 'view', url, view: checkView(await getJson<unknown>(`${url}/api/v1/slurm`, HUB_TIMEOUT_MS), url) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const status = /: HTTP (\d+)$/.exec(errorMessage(err))?.[1];
    if (status === '404') return { kind: 'off', url, why: `the hub at ${url} has SLURM off` };
    if (status) return { kind: 'off', url, why: `the hub at ${url} answered /api/v1/slurm with HTTP ${status}` };
    if (/not a SLURM view|not JSON/.test(errorMessage(err))) return { kind: 'off', url, why: errorMessage(err) };
    return { kind: 'none', url, why: `the hub at ${url} did not answer: ${e.cause?.code ?? errorMessage(err)}` };
  }
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

async function noSinfo(problems: { sinfo?: string }): Promise<null> {
  problems.sinfo = 'sinfo is not on PATH (set FLURM_SINFO)';
  return null;
}

/** Run sinfo and squeue here (in parallel) and build the view; a failing command becomes `problem`. */
export async function liveSlurm(bins: { squeue: string; sinfo: string | null }, env: NodeJS.ProcessEnv, now: () => number = Date.now): Promise<SlurmClusterView> {
  const run = (file: string, args: string[]) => execCommand(file, args, { timeoutMs: SLURM_COMMAND_TIMEOUT_MS, maxOutputBytes: SLURM_MAX_OUTPUT_BYTES, env });
  // Both at once; their failures reported in a fixed order (sinfo, then squeue).
  const problems: { sinfo?: string; squeue?: string } = {};
  const [sinfo, squeue] = await Promise.all([
    bins.sinfo === null
      ? noSinfo(problems)
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

/**
 * The SLURM view for a command: from the hub, else live (see the header for when), else null with
 * the reason. Never throws, except for a hub named with --hub that does not answer in "fallback"
 * mode (a UserError, exit 2, as for the node commands).
 */
export async function loadSlurm(opts: SlurmOptions, env: NodeJS.ProcessEnv = process.env): Promise<SlurmLoad> {
  const mode = opts.mode ?? 'no-hub';
  const hub = await askHubSlurm(opts, env);
  if (hub.kind === 'view') {
    return { slurm: { source: 'hub', hub: hub.url, view: hub.view, src: { source: `from the hub at ${hub.url}` } }, why: null };
  }
  if (opts.hub) {
    if (hub.kind === 'none' && mode === 'fallback') throw new UserError(hub.why);
    return { slurm: null, why: hub.why };
  }
  if (hub.kind === 'off' && mode === 'no-hub') return { slurm: null, why: hub.why };
  const bins = slurmBinaries(env);
  if ('why' in bins) return { slurm: null, why: `${hub.why}, and ${bins.why}` };
  const view = await liveSlurm(bins, env);
  return {
    slurm: { source: 'live', hub: null, view, src: { source: `live from sinfo and squeue on this host (${hub.why})`, live: true } },
    why: hub.why,
  };
}

/**
 * The agent nodes and the SLURM view, for status, top and users. SLURM first: behind a hub that
 * is one request; with no hub, sinfo and squeue here. No hub and no snapshot is not an error on a
 * SLURM host (SLURM alone is the answer): then `loaded` is null. Otherwise loadNodes' errors stand.
 */
export async function loadNodesAndSlurm(opts: NodesOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ loaded: LoadedNodes | null; slurm: LoadedSlurm | null }> {
  const { slurm } = await loadSlurm({ hub: opts.hub }, env);
  try {
    return { loaded: await loadNodes(opts, env), slurm };
  } catch (err) {
    if (!(slurm && !opts.hub && err instanceof UserError)) throw err;
    return { loaded: null, slurm };
  }
}

/**
 * Whether `best --slurm` would find SLURM, without running a SLURM command: the hub serves a view,
 * or (no hub named) squeue is here. For a hint, so it never throws.
 */
export async function slurmAvailable(opts: SlurmOptions, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const hub = await askHubSlurm(opts, env);
  if (hub.kind === 'view') return true;
  if (opts.hub) return false;
  return !('why' in slurmBinaries(env));
}

/** The SLURM node state column on a terminal: idle green, draining yellow, down/drained/fail or not responding red. */
export function slurmStateColour(state: string, flags: readonly string[]): Colour | null {
  if (flags.includes('not_responding') || ['down', 'drained', 'fail', 'failing'].includes(state) || flags.includes('drain')) return 'red';
  if (state === 'draining') return 'yellow';
  if (state === 'idle') return 'green';
  return null;
}

/** Print SLURM messages after whatever came before (a blank line between), the state column coloured. */
export function printSlurmMessages(messages: readonly Message[], env: NodeJS.ProcessEnv, opts: { after: boolean; nodes?: readonly { state: string; flags: string[] }[] }): void {
  messages.forEach((m, i) => {
    if (opts.after || i > 0) process.stdout.write('\n');
    const colours = m.table?.columns.includes('STATE') && opts.nodes ? opts.nodes.map((n) => slurmStateColour(n.state, n.flags)) : null;
    printMessage(m, env, colours ? { columnColours: { column: 'STATE', colours } } : {});
  });
}
