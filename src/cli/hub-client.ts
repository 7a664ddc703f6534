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

/** The largest answer the CLI reads from a hub. */
export const HUB_ANSWER_MAX_BYTES = 64 * 1024 * 1024;

/**
 * GET a JSON document from the hub with node:http (fetch() would load undici: ~100 ms more for a
 * command a user waits on). Throws `${url}: HTTP <status>` on a non-2xx answer, or an Error whose
 * `cause.code` says why the request failed (ECONNREFUSED, ETIMEDOUT, ...). Bounded in time and size.
 */
export async function getJson<T>(url: string, timeoutMs = 3000): Promise<T> {
  const target = new URL(url);
  const mod = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`${url}: not an http(s) URL`);
  const text = await new Promise<string>((resolve, reject) => {
    const fail = (code: string, message: string) => reject(Object.assign(new Error(`${url}: ${message}`), { cause: { code } }));
    const req = mod.get(target, { headers: { accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.resume();
        reject(new Error(`${url}: HTTP ${status}`));
        return;
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        if (bytes > HUB_ANSWER_MAX_BYTES) {
          req.destroy();
          fail('E2BIG', `answer larger than ${HUB_ANSWER_MAX_BYTES} bytes`);
        } else chunks.push(d);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'EIO', err.message));
    });
    req.on('timeout', () => {
      req.destroy();
      fail('ETIMEDOUT', `no answer within ${timeoutMs} ms`);
    });
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'EIO', err.message));
  });
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${url}: the answer is not JSON (${(err as Error).message})`);
  }
}
