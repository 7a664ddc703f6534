// `flurm agent`: write this node's snapshot (load, CPUs, memory, processes, GPUs) to
// <cluster dir>/nodes/<host>.json.
//   flurm agent                 long-running, one snapshot every --interval (default 15s), until
//                               SIGTERM/SIGINT (exit 0)
//   flurm agent --once          one snapshot, interval_seconds 60 (the cron period), exit 0
//   flurm agent --print         one snapshot as JSON on stdout, no file (inspect --live over ssh)
// Log lines go to stderr.
import path from 'node:path';
import { startAgent, sampleOnce, writeOnce } from '../../agent/agent.js';
import { UserError, errorMessage } from '../../lib/errors.js';
import { createLogger } from '../../lib/logger.js';
import { clusterDirFor } from '../hub-client.js';
import { packageVersion } from '../version.js';

/** The cron period --once assumes: its snapshot says "expect the next one within a minute". */
export const ONCE_INTERVAL_SECONDS = 60;
export const MIN_INTERVAL_SECONDS = 1;
export const MAX_INTERVAL_SECONDS = 86_400;

export interface AgentCommandOptions {
  interval: string;
  once?: boolean;
  print?: boolean;
  cluster?: string;
}

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };

/** "15s", "2m", "1.5h", "90" (seconds) → seconds. Throws a UserError naming the value. */
export function parseIntervalSeconds(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*$/i.exec(value);
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[(m[2] ?? '').toLowerCase()]! : NaN;
  if (!Number.isFinite(seconds)) {
    throw new UserError(`--interval ${JSON.stringify(value)} is not a duration; use e.g. 15s, 2m or 90 (seconds)`);
  }
  if (seconds < MIN_INTERVAL_SECONDS || seconds > MAX_INTERVAL_SECONDS) {
    throw new UserError(`--interval ${JSON.stringify(value)} is out of range: between ${MIN_INTERVAL_SECONDS}s and 24h`);
  }
  return seconds;
}

/** Resolve on the first SIGINT/SIGTERM (a second SIGINT kills at once). */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSig = (sig: NodeJS.Signals) => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      process.once('SIGINT', () => process.kill(process.pid, 'SIGKILL'));
      resolve(sig);
    };
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
  });
}

export async function run(opts: AgentCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const intervalSeconds = parseIntervalSeconds(opts.interval ?? '15s');
  if (opts.once && opts.print) throw new UserError('--once and --print do not go together: --print writes no file');
  const version = packageVersion();

  if (opts.print) {
    const snap = await sampleOnce({ version, intervalSeconds, env });
    process.stdout.write(JSON.stringify(snap) + '\n');
    return 0;
  }

  const clusterDir = opts.cluster ? path.resolve(opts.cluster) : await clusterDirFor(env);
  const log = createLogger({ name: 'agent' });

  if (opts.once) {
    try {
      const { file, snapshot } = await writeOnce({ version, intervalSeconds: ONCE_INTERVAL_SECONDS, clusterDir, env });
      log.debug('snapshot written', { file, seq: snapshot.seq });
    } catch (err) {
      throw new UserError(`snapshot not written to ${path.join(clusterDir, 'nodes')}: ${errorMessage(err)}`, { cause: err, exitCode: 1 });
    }
    return 0;
  }

  const signal = waitForSignal();
  const agent = startAgent({ clusterDir, intervalSeconds, log, version, env });
  log.info('agent running', { file: agent.file, interval_seconds: intervalSeconds, pid: process.pid });
  const sig = await signal;
  await agent.stop();
  log.info('agent stopped', { signal: sig, seq: agent.last()?.seq });
  return 0;
}
