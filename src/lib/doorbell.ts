// The hub's doorbell, client side: find the hub's URL and tell it "look at user X now". The
// doorbell carries no data (the events are in the spool), so it is best-effort: it never throws,
// never waits longer than its timeout, and costs nothing when no hub is configured (no hub.json →
// no request; a hub that is down refuses the connection at once).
//
// Where the URL comes from, first match wins:
//   1. $FLURM_HUB_URL
//   2. <cluster dir>/hub.json {"url": "http://host:port", ...}, the cluster dir being
//      $FLURM_CLUSTER, else `cluster = "..."` in <spool>/config.toml, else <spool>/cluster.
// Kept light: node:http is imported only when there is a URL to ring, smol-toml only when
// config.toml exists.
import path from 'node:path';
import { readSmallTextOrNull } from './small-file.js';

/** hub.json and config.toml are read up to this size; a bigger file is ignored. */
export const HUB_JSON_MAX_BYTES = 64 * 1024;
const CONFIG_TOML_MAX_BYTES = 256 * 1024;

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~' || p.startsWith('~/')) return path.join(env.HOME || '/', p.slice(1));
  return p;
}

/** The `cluster` key of <spool>/config.toml, resolved against the spool; null if absent. */
async function clusterFromConfig(env: NodeJS.ProcessEnv, spool: string): Promise<string | null> {
  const text = readSmallTextOrNull(path.join(spool, 'config.toml'), CONFIG_TOML_MAX_BYTES);
  if (text === null || !/^\s*cluster\s*=/m.test(text)) return null;
  try {
    const { parse } = await import('smol-toml');
    const cluster = (parse(text) as Record<string, unknown>).cluster;
    if (typeof cluster !== 'string' || cluster.trim() === '') return null;
    return path.resolve(spool, expandHome(cluster.trim(), env));
  } catch {
    return null; // a broken config.toml is reported by `flurm doctor`, never by a job
  }
}

/** The directory holding hub.json. */
export async function findClusterDir(env: NodeJS.ProcessEnv, spool: string): Promise<string> {
  const fromEnv = env.FLURM_CLUSTER?.trim();
  if (fromEnv) return path.resolve(expandHome(fromEnv, env));
  return (await clusterFromConfig(env, spool)) ?? path.join(spool, 'cluster');
}

function validUrl(u: unknown): string | null {
  if (typeof u !== 'string') return null;
  const s = u.trim().replace(/\/+$/, '');
  return /^https?:\/\/[^\s/]+(\/\S*)?$/.test(s) ? s : null;
}

/** The hub's base URL ("http://127.0.0.1:7077"), or null when none is known. Never throws. */
export async function findHubUrl(env: NodeJS.ProcessEnv, spool: string): Promise<string | null> {
  try {
    const fromEnv = env.FLURM_HUB_URL?.trim();
    if (fromEnv) return validUrl(fromEnv);
    const text = readSmallTextOrNull(path.join(await findClusterDir(env, spool), 'hub.json'), HUB_JSON_MAX_BYTES);
    if (text === null) return null;
    const hub = JSON.parse(text) as { url?: unknown } | null;
    return validUrl(hub?.url);
  } catch {
    return null;
  }
}

/**
 * The `finish(ok)` of a ring: the first call (or the timeout, with false) settles it, clears the
 * timer and runs `cleanup` (or the call's own `then`); later calls do nothing.
 */
function settleOnce(resolve: (ok: boolean) => void, timeoutMs: number, cleanup: () => void): (ok: boolean, then?: () => void) => void {
  let done = false;
  const finish = (ok: boolean, then = cleanup) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    then();
    resolve(ok);
  };
  const timer = setTimeout(() => finish(false), timeoutMs);
  return finish;
}

/**
 * POST `${url}/doorbell?user=USER`. Resolves true when the hub answered 2xx (it answers 202),
 * false on anything else — refused, timed out, bad URL. Never throws, never takes longer than
 * `timeoutMs`.
 */
export async function ringDoorbell(url: string, user: string, timeoutMs = 300, opts: { awaitAnswer?: boolean } = {}): Promise<boolean> {
  let target: URL;
  try {
    target = new URL(`${url.replace(/\/+$/, '')}/doorbell?user=${encodeURIComponent(user)}`);
  } catch {
    return false;
  }
  if (target.protocol === 'http:') return ringPlainHttp(target, timeoutMs, opts.awaitAnswer ?? true);
  if (target.protocol !== 'https:') return false;
  let mod: typeof import('node:https');
  try {
    mod = await import('node:https');
  } catch {
    return false;
  }
  return new Promise<boolean>((resolve) => {
    let req: import('node:http').ClientRequest | undefined;
    const finish = settleOnce(resolve, timeoutMs, () => req?.destroy());
    try {
      req = mod.request(target, { method: 'POST', agent: false, headers: { 'content-length': '0', 'user-agent': 'flurm' } }, (res) => {
        res.resume();
        finish((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
      });
    } catch {
      finish(false);
      return;
    }
    req.on('error', () => finish(false));
    req.end();
  });
}

/**
 * The doorbell over plain http with node:net (already loaded for spawning the job), not
 * node:http, whose loading costs several ms on the `flurm run` path. The request has no body and
 * the answer is judged by its status line alone. With awaitAnswer false it resolves true once the
 * request is handed to the kernel: the hub acts on the request when it parses it, so the writers
 * (`flurm run`, `notify`, `watch`) need not wait a round trip for its 202.
 */
async function ringPlainHttp(target: URL, timeoutMs: number, awaitAnswer: boolean): Promise<boolean> {
  const net = await import('node:net');
  return new Promise<boolean>((resolve) => {
    let head = '';
    const sock = net.connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 80) });
    const finish = settleOnce(resolve, timeoutMs, () => sock.destroy());
    sock.setNoDelay(true);
    sock.on('connect', () => {
      const request = `POST ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUser-Agent: flurm\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
      if (awaitAnswer) {
        sock.write(request);
        return;
      }
      sock.end(request, () => finish(true, () => sock.unref())); // let the process exit; the kernel finishes sending
    });
    sock.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const eol = head.indexOf('\r\n');
      if (eol < 0 && head.length < 1024) return;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      finish(!!m && m[1]![0] === '2');
    });
    sock.on('error', () => finish(false));
    sock.on('end', () => finish(false));
  });
}

/**
 * A doorbell for one user: finds the hub once (on the first ring), then each call rings it.
 * Each ring resolves false when there is no hub; never throws.
 */
export function hubDoorbell(env: NodeJS.ProcessEnv, spool: string, user: string, timeoutMs = 300, opts: { awaitAnswer?: boolean } = { awaitAnswer: false }): () => Promise<boolean> {
  let url: Promise<string | null> | undefined;
  return async () => {
    url ??= findHubUrl(env, spool);
    const u = await url;
    return u ? ringDoorbell(u, user, timeoutMs, opts) : false;
  };
}

/** Find the hub and ring it once; resolves false when there is none. Never throws. */
export async function ringHub(env: NodeJS.ProcessEnv, spool: string, user: string, timeoutMs = 300): Promise<boolean> {
  return hubDoorbell(env, spool, user, timeoutMs)();
}
