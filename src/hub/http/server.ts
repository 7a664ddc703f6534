// The hub's HTTP side, bound to localhost by default: the doorbell (carries no data, only "look
// at user X now", so it needs no secret; rate-limited), /healthz, /metrics (Prometheus, the same
// access as the API), and a read-only JSON API.
// The command table is served here too: GET /api/v1/commands (every entry, its arguments as JSON
// Schema) and POST /api/v1/commands/NAME (arguments as a JSON object; the answer's messages,
// typed result, where the data came from and exit code), run against the hub's own data
// (hub/source.ts). Answers follow model/api.ts.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { commandSchema, invoke } from '../../commands/invoke.js';
import { COMMANDS, findCommand } from '../../commands/registry.js';
import { CommandArgsError } from '../../commands/table.js';
import { UserError } from '../../lib/errors.js';
import type { CommandAnswerJson, LinkStatusJson } from '../../model/api.js';
import type { JobView } from '../../model/job-view.js';
import { parseHistoryQuery, type HistoryData, type HistoryQuery } from '../../model/history.js';
import type { NodesResponse } from '../../model/node-view.js';
import type { SlurmClusterView } from '../../model/slurm-view.js';
import { createHubSource, SLURM_OFF } from '../source.js';
import type { EventBus } from '../events-bus.js';
import { addDashboard, type DashboardOptions } from './dashboard.js';
import { addStream, type StreamOptions } from './stream.js';
import { accessControl, clientOf, overHttps, sessionCookie, signInPage, credentialOf, viewerOf, wantsJson, type AccessRules, type AuthService } from './auth.js';
import { viewApi } from './redact.js';

export interface HubApi {
  ring(user: string | undefined): void;
  health(): Record<string, unknown>;
  jobs(q: { user?: string; running?: boolean; limit?: number }): (JobView & { name: string })[];
  job(id: string): (JobView & { name: string }) | undefined;
  problems(): unknown[];
  destinations(): unknown[];
  nodes(q: { busyLimit?: number }): NodesResponse;
  nodeHistory(host: string, q: { resolutionSeconds: number; sinceMs: number; limit?: number }): unknown[];
  /** The lab's history (hub/history.ts); throws a UserError for a range it cannot answer. */
  history?(q: HistoryQuery): HistoryData;
  /** The SLURM cluster view; null when this hub has SLURM off. */
  slurm?(): SlurmClusterView | null;
  /** The hub's own base URL, as answers name it ("from the hub at …"). */
  selfUrl?(): string | null;
  /** The links in effect for a user (hub/links.ts), one per chat at most. */
  link?(user: string): { chat: 'discord' | 'slack'; account: string; source: 'spool' | 'config'; linked_ms: number; host: string | null }[];
  /** GET /metrics: the Prometheus exposition of the hub's own registry (hub/metrics.ts). */
  metrics?(): Promise<{ contentType: string; body: string }>;
  /** The Slack app in HTTP mode: a request Slack POSTed (verified there, by its signature). */
  slackEvents?(req: Request): Promise<Response>;
  /** What changed (nodes, jobs, SLURM): GET /api/v1/stream tells the dashboard; absent: no stream. */
  events?: EventBus;
}

/** The largest POST /api/v1/commands/NAME body. */
const COMMAND_BODY_MAX_BYTES = 64 * 1024;

/** A token bucket: `rate` per second, burst `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(private readonly rate: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.last = now();
  }
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const USER_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** Who may see what (hub/http/auth.ts, docs/access.md). Absent: a loopback hub's rule (everything, to the host's users). */
export interface AppAuth {
  service: AuthService | null;
  rules: AccessRules;
}

export function createApp(hubApi: HubApi, opts: { doorbellPerSecond?: number; auth?: AppAuth; dashboard?: DashboardOptions; stream?: StreamOptions } = {}): Hono {
  const app = new Hono();
  const bucket = new TokenBucket(opts.doorbellPerSecond ?? 200, (opts.doorbellPerSecond ?? 200) * 2);
  const auth: AppAuth = opts.auth ?? { service: null, rules: { open: true, publicView: false, shareDetails: false } };
  // Every route below answers from what this request's viewer may see (redact.ts).
  app.use('*', accessControl(auth.service, auth.rules));
  const apiOf = (c: Context): HubApi => viewApi(hubApi, viewerOf(c), auth.rules);
  const api = hubApi;
  mountSignIn(app, auth);

  app.post('/doorbell', (c) => {
    const user = c.req.query('user');
    if (user !== undefined && !USER_RE.test(user)) return c.json({ error: 'user must be a plain user name' }, 400);
    if (!bucket.take()) return c.json({ error: 'too many doorbells; the hub polls anyway' }, 429, { 'Retry-After': '1' });
    api.ring(user);
    return c.body(null, 202);
  });

  app.get('/healthz', (c) => c.json({ ok: true, ...api.health() }));

  // Prometheus' scrape (docs/metrics.md). The same access rule as the JSON API below — today that
  // is "whoever reaches [http] host:port" (127.0.0.1 by default) — so the coming sign-in covers both.
  app.get('/metrics', async (c) => {
    if (!api.metrics) return c.json({ error: 'this hub serves no metrics' }, 404);
    const m = await api.metrics();
    return c.body(m.body, 200, { 'Content-Type': m.contentType, 'Cache-Control': 'no-store' });
  });

  // Slack's HTTP mode (docs/slack.md): Bolt's default path. No app, or Socket Mode: not here.
  app.post('/slack/events', (c) => (api.slackEvents ? api.slackEvents(c.req.raw) : c.json({ error: 'this hub runs no Slack app in HTTP mode' }, 404)));

  app.get('/api/v1/jobs', (c) => {
    const user = c.req.query('user') || undefined;
    const limitRaw = c.req.query('limit');
    const limit = limitRaw ? Number(limitRaw) : 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return c.json({ error: 'limit must be an integer 1..10000' }, 400);
    const running = c.req.query('running') === '1' || c.req.query('running') === 'true';
    return c.json({ jobs: apiOf(c).jobs({ user, running, limit }) });
  });

  app.get('/api/v1/jobs/:id', (c) => {
    const j = apiOf(c).job(c.req.param('id'));
    return j ? c.json({ job: j }) : c.json({ error: 'no such job' }, 404);
  });

  app.get('/api/v1/links/:user', (c) => {
    const user = c.req.param('user');
    if (!USER_RE.test(user)) return c.json({ error: 'user must be a plain user name' }, 400);
    const view = apiOf(c);
    if (!view.link) return c.json({ error: 'this hub does not link accounts' }, 404);
    const links = view.link(user).map((l) => ({ chat: l.chat, id: l.account, source: l.source, linked_at: new Date(l.linked_ms).toISOString(), ...(l.host ? { host: l.host } : {}) }));
    // The Discord link's fields stay at the top (what answers before Slack links said).
    const d = links.find((l) => l.chat === 'discord');
    const answer: LinkStatusJson = { user, linked: links.length > 0, links, ...(d ? { discord_id: d.id, source: d.source, linked_at: d.linked_at, ...(d.host ? { host: d.host } : {}) } : {}) };
    return c.json(answer);
  });

  app.get('/api/v1/problems', (c) => c.json({ problems: apiOf(c).problems() }));
  app.get('/api/v1/destinations', (c) => c.json({ destinations: api.destinations() }));

  // ?busy=N: only the N busiest processes per node (status and best ask for 0: a smaller answer).
  app.get('/api/v1/nodes', (c) => {
    const raw = c.req.query('busy');
    const busyLimit = raw === undefined ? undefined : Number(raw);
    if (busyLimit !== undefined && (!Number.isInteger(busyLimit) || busyLimit < 0)) return c.json({ error: 'busy must be a whole number >= 0' }, 400);
    return c.json(apiOf(c).nodes({ busyLimit }));
  });

  app.get('/api/v1/slurm', (c) => {
    const v = api.slurm?.() ?? null;
    if (v === null) return c.json({ error: SLURM_OFF }, 404);
    return c.json(v);
  });

  // A source per request, over the viewer's HubApi: a command's result and messages are made from redacted data.
  const sourceOf = (c: Context) => createHubSource(apiOf(c), () => api.selfUrl?.() ?? null);
  app.get('/api/v1/commands', (c) => c.json({ commands: COMMANDS.map((d) => commandSchema(d)) }));
  app.post(
    '/api/v1/commands/:name',
    bodyLimit({ maxSize: COMMAND_BODY_MAX_BYTES, onError: (c) => c.json({ error: `the arguments may be at most ${COMMAND_BODY_MAX_BYTES} bytes of JSON` }, 413) }),
    async (c) => {
      const def = findCommand(c.req.param('name'));
      if (!def) return c.json({ error: `no command "${c.req.param('name')}"; commands: ${COMMANDS.map((d) => d.name).join(', ')}` }, 404);
      const text = await c.req.text();
      let raw: unknown = {};
      if (text.trim() !== '') {
        try {
          raw = JSON.parse(text);
        } catch {
          return c.json({ error: 'the body must be a JSON object of arguments' }, 400);
        }
      }
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return c.json({ error: 'the body must be a JSON object of arguments' }, 400);
      try {
        const a = await invoke(def, raw, sourceOf(c), { user: null, warn: () => undefined });
        const answer: CommandAnswerJson = { command: def.name, exit_code: a.exitCode, where: a.where, result: a.result as Record<string, unknown>, messages: a.messages as CommandAnswerJson['messages'] };
        return c.json(answer);
      } catch (err) {
        if (err instanceof CommandArgsError) return c.json({ error: err.message, issues: err.issues, exit_code: 2 }, 400);
        if (err instanceof UserError) return c.json({ error: err.message, exit_code: err.exitCode }, 422);
        throw err;
      }
    },
  );

  // The lab's history (store/history.ts): what `flurm history`, `heatmap` and `report` draw.
  app.get('/api/v1/history', (c) => {
    if (!api.history) return c.json({ error: 'this hub keeps no history' }, 404);
    const q = parseHistoryQuery((n) => c.req.query(n));
    if (typeof q === 'string') return c.json({ error: q }, 400);
    try {
      return c.json(apiOf(c).history!(q));
    } catch (err) {
      if (err instanceof UserError) return c.json({ error: err.message }, 400);
      throw err;
    }
  });

  app.get('/api/v1/nodes/:host/history', (c) => {
    const res = Number(c.req.query('resolution') ?? 60);
    if (res !== 60 && res !== 3600) return c.json({ error: 'resolution must be 60 or 3600 (seconds)' }, 400);
    const hours = Number(c.req.query('hours') ?? 24);
    if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 400) return c.json({ error: 'hours must be a number in (0, 9600]' }, 400);
    const samples = api.nodeHistory(c.req.param('host'), { resolutionSeconds: res, sinceMs: Date.now() - hours * 3_600_000 });
    return c.json({ host: c.req.param('host'), resolution_seconds: res, samples });
  });

  // The live dashboard (docs/dashboard.md): the page and its assets, and its one event stream.
  addDashboard(app, opts.dashboard);
  if (api.events) addStream(app, api.events, opts.stream);

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((err, c) => c.json({ error: err.message }, 500));
  return app;
}

/** GET /login?code=, GET /login/ready?hash=, POST /logout, POST /api/v1/token (docs/access.md). */
function mountSignIn(app: Hono, auth: AppAuth): void {
  const off = (c: Context) => c.json({ error: 'this hub has no sign-in' }, 404);
  app.get('/login', (c) => {
    if (!auth.service) return off(c);
    const r = auth.service.redeem(c.req.query('code') ?? '', 'session', clientOf(c));
    const noStore = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };
    if (!r.ok) {
      if (wantsJson(c)) return c.json({ error: r.reason }, r.status, noStore);
      return c.html(signInPage(r.reason), r.status, noStore);
    }
    return c.body(null, 303, { ...noStore, Location: '/', 'Set-Cookie': sessionCookie(r.secret, r.lifetimeSeconds, overHttps(c)) });
  });
  // `flurm dashboard` waits here until the hub has read its `login` event (the hash is in the spool anyway).
  app.get('/login/ready', (c) => {
    if (!auth.service) return off(c);
    const r = auth.service.ready(c.req.query('hash') ?? '');
    return r.ready ? c.json({ ready: true, expires_at: new Date(r.expiresMs).toISOString() }) : c.json({ ready: false, reason: r.reason }, 404);
  });
  app.post('/logout', (c) => {
    const secret = credentialOf(c);
    if (secret && auth.service) auth.service.end(secret);
    const headers = { 'Cache-Control': 'no-store', 'Set-Cookie': sessionCookie('', 0, overHttps(c)) };
    if (wantsJson(c)) return c.json({ signed_out: true }, 200, headers);
    return c.body(null, 303, { ...headers, Location: '/' });
  });
  // A bearer token for scripts: the body is {"code": "…"}, a code `flurm dashboard --token` registered.
  app.post('/api/v1/token', bodyLimit({ maxSize: 4096, onError: (c) => c.json({ error: 'the body must be {"code": "…"}' }, 413) }), async (c) => {
    if (!auth.service) return off(c);
    let code: unknown;
    try {
      code = ((await c.req.json()) as { code?: unknown } | null)?.code;
    } catch {
      code = undefined;
    }
    if (typeof code !== 'string') return c.json({ error: 'the body must be {"code": "…"}, a code from `flurm dashboard --token`' }, 400);
    const r = auth.service.redeem(code, 'token', clientOf(c));
    if (!r.ok) return c.json({ error: r.reason }, r.status, { 'Cache-Control': 'no-store' });
    return c.json({ token: r.secret, user: r.user, expires_at: new Date(r.expiresMs).toISOString() }, 200, { 'Cache-Control': 'no-store' });
  });
}

export async function listen(app: Hono, host: string, port: number): Promise<{ server: Server; port: number; url: string }> {
  return await new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const h = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
      resolve({ server: server as Server, port: info.port, url: `http://${h}:${info.port}` });
    }) as Server;
    server.once('error', reject);
  });
}
