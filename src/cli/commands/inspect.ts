// `flurm inspect NODE [--live]`: one node in full. With --live the node is asked afresh over the
// user's own ssh (BatchMode, so never a password prompt; bounded in time and output) to print its
// snapshot with `flurm agent --print` — the home is shared, so this Node and this flurm exist at
// the same paths there — merged with the hub's jobs for that node when a hub answers.
import type { NodeSnapshot } from '../../model/snapshot.js';
import { inspect } from '../../commands/inspect.js';
import type { NodeView } from '../../model/node-view.js';
import { ExecError, UserError, errorMessage } from '../../lib/errors.js';
import { execCommand } from '../../lib/exec.js';
import { stateColour } from '../../frontends/cli/colour.js';
import { CLI_ENTRY } from '../../lib/cli-entry.js';
import { askHub, depsFor, loadNodes, printJson, printMessage, stderrWarn } from '../nodes-client.js';

export interface InspectOptions {
  node: string;
  live?: boolean;
  json?: boolean;
  hub?: string;
}

export const SSH_TIMEOUT_MS = 20_000;
export const SSH_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** How much of ssh's stderr an error quotes. */
const SSH_STDERR_CHARS = 1000;

/** A host name ssh cannot mistake for an option. */
const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

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
    ({ stdout } = await execCommand(ssh, ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', node, ...remote], {
      timeoutMs: SSH_TIMEOUT_MS,
      maxOutputBytes: SSH_MAX_OUTPUT_BYTES,
    }));
  } catch (err) {
    if (!(err instanceof ExecError)) throw err;
    const d = err.details;
    const stderr = (d.stderr ?? '').trim().slice(-SSH_STDERR_CHARS);
    const why = d.timedOut ? `timed out after ${SSH_TIMEOUT_MS / 1000} s` : d.exitCode != null ? `exit ${d.exitCode}` : d.signal ? `killed by ${d.signal}` : err.message;
    throw new UserError(`cannot ask ${node} over ssh (${why})${stderr ? `:\n${stderr}` : ''}`, { cause: err, exitCode: 1 });
  }
  const { parseSnapshot } = await import('../../model/snapshot-schema.js');
  try {
    return parseSnapshot(stdout);
  } catch (err) {
    throw new UserError(`${node} answered over ssh, but not with a node snapshot (${errorMessage(err)}); is flurm on that node this version?`, { cause: err, exitCode: 1 });
  }
}

async function runLive(opts: InspectOptions, env: NodeJS.ProcessEnv): Promise<number> {
  if (!HOST_RE.test(opts.node)) throw new UserError(`"${opts.node}" is not a host name`);
  const [hub, snapshot] = await Promise.all([askHub(opts, env), liveSnapshot(opts.node, env)]);
  if (!hub.ok && opts.hub) stderrWarn(`${hub.why}; the node's flurm jobs are unknown`);
  const short = (h: string) => h.split('.')[0];
  const known = hub.ok
    ? (hub.response.nodes.find((n) => n.host === opts.node || n.host === snapshot.host) ??
      hub.response.nodes.find((n) => short(n.host) === short(opts.node) || short(n.host) === short(snapshot.host)))
    : undefined;
  const view: NodeView = { host: known?.host ?? snapshot.host, state: 'fresh', age_seconds: 0, snapshot, jobs: known?.jobs ?? [], idle_since: known?.idle_since ?? null };
  const generated = new Date().toISOString();
  const m = inspect([view], { node: view.host, live: true, jobs_known: hub.ok }, depsFor({ generated }));
  if (opts.json) printJson({ source: 'live', hub: hub.ok ? hub.url : null, generated }, m.data);
  else printMessage(m, env, { titleColour: 'green', maxCellChars: 80 });
  return 0;
}

export async function run(opts: InspectOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (opts.live) return runLive(opts, env);
  const loaded = await loadNodes(opts, env);
  const m = inspect(loaded.nodes, { node: opts.node, jobs_known: loaded.source === 'hub' }, depsFor(loaded));
  if (opts.json) printJson(loaded, m.data);
  else {
    const state = (m.data?.node as NodeView | undefined)?.state;
    printMessage(m, env, { titleColour: state ? stateColour(state) : null, maxCellChars: 80 });
  }
  return 0;
}
