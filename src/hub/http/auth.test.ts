// Sign-in and who may see what (hub/http/auth.ts, redact.ts, docs/access.md), against the real app
// and an in-memory index, with an injected clock.
import { describe, expect, it } from 'vitest';
import { openDb } from '../../store/db.js';
import type { NodeView } from '../../model/node-view.js';
import type { JobView } from '../../model/job-view.js';
import type { LoginEvent } from '../../spool/events.js';
import { hashLoginSecret, newLoginSecret } from '../../spool/login-code.js';
import { createApp, type HubApi } from './server.js';
import { AuthService, FAILS_PER_WINDOW, isLoopbackHost, viewerOf, type AccessRules } from './auth.js';
import { redactJob, redactNode } from './redact.js';

const ALICE_CMD = 'python train.py --secret-alice-flag';
const BOB_CMD = 'python eval.py --secret-bob-flag';
const T0 = Date.parse('2026-12-01T12:00:00.000Z');

const job = (id: string, user: string, cmd: string): JobView & { name: string } => ({
  id, user, host: 'n1', state: 'running', cmd, cwd: `/home/${user}/proj`, tail: [`${user} log line`], log: `/home/${user}/log.txt`, title: null, name: cmd.split(' ')[1]!,
});
const JOBS = [job('J1', 'alice', ALICE_CMD), job('J2', 'bob', BOB_CMD)];
const node = (): NodeView =>
  ({
    host: 'n1', state: 'fresh', age_seconds: 1, idle_since: null, jobs: JOBS,
    snapshot: { host: 'n1', busy: [{ pid: 1, user: 'alice', cmd: ALICE_CMD }, { pid: 2, user: 'bob', cmd: BOB_CMD }] },
  }) as unknown as NodeView;

function fakeApi(): HubApi {
  return {
    ring: () => undefined,
    health: () => ({ version: 'x', host: 'h', outbox: {} }),
    jobs: () => JOBS,
    job: (id) => JOBS.find((j) => j.id === id),
    problems: () => [
      { key: 'invalid:/home/bob/.flurm/events/n1.jsonl', user: 'bob', reason: 'invalid event line in /home/bob/.flurm/events/n1.jsonl', count: 1 },
      { key: 'link:alice', user: 'alice', reason: 'link code expired', count: 1 },
      { key: 'node-refused', user: null, reason: 'node file n9.json is not valid', count: 1 },
    ],
    link: (user: string) => (user === 'bob' ? [{ chat: 'discord' as const, account: '2222', source: 'spool' as const, linked_ms: T0, host: 'n1' }] : []),
    destinations: () => [],
    nodes: () => ({ generated: new Date(T0).toISOString(), nodes: [node()] }),
    nodeHistory: () => [],
    history: (q) => ({ kind: q.kind, sinceMs: q.sinceMs, untilMs: q.untilMs }) as never,
    metrics: async () => ({ contentType: 'text/plain', body: 'flurm_up 1\n' }),
  };
}

function world(rules: Partial<AccessRules> = {}) {
  let now = T0;
  const db = openDb(':memory:');
  const auth = new AuthService(db, { now: () => now });
  const app = createApp(fakeApi(), { auth: { service: auth, rules: { open: false, publicView: false, shareDetails: false, ...rules } } });
  let n = 0;
  /** What `flurm dashboard` does, as the ingest hands it over: a login event from a file owned by `owner`. */
  const login = (owner: string, secret = newLoginSecret(), eventUser = owner) => {
    const ev: LoginEvent = { v: 1, type: 'login', id: `01JD${String(n++).padStart(22, '0')}`, ts: new Date(now).toISOString(), user: eventUser, host: 'n1', hash: hashLoginSecret(secret) };
    return { secret, outcome: auth.register(owner, ev, now, { replay: false }) };
  };
  const signIn = async (owner: string) => {
    const r = await app.request(`/login?code=${login(owner).secret}`);
    expect(r.status).toBe(303);
    return r.headers.get('set-cookie')!.split(';')[0]!;
  };
  const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers });
  return { app, auth, db, login, signIn, get, tick: (ms: number) => (now += ms) };
}

describe('sign-in codes', () => {
  it('a code signs in once: 303 to / with an HttpOnly, SameSite=Strict session cookie; the same link again is refused', async () => {
    const w = world();
    const { secret, outcome } = w.login('alice');
    expect(outcome).toBe('new');
    const r = await w.app.request(`/login?code=${secret}`, { headers: { accept: 'text/html' } });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/');
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^flurm_session=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Strict$/);
    const again = await w.app.request(`/login?code=${secret}`, { headers: { accept: 'text/html' } });
    expect(again.status).toBe(401);
    const page = await again.text();
    expect(page).toContain('used already');
    expect(page).toContain('flurm dashboard');
    // Only hashes are kept: neither the code nor the session id is in the index.
    const dump = JSON.stringify([w.db.prepare('SELECT * FROM login_codes').all(), w.db.prepare('SELECT * FROM sessions').all()]);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(cookie.split(';')[0]!.split('=')[1]!);
    expect(dump).toContain(hashLoginSecret(secret));
  });

  it('Secure when the request came over https (directly or as X-Forwarded-Proto says)', async () => {
    const w = world();
    const r = await w.app.request(`/login?code=${w.login('alice').secret}`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(r.headers.get('set-cookie')).toMatch(/; Secure$/);
    const r2 = await w.app.request(`https://hub.example/login?code=${w.login('alice').secret}`);
    expect(r2.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  it('expires 5 minutes after the hub read it (the hub clock); unknown and malformed codes are refused', async () => {
    const w = world();
    const { secret } = w.login('alice');
    w.tick(5 * 60_000);
    const r = await w.get(`/login?code=${secret}`);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error: string }).error).toMatch(/expired.*run `flurm dashboard` again/);
    expect((await w.get(`/login?code=${newLoginSecret()}`)).status).toBe(401);
    expect((await w.get('/login?code=short')).status).toBe(401);
  });

  it('a login event read long after it was written, or replayed on a new index, registers nothing', () => {
    const w = world();
    const ev = (ts: string): LoginEvent => ({ v: 1, type: 'login', id: '01JD0000000000000000000099', ts, user: 'alice', host: 'n1', hash: hashLoginSecret(newLoginSecret()) });
    expect(w.auth.register('alice', ev(new Date(T0 - 11 * 60_000).toISOString()), T0, { replay: false })).toBe('stale');
    expect(w.auth.register('alice', ev(new Date(T0).toISOString()), T0, { replay: true })).toBe('replay');
  });

  it('binds the code to the spool file\'s owner, not the event\'s user field', async () => {
    const w = world();
    const { secret } = w.login('mallory', undefined, 'alice');
    const cookie = (await w.app.request(`/login?code=${secret}`)).headers.get('set-cookie')!.split(';')[0]!;
    const jobs = (await (await w.get('/api/v1/jobs', { cookie })).json()) as { jobs: JobView[] };
    expect(jobs.jobs.find((j) => j.user === 'alice')!.cmd).toBeNull();
  });

  it('a hash copied into another user\'s spool contests the code: it signs no one in (403)', async () => {
    const w = world();
    const { secret } = w.login('alice');
    expect(w.login('mallory', secret).outcome).toBe('contested');
    const r = await w.get(`/login?code=${secret}`);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: string }).error).toMatch(/more than one user's spool/);
    expect(w.auth.ready(hashLoginSecret(secret))).toMatchObject({ ready: false });
  });

  it('two requests racing for one code: one session', async () => {
    const w = world();
    const { secret } = w.login('alice');
    const rs = await Promise.all(Array.from({ length: 8 }, () => w.get(`/login?code=${secret}`)));
    expect(rs.map((r) => r.status).sort()).toEqual([303, 401, 401, 401, 401, 401, 401, 401]);
  });

  it('rate-limits failed codes per client address (429)', async () => {
    const w = world();
    for (let i = 0; i < FAILS_PER_WINDOW; i++) expect((await w.get(`/login?code=${newLoginSecret()}`)).status).toBe(401);
    const { secret } = w.login('alice');
    const r = await w.get(`/login?code=${secret}`);
    expect(r.status).toBe(429);
    w.tick(10 * 60_000 - 1); // the window passes (the code has expired by then, but it is checked again)
    w.tick(1);
    expect((await w.get(`/login?code=${newLoginSecret()}`)).status).toBe(401);
  });

  it('GET /login/ready says when the hub has read the code (what flurm dashboard waits for)', async () => {
    const w = world();
    const secret = newLoginSecret();
    expect((await w.get(`/login/ready?hash=${hashLoginSecret(secret)}`)).status).toBe(404);
    w.login('alice', secret);
    const r = await w.get(`/login/ready?hash=${hashLoginSecret(secret)}`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ready: true, expires_at: new Date(T0 + 5 * 60_000).toISOString() });
  });
});

describe('sessions and bearer tokens', () => {
  it('POST /api/v1/token turns a code into a bearer token bound to the same user; /logout ends a session', async () => {
    const w = world();
    const { secret } = w.login('alice');
    const t = await w.app.request('/api/v1/token', { method: 'POST', body: JSON.stringify({ code: secret }), headers: { 'content-type': 'application/json' } });
    expect(t.status).toBe(200);
    const { token, user, expires_at } = (await t.json()) as { token: string; user: string; expires_at: string };
    expect(user).toBe('alice');
    expect(expires_at).toBe(new Date(T0 + 90 * 86_400_000).toISOString());
    const jobs = (await (await w.get('/api/v1/jobs', { authorization: `Bearer ${token}` })).json()) as { jobs: JobView[] };
    expect(jobs.jobs.find((j) => j.user === 'alice')!.cmd).toBe(ALICE_CMD);
    expect((await w.get('/metrics', { authorization: `Bearer ${token}` })).status).toBe(200);
    // The code is spent; a wrong token is refused.
    expect((await w.app.request('/api/v1/token', { method: 'POST', body: JSON.stringify({ code: secret }) })).status).toBe(401);
    const bad = await w.get('/api/v1/jobs', { authorization: `Bearer ${newLoginSecret()}` });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toMatch(/bearer token is not valid/);

    const cookie = await w.signIn('alice');
    expect((await w.get('/api/v1/jobs', { cookie })).status).toBe(200);
    expect((await w.app.request('/logout', { method: 'POST', headers: { cookie, accept: 'application/json' } })).status).toBe(200);
    expect((await w.get('/api/v1/jobs', { cookie })).status).toBe(401);
  });

  it('a session ends after session_days', async () => {
    const w = world();
    const cookie = await w.signIn('alice');
    w.tick(7 * 86_400_000);
    expect((await w.get('/api/v1/jobs', { cookie })).status).toBe(401);
  });
});

describe('who may see what', () => {
  it('without sign-in: 401 JSON for the API and /metrics, a sign-in page for a browser; /healthz, the doorbell stay open', async () => {
    const w = world();
    for (const p of ['/api/v1/jobs', '/api/v1/nodes', '/api/v1/problems', '/metrics', '/api/v1/history?kind=nodes']) {
      const r = await w.get(p);
      expect(r.status, p).toBe(401);
      expect(await r.json()).toEqual({ error: 'sign in: run flurm dashboard' });
    }
    expect((await w.app.request('/api/v1/commands/status', { method: 'POST', body: '{}' })).status).toBe(401);
    const page = await w.get('/', { accept: 'text/html' });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('flurm dashboard');
    expect((await w.get('/healthz')).status).toBe(200);
    expect((await w.app.request('/doorbell?user=alice', { method: 'POST' })).status).toBe(202);
  });

  it('signed in: own jobs and processes in full, other users\' cmd, cwd, log and tail hidden — in every route', async () => {
    const w = world();
    const cookie = await w.signIn('alice');
    const jobs = ((await (await w.get('/api/v1/jobs', { cookie })).json()) as { jobs: (JobView & { details_hidden?: boolean })[] }).jobs;
    expect(jobs.find((j) => j.user === 'alice')).toMatchObject({ cmd: ALICE_CMD, cwd: '/home/alice/proj', tail: ['alice log line'] });
    expect(jobs.find((j) => j.user === 'bob')).toMatchObject({ cmd: null, cwd: null, tail: null, log: null, details_hidden: true });
    const texts = [
      await (await w.get('/api/v1/jobs', { cookie })).text(),
      await (await w.get('/api/v1/jobs/J2', { cookie })).text(),
      await (await w.get('/api/v1/nodes', { cookie })).text(),
      await (await w.app.request('/api/v1/commands/jobs', { method: 'POST', body: '{}', headers: { cookie } })).text(),
      await (await w.app.request('/api/v1/commands/jobs', { method: 'POST', body: JSON.stringify({ user: 'bob' }), headers: { cookie } })).text(),
    ];
    for (const t of texts) {
      expect(t).not.toContain('secret-bob-flag');
      expect(t).not.toContain('/home/bob');
      expect(t).not.toContain('bob log line');
    }
    expect(texts[2]).toContain('secret-alice-flag');
    expect(JSON.parse(texts[3]!)).toMatchObject({ command: 'jobs', exit_code: 0 });
    expect(texts[3]).toContain('secret-alice-flag');
    const nodes = (await (await w.get('/api/v1/nodes', { cookie })).json()) as { nodes: NodeView[] };
    expect(nodes.nodes[0]!.snapshot.busy.map((p) => p.cmd)).toEqual([ALICE_CMD, '']);
  });

  it('a signed-in user sees their own problems and the lab\'s, not another user\'s; nobody else\'s chat ids', async () => {
    const w = world();
    const cookie = await w.signIn('alice');
    const problems = ((await (await w.get('/api/v1/problems', { cookie })).json()) as { problems: { key: string }[] }).problems;
    expect(problems.map((p) => p.key)).toEqual(['link:alice', 'node-refused']);
    expect(await (await w.get('/api/v1/links/bob', { cookie })).json()).toEqual({ user: 'bob', linked: false, links: [] });
  });

  it('[http] share_job_details = true: signed-in users see every job', async () => {
    const w = world({ shareDetails: true });
    const cookie = await w.signIn('alice');
    expect(await (await w.get('/api/v1/jobs', { cookie })).text()).toContain('secret-bob-flag');
    expect(await (await w.get('/api/v1/jobs')).text()).not.toContain('secret-bob-flag'); // still not without sign-in
  });

  it('[http] public_view = true: nodes (no command lines, no jobs) and charts without sign-in; jobs and job history not', async () => {
    const w = world({ publicView: true });
    const r = await w.get('/api/v1/nodes');
    expect(r.status).toBe(200);
    const nodes = (await r.json()) as { nodes: NodeView[] };
    expect(nodes.nodes[0]!.snapshot.busy.map((p) => [p.user, p.cmd])).toEqual([['alice', ''], ['bob', '']]);
    expect(nodes.nodes[0]!.jobs).toEqual([]);
    expect((await w.get(`/api/v1/history?kind=nodes&metric=cpu&since=${T0 - 3_600_000}&until=${T0}`)).status).toBe(200);
    expect((await w.get(`/api/v1/history?kind=jobs&since=${T0 - 3_600_000}&until=${T0}`)).status).toBe(400);
    expect((await w.get('/api/v1/jobs')).status).toBe(401);
    expect((await w.get('/metrics')).status).toBe(401);
    expect((await w.app.request('/api/v1/commands/jobs', { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('a loopback hub answers everything as before, to the host\'s users', async () => {
    const app = createApp(fakeApi());
    let seen: unknown;
    app.get('/whoami', (c) => {
      seen = viewerOf(c);
      return c.text('ok');
    });
    expect(await (await app.request('/api/v1/jobs')).text()).toContain('secret-bob-flag');
    await app.request('/whoami');
    expect(seen).toEqual({ kind: 'lab', user: null });
  });

  it('redactJob / redactNode: own, other, lab, anonymous, shared', () => {
    const rules = { shareDetails: false };
    const bobJob = JOBS[1]!;
    expect(redactJob(bobJob, { kind: 'user', user: 'bob', via: 'session' }, rules)).toBe(bobJob);
    expect(redactJob(bobJob, { kind: 'lab', user: null }, rules)).toBe(bobJob);
    expect(redactJob(bobJob, { kind: 'user', user: 'alice', via: 'session' }, { shareDetails: true })).toBe(bobJob);
    const hidden = redactJob(bobJob, { kind: 'user', user: 'alice', via: 'token' }, rules);
    expect(hidden).toMatchObject({ cmd: null, cwd: null, tail: null, log: null });
    expect(hidden.name).not.toContain('eval');
    const slurmJob = { ...bobJob, slurm: { job_id: '7', final: { work_dir: '/home/bob/x', std_out: '/home/bob/x/o', state: 'COMPLETED', tasks: [{ work_dir: '/home/bob/t' }] } } };
    expect(JSON.stringify(redactJob(slurmJob, { kind: 'anonymous' }, rules))).not.toContain('/home/bob');
    expect(redactNode(node(), { kind: 'anonymous' }, rules).jobs).toEqual([]);
  });

  it('isLoopbackHost', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'node1', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
