// Detaching: `flurm run -d` and `flurm watch -d` re-execute flurm as `flurm __detached run|watch`
// with spawn({ detached: true }) — setsid(): a new session and process group with no controlling
// terminal — so neither the watcher nor the job it starts is in the terminal's session. Logging
// out or a dropped SSH connection hangs up that old session; its SIGHUP cannot reach them.
// The watcher's stdin is /dev/null and its stdout/stderr go to the job's log file (for watch:
// /dev/null), so nothing ties it to the terminal. The job itself is spawned by the watcher, in the
// watcher's session, writing to the same log.
// The spec travels in the environment variable FLURM_DETACHED_SPEC (JSON; not on the command
// line, so `ps` shows a short command), which the watcher removes before it starts the job.
// The parent returns as soon as the watcher is spawned: it does not wait for the job's start.
import { spawn } from 'node:child_process';
import { UserError } from '../../lib/errors.js';
import { CLI_ENTRY } from '../../lib/cli-entry.js';

export type DetachedKind = 'run' | 'watch';

export const DETACHED_SPEC_ENV = 'FLURM_DETACHED_SPEC';

/**
 * Start the detached watcher for `spec` (a JSON-serialisable object). `outFd` becomes its
 * stdout/stderr (the log file); null means /dev/null. Returns the watcher's pid.
 */
export function spawnDetached(kind: DetachedKind, spec: object, opts: { env: NodeJS.ProcessEnv; cwd: string; outFd: number | null }): number {
  const out = opts.outFd ?? 'ignore';
  const child = spawn(process.execPath, [...process.execArgv, CLI_ENTRY, '__detached', kind], {
    detached: true,
    cwd: opts.cwd,
    env: { ...opts.env, [DETACHED_SPEC_ENV]: JSON.stringify(spec) },
    stdio: ['ignore', out, out],
  });
  child.on('error', () => {
    /* reported through pid === undefined below */
  });
  if (child.pid === undefined) throw new UserError(`cannot start the detached watcher (${process.execPath})`, { exitCode: 1 });
  child.unref();
  return child.pid;
}

/**
 * The watcher's side: take the spec out of the environment (so the job does not inherit it).
 * Throws UserError when flurm __detached is run by hand.
 */
export function takeDetachedSpec(kind: string | undefined, env: NodeJS.ProcessEnv): { kind: DetachedKind; spec: unknown } {
  const raw = env[DETACHED_SPEC_ENV];
  if (!raw || (kind !== 'run' && kind !== 'watch')) throw new UserError('__detached is internal to flurm (run -d, watch -d)');
  delete env[DETACHED_SPEC_ENV];
  try {
    return { kind, spec: JSON.parse(raw) as unknown };
  } catch (err) {
    throw new UserError(`__detached: bad ${DETACHED_SPEC_ENV}`, { cause: err });
  }
}
