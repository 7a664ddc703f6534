// The node agent, in process: `flurm agent` (long-running, --once, --print) and `flurm up` use
// this. The first snapshot is written promptly: a priming sample, then ~500 ms later the real one
// (so CPU figures are measured, not null), then one every interval, on a drift-free schedule
// (lib/ticker.ts runs it). A failing sample or write is logged, never thrown out of the timer.
//
// Kept import-light (no zod, hono, better-sqlite3): a long-running agent stays small.
import type { Logger } from '../lib/logger.js';
import { errorMessage } from '../lib/errors.js';
import { Ticker } from '../lib/ticker.js';
import { Sampler, type SamplerOptions } from './sampler.js';
import { SnapshotWriter } from './writer.js';
import type { NodeSnapshot } from '../model/snapshot.js';

/** Time between the priming sample and the first real one. */
export const PRIME_MS = 500;

export interface AgentOptions extends Omit<SamplerOptions, 'version'> {
  clusterDir: string;
  intervalSeconds: number;
  log: Logger;
  version: string;
  /** Override PRIME_MS (tests). */
  primeMs?: number;
}

export interface Agent {
  /** Where the snapshots go: <clusterDir>/nodes/<host>.json. */
  readonly file: string;
  /** Resolves with the first snapshot written (null if stopped before, or if it failed). */
  readonly firstWrite: Promise<NodeSnapshot | null>;
  /** The last snapshot written, if any. */
  last(): NodeSnapshot | null;
  /** A fresh snapshot (seq 0), not written. It shares the agent's CPU windows. */
  sample(): Promise<NodeSnapshot>;
  /** Stop the timer and wait for a write in progress. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function logCollectorFailures(log: Logger, snap: NodeSnapshot): void {
  for (const [name, s] of Object.entries(snap.collectors)) {
    if (!s.ok) log.once(`collector:${name}:${s.error ?? ''}`, 'warn', `collector ${name} failed`, { error: s.error });
    else if (s.error) log.once(`collector:${name}:note:${s.error}`, 'info', `collector ${name}: ${s.error}`);
  }
}

/** Start sampling and writing every `intervalSeconds`. */
export function startAgent(opts: AgentOptions): Agent {
  const { log } = opts;
  const sampler = new Sampler(opts);
  const writer = new SnapshotWriter(opts.clusterDir, sampler.hostName);
  const intervalMs = opts.intervalSeconds * 1000;
  let last: NodeSnapshot | null = null;
  let resolveFirst: (s: NodeSnapshot | null) => void = () => {};
  const firstWrite = new Promise<NodeSnapshot | null>((r) => (resolveFirst = r));
  let primed = false;
  let nextAt = 0;

  const tick = async (): Promise<void> => {
    try {
      const snap = await sampler.sample(opts.intervalSeconds);
      logCollectorFailures(log, snap);
      last = writer.write(snap);
      log.debug('snapshot written', { file: writer.file, seq: last.seq, busy: last.busy.length, pids: last.pids.length });
      resolveFirst(last);
    } catch (err) {
      log.warn('snapshot not written', { file: writer.file, error: errorMessage(err) });
      resolveFirst(null);
    }
  };

  /** Drift-free: each sample is due one interval after the previous was due, not after it ended. */
  const nextDelay = (): number => {
    const now = Date.now();
    nextAt += intervalMs;
    if (nextAt < now) nextAt = now + intervalMs; // fell behind (suspend, a slow NFS write): start over
    return nextAt - now;
  };

  const ticker = new Ticker({
    intervalMs,
    onError: (err) => log.warn('agent tick failed', { error: errorMessage(err) }),
    run: async () => {
      if (primed) {
        await tick();
        return nextDelay();
      }
      // Prime (discarded), then the first real sample PRIME_MS later.
      primed = true;
      try {
        await sampler.sample(opts.intervalSeconds);
      } catch {
        /* sample() does not throw; belt and braces */
      }
      nextAt = Date.now() + (opts.primeMs ?? PRIME_MS) - intervalMs;
      return nextDelay();
    },
  });
  ticker.start(0);

  return {
    file: writer.file,
    firstWrite,
    last: () => last,
    sample: () => sampler.sample(opts.intervalSeconds),
    async stop() {
      await ticker.stop();
      resolveFirst(null);
    },
  };
}

export interface OnceOptions extends Omit<SamplerOptions, 'version'> {
  version: string;
  intervalSeconds: number;
  primeMs?: number;
}

/** Two samples PRIME_MS apart; the second, with measured CPU figures (seq 0, not written). */
export async function sampleOnce(opts: OnceOptions): Promise<NodeSnapshot> {
  const sampler = new Sampler(opts);
  await sampler.sample(opts.intervalSeconds);
  await sleep(opts.primeMs ?? PRIME_MS);
  return sampler.sample(opts.intervalSeconds);
}

/** `flurm agent --once`: sample as sampleOnce() does and write it with the next seq. */
export async function writeOnce(opts: OnceOptions & { clusterDir: string }): Promise<{ file: string; snapshot: NodeSnapshot }> {
  const sampler = new Sampler(opts);
  const writer = new SnapshotWriter(opts.clusterDir, sampler.hostName);
  await sampler.sample(opts.intervalSeconds);
  await sleep(opts.primeMs ?? PRIME_MS);
  const snapshot = writer.write(await sampler.sample(opts.intervalSeconds));
  return { file: writer.file, snapshot };
}
