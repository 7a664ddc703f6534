// `flurm dashboard [--token]` (docs/access.md): sign in to the hub's web page (or get a bearer
// token for scripts) by proof of file ownership, the way `flurm link` links a chat account. The
// command draws a one-time secret, writes a `login` event holding only its SHA-256 into the user's
// own spool (spools are on NFS: others may read them), rings the hub's doorbell, waits until the
// hub has read it (GET /login/ready?hash=…), and prints `HUB/login?code=SECRET`: opened within 5
// minutes it signs the browser in, once. With --token it redeems the code itself (POST
// /api/v1/token) and prints the bearer token (for `Authorization: Bearer …`, or FLURM_TOKEN for
// the CLI on another node).
import { UserError } from '../../lib/errors.js';
import { spoolDir } from '../../lib/host.js';
import { ringHub } from '../../lib/doorbell.js';
import type { LoginEvent } from '../../spool/events.js';
import { envelope, writerOrigin } from '../../spool/envelope.js';
import { appendEvent } from '../../spool/writer.js';
import { LOGIN_CODE_TTL_MINUTES, hashLoginSecret, newLoginSecret } from '../../spool/login-code.js';
import { HttpError } from '../../lib/errors.js';
import { getJson, hubFailure, hubUrl, postJson } from '../hub-client.js';

export interface DashboardOptions {
  /** Print a bearer token for scripts instead of a sign-in link. */
  token?: boolean;
  /** Ask this hub (default: as `flurm run` finds it). */
  hub?: string;
}

export interface DashboardDeps {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  doorbellTimeoutMs: number;
  /** How long to wait for the hub to read the `login` event. */
  waitMs: number;
}

const POLL_MS = 150;
const HUB_TIMEOUT_MS = 3000;

/** Exit 0: link (or token) printed; 1: the hub did not take the code in time; 2: no hub. */
export async function run(opts: DashboardOptions, partial: Partial<DashboardDeps> = {}): Promise<number> {
  const deps: DashboardDeps = {
    env: partial.env ?? process.env,
    out: partial.out ?? ((t) => process.stdout.write(t)),
    err: partial.err ?? ((t) => process.stderr.write(t)),
    doorbellTimeoutMs: partial.doorbellTimeoutMs ?? 300,
    waitMs: partial.waitMs ?? 10_000,
  };
  const url = await hubUrl(deps.env, opts.hub);
  if (!url) throw new UserError('no hub to sign in to: FLURM_HUB_URL is not set and no hub.json was found in the cluster dir (is the hub running? `flurm doctor` checks)');
  const secret = newLoginSecret();
  const hash = hashLoginSecret(secret);
  const origin = writerOrigin(deps.env);
  // Only the hash goes to disk: the secret lives in this process and in what it prints.
  const event: LoginEvent = { ...envelope('login', origin), hash };
  appendEvent(spoolDir(deps.env), event);
  await ringHub({ ...deps.env, FLURM_HUB_URL: url }, spoolDir(deps.env), origin.user, deps.doorbellTimeoutMs);
  const ready = await awaitReady(url, hash, deps);
  if (ready.kind === 'gone') throw new UserError(`${ready.why}: no sign-in link`);
  if (ready.kind === 'late') {
    deps.err(`flurm: the hub at ${url} did not read your sign-in code within ${Math.round(deps.waitMs / 1000)} s (${ready.why}); run flurm dashboard again (\`flurm doctor\` checks the hub)\n`);
    return 1;
  }
  if (opts.token) {
    try {
      const t = await postJson<{ token: string; user: string; expires_at: string }>(`${url}/api/v1/token`, { code: secret }, HUB_TIMEOUT_MS);
      deps.out(`${t.token}\n`);
      deps.err(`flurm: a bearer token for ${t.user}, good until ${t.expires_at}: send it as "Authorization: Bearer TOKEN" (or set FLURM_TOKEN for the flurm CLI). Keep it secret.\n`);
      return 0;
    } catch (err) {
      const why = err instanceof HttpError ? errorOf(err.body) ?? `HTTP ${err.status}` : hubFailure(err, url, '/api/v1/token').why;
      throw new UserError(`the hub made no token: ${why}`, { cause: err });
    }
  }
  deps.out(`${url}/login?code=${secret}\n`);
  deps.err(`flurm: open that link within ${LOGIN_CODE_TTL_MINUTES} minutes to sign in as ${origin.user}; it works once.\n`);
  return 0;
}

function errorOf(body: string): string | null {
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    return typeof e === 'string' ? e : null;
  } catch {
    return null;
  }
}

type Ready = { kind: 'ready' } | { kind: 'late'; why: string } | { kind: 'gone'; why: string };

/** Poll GET /login/ready until the hub has registered the hash, or time is up. */
async function awaitReady(url: string, hash: string, deps: DashboardDeps): Promise<Ready> {
  const t0 = Date.now();
  let why = 'not read yet';
  for (;;) {
    try {
      await getJson(`${url}/login/ready?hash=${hash}`, HUB_TIMEOUT_MS);
      return { kind: 'ready' };
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 404)) return { kind: 'gone', why: hubFailure(err, url, '/login/ready').why };
      let answer: { reason?: unknown; error?: unknown } = {};
      try {
        answer = JSON.parse(err.body) as typeof answer;
      } catch {
        // not JSON: an older hub or something else on that port
      }
      if (typeof answer.reason !== 'string') return { kind: 'gone', why: `the hub at ${url} has no sign-in (is it an older flurm?)` };
      why = answer.reason;
      if (/two users/.test(why)) return { kind: 'gone', why: `the hub refused the code: ${why}` };
    }
    if (Date.now() - t0 >= deps.waitMs) return { kind: 'late', why };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
