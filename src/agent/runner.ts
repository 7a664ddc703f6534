// Runs collectors one by one, times each and isolates its failure, as node_exporter's execute()
// does: a collector that throws is reported as `{ ok: false, seconds, error }` and its value
// replaced by a safe default, so the rest of the snapshot is still written.
import { errorMessage } from '../lib/errors.js';
import { monotonicMs } from '../proc/proc.js';
import type { CollectorResult } from '../collectors/types.js';
import type { CollectorStatus } from '../model/snapshot.js';

/** The hub accepts at most this many characters of a collector's error. */
export const COLLECTOR_ERROR_MAX_CHARS = 1000;

export class CollectorRunner {
  readonly statuses: Record<string, CollectorStatus> = {};

  /** Run `fn` as collector `name`; on a throw, record it and return `fallback`. Never throws. */
  async run<T>(name: string, fallback: T, fn: () => CollectorResult<T> | Promise<CollectorResult<T>>): Promise<T> {
    const t0 = monotonicMs();
    // Wall seconds to 0.1 ms.
    const seconds = () => Math.round(Math.max(0, monotonicMs() - t0) * 10) / 10_000;
    try {
      const r = await fn();
      const status: CollectorStatus = { ok: true, seconds: seconds() };
      if (r.note) status.error = r.note.slice(0, COLLECTOR_ERROR_MAX_CHARS);
      this.statuses[name] = status;
      return r.value;
    } catch (err) {
      this.statuses[name] = { ok: false, seconds: seconds(), error: (errorMessage(err) || String(err)).slice(0, COLLECTOR_ERROR_MAX_CHARS) };
      return fallback;
    }
  }

  /** Collectors that failed this time, as "name: error". */
  failures(): string[] {
    return Object.entries(this.statuses)
      .filter(([, s]) => !s.ok)
      .map(([n, s]) => `${n}: ${s.error ?? 'failed'}`);
  }
}
