// `flurm link CODE`, `flurm link --status`, `flurm unlink` (docs/linking.md): link this unix
// account to a Discord or Slack account by proof of file ownership. `/link` in Discord (or
// `/flurm link` in Slack) shows a one-time code; `flurm link CODE` writes it as a `link` event into the user's own spool (like `notify`)
// and rings the hub's doorbell; the hub accepts it because the file is this user's. A malformed
// code is refused here, before anything is written. Then, when a hub answers, the command waits a
// few seconds for the hub's verdict (the link in effect, or the problem it reported) and says it.
import { UserError } from '../../lib/errors.js';
import { spoolDir } from '../../lib/host.js';
import { ringHub } from '../../lib/doorbell.js';
import { formatLocalTime } from '../../lib/time.js';
import { clip, type LinkEvent } from '../../spool/events.js';
import { envelope, writerOrigin } from '../../spool/envelope.js';
import { appendEvent } from '../../spool/writer.js';
import { LINK_CHATS, LINK_CODE_CHARS, LINK_CODE_TTL_MINUTES, formatLinkCode, parseLinkCode, type LinkChat } from '../../spool/link-code.js';
import { checkAnswer, linkStatusSchema, problemsSchema, type LinkStatusJson } from '../../model/api.js';
import { getJson, hubFailure, hubUrl } from '../hub-client.js';

export interface LinkOptions {
  /** The code as given (several arguments joined by a space: a code pasted with blanks). */
  code?: string;
  status?: boolean;
  /** Ask this hub (default: as `flurm run` finds it). */
  hub?: string;
}

export interface LinkDeps {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  doorbellTimeoutMs: number;
  /** How long to wait for the hub's verdict after writing. */
  waitMs: number;
}

const HUB_TIMEOUT_MS = 3000;
const CHAT_NAMES: Record<LinkChat, string> = { discord: 'Discord', slack: 'Slack' };
const WHERE_CODES = '/link in Discord or /flurm link in Slack';
type ChatLink = NonNullable<LinkStatusJson['links']>[number];

/** The user's links, from an answer with `links` or (an older hub) with the Discord fields only. */
function linksOf(s: LinkStatusJson): ChatLink[] {
  if (s.links) return s.links;
  return s.linked && s.discord_id ? [{ chat: 'discord', id: s.discord_id, source: s.source ?? 'spool', linked_at: s.linked_at ?? '', ...(s.host ? { host: s.host } : {}) }] : [];
}
const POLL_MS = 150;

function depsOf(d: Partial<LinkDeps>): LinkDeps {
  return {
    env: d.env ?? process.env,
    out: d.out ?? ((t) => process.stdout.write(t)),
    err: d.err ?? ((t) => process.stderr.write(t)),
    doorbellTimeoutMs: d.doorbellTimeoutMs ?? 300,
    waitMs: d.waitMs ?? 5000,
  };
}

/** `flurm link CODE` or `flurm link --status`. Exit 0: linked (or written, verdict pending); 1: not linked / refused; 2: usage, no hub for --status. */
export async function run(opts: LinkOptions, partial: Partial<LinkDeps> = {}): Promise<number> {
  const deps = depsOf(partial);
  if (opts.status) {
    if (opts.code !== undefined) throw new UserError('give either a CODE or --status, not both');
    return status(opts, deps);
  }
  if (opts.code === undefined || opts.code.trim() === '') {
    throw new UserError(`give the CODE ${WHERE_CODES} shows (flurm link CODE), or --status to see your links`);
  }
  const parsed = parseLinkCode(opts.code);
  if (!parsed.ok) {
    throw new UserError(`CODE "${clip(opts.code, 60)}" is not a flurm link code (${LINK_CODE_CHARS} letters and digits from ${WHERE_CODES}): ${parsed.reason}`);
  }
  const { chat, account } = parsed.code;
  const origin = writerOrigin(deps.env);
  const { url, before } = await hubBefore(opts, deps, origin.user);
  const file = write(deps, { code: formatLinkCode(parsed.code.canonical) });
  await ringHub(url ? { ...deps.env, FLURM_HUB_URL: url } : deps.env, spoolDir(deps.env), origin.user, deps.doorbellTimeoutMs);
  if (url) {
    const verdict = await awaitVerdict(url, origin.user, before, deps, (s) => linksOf(s).some((l) => l.chat === chat && l.id === account));
    if (verdict.kind === 'done') {
      deps.out(`${describe(origin.user, linksOf(verdict.status).find((l) => l.chat === chat)!)}\n`);
      return 0;
    }
    if (verdict.kind === 'refused') {
      deps.err(`flurm: the hub did not link you: ${verdict.reason}\n`);
      return 1;
    }
  }
  deps.out(
    `Link code written to ${file}.\n` +
      `The hub links you (${CHAT_NAMES[chat]} user ${account}) when it reads it: within seconds while it runs; a code lasts ${LINK_CODE_TTL_MINUTES} minutes.\n` +
      `Check with: flurm link --status\n`,
  );
  return 0;
}

/** `flurm unlink [--chat C]`: end the links made with `flurm link`, or that chat's (a link from the hub config stays). */
export async function runUnlink(opts: { hub?: string; chat?: string }, partial: Partial<LinkDeps> = {}): Promise<number> {
  const deps = depsOf(partial);
  const chat = opts.chat?.trim().toLowerCase();
  if (chat !== undefined && !(LINK_CHATS as readonly string[]).includes(chat)) throw new UserError(`--chat "${clip(opts.chat!, 30)}" is not a chat flurm links: ${LINK_CHATS.join(' or ')}`);
  const chats = chat ? [chat as LinkChat] : LINK_CHATS;
  const origin = writerOrigin(deps.env);
  const { url, before } = await hubBefore(opts, deps, origin.user);
  const file = write(deps, { unlink: true, ...(chat ? { chat: chat as LinkChat } : {}) });
  await ringHub(url ? { ...deps.env, FLURM_HUB_URL: url } : deps.env, spoolDir(deps.env), origin.user, deps.doorbellTimeoutMs);
  if (url) {
    const left = (s: LinkStatusJson) => linksOf(s).filter((l) => chats.includes(l.chat));
    const verdict = await awaitVerdict(url, origin.user, before, deps, (s) => left(s).every((l) => l.source === 'config'));
    if (verdict.kind === 'done') {
      const kept = left(verdict.status);
      const ended = chats.filter((c) => !kept.some((l) => l.chat === c)).map((c) => CHAT_NAMES[c]);
      if (ended.length) deps.out(`${origin.user} is no longer linked to a ${ended.join(' or ')} account\n`);
      for (const l of kept) deps.out(`${describe(origin.user, l)}: only the hub's admin can end a link from the hub config\n`);
      return 0;
    }
  }
  deps.out(`Unlink written to ${file}; the hub ends your link when it reads it. Check with: flurm link --status\n`);
  return 0;
}

async function status(opts: LinkOptions, deps: LinkDeps): Promise<number> {
  const user = writerOrigin(deps.env).user;
  const url = await hubUrl(deps.env, opts.hub);
  if (!url) throw new UserError('no hub to ask: FLURM_HUB_URL is not set and no hub.json was found in the cluster dir (is the hub running? `flurm doctor` checks)');
  let s: LinkStatusJson;
  try {
    s = await linkStatus(url, user);
  } catch (err) {
    throw new UserError(`${hubFailure(err, url, `/api/v1/links/${user}`).why}: cannot tell whether you are linked`, { cause: err });
  }
  const links = linksOf(s);
  if (!links.length) {
    deps.out(`${user} is not linked; run ${WHERE_CODES}, then flurm link CODE\n`);
    return 1;
  }
  for (const l of links) deps.out(`${describe(user, l)}\n`);
  return 0;
}

/** "alice is linked to Discord user 1234… (since 2025-03-01 12:36 CET, by `flurm link` on node3)". */
function describe(user: string, l: ChatLink): string {
  const since = l.linked_at ? `since ${formatLocalTime(l.linked_at)}, ` : '';
  const by = l.source === 'config' ? 'by the hub config' : `by \`flurm link\`${l.host ? ` on ${l.host}` : ''}`;
  return `${user} is linked to ${CHAT_NAMES[l.chat]} user ${l.id} (${since}${by})`;
}

function write(deps: LinkDeps, fields: { code: string } | { unlink: true; chat?: LinkChat }): string {
  const event: LinkEvent = { ...envelope('link', writerOrigin(deps.env)), ...fields };
  return appendEvent(spoolDir(deps.env), event);
}

async function linkStatus(url: string, user: string): Promise<LinkStatusJson> {
  const where = `${url}/api/v1/links/${encodeURIComponent(user)}`;
  return checkAnswer(linkStatusSchema, await getJson(where, HUB_TIMEOUT_MS), where);
}

/** The hub's `link:USER` problem (the latest refusal, and how many there were), if any. */
async function linkProblem(url: string, user: string): Promise<{ reason: string; count: number } | undefined> {
  const where = `${url}/api/v1/problems`;
  const { problems } = checkAnswer(problemsSchema, await getJson(where, HUB_TIMEOUT_MS), where);
  return problems.find((x) => x.user === user && x.key === `link:${user}`);
}

/** The hub to wait for, and its count of this user's link problems before writing; no url when none answers. */
async function hubBefore(opts: { hub?: string }, deps: LinkDeps, user: string): Promise<{ url: string | null; before: number }> {
  const url = await hubUrl(deps.env, opts.hub);
  if (!url) return { url: null, before: 0 };
  try {
    return { url, before: (await linkProblem(url, user))?.count ?? 0 };
  } catch {
    return { url: null, before: 0 }; // the event is written all the same; the hub reads it when it can
  }
}

type Verdict = { kind: 'done'; status: LinkStatusJson } | { kind: 'refused'; reason: string } | { kind: 'pending' };

/** Poll the hub until `done` holds for the user's link, or a new link problem is reported, or time is up. */
async function awaitVerdict(url: string, user: string, before: number, deps: LinkDeps, done: (s: LinkStatusJson) => boolean): Promise<Verdict> {
  const t0 = Date.now();
  for (;;) {
    try {
      const s = await linkStatus(url, user);
      if (done(s)) return { kind: 'done', status: s };
      const p = await linkProblem(url, user);
      if (p && p.count > before) return { kind: 'refused', reason: p.reason.replace(/^flurm (un)?link on [^:]*: /, '') };
    } catch {
      return { kind: 'pending' };
    }
    if (Date.now() - t0 >= deps.waitMs) return { kind: 'pending' };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
