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

/**
 * `Authorization: Bearer $FLURM_TOKEN` when it is set: a token from `flurm dashboard --token`, for a
 * hub that wants sign-in (one bound off loopback, docs/access.md). A loopback hub needs none.
 */
function authHeader(): Record<string, string> {
  const t = process.env.FLURM_TOKEN?.trim();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** GET a JSON document from the hub. */
export async function getJson<T = unknown>(url: string, timeoutMs = 3000): Promise<T> {
  return requestJson<T>('GET', url, undefined, timeoutMs);
}

/** POST a JSON body to the hub; its JSON answer. */
export async function postJson<T = unknown>(url: string, body: unknown, timeoutMs = 3000): Promise<T> {
  return requestJson<T>('POST', url, JSON.stringify(body), timeoutMs);
}

async function requestJson<T>(method: 'GET' | 'POST', url: string, body: string | undefined, timeoutMs: number): Promise<T> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`${url}: not an http(s) URL`);
  const mod = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const text = await new Promise<string>((resolve, reject) => {
    const fail = (code: string, message: string) => reject(Object.assign(new Error(`${url}: ${message}`), { cause: { code } }));
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'flurm', ...authHeader() };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
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
    req.end(body);
  });
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${url}: the answer is not JSON (${(err as Error).message})`);
  }
}

/** Why a request to the hub did not succeed, in words: "answered … with HTTP 404", "did not answer: ECONNREFUSED". */
export function hubFailure(err: unknown, hub: string, path: string): { status: number | null; why: string } {
  if (err instanceof HttpError) return { status: err.status, why: `the hub at ${hub} answered ${path} with HTTP ${err.status}` };
  const e = err as Error & { cause?: { code?: string } };
  return { status: null, why: `the hub at ${hub} did not answer: ${e.cause?.code ?? e.message}` };
}
