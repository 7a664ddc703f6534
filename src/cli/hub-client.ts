// Asking the hub from the CLI. Where the hub is comes from lib/doorbell.ts (FLURM_HUB_URL, else
// hub.json in the cluster dir: FLURM_CLUSTER, `cluster` in config.toml, or the user's own).
import { findClusterDir, findHubUrl } from '../lib/doorbell.js';
import { spoolDir } from '../lib/host.js';

export function clusterDirFor(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return findClusterDir(env, spoolDir(env));
}

/** The hub's base URL: `explicit` (--hub) if given, else as `flurm run` finds it; null if none. */
export async function hubUrl(env: NodeJS.ProcessEnv = process.env, explicit?: string): Promise<string | null> {
  if (explicit) return explicit.replace(/\/+$/, '');
  return findHubUrl(env, spoolDir(env));
}

export async function getJson<T>(url: string, timeoutMs = 3000): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
