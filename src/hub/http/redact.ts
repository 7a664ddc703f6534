// Who may see what (docs/access.md), in one place: every answer of the hub's HTTP side that holds
// jobs or node snapshots is made from `viewApi(api, viewer, rules)`, a HubApi whose jobs, nodes and
// history are already cut to what this viewer may see — so the JSON routes, POST
// /api/v1/commands/NAME (whose result and messages are computed from the same data) and any later
// route built on the HubApi cannot leak by another path.
//
// A job's command, cwd, log path and log tail (and, for a SLURM job, SLURM's WorkDir/StdOut/StdErr)
// and a busy process's command line are its owner's: shown to the owner, to everyone on a loopback
// hub (the host's users are trusted: viewer 'lab'), and to every signed-in user when the hub config
// says `[http] share_job_details = true`. An anonymous viewer (`[http] public_view`) sees nodes
// without any process command line and no jobs at all; the lab's job history (`kind=jobs`,
// `kind=report`) is for signed-in viewers only.
import { UserError } from '../../lib/errors.js';
import { withJobName } from '../../model/job-name.js';
import type { JobView } from '../../model/job-view.js';
import type { NodeView } from '../../model/node-view.js';
import type { HubApi } from './server.js';

/** Who asks: the host's users on a loopback hub, a signed-in unix user, or no one known. */
export type Viewer =
  | { kind: 'lab'; user: string | null }
  | { kind: 'user'; user: string; via: 'session' | 'token' | 'chat' }
  | { kind: 'anonymous' };

export interface RedactRules {
  /** `[http] share_job_details`: signed-in users see every job's details. */
  shareDetails: boolean;
}

/** Fields of a SLURM outcome that are paths (the job's cwd and log files). */
const SLURM_PATH_FIELDS = ['work_dir', 'std_out', 'std_err'] as const;

/** True when `viewer` may see the command, cwd and log of something `owner` runs. */
export function seesDetailsOf(viewer: Viewer, owner: string | null | undefined, rules: RedactRules): boolean {
  if (viewer.kind === 'lab') return true;
  if (viewer.kind === 'anonymous') return false;
  return rules.shareDetails || (owner !== null && owner !== undefined && viewer.user === owner);
}

function stripPaths(final: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...final };
  for (const k of SLURM_PATH_FIELDS) if (k in out) out[k] = null;
  if (Array.isArray(out.tasks)) out.tasks = out.tasks.map((t) => (t && typeof t === 'object' ? stripPaths(t as Record<string, unknown>) : t));
  return out;
}

/**
 * The job as `viewer` may see it: another user's job loses cmd, cwd, log and tail (null) and is
 * marked `details_hidden: true`; its `name` (made from the command when there is no title) is
 * made again from what is left.
 */
export function redactJob<T extends JobView>(job: T, viewer: Viewer, rules: RedactRules): T {
  if (seesDetailsOf(viewer, job.user, rules)) return job;
  const out: T & { details_hidden: true } = { ...job, cmd: null, cwd: null, log: null, tail: null, details_hidden: true };
  if (job.slurm?.final) out.slurm = { ...job.slurm, final: stripPaths(job.slurm.final) };
  if ('name' in job) return withJobName(out) as T;
  return out;
}

/** The node as `viewer` may see it: other users' busy processes without their command line (""), their jobs redacted; anonymous: no jobs. */
export function redactNode(node: NodeView, viewer: Viewer, rules: RedactRules): NodeView {
  const busy = node.snapshot.busy.map((p) => (seesDetailsOf(viewer, p.user, rules) ? p : { ...p, cmd: '' }));
  const jobs = viewer.kind === 'anonymous' ? [] : node.jobs.map((j) => redactJob(j, viewer, rules));
  return { ...node, snapshot: { ...node.snapshot, busy }, jobs };
}

/** The HubApi as `viewer` may see it (the other calls pass through: they hold no job details nor anyone's own). */
export function viewApi(api: HubApi, viewer: Viewer, rules: RedactRules): HubApi {
  if (viewer.kind === 'lab') return api;
  const anonymous = viewer.kind === 'anonymous';
  return {
    ...api,
    jobs: (q) => (anonymous ? [] : api.jobs(q).map((j) => redactJob(j, viewer, rules))),
    job: (id) => {
      if (anonymous) return undefined;
      const j = api.job(id);
      return j && redactJob(j, viewer, rules);
    },
    nodes: (q) => {
      const r = api.nodes(q);
      return { ...r, nodes: r.nodes.map((n) => redactNode(n, viewer, rules)) };
    },
    // A problem names a user's files and refused lines: theirs to see (lab-wide ones stay).
    problems: () => {
      if (anonymous) return [];
      return api.problems().filter((p) => {
        const owner = (p as { user?: string | null }).user;
        return owner === null || owner === undefined || owner === viewer.user;
      });
    },
    // Someone's chat ids are theirs: another user's links read as none.
    ...(api.link ? { link: (user: string) => (!anonymous && user === viewer.user ? api.link!(user) : []) } : {}),
    ...(api.history
      ? {
          history: (q) => {
            if (anonymous && (q.kind === 'jobs' || q.kind === 'report')) throw new UserError('the lab\'s job history is for signed-in users: run `flurm dashboard`');
            return api.history!(q);
          },
        }
      : {}),
  };
}
