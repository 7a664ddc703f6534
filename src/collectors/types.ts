// What every collector shares: how it is pointed at a proc root (tests use test/fixtures/...),
// and what it hands the runner. A collector returns data (optionally with a note: what it could
// not see, e.g. "nvidia-smi not found") or throws; the runner in agent/runner.ts times it and
// turns a throw into `collectors[name] = { ok: false, error }`.

export interface ProcRootOptions {
  /** Where proc is mounted; default /proc. */
  procRoot?: string;
}

export interface CollectorResult<T> {
  value: T;
  /** Something the collector could not see, reported with ok: true (e.g. "hidepid"). */
  note?: string;
}

export function procPath(opts: ProcRootOptions, file: string): string {
  return `${opts.procRoot ?? '/proc'}/${file}`;
}

/** True for "not allowed to look" (hidepid=1, another user's process). */
export function isDeniedError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EACCES' || code === 'EPERM';
}
