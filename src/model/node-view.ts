// NodeView: one node as the command layer sees it — the latest snapshot the agent wrote, the hub's
// judgement of how fresh it is (by `seq` changes on the hub's own monotonic clock, never by
// comparing clocks), and the flurm jobs running there. The hub's /api/v1/nodes returns these;
// status, best, top, inspect and users are pure functions of them.
import type { NodeSnapshot } from './snapshot.js';
import type { JobView } from './job-view.js';

/**
 * fresh: seq changed within stale_after; stale: not for a while; down: not for down_after;
 * waiting: the hub has not yet seen seq change since it started watching (just started).
 */
export type NodeState = 'fresh' | 'stale' | 'down' | 'waiting';

export interface NodeView {
  host: string;
  state: NodeState;
  /** Seconds since the hub last saw this node's seq change; null while waiting. */
  age_seconds: number | null;
  /** The latest valid snapshot. */
  snapshot: NodeSnapshot;
  /** flurm jobs the index says are running on this host. */
  jobs: JobView[];
  /** ISO time (hub clock) since when the node has been idle (no busy process, CPU < 10 %); null if busy now or unknown. */
  idle_since: string | null;
  /**
   * Users active on the node (busy processes, GPU holders), computed by the hub from the whole
   * snapshot: present even when the answer leaves the process lists out (`?busy=0`).
   */
  active_users?: string[];
  /** How many busy processes the answer left out (`?busy=N`); absent when none. */
  busy_omitted?: number;
  /** Why the node's latest file was refused (the view shows the last good snapshot). */
  problem?: string;
}

export interface NodesResponse {
  /** ISO time on the hub's clock when this answer was made. */
  generated: string;
  nodes: NodeView[];
}
