// How many CPUs this process may use: os.availableParallelism() (honours affinity masks, unlike
// os.cpus().length), injectable for tests.
import os from 'node:os';
import type { CollectorResult } from './types.js';

export interface CpusOptions {
  availableParallelism?: () => number;
}

export function collectCpus(opts: CpusOptions = {}): CollectorResult<number> {
  const n = (opts.availableParallelism ?? os.availableParallelism)();
  if (!Number.isInteger(n) || n < 1) throw new Error(`availableParallelism() returned ${n}`);
  return { value: n };
}
