// The envelope of every event the Node CLI writes (`flurm run`, `watch`, `notify`, `submit`,
// `watch --slurm`): `v`, `type`, `id`, `ts`, `user`, `host`, `src`, in that order — the order the
// bash writer (shell-init.sh) and docs/spool-protocol.md use — plus the job's description fields
// each writer repeats. On the `flurm run` fast path: imports only lib/ and spool/events.ts.
import { SPOOL_VERSION, type EventType } from './events.js';
import { newId } from '../lib/ids.js';
import { hostName, userName } from '../lib/host.js';

/** Who writes, and where: the `user` and `host` of an event (and the spool file it goes to). */
export interface EventOrigin {
  user: string;
  host: string;
}

export interface Envelope<T extends EventType> extends EventOrigin {
  v: number;
  type: T;
  id: string;
  ts: string;
  src: 'node';
}

/** This process's user and host (FLURM_HOST overrides the host). */
export function writerOrigin(env: NodeJS.ProcessEnv = process.env): EventOrigin {
  return { user: userName(env), host: hostName(env) };
}

/**
 * The fields every event starts with. `id`: the job's ULID (a job's `start` and `end` share it), a
 * new one when absent; `ts`: now on this host's clock, unless given (tests).
 */
export function envelope<T extends EventType>(type: T, who: EventOrigin & { id?: string; ts?: string }): Envelope<T> {
  return { v: SPOOL_VERSION, type, id: who.id ?? newId(), ts: who.ts ?? new Date().toISOString(), user: who.user, host: who.host, src: 'node' };
}

/** What an `end` event says a job cost, rounded as the writers round it: ms of wall, 1/100 s of CPU. */
export function jobCost(wallSeconds: number, cpuSeconds: number | null, peakRssBytes: number | null): { wall_seconds: number; cpu_seconds: number | null; peak_rss_bytes: number | null } {
  return {
    wall_seconds: Math.round(wallSeconds * 1000) / 1000,
    cpu_seconds: cpuSeconds === null ? null : Math.round(cpuSeconds * 100) / 100,
    peak_rss_bytes: peakRssBytes,
  };
}

/** A job's title, command line and extra destinations, as an event carries them. */
export interface JobDescription {
  title?: string;
  cmd?: string;
  to?: string[];
}

/**
 * `title`, `cmd` and `to`, each only when there is one (`to` only when not empty), in that order:
 * what `start`, `end` and `note` carry so that any one of them alone is enough to notify.
 */
export function jobDescription(d: JobDescription): JobDescription {
  const out: JobDescription = {};
  if (d.title !== undefined) out.title = d.title;
  if (d.cmd !== undefined) out.cmd = d.cmd;
  if (d.to && d.to.length > 0) out.to = d.to;
  return out;
}
