// Sign-in and the access rule of the hub's HTTP side (docs/access.md).
//
// The rule follows the CONFIGURED bind, not a request's source: a hub bound to a loopback address
// (127.0.0.1, ::1, localhost — the default) answers everything as before, to the host's users (viewer
// 'lab'); a hub bound to anything else (0.0.0.0, a LAN address) wants a sign-in, so a reverse proxy
// on the hub's own host cannot lend its loopback source to the outside world.
//
// Signing in is proof of file ownership, like `flurm link` (hub/links.ts): `flurm dashboard` writes
// a `login` event holding the SHA-256 of a fresh secret into the user's own spool and rings the
// doorbell; the ingest hands it to register() with the spool FILE'S OWNER as the user; the code is
// then good for LOGIN_CODE_TTL_MINUTES of the hub's clock, once. `GET /login?code=…` makes a
// browser session (an HttpOnly, SameSite=Strict cookie), `POST /api/v1/token` a bearer token for
// scripts. Sessions and tokens are 32 random bytes, kept in the index only as their SHA-256.
//
// The other HTTP modules read who asks with viewerOf(c); answers that hold jobs or snapshots go
// through redact.ts's viewApi.
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Db } from '../../store/db.js';
import { SessionStore, type SessionKind } from '../../store/sessions.js';
import type { LoginEvent } from '../../spool/events.js';
import { LOGIN_CODE_TTL_MINUTES, LOGIN_HASH_RE, LOGIN_SECRET_RE, hashLoginSecret, newLoginSecret } from '../../spool/login-code.js';
import type { Logger } from '../../lib/logger.js';
import { plural } from '../../lib/format.js';
import { Window } from '../links.js';
import type { Viewer } from './redact.js';

export type { Viewer };

declare module 'hono' {
  interface ContextVariableMap {
    viewer: Viewer;
  }
}

export const SESSION_COOKIE = 'flurm_session';
/** Failed codes per client address per FAIL_WINDOW_MS; past it, codes from there are not checked. */
export const FAILS_PER_WINDOW = 10;
export const FAIL_WINDOW_MS = 10 * 60_000;
/** A `login` event the hub reads later than this after it was written (writer's clock) registers nothing. */
export const LOGIN_EVENT_MAX_AGE_MS = 10 * 60_000;
const DAY_MS = 86_400_000;
const AGAIN = 'run `flurm dashboard` again for a new link';

/** True for a loopback bind: 127.0.0.0/8, ::1, localhost (and IPv4-mapped loopback). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export type RegisterOutcome = 'new' | 'duplicate' | 'contested' | 'replay' | 'stale';

export type Redeemed =
  | { ok: true; user: string; secret: string; kind: SessionKind; expiresMs: number; lifetimeSeconds: number }
  | { ok: false; status: 401 | 403 | 429; reason: string };

export interface AuthServiceOptions {
  now?: () => number;
  log?: Logger;
  sessionDays?: number;
  tokenDays?: number;
}

export class AuthService {
  readonly store: SessionStore;
  private readonly now: () => number;
  private readonly fails = new Window(FAILS_PER_WINDOW, FAIL_WINDOW_MS);
  private lastPruneMs = 0;

  constructor(db: Db, private readonly o: AuthServiceOptions = {}) {
    this.store = new SessionStore(db);
    this.now = o.now ?? Date.now;
  }

  /**
   * A `login` event read from a spool file owned by `user` (never the event's own `user` field).
   * `replay`: read on a new index from before the hub started — a code long spent, registered
   * never. An event read more than LOGIN_EVENT_MAX_AGE_MS after it was written is stale: the CLI
   * gave up waiting for it and printed no link.
   */
  register(user: string, ev: LoginEvent, seenMs: number, opts: { replay: boolean }): RegisterOutcome {
    if (opts.replay) return 'replay';
    const ts = Date.parse(ev.ts);
    if (Number.isFinite(ts) && seenMs - ts > LOGIN_EVENT_MAX_AGE_MS) return 'stale';
    const r = this.store.registerCode({ hash: ev.hash, user, eventId: ev.id, host: ev.host, nowMs: seenMs, expiresMs: seenMs + LOGIN_CODE_TTL_MINUTES * 60_000 });
    if (r === 'contested') this.o.log?.warn('a login code came from two users\' spools: it signs no one in', { user, host: ev.host });
    else if (r === 'new') this.o.log?.info('login code registered', { user, host: ev.host });
    this.prune(seenMs);
    return r;
  }

  /** For `flurm dashboard`'s wait: is the code with this hash registered and good to use? */
  ready(hash: string, nowMs: number = this.now()): { ready: true; expiresMs: number } | { ready: false; reason: string } {
    if (!LOGIN_HASH_RE.test(hash)) return { ready: false, reason: 'not a login code hash' };
    const row = this.store.code(hash);
    if (!row) return { ready: false, reason: 'not read yet' };
    if (row.contested) return { ready: false, reason: 'the same code came from two users\' spools' };
    if (row.used_ms !== null) return { ready: false, reason: 'used' };
    if (row.expires_ms <= nowMs) return { ready: false, reason: 'expired' };
    return { ready: true, expiresMs: row.expires_ms };
  }

  /** Turn a code into a session or a bearer token, once. `client`: the address failures are counted by. */
  redeem(code: string, kind: SessionKind, client: string, nowMs: number = this.now()): Redeemed {
    const limited = this.fails.check(client, nowMs);
    if (limited) return { ok: false, status: 429, reason: `too many refused sign-in codes from this address: try again in ${plural(Math.max(1, Math.ceil(limited.waitMs / 60_000)), 'minute')}` };
    const fail = (status: 401 | 403, reason: string): Redeemed => {
      this.fails.add(client, nowMs);
      this.o.log?.info('sign-in code refused', { client, reason });
      return { ok: false, status, reason };
    };
    if (!LOGIN_SECRET_RE.test(code)) return fail(401, `that is not a sign-in code (copy the whole link \`flurm dashboard\` printed): ${AGAIN}`);
    const hash = hashLoginSecret(code);
    const row = this.store.code(hash);
    if (!row) return fail(401, `this hub does not know that sign-in code (mistyped, from another hub, or older than ${LOGIN_CODE_TTL_MINUTES} minutes): ${AGAIN}`);
    if (row.contested) return fail(403, `that sign-in code was written into more than one user's spool, so it proves no one: ${AGAIN}`);
    if (row.used_ms !== null) return fail(401, `that sign-in link was used already (each link signs in once): ${AGAIN}`);
    if (row.expires_ms <= nowMs) return fail(401, `that sign-in link expired (links last ${LOGIN_CODE_TTL_MINUTES} minutes): ${AGAIN}`);
    if (!this.store.useCode(hash, nowMs)) return fail(401, `that sign-in link was used already (each link signs in once): ${AGAIN}`);
    const secret = newLoginSecret();
    const days = kind === 'token' ? (this.o.tokenDays ?? 90) : (this.o.sessionDays ?? 7);
    const expiresMs = nowMs + days * DAY_MS;
    this.store.addSession(hashLoginSecret(secret), row.user, kind, nowMs, expiresMs);
    this.o.log?.info(kind === 'token' ? 'bearer token made' : 'signed in', { user: row.user, client });
    return { ok: true, user: row.user, secret, kind, expiresMs, lifetimeSeconds: (expiresMs - nowMs) / 1000 };
  }

  /** The user of a live session id or bearer token. */
  lookup(secret: string, nowMs: number = this.now()): { user: string; kind: SessionKind } | null {
    if (!LOGIN_SECRET_RE.test(secret)) return null;
    const row = this.store.session(hashLoginSecret(secret), nowMs);
    return row ? { user: row.user, kind: row.kind } : null;
  }

  /** End a session (or revoke a token). */
  end(secret: string, nowMs: number = this.now()): boolean {
    return LOGIN_SECRET_RE.test(secret) && this.store.endSession(hashLoginSecret(secret), nowMs);
  }

  private prune(nowMs: number): void {
    if (nowMs - this.lastPruneMs < 3_600_000) return;
    this.lastPruneMs = nowMs;
    this.store.prune(nowMs - DAY_MS);
  }
}

export interface AccessRules {
  /** The configured `[http] host` is loopback: no sign-in, viewer 'lab'. */
  open: boolean;
  /** `[http] public_view`: nodes and charts without sign-in. */
  publicView: boolean;
  /** `[http] share_job_details`. */
  shareDetails: boolean;
}

/** Who asks (set by accessControl). Without it (a route outside the middleware): anonymous. */
export function viewerOf(c: Context): Viewer {
  return c.get('viewer') ?? { kind: 'anonymous' };
}

/** Paths anyone may reach on a hub that wants sign-in: they carry no lab data, or bring their own proof. */
const ALWAYS_PUBLIC: { method?: string; path: RegExp }[] = [
  { path: /^\/healthz$/ },
  { method: 'POST', path: /^\/doorbell$/ },
  { path: /^\/login$/ },
  { method: 'GET', path: /^\/login\/ready$/ },
  { method: 'POST', path: /^\/logout$/ },
  { method: 'POST', path: /^\/api\/v1\/token$/ },
  // Slack's HTTP mode: checked by Slack's signature there.
  { method: 'POST', path: /^\/slack\/events$/ },
  { method: 'GET', path: /^\/assets\// },
  { method: 'GET', path: /^\/favicon\.ico$/ },
];

/** With `[http] public_view = true`: the nodes and the charts. */
const PUBLIC_VIEW: { method: string; path: RegExp }[] = [
  { method: 'GET', path: /^\/$/ },
  { method: 'GET', path: /^\/api\/v1\/nodes$/ },
  { method: 'GET', path: /^\/api\/v1\/nodes\/[^/]+\/history$/ },
  { method: 'GET', path: /^\/api\/v1\/history$/ },
  // The live page's stream: event names only, no data (the page then reads what it may).
  { method: 'GET', path: /^\/api\/v1\/stream$/ },
  { method: 'GET', path: /^\/api\/v1\/commands$/ },
  { method: 'POST', path: /^\/api\/v1\/commands\/(status|best|history|heatmap)$/ },
];

const matches = (list: { method?: string; path: RegExp }[], method: string, path: string) => list.some((r) => (r.method === undefined || r.method === method || (r.method === 'GET' && method === 'HEAD')) && r.path.test(path));

/** The session or token a request carries: `Authorization: Bearer …` first, else the cookie. */
export function credentialOf(c: Context): string | null {
  return carried(c)?.secret ?? null;
}

function carried(c: Context): { secret: string; via: 'session' | 'token' } | null {
  const m = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i);
  if (m) return { secret: m[1]!, via: 'token' };
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? { secret: cookie, via: 'session' } : null;
}

const SIGN_IN = 'sign in: run flurm dashboard';

/** The sign-in page a browser gets instead of a page it may not see. */
export function signInPage(reason: string): string {
  const esc = reason.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>flurm: sign in</title></head><body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>Sign in to flurm</h1><p>${esc}</p><p>On any node of the lab, as yourself, run:</p><pre>flurm dashboard</pre><p>and open the link it prints (it works once, for ${LOGIN_CODE_TTL_MINUTES} minutes).</p></body></html>`;
}

/** True for requests that want JSON (the API, /metrics, scripts) rather than a page. */
export function wantsJson(c: Context): boolean {
  const p = c.req.path;
  if (p.startsWith('/api/') || p === '/metrics') return true;
  return !(c.req.header('accept') ?? '').includes('text/html');
}

/** The middleware: sets the viewer, and refuses what this viewer may not reach. */
export function accessControl(auth: AuthService | null, rules: AccessRules): MiddlewareHandler {
  return async (c, next) => {
    const cred = carried(c);
    const secret = cred?.secret ?? null;
    const via = cred?.via ?? 'session';
    const found = secret && auth ? auth.lookup(secret) : null;
    if (rules.open) {
      c.set('viewer', { kind: 'lab', user: found?.user ?? null });
      return next();
    }
    if (found) {
      c.set('viewer', { kind: 'user', user: found.user, via });
      return next();
    }
    c.set('viewer', { kind: 'anonymous' });
    const method = c.req.method;
    const path = c.req.path;
    if (matches(ALWAYS_PUBLIC, method, path) || (rules.publicView && matches(PUBLIC_VIEW, method, path))) return next();
    const why = secret ? `${via === 'token' ? 'that bearer token' : 'your session'} is not valid (expired, signed out or revoked): ${SIGN_IN}${via === 'token' ? ' --token' : ''}` : SIGN_IN;
    if (wantsJson(c)) return c.json({ error: why }, 401, { 'WWW-Authenticate': 'Bearer realm="flurm"', 'Cache-Control': 'no-store' });
    return c.html(signInPage(secret ? 'Your session is not valid any more (it expired or you signed out).' : 'This hub shows the lab to signed-in users only.'), 401, { 'Cache-Control': 'no-store' });
  };
}

/** The address a request came from (what failed codes are counted by). */
export function clientOf(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** True when the browser reached the hub over https (directly, or as a proxy in front says). */
export function overHttps(c: Context): boolean {
  if (c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https') return true;
  try {
    return new URL(c.req.url).protocol === 'https:';
  } catch {
    return false;
  }
}

/** The Set-Cookie value of a session (or of its end: `maxAgeSeconds` 0). */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
