// One builder for what every event a flurm writer appends carries besides its type: the schema
// version, the id (a new ULID, or the job's own for its `start` and `end`), the writer's clock,
// user and host, and `src: "node"` (the flurm CLI). Used by run, watch, notify, submit and
// watch --slurm. Light on purpose: the fast path of `flurm run` imports it.
import { newId } from '../lib/ids.js';
import { SPOOL_VERSION } from './events.js';

export interface Envelope {
  v: typeof SPOOL_VERSION;
  id: string;
  ts: string;
  user: string;
  host: string;
  src: 'node';
}

export function envelope(who: { user: string; host: string; id?: string }, now: Date = new Date()): Envelope {
  return { v: SPOOL_VERSION, id: who.id ?? newId(), ts: now.toISOString(), user: who.user, host: who.host, src: 'node' };
}
