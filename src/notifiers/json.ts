// Generic JSON webhook: any HTTP endpoint that takes a POSTed JSON document. URL forms:
//   json://[USER:PASS@]HOST[:PORT]/PATH[?QUERY]    → http://…  (a service on the lab network)
//   jsons://[USER:PASS@]HOST[:PORT]/PATH[?QUERY]   → https://…
// USER:PASS becomes HTTP basic auth; the query is passed on unchanged. Redaction hides the
// password and the values of query keys that look secret (token, key, secret, sig, password…).
// Body: { version: 1, title, severity, summary, text, message } where `message` is the neutral
// Message and `text` its plain-text rendering, plus `key` (the idempotency key, also sent as an
// Idempotency-Key header: the same for every retry of this message to this destination) and `ref`
// (the job or note id; null for a digest). A receiver that keeps the keys it saw drops repeats.
import { renderText } from '../frontends/text/render.js';
import type { Message } from '../model/message.js';
import { postJson } from './http.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { REDACTED, buildQuery, configError, decodePart, rejectRedacted } from './url-helpers.js';

const KIND = 'json';
const SECRET_KEY_RE = /token|key|secret|sig|pass|auth|code/i;
const TEXT_MAX_CHARS = 20_000;
const FORMS = 'json://HOST[:PORT]/PATH (http) or jsons://HOST[:PORT]/PATH (https)';

export interface JsonWebhookBody {
  version: 1;
  title: string;
  severity: Message['severity'];
  summary: string | null;
  text: string;
  key: string | null;
  ref: string | null;
  message: Message;
}

export function jsonWebhookBody(m: Message, ids: { key?: string; ref?: string } = {}): JsonWebhookBody {
  return { version: 1, title: m.title, severity: m.severity, summary: m.summary ?? null, text: renderText(m, { maxChars: TEXT_MAX_CHARS }), key: ids.key ?? null, ref: ids.ref ?? null, message: m };
}

interface JsonTarget {
  secure: boolean;
  host: string;
  path: string;
  query: Array<[string, string]>;
  user?: string;
  password?: string;
}

class JsonDestination implements Destination {
  readonly kind = KIND;
  constructor(private readonly t: JsonTarget) {}

  private query(redact: boolean): string {
    return buildQuery(this.t.query.map(([k, v]) => [k, redact && SECRET_KEY_RE.test(k) ? REDACTED : v] as const));
  }

  toUrl(opts: { redact?: boolean } = {}): string {
    const t = this.t;
    const auth = t.user !== undefined ? `${encodeURIComponent(t.user)}${t.password !== undefined ? `:${opts.redact ? REDACTED : encodeURIComponent(t.password)}` : ''}@` : '';
    return `${t.secure ? 'jsons' : 'json'}://${auth}${t.host}${t.path}${this.query(!!opts.redact)}`;
  }

  async send(message: Message, ctx: SendContext): Promise<void> {
    const t = this.t;
    const headers: Record<string, string> = {};
    if (t.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${t.user}:${t.password ?? ''}`).toString('base64')}`;
    if (ctx.idempotencyKey) headers['idempotency-key'] = ctx.idempotencyKey;
    await postJson(
      {
        url: `${t.secure ? 'https' : 'http'}://${t.host}${t.path}${this.query(false)}`,
        redactedUrl: this.toUrl({ redact: true }),
        service: 'JSON webhook',
        json: jsonWebhookBody(message, { key: ctx.idempotencyKey, ref: ctx.refId }),
        headers,
        invalidHint: 'the endpoint refused or does not exist; check the URL and credentials',
      },
      ctx,
    );
  }
}

function parseJson(url: URL): Destination {
  if (!url.host) throw configError(KIND, `host missing (expected ${FORMS})`);
  if (url.hash) throw configError(KIND, 'a #fragment is never sent to a server; remove it');
  const user = url.username ? decodePart(KIND, 'user', url.username) : undefined;
  const password = url.password ? decodePart(KIND, 'password', url.password) : undefined;
  if (password !== undefined) rejectRedacted(KIND, 'password', password);
  const query = [...url.searchParams].map(([k, v]) => [k, v] as [string, string]);
  for (const [k, v] of query) if (SECRET_KEY_RE.test(k)) rejectRedacted(KIND, `query value "${k}"`, v);
  return new JsonDestination({ secure: url.protocol === 'jsons:', host: url.host, path: url.pathname || '/', query, user, password });
}

export const jsonNotifier: Notifier = {
  name: KIND,
  schemes: ['json', 'jsons'],
  help: 'json://HOST[:PORT]/PATH (http), jsons://HOST[:PORT]/PATH (https); USER:PASS@ for basic auth',
  parse: parseJson,
};
