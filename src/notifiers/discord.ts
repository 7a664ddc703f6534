// Discord webhooks. Accepts the URL Discord shows ("Copy Webhook URL"):
//   https://discord.com/api/webhooks/ID/TOKEN   (also discordapp.com, ptb./canary. hosts, /api/v10/)
// and the canonical form it is stored and shown as:
//   discord://ID/TOKEN[?thread_id=ID][&username=NAME][&api=BASE]
// `api=` replaces https://discord.com (tests: api=http://127.0.0.1:PORT). Posts with ?wait=true
// so Discord validates the message and a rejected body comes back as an error, not silence.
import { renderDiscord } from '../frontends/discord/render.js';
import type { Message } from '../model/message.js';
import { postJson } from './http.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { REDACTED, buildQuery, configError, decodePart, parseApiBase, pathSegments, readQuery, rejectRedacted } from './url-helpers.js';

const KIND = 'discord';
const DEFAULT_API = 'https://discord.com';
const HOSTS = new Set(['discord.com', 'discordapp.com', 'ptb.discord.com', 'canary.discord.com', 'ptb.discordapp.com', 'canary.discordapp.com']);
const ID_RE = /^\d{1,25}$/;
const TOKEN_RE = /^[A-Za-z0-9_-]{1,200}$/;
const FORMS = 'discord://ID/TOKEN or https://discord.com/api/webhooks/ID/TOKEN';

interface DiscordTarget {
  id: string;
  token: string;
  threadId?: string;
  username?: string;
  api?: string;
}

class DiscordDestination implements Destination {
  readonly kind = KIND;
  constructor(private readonly t: DiscordTarget) {}

  toUrl(opts: { redact?: boolean } = {}): string {
    const token = opts.redact ? REDACTED : this.t.token;
    return `discord://${this.t.id}/${token}` + buildQuery([['thread_id', this.t.threadId], ['username', this.t.username], ['api', this.t.api]]);
  }

  async send(message: Message, ctx: SendContext): Promise<void> {
    const q = buildQuery([['wait', 'true'], ['thread_id', this.t.threadId]]);
    await postJson(
      {
        url: `${this.t.api ?? DEFAULT_API}/api/webhooks/${this.t.id}/${this.t.token}${q}`,
        redactedUrl: this.toUrl({ redact: true }),
        service: 'Discord',
        json: renderDiscord(message, { username: this.t.username }),
      },
      ctx,
    );
  }
}

function check(t: DiscordTarget): DiscordTarget {
  if (!t.id || !t.token) throw configError(KIND, `webhook id or token missing (expected ${FORMS})`);
  rejectRedacted(KIND, 'webhook token', t.token);
  if (!ID_RE.test(t.id)) throw configError(KIND, `webhook id must be digits, got "${t.id.slice(0, 40)}" (expected ${FORMS})`);
  if (!TOKEN_RE.test(t.token)) throw configError(KIND, `webhook token has characters a Discord token never has (expected ${FORMS})`);
  if (t.threadId !== undefined && !ID_RE.test(t.threadId)) throw configError(KIND, 'thread_id must be digits');
  if (t.username !== undefined) {
    if (t.username.length < 1 || t.username.length > 80) throw configError(KIND, 'username must be 1 to 80 characters');
    // Discord refuses webhook names containing these (documented), with a 400 at send time.
    if (/clyde|discord/i.test(t.username)) throw configError(KIND, 'username may not contain "clyde" or "discord" (Discord refuses it)');
  }
  return t;
}

function parseDiscord(url: URL): Destination {
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    // A pasted webhook URL: /api[/vN]/webhooks/ID/TOKEN[?thread_id=…][&wait=…]
    const seg = pathSegments(url);
    const at = seg.indexOf('webhooks');
    if (seg[0] !== 'api' || at < 1 || at > 2 || seg.length !== at + 3) throw configError(KIND, `not a webhook URL (expected ${FORMS})`);
    const q = readQuery(KIND, url, ['thread_id', 'wait']);
    return new DiscordDestination(check({ id: seg[at + 1]!, token: decodePart(KIND, 'token', seg[at + 2]!), threadId: q.get('thread_id') }));
  }
  if (url.username || url.password || url.port) throw configError(KIND, `unexpected user or port (expected ${FORMS})`);
  const seg = pathSegments(url);
  if (seg.length === 0) throw configError(KIND, `webhook token missing (expected ${FORMS})`);
  if (seg.length !== 1) throw configError(KIND, `expected ${FORMS}`);
  const q = readQuery(KIND, url, ['thread_id', 'username', 'api']);
  const api = q.get('api');
  return new DiscordDestination(
    check({
      id: url.hostname,
      token: decodePart(KIND, 'token', seg[0]!),
      threadId: q.get('thread_id'),
      username: q.get('username'),
      api: api === undefined ? undefined : parseApiBase(KIND, api),
    }),
  );
}

export const discordNotifier: Notifier = {
  name: KIND,
  schemes: ['discord'],
  help: 'discord://ID/TOKEN[?thread_id=ID&username=NAME] — or paste https://discord.com/api/webhooks/ID/TOKEN',
  matches: (url) => (url.protocol === 'https:' && HOSTS.has(url.hostname) && /^\/api\/(v\d+\/)?webhooks\//.test(url.pathname)),
  parse: parseDiscord,
};
