// The data source seam: how a command reads the cluster. Two implementations: inside the hub
// (hub/source.ts: its own nodes, SLURM view and index, in-process, for the API, bots, web, MCP)
// and for the CLI (cli/source.ts: the hub over HTTP, falling back to the snapshot files in the
// cluster dir and to live sinfo/squeue here). A command never knows which one it has; it only
// chooses, from what the source says, between agent nodes and SLURM.
import type { JobView } from '../model/job-view.js';
import type { NodeView } from '../model/node-view.js';
import type { NodeSnapshot } from '../model/snapshot.js';
import type { SlurmClusterView } from '../model/slurm-view.js';
import type { Where } from './table.js';
import type { HistoryData, HistoryQuery } from '../model/history.js';

export type NodesAnswer =
  | { ok: true; where: Where; nodes: NodeView[] }
  /**
   * No node could be read; `why` says so in words (and how to start the agents). `fatal`: the
   * person named a hub that did not answer, so nothing else (SLURM) may stand in.
   */
  | { ok: false; why: string; fatal: boolean };

export interface SlurmLoaded {
  where: Where;
  view: SlurmClusterView;
  /** Where it came from, in words ("from the hub at …", "live from sinfo and squeue on this host (…)"). */
  source: string;
  /** True when the view was made just now by this command (no age to show). */
  live: boolean;
}

export type SlurmAnswer = { ok: true; slurm: SlurmLoaded } | { ok: false; why: string };

/**
 * no-hub: SLURM only where the hub serves it, or live when no hub answered at all (status, top,
 * users, plain best: a hub with SLURM off means no SLURM section). fallback: also live when the hub
 * has SLURM off, since the person asked for SLURM (queue, best --slurm).
 */
export type SlurmMode = 'no-hub' | 'fallback';

export interface JobsQuery {
  user?: string;
  running?: boolean;
  limit: number;
}

export type JobsAnswer =
  | { ok: true; where: Where; jobs: (JobView & { name: string })[] }
  | { ok: false; why: string };

export type NodeHistoryAnswer = { ok: true; where: Where; samples: Record<string, unknown>[] } | { ok: false; why: string };

export type HistoryAnswer = { ok: true; where: Where; data: HistoryData } | { ok: false; why: string };

export interface DataSource {
  /**
   * Agent nodes; `busy`: only the N busiest processes per node (status, best ask for 0);
   * `hubOnly`: the hub's or none (no snapshot files: inspect live merges only the hub's jobs).
   */
  nodes(q: { busy?: number; hubOnly?: boolean }): Promise<NodesAnswer>;
  /** The SLURM view. Throws a UserError only for a named hub that does not answer in "fallback" mode. */
  slurm(mode: SlurmMode): Promise<SlurmAnswer>;
  /** Whether `best --slurm` would find SLURM, without running a SLURM command (for a hint). */
  slurmAvailable(): Promise<boolean>;
  jobs(q: JobsQuery): Promise<JobsAnswer>;
  /** One node's samples (minute or hour buckets) since a time; null where no hub keeps history. */
  nodeHistory(host: string, q: { resolutionSeconds: 60 | 3600; hours: number }): Promise<NodeHistoryAnswer>;
  /** The lab's history (only a hub keeps it): nodes, SLURM, jobs per bucket, or a report. Throws a UserError for a range the hub refuses. */
  history(q: HistoryQuery): Promise<HistoryAnswer>;
  /**
   * One node asked afresh (inspect --live), where this source can: the CLI asks over the user's
   * own ssh. Absent in the hub, which never logs in anywhere.
   */
  liveNode?(node: string): Promise<NodeSnapshot>;
}
