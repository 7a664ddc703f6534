// Fake Discord, Slack, ntfy and JSON-webhook services on one local HTTP server, for tests.
//
//   const fake = await startFakeServices();          // listens on 127.0.0.1, a free port
//   parseDestination(fake.discordUrl());             // discord://…?api=http://127.0.0.1:PORT
//   fake.failNext('/api/webhooks/', [{ status: 429, retryAfter: 1 }, { status: 500 }, { hang: true }]);
//   await fake.waitFor((r) => r.service === 'discord', 2000);
//   fake.received                                   // accepted requests, oldest first
//   await fake.close();
//
// Routes (by path, like the real services):
//   POST /api/webhooks/:id/:token[?wait=true]   Discord execute-webhook (/api/v10/webhooks/… too).
//        The JSON body is checked against Discord's documented limits and types (content 2000,
//        username 1-80, ≤10 embeds, title 256, description 4096, ≤25 fields of 256/1024 and not
//        empty, footer 2048, author 256, 6000 per message's embeds, colour 0-0xFFFFFF, ISO
//        timestamp, allowed_mentions.parse values); a violation answers 400 with Discord's error
//        shape { code: 50035, errors: {…_errors…}, message: "Invalid Form Body" }. Success: 200
//        with a message object when wait=true, else 204.
//   POST /services/:T/:B/:X                      Slack incoming webhook: 200 "ok"; 400
//        invalid_payload (not JSON), no_text, invalid_blocks (≤50 blocks, header plain_text
//        1-150, section text 1-3000, ≤10 fields of 1-2000, context ≤10 elements).
//   POST /  (JSON with "topic")  and  POST /:topic  (text body, Title/Priority/Tags headers)
//        ntfy publish: 200 with ntfy's message JSON. Stricter than ntfy on one point: a message
//        over 4096 bytes is answered 413 (real ntfy silently turns it into an attachment).
//   POST anything else (two or more path segments, e.g. jsonUrl()'s /json/flurm)
//        JSON sink: 200 {"ok":true} for a JSON body, 400 otherwise.
//
// failNext(pathPrefix, responses) queues scripted answers for the next requests whose path starts
// with pathPrefix (longest prefix wins), one per request: { status, retryAfter?, body?, headers? }
// answers in that service's own error format (Discord JSON with retry_after and
// X-RateLimit-Reset-After, Slack's plain strings with their real statuses — 404 no_service, 403
// invalid_token, 410 channel_is_archived, 400 invalid_payload, 500 rollup_error — ntfy's
// {code,http,error}); { hang: true } never answers (the client must time out). Scripted
// requests are listed in `requests` (every request, with the status sent) but not in `received`
// (accepted requests only).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ServiceName = 'discord' | 'slack' | 'ntfy' | 'json';

export interface ReceivedRequest {
  service: ServiceName;
  method: string;
  /** Path without the query, e.g. /api/webhooks/1/abc */
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
  rawBody: string;
  /** Status this server answered (undefined while a scripted hang is pending). */
  status: number | undefined;
  /** True when the service accepted the request (a 2xx answer). */
  accepted: boolean;
}

/**
 * A scripted answer. `retryAfter` is in seconds (as in the Retry-After header; Discord also gets
 * it as the float `retry_after` body field and X-RateLimit-Reset-After). `body` and `headers`
 * replace the service's default error body and add headers.
 */
export type ScriptedResponse =
  | { status: number; retryAfter?: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true };

export interface FakeServices {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /** Accepted requests, oldest first. */
  received: ReceivedRequest[];
  /** Every request, scripted and rejected ones included. */
  requests: ReceivedRequest[];
  failNext(pathPrefix: string, responses: ScriptedResponse[]): void;
  /** The first accepted request (already received or still to come) matching `predicate`. */
  waitFor(predicate: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest>;
  /** Forget received requests and scripted answers. */
  reset(): void;
  close(): Promise<void>;
  /** Destination URLs aimed at this server. */
  discordUrl(id?: string, token?: string): string;
  slackUrl(team?: string, bot?: string, secret?: string): string;
  ntfyUrl(topic?: string): string;
  jsonUrl(path?: string): string;
}

const MAX_BODY_BYTES = 1 << 20;
const NTFY_TOPIC_RE = /^[-_A-Za-z0-9]{1,64}$/;

/** Length as Discord counts it: Unicode code points. */
function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Discord

type ErrorTree = { [k: string]: ErrorTree | Array<{ code: string; message: string }> };

class DiscordErrors {
  readonly tree: ErrorTree = {};
  count = 0;
  add(path: Array<string | number>, code: string, message: string): void {
    let node = this.tree;
    for (const p of path) node = (node[String(p)] ??= {}) as ErrorTree;
    const list = (node._errors ??= []) as Array<{ code: string; message: string }>;
    list.push({ code, message });
    this.count++;
  }
}

function checkString(errs: DiscordErrors, path: Array<string | number>, v: unknown, opts: { min?: number; max: number; required?: boolean }): void {
  if (v === undefined || v === null) {
    if (opts.required) errs.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
    return;
  }
  if (typeof v !== 'string') return errs.add(path, 'BASE_TYPE_STRING', 'Must be a string.');
  const n = chars(v);
  if (opts.required && v.trim() === '') return errs.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
  if (n > opts.max) errs.add(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${opts.max} or fewer in length.`);
  if (opts.min !== undefined && n < opts.min) errs.add(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${opts.min} and ${opts.max} in length.`);
}

/** Discord's validation of an execute-webhook JSON body; returns the 400 body or undefined. */
export function validateDiscordBody(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { code: 50109, message: 'The request body contains invalid JSON.' };
  }
  const b = body as Record<string, unknown>;
  const errs = new DiscordErrors();
  checkString(errs, ['content'], b.content, { max: 2000 });
  checkString(errs, ['username'], b.username, { min: 1, max: 80 });
  let total = 0;
  if (b.embeds !== undefined) {
    if (!Array.isArray(b.embeds)) errs.add(['embeds'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    else {
      if (b.embeds.length > 10) errs.add(['embeds'], 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
      b.embeds.forEach((raw, i) => {
        const e = (raw ?? {}) as Record<string, unknown>;
        const at = (...p: Array<string | number>) => ['embeds', i, ...p];
        checkString(errs, at('title'), e.title, { max: 256 });
        checkString(errs, at('description'), e.description, { max: 4096 });
        if (e.color !== undefined && (!Number.isInteger(e.color) || (e.color as number) < 0 || (e.color as number) > 0xffffff)) {
          errs.add(at('color'), 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 16777215.');
        }
        if (e.timestamp !== undefined && (typeof e.timestamp !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(e.timestamp))) {
          errs.add(at('timestamp'), 'DATE_TYPE_PARSE', 'Could not parse timestamp. Should be ISO8601.');
        }
        const footer = e.footer as Record<string, unknown> | undefined;
        if (footer !== undefined) checkString(errs, at('footer', 'text'), footer.text, { max: 2048, required: true });
        const author = e.author as Record<string, unknown> | undefined;
        if (author !== undefined) checkString(errs, at('author', 'name'), author.name, { max: 256, required: true });
        const fields = e.fields;
        if (fields !== undefined) {
          if (!Array.isArray(fields)) errs.add(at('fields'), 'BASE_TYPE_ARRAY', 'Must be an array.');
          else {
            if (fields.length > 25) errs.add(at('fields'), 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
            fields.forEach((rf, j) => {
              const f = (rf ?? {}) as Record<string, unknown>;
              checkString(errs, at('fields', j, 'name'), f.name, { max: 256, required: true });
              checkString(errs, at('fields', j, 'value'), f.value, { max: 1024, required: true });
              if (f.inline !== undefined && typeof f.inline !== 'boolean') errs.add(at('fields', j, 'inline'), 'BASE_TYPE_BOOLEAN', 'Must be either true or false.');
              total += (typeof f.name === 'string' ? chars(f.name) : 0) + (typeof f.value === 'string' ? chars(f.value) : 0);
            });
          }
        }
        for (const s of [e.title, e.description, footer?.text, author?.name]) if (typeof s === 'string') total += chars(s);
      });
      if (total > 6000) errs.add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
    }
  }
  const am = b.allowed_mentions as Record<string, unknown> | undefined;
  if (am !== undefined && am.parse !== undefined) {
    if (!Array.isArray(am.parse)) errs.add(['allowed_mentions', 'parse'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    else am.parse.forEach((p, i) => {
      if (!['roles', 'users', 'everyone'].includes(p as string)) errs.add(['allowed_mentions', 'parse', i], 'BASE_TYPE_CHOICES', 'Value must be one of {"roles", "users", "everyone"}.');
    });
  }
  if (errs.count) return { code: 50035, errors: errs.tree, message: 'Invalid Form Body' };
  const hasEmbeds = Array.isArray(b.embeds) && b.embeds.length > 0;
  if (!(typeof b.content === 'string' && b.content.trim()) && !hasEmbeds) return { code: 50006, message: 'Cannot send an empty message' };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Slack

/** Slack's validation of an incoming-webhook body; returns [status, error string] or undefined. */
export function validateSlackBody(body: unknown): [number, string] | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [400, 'invalid_payload'];
  const b = body as Record<string, unknown>;
  const hasText = typeof b.text === 'string' && b.text.length > 0;
  if (!hasText && b.blocks === undefined && b.attachments === undefined) return [400, 'no_text'];
  if (b.blocks === undefined) return undefined;
  if (!Array.isArray(b.blocks) || b.blocks.length > 50) return [400, 'invalid_blocks'];
  const textOk = (t: unknown, max: number, types = ['plain_text', 'mrkdwn']) => {
    const o = t as Record<string, unknown> | undefined;
    return !!o && types.includes(o.type as string) && typeof o.text === 'string' && o.text.length >= 1 && o.text.length <= max;
  };
  for (const raw of b.blocks) {
    const blk = (raw ?? {}) as Record<string, unknown>;
    switch (blk.type) {
      case 'header':
        if (!textOk(blk.text, 150, ['plain_text'])) return [400, 'invalid_blocks'];
        break;
      case 'section': {
        const fields = blk.fields as unknown[] | undefined;
        if (blk.text === undefined && fields === undefined) return [400, 'invalid_blocks'];
        if (blk.text !== undefined && !textOk(blk.text, 3000)) return [400, 'invalid_blocks'];
        if (fields !== undefined && (!Array.isArray(fields) || fields.length === 0 || fields.length > 10 || !fields.every((f) => textOk(f, 2000)))) {
          return [400, 'invalid_blocks'];
        }
        break;
      }
      case 'context': {
        const els = blk.elements as unknown[] | undefined;
        if (!Array.isArray(els) || els.length === 0 || els.length > 10) return [400, 'invalid_blocks'];
        if (!els.every((e) => (e as { type?: string }).type === 'image' || textOk(e, 3000))) return [400, 'invalid_blocks'];
        break;
      }
      case 'divider':
        break;
      default:
        return [400, 'invalid_blocks'];
    }
  }
  return undefined;
}

const SLACK_ERRORS: Record<number, string> = { 400: 'invalid_payload', 403: 'invalid_token', 404: 'no_service', 410: 'channel_is_archived', 429: 'rate_limited', 500: 'rollup_error' };

// ---------------------------------------------------------------------------------------------
// The server

interface Pending {
  prefix: string;
  queue: ScriptedResponse[];
}

function serviceFor(method: string, path: string): ServiceName {
  if (/^\/api\/(v\d+\/)?webhooks\/[^/]+\/[^/]+\/?$/.test(path)) return 'discord';
  if (/^\/services\/[^/]+\/[^/]+\/[^/]+\/?$/.test(path)) return 'slack';
  if (path === '/' || NTFY_TOPIC_RE.test(path.slice(1))) return 'ntfy';
  void method;
  return 'json';
}

function parseBody(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export async function startFakeServices(): Promise<FakeServices> {
  const received: ReceivedRequest[] = [];
  const requests: ReceivedRequest[] = [];
  const scripts: Pending[] = [];
  const waiters = new Set<{ predicate: (r: ReceivedRequest) => boolean; resolve: (r: ReceivedRequest) => void }>();
  let messageSeq = 0;

  const takeScript = (path: string): ScriptedResponse | undefined => {
    const match = scripts
      .filter((s) => s.queue.length > 0 && path.startsWith(s.prefix))
      .sort((a, b) => b.prefix.length - a.prefix.length)[0];
    return match?.queue.shift();
  };

  const send = (res: http.ServerResponse, rec: ReceivedRequest, status: number, body: unknown, headers: Record<string, string> = {}) => {
    rec.status = status;
    rec.accepted = status >= 200 && status < 300;
    if (rec.accepted) {
      received.push(rec);
      for (const w of [...waiters]) if (w.predicate(rec)) {
        waiters.delete(w);
        w.resolve(rec);
      }
    }
    const isText = typeof body === 'string';
    const payload = body === undefined ? '' : isText ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': isText ? 'text/html' : 'application/json', ...headers });
    res.end(status === 204 ? undefined : payload);
  };

  const scripted = (res: http.ServerResponse, rec: ReceivedRequest, s: Extract<ScriptedResponse, { status: number }>) => {
    const headers: Record<string, string> = { ...s.headers };
    let body: unknown = s.body;
    const ra = s.retryAfter;
    if (rec.service === 'discord') {
      if (s.status === 429) {
        body ??= { message: 'You are being rate limited.', retry_after: ra ?? 1, global: false };
        if (ra !== undefined) {
          headers['retry-after'] ??= String(Math.ceil(ra));
          headers['x-ratelimit-reset-after'] ??= ra.toFixed(3);
        }
        headers['x-ratelimit-scope'] ??= 'user';
      } else if (s.status === 404) body ??= { message: 'Unknown Webhook', code: 10015 };
      else if (s.status === 401) body ??= { message: 'Invalid Webhook Token', code: 50027 };
      else if (s.status === 400) body ??= { message: 'Invalid Form Body', code: 50035, errors: {} };
      else body ??= { message: `${s.status}: scripted error`, code: 0 };
    } else if (rec.service === 'slack') {
      body ??= SLACK_ERRORS[s.status] ?? 'rollup_error';
      if (ra !== undefined) headers['retry-after'] ??= String(Math.ceil(ra));
    } else if (rec.service === 'ntfy') {
      const error = s.status === 429 ? 'limit reached: too many requests' : s.status === 403 ? 'forbidden' : s.status === 404 ? 'page not found' : 'scripted error';
      body ??= { code: s.status * 100 + 1, http: s.status, error };
      if (ra !== undefined) headers['retry-after'] ??= String(Math.ceil(ra));
    } else {
      body ??= { error: `scripted ${s.status}` };
      if (ra !== undefined) headers['retry-after'] ??= String(ra);
    }
    send(res, rec, s.status, body, headers);
  };

  const handleDiscord = (res: http.ServerResponse, rec: ReceivedRequest) => {
    const error = validateDiscordBody(rec.body);
    if (error) return send(res, rec, 400, error);
    if (rec.query.wait !== 'true') return send(res, rec, 204, undefined);
    const [, , id] = /^\/api\/(v\d+\/)?webhooks\/([^/]+)/.exec(rec.path) ?? [];
    const b = rec.body as Record<string, unknown>;
    send(res, rec, 200, {
      id: String(1_000_000_000_000_000n + BigInt(++messageSeq)),
      type: 0,
      content: b.content ?? '',
      channel_id: '1000000000000000001',
      author: { id: id ?? '0', username: (b.username as string) ?? 'Captain Hook', bot: true, discriminator: '0000', avatar: null },
      embeds: (b.embeds as unknown[]) ?? [],
      attachments: [],
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      flags: 0,
      components: [],
      webhook_id: id ?? '0',
    });
  };

  const handleSlack = (res: http.ServerResponse, rec: ReceivedRequest) => {
    let body = rec.body;
    if (typeof body === 'string' && body.startsWith('payload=')) body = parseBody(new URLSearchParams(body).get('payload') ?? '');
    const error = validateSlackBody(body);
    if (error) return send(res, rec, error[0], error[1]);
    send(res, rec, 200, 'ok');
  };

  const handleNtfy = (res: http.ServerResponse, rec: ReceivedRequest) => {
    let topic: string;
    let message: string;
    let title: string | undefined;
    let priority = 3;
    let tags: string[] = [];
    if (rec.path === '/') {
      const b = rec.body as Record<string, unknown>;
      if (typeof b !== 'object' || b === null || typeof b.topic !== 'string') {
        return send(res, rec, 400, { code: 40001, http: 400, error: 'invalid request: JSON body with "topic" expected' });
      }
      topic = b.topic;
      message = typeof b.message === 'string' ? b.message : 'triggered';
      title = typeof b.title === 'string' ? b.title : undefined;
      if (b.priority !== undefined) {
        if (!Number.isInteger(b.priority) || (b.priority as number) < 1 || (b.priority as number) > 5) {
          return send(res, rec, 400, { code: 40007, http: 400, error: 'invalid request: priority invalid' });
        }
        priority = b.priority as number;
      }
      if (b.tags !== undefined) {
        if (!Array.isArray(b.tags) || !b.tags.every((t) => typeof t === 'string')) return send(res, rec, 400, { code: 40001, http: 400, error: 'invalid request: tags' });
        tags = b.tags as string[];
      }
    } else {
      topic = rec.path.slice(1);
      message = rec.rawBody || 'triggered';
      const h = (...names: string[]) => names.map((n) => rec.headers[n]).find((v) => typeof v === 'string') as string | undefined;
      title = h('x-title', 'title', 't');
      const p = h('x-priority', 'priority', 'p');
      if (p) priority = { min: 1, low: 2, default: 3, high: 4, max: 5, urgent: 5 }[p] ?? Number(p);
      tags = (h('x-tags', 'tags', 'tag', 'ta') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    }
    if (!NTFY_TOPIC_RE.test(topic)) return send(res, rec, 400, { code: 40009, http: 400, error: 'invalid request: topic invalid' });
    if (Buffer.byteLength(message) > 4096) {
      return send(res, rec, 413, { code: 41301, http: 413, error: 'message over 4096 bytes (real ntfy would turn it into an attachment)' });
    }
    const now = Math.floor(Date.now() / 1000);
    send(res, rec, 200, { id: `fake${++messageSeq}`, time: now, expires: now + 43_200, event: 'message', topic, title, message, priority, tags });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://fake.invalid');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const rec: ReceivedRequest = {
        service: serviceFor(req.method ?? 'GET', u.pathname),
        method: req.method ?? 'GET',
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body: parseBody(rawBody),
        rawBody,
        status: undefined,
        accepted: false,
      };
      requests.push(rec);
      const script = takeScript(u.pathname);
      if (script) {
        if ('hang' in script) return; // never answer; close() ends the socket
        return scripted(res, rec, script);
      }
      if (tooBig) return send(res, rec, 413, { error: 'request body too large' });
      if (rec.method !== 'POST') return send(res, rec, 405, { error: 'method not allowed' });
      switch (rec.service) {
        case 'discord':
          return handleDiscord(res, rec);
        case 'slack':
          return handleSlack(res, rec);
        case 'ntfy':
          return handleNtfy(res, rec);
        default:
          if (typeof rec.body !== 'object' || rec.body === null) return send(res, rec, 400, { error: 'expected a JSON body' });
          return send(res, rec, 200, { ok: true });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    received,
    requests,
    failNext(pathPrefix, responses) {
      let p = scripts.find((s) => s.prefix === pathPrefix);
      if (!p) scripts.push((p = { prefix: pathPrefix, queue: [] }));
      p.queue.push(...responses);
    },
    waitFor(predicate, timeoutMs = 5000) {
      const found = received.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          predicate,
          resolve: (r: ReceivedRequest) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          const seen = requests.map((r) => `${r.method} ${r.path} → ${r.status ?? 'pending'}`).join('; ') || 'none';
          reject(new Error(`fake services: no matching request within ${timeoutMs} ms (requests so far: ${seen})`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    reset() {
      received.length = 0;
      requests.length = 0;
      scripts.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    discordUrl: (id = '123456789012345678', token = 'fAkEtOkEn_abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFGHIJKLMNOPQRSTUV') => `discord://${id}/${token}?api=${url}`,
    slackUrl: (team = 'T00000000', bot = 'B00000000', secret = 'XXXXXXXXXXXXXXXXXXXXXXXX') => `slack://${team}/${bot}/${secret}?api=${url}`,
    ntfyUrl: (topic = 'flurm-test') => `ntfy+http://127.0.0.1:${port}/${topic}`,
    jsonUrl: (path = '/json/flurm') => `json://127.0.0.1:${port}${path.startsWith('/') ? path : '/' + path}`,
  };
}
