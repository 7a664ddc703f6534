// Asking the hub from the CLI: where it is (lib/doorbell.ts: FLURM_HUB_URL, else hub.json in the
// cluster dir: FLURM_CLUSTER, `cluster` in config.toml, or the user's own), and one JSON client.
// A non-2xx answer is an HttpError (status, body); a request that fails has an Error whose
// `cause.code` says why (ECONNREFUSED, ETIMEDOUT, …). Bounded in time and size. node:http, not
// fetch(): fetch loads undici, ~100 ms more for a command a person waits on.
import { findClusterDir, findHubUrl } from '../lib/doorbell.js';
import { HttpError } from '../lib/errors.js';
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
/** How much of an error answer an HttpError keeps. */
const ERROR_BODY_MAX_BYTES = 64 * 1024;

async function request(method: 'GET' | 'POST', url: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`${url}: not an http(s) URL`);
  const mod = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
  const text = await new Promise<string>((resolve, reject) => {
    const fail = (code: string, message: string) => reject(Object.assign(new Error(`${url}: ${message}`), { cause: { code } }));
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'flurm' };
    if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.length) });
    const req = mod.request(target, { method, headers, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      const max = ok ? HUB_ANSWER_MAX_BYTES : ERROR_BODY_MAX_BYTES;
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        if (bytes >= max) return;
        bytes += d.length;
        if (bytes > max && ok) {
          req.destroy();
          fail('E2BIG', `answer larger than ${HUB_ANSWER_MAX_BYTES} bytes`);
        } else chunks.push(d);
      });
      res.on('end', () => {
        const t = Buffer.concat(chunks).toString('utf8');
        if (ok) resolve(t);
        else reject(new HttpError(url, status, t.slice(0, ERROR_BODY_MAX_BYTES)));
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'EIO', err.message));
    });
    req.on('timeout', () => {
      req.destroy();
      fail('ETIMEDOUT', `no answer within ${timeoutMs} ms`);
    });
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'EIO', err.message));
    req.end(payload ?? undefined);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${url}: the answer is not JSON (${(err as Error).message})`);
  }
}

/** GET a JSON document from the hub. */
export function getJson<T = unknown>(url: string, timeoutMs = 3000): Promise<T> {
  return request('GET', url, undefined, timeoutMs) as Promise<T>;
}

/** POST a JSON body to the hub and read its JSON answer. */
export function postJson<T = unknown>(url: string, body: unknown, timeoutMs = 5000): Promise<T> {
  return request('POST', url, body, timeoutMs) as Promise<T>;
}

/** Why a request to the hub did not succeed, in words: "answered … with HTTP 404", "did not answer: ECONNREFUSED". */
export function hubFailure(err: unknown, hub: string, path: string): { status: number | null; why: string } {
  if (err instanceof HttpError) return { status: err.status, why: `the hub at ${hub} answered ${path} with HTTP ${err.status}` };
  const e = err as Error & { cause?: { code?: string } };
  return { status: null, why: `the hub at ${hub} did not answer: ${e.cause?.code ?? e.message}` };
}
