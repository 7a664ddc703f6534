// The doorbell of a command that records a job (`flurm run`, `flurm watch`): rung after each event
// it writes, best-effort, and waited for (each ring bounded by its timeout) before the command
// returns. lib/doorbell.js is imported at the first ring, and only if a hub may exist at all.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Could a hub be configured at all? A few stat()s, so that lib/doorbell.js (and node:http) are
 * not even loaded when there is no hub. Keep in step with findHubUrl's sources in lib/doorbell.ts
 * (a test checks that this is true whenever findHubUrl finds a URL).
 */
export function hubMayBeConfigured(env: NodeJS.ProcessEnv, spool: string): boolean {
  if (env.FLURM_HUB_URL?.trim() || env.FLURM_CLUSTER?.trim()) return true;
  return fs.existsSync(path.join(spool, 'config.toml')) || fs.existsSync(path.join(spool, 'cluster', 'hub.json'));
}

export interface JobDoorbell {
  /** Ring now (finds the hub on the first ring); never throws. */
  ring(): void;
  /** Resolves once every ring so far has been answered or has timed out. */
  settled(): Promise<void>;
}

export function jobDoorbell(env: NodeJS.ProcessEnv, spool: string, user: string, timeoutMs = 300): JobDoorbell {
  let bell: Promise<(() => Promise<boolean>) | null> | undefined;
  const rings: Array<Promise<boolean>> = [];
  const ringOnce = async (): Promise<boolean> => {
    try {
      bell ??= hubMayBeConfigured(env, spool) ? import('../lib/doorbell.js').then((m) => m.hubDoorbell(env, spool, user, timeoutMs)) : Promise.resolve(null);
      const ringNow = await bell;
      return ringNow ? await ringNow() : false;
    } catch {
      return false;
    }
  };
  return {
    ring: () => void rings.push(ringOnce()),
    settled: async () => void (await Promise.all(rings)),
  };
}
