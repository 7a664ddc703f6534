// The nodes as the CLI's node commands (status, best, top, inspect, users) get them: from the hub's
// GET /api/v1/nodes, or, when no hub answers, straight from the snapshots the agents wrote into
// <cluster dir>/nodes/*.json — then every node is "waiting" (only a hub judges freshness, by
// watching seq change) and a one-line warning says so on stderr. Also the shared output: JSON
// (never coloured) or the message for the terminal.
import fs from 'node:fs';
import path from 'node:path';
import { safeHostFileName } from '../lib/host.js';
import type { NodeCommandDeps } from '../model/node-facts.js';
import type { NodeView, NodesResponse } from '../model/node-view.js';
import { renderMessageForTerminal, type TerminalRenderOptions } from '../frontends/cli/message.js';
import { UserError, errorMessage } from '../lib/errors.js';
import type { Message } from '../model/message.js';
import { colourEnabled } from '../frontends/cli/colour.js';
import { clusterDirFor, getJson, hubUrl } from './hub-client.js';

/** At most this many snapshot files are read in the no-hub fallback (the hub's limit too). */
export const MAX_NODE_FILES = 5000;
/** At most this many "skipping <file>" warnings are printed. */
const MAX_FILE_WARNINGS = 10;
/** How long the hub may take to answer. */
const HUB_TIMEOUT_MS = 5000;

export interface NodesOptions {
  hub?: string;
  /** Ask the hub for only the N busiest processes per node (status, best: 0). */
  busy?: number;
}

export interface LoadedNodes {
  /** hub: the hub's answer; files: read from the cluster dir, freshness unknown. */
  source: 'hub' | 'files';
  hub: string | null;
  /** ISO time the nodes are "as of": the hub's clock, or this host's in the fallback. */
  generated: string;
  nodes: NodeView[];
}

export type Warn = (line: string) => void;

export const stderrWarn: Warn = (line) => {
  process.stderr.write(`flurm: ${line}\n`);
};

/** The parts of a NodesResponse the commands rely on; anything else is an error naming the URL. */
function checkResponse(x: unknown, url: string): NodesResponse {
  const r = x as Partial<NodesResponse> | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.nodes)) throw new Error(`${url}: not a nodes answer (no "nodes" list)`);
  const nodes: NodeView[] = [];
  for (const n of r.nodes as Partial<NodeView>[]) {
    const s = n?.snapshot;
    if (!n || typeof n.host !== 'string' || typeof n.state !== 'string' || !s || typeof s !== 'object' || !Array.isArray(s.busy) || !Array.isArray(s.load) || !s.mem) {
      throw new Error(`${url}: a node entry is not a NodeView (host ${JSON.stringify(n?.host ?? null)})`);
    }
    nodes.push({ ...(n as NodeView), jobs: Array.isArray(n.jobs) ? n.jobs : [], idle_since: n.idle_since ?? null, age_seconds: n.age_seconds ?? null });
  }
  return { generated: typeof r.generated === 'string' ? r.generated : new Date().toISOString(), nodes };
}

export type HubAnswer = { ok: true; url: string; response: NodesResponse } | { ok: false; url: string | null; why: string };

/** Ask the hub (--hub, else as `flurm run` finds it) for its nodes. Never throws. */
export async function askHub(opts: NodesOptions, env: NodeJS.ProcessEnv): Promise<HubAnswer> {
  const url = await hubUrl(env, opts.hub);
  if (!url) return { ok: false, url: null, why: 'no hub is configured' };
  try {
    return { ok: true, url, response: checkResponse(await getJson<unknown>(`${url}/api/v1/nodes${opts.busy === undefined ? '' : `?busy=${opts.busy}`}`, HUB_TIMEOUT_MS), url) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const status = /: HTTP (\d+)$/.exec(errorMessage(err))?.[1];
    if (status) return { ok: false, url, why: `the hub at ${url} answered /api/v1/nodes with HTTP ${status}${status === '404' ? ' (a hub older than this flurm?)' : ''}` };
    return { ok: false, url, why: `the hub at ${url} did not answer: ${e.cause?.code ?? errorMessage(err)}` };
  }
}

/** Every readable snapshot in <clusterDir>/nodes, as waiting NodeViews; a bad file is skipped with a warning. */
export async function nodesFromFiles(clusterDir: string, warn: Warn): Promise<NodeView[]> {
  // The validator (zod) costs ~100 ms to load: only the fallback needs it.
  const { readSnapshotFile } = await import('../model/snapshot-schema.js');
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

/**
 * The nodes from the hub, else from the snapshot files (warning once on stderr). A hub named with
 * --hub that does not answer is an error, as for `flurm jobs`; no hub and no snapshot is an error
 * that says how to start the agents.
 */
export async function loadNodes(opts: NodesOptions, env: NodeJS.ProcessEnv = process.env, warn: Warn = stderrWarn): Promise<LoadedNodes> {
  const hub = await askHub(opts, env);
  if (hub.ok) return { source: 'hub', hub: hub.url, generated: hub.response.generated, nodes: hub.response.nodes };
  if (opts.hub) throw new UserError(hub.why);
  const cluster = await clusterDirFor(env);
  const nodes = await nodesFromFiles(cluster, warn);
  if (nodes.length === 0) {
    throw new UserError(
      `${hub.why}, and there is no node snapshot in ${path.join(cluster, 'nodes')}: ` +
        'run `flurm agent` on each node (and `flurm hub` on one), or `flurm up` on a single workstation',
    );
  }
  warn(`${hub.why}; showing the snapshots in ${path.join(cluster, 'nodes')} — freshness unknown`);
  return { source: 'files', hub: null, generated: new Date().toISOString(), nodes };
}

/** The commands' clock: the answer's `generated`, so run times and "idle for" match the data. */
export function depsFor(loaded: Pick<LoadedNodes, 'generated'>): NodeCommandDeps {
  const t = Date.parse(loaded.generated);
  return { now: () => (Number.isFinite(t) ? t : Date.now()) };
}

/** JSON on stdout: where the nodes came from, then the command's neutral result. */
export function printJson(loaded: { source: LoadedNodes['source'] | 'live'; hub: string | null; generated: string }, result: Record<string, unknown> | undefined): void {
  process.stdout.write(JSON.stringify({ source: loaded.source, hub: loaded.hub, generated: loaded.generated, ...result }, null, 2) + '\n');
}

/** The message on stdout, coloured only when colourEnabled() says so. */
export function printMessage(m: Message, env: NodeJS.ProcessEnv, opts: Omit<TerminalRenderOptions, 'colour'> = {}): void {
  process.stdout.write(renderMessageForTerminal(m, { ...opts, colour: colourEnabled(process.stdout, env) }));
}
