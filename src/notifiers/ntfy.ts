// ntfy (https://ntfy.sh or a self-hosted server). URL forms:
//   ntfy://TOPIC                                    → https://ntfy.sh, topic TOPIC
//   ntfy://[USER:PASS@]HOST[:PORT][/PREFIX]/TOPIC   → https://HOST[:PORT][/PREFIX]
//   ntfy+http://[USER:PASS@]HOST[:PORT][/PREFIX]/TOPIC → plain http (a local server, tests)
//   …?token=tk_…                                    → access token (Authorization: Bearer)
// A pasted https://ntfy.sh/TOPIC is accepted too. Publishes as JSON to the server root (the
// title and body stay UTF-8, which headers cannot promise). The body is cut to 4096 bytes,
// because ntfy turns a longer one into a file attachment. Failures are sent with high priority.
// The idempotency key goes as the sequence id (body `sequence_id` and `X-Sequence-ID`): from
// ntfy 2.16 a repeat with the same id replaces the notification in place instead of adding one;
// older servers ignore it and show a repeat twice.
import { renderText } from '../frontends/text/render.js';
import { truncate } from '../lib/format.js';
import type { Message, Severity } from '../model/message.js';
import { postJson } from './http.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { REDACTED, buildQuery, configError, decodePart, pathSegments, readQuery, rejectRedacted } from './url-helpers.js';

const KIND = 'ntfy';
const DEFAULT_HOST = 'ntfy.sh';
const TOPIC_RE = /^[-_A-Za-z0-9]{1,64}$/;
/** ntfy turns a message body over 4096 bytes into an attachment. */
export const NTFY_MAX_MESSAGE_BYTES = 4096;
const TITLE_MAX_CHARS = 250;
const FORMS = 'ntfy://TOPIC, ntfy://[USER:PASS@]HOST[:PORT]/TOPIC or ntfy+http://HOST:PORT/TOPIC';

/** ntfy priorities: 1 min … 3 default … 5 max. A failure should buzz the phone. */
export const NTFY_PRIORITY: Record<Severity, number> = { failure: 4, warning: 4, success: 3, info: 3 };

interface NtfyTarget {
  secure: boolean;
  /** host[:port], undefined for ntfy.sh */
  host?: string;
  prefix: string[];
  topic: string;
  user?: string;
  password?: string;
  token?: string;
}

/** The JSON publish body (https://docs.ntfy.sh/publish/#publish-as-json). */
export interface NtfyPublishBody {
  topic: string;
  title: string;
  message: string;
  priority: number;
  tags: string[];
  /** Stable per message: ntfy ≥ 2.16 updates the notification with this id instead of adding one. */
  sequence_id?: string;
}

export function ntfyBody(topic: string, m: Message, sequenceId?: string): NtfyPublishBody {
  return {
    topic,
    title: truncate(m.title.replace(/\s+/g, ' ').trim(), TITLE_MAX_CHARS),
    message: renderText(m, { title: false, maxBytes: NTFY_MAX_MESSAGE_BYTES }) || m.title || 'flurm',
    priority: NTFY_PRIORITY[m.severity],
    tags: ['flurm', m.severity],
    ...(sequenceId ? { sequence_id: sequenceId } : {}),
  };
}

class NtfyDestination implements Destination {
  readonly kind = KIND;
  constructor(private readonly t: NtfyTarget) {}

  toUrl(opts: { redact?: boolean } = {}): string {
    const t = this.t;
    const token = t.token === undefined ? undefined : opts.redact ? REDACTED : t.token;
    const q = buildQuery([['token', token]]);
    if (t.secure && t.host === undefined && !t.user && t.prefix.length === 0) return `ntfy://${t.topic}${q}`;
    const auth = t.user !== undefined ? `${encodeURIComponent(t.user)}${t.password !== undefined ? `:${opts.redact ? REDACTED : encodeURIComponent(t.password)}` : ''}@` : '';
    const path = [...t.prefix, t.topic].map(encodeURIComponent).join('/');
    return `${t.secure ? 'ntfy' : 'ntfy+http'}://${auth}${t.host ?? DEFAULT_HOST}/${path}${q}`;
  }

  /** The server's base URL, e.g. https://ntfy.sh or http://127.0.0.1:8080/ntfy. */
  serverUrl(): string {
    const t = this.t;
    return `${t.secure ? 'https' : 'http'}://${t.host ?? DEFAULT_HOST}${t.prefix.map((p) => '/' + encodeURIComponent(p)).join('')}`;
  }

  async send(message: Message, ctx: SendContext): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.t.token) headers.authorization = `Bearer ${this.t.token}`;
    else if (this.t.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${this.t.user}:${this.t.password ?? ''}`).toString('base64')}`;
    if (ctx.idempotencyKey) headers['x-sequence-id'] = ctx.idempotencyKey;
    await postJson(
      {
        url: `${this.serverUrl()}/`,
        redactedUrl: this.toUrl({ redact: true }),
        service: 'ntfy',
        json: ntfyBody(this.t.topic, message, ctx.idempotencyKey),
        headers,
        invalidHint: 'access denied or topic not found; check the user and password or the token',
      },
      ctx,
    );
  }
}

function parseNtfy(url: URL): Destination {
  const scheme = url.protocol.slice(0, -1);
  const q = readQuery(KIND, url, ['token']);
  const token = q.get('token');
  if (token !== undefined) {
    rejectRedacted(KIND, 'token', token);
    if (!token) throw configError(KIND, 'token= is empty');
  }
  const user = url.username ? decodePart(KIND, 'user', url.username) : undefined;
  const password = url.password ? decodePart(KIND, 'password', url.password) : undefined;
  if (password !== undefined) rejectRedacted(KIND, 'password', password);
  if (password !== undefined && user === undefined) throw configError(KIND, 'a password needs a user name');
  if (token !== undefined && user !== undefined) throw configError(KIND, 'give either USER:PASS@ or ?token=, not both');

  let secure = true;
  let host: string | undefined;
  let segs = pathSegments(url).map((s) => decodePart(KIND, 'topic', s));
  if (scheme === 'https') {
    // Pasted https://ntfy.sh/TOPIC
    host = url.host === DEFAULT_HOST ? undefined : url.host;
  } else if (scheme === 'ntfy+http') {
    secure = false;
    host = url.host;
    if (!host) throw configError(KIND, `ntfy+http:// needs a host (expected ${FORMS})`);
  } else if (segs.length === 0) {
    // ntfy://TOPIC: the "host" is the topic, on ntfy.sh.
    if (url.port || user !== undefined) throw configError(KIND, `a server needs a topic: ntfy://HOST/TOPIC (expected ${FORMS})`);
    segs = [decodePart(KIND, 'topic', url.hostname)];
  } else {
    host = url.host === DEFAULT_HOST ? undefined : url.host;
  }
  const topic = segs.pop();
  if (!topic) throw configError(KIND, `topic missing (expected ${FORMS})`);
  if (!TOPIC_RE.test(topic)) throw configError(KIND, `topic "${topic.slice(0, 70)}" must be 1-64 letters, digits, "-" or "_"`);
  return new NtfyDestination({ secure, host, prefix: segs, topic, user, password, token });
}

export const ntfyNotifier: Notifier = {
  name: KIND,
  schemes: ['ntfy', 'ntfy+http'],
  help: 'ntfy://TOPIC (ntfy.sh), ntfy://[USER:PASS@]HOST[:PORT]/TOPIC, ntfy+http://HOST:PORT/TOPIC; ?token=tk_… for an access token',
  matches: (url) => url.protocol === 'https:' && url.host === DEFAULT_HOST && pathSegments(url).length === 1,
  parse: parseNtfy,
};
