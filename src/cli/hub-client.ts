// Finding and asking the hub from the CLI: FLURM_HUB_URL, else hub.json in the cluster dir the
// user's config names, else the user's own (flurm up). Short timeouts; callers fall back.
import path from 'node:path';
import fs from 'node:fs';
import { readHubFile } from '../hub/hub-file.js';
import { spoolDir } from '../lib/host.js';
import { loadUserConfig } from '../config/load.js';

export function clusterDirFor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLURM_CLUSTER) return path.resolve(env.FLURM_CLUSTER);
  const spool = spoolDir(env);
  try {
    const file = path.join(spool, 'config.toml');
    if (fs.existsSync(file)) {
      const c = loadUserConfig(file);
      if (c.cluster) return path.resolve(spool, c.cluster);
    }
  } catch {
    /* doctor reports a bad config; here we fall back */
  }
  return path.join(spool, 'cluster');
}

export function hubUrl(env: NodeJS.ProcessEnv = process.env, explicit?: string): string | null {
  if (explicit) return explicit.replace(/\/$/, '');
  if (env.FLURM_HUB_URL) return env.FLURM_HUB_URL.replace(/\/$/, '');
  return readHubFile(clusterDirFor(env))?.url ?? null;
}

export async function getJson<T>(url: string, timeoutMs = 3000): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
