// E-mail over SMTP (nodemailer). URL forms:
//   smtp://[USER[:PASS]@]HOST[:PORT]?from=ADDR&to=ADDR[,ADDR…][&starttls=require|never]
//        port 587 by default; STARTTLS is used whenever the server offers it (starttls=require
//        refuses to send without it, starttls=never never upgrades: only for a local relay).
//   smtps://[USER[:PASS]@]HOST[:PORT]?from=…&to=…       implicit TLS, port 465 by default.
// `from` defaults to USER when USER is an address. Subject = the message title; a text part and a
// simple HTML part. SMTP errors map to DeliveryError: 5xx replies (550 no such user, 535 bad
// login, 554 …) are permanent; 4xx replies, connection errors and timeouts are retryable.
import type { ConnectionOptions } from 'node:tls';
import { footerText, renderText } from '../frontends/text/render.js';
import { DeliveryError } from '../lib/errors.js';
import { truncate } from '../lib/format.js';
import type { Message } from '../model/message.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { REDACTED, buildQuery, configError, decodePart, pathSegments, readQuery, rejectRedacted } from './url-helpers.js';

const KIND = 'email';
const ADDRESS_RE = /^[^@\s,<>]+@[^@\s,<>]+$/;
const SUBJECT_MAX_CHARS = 200;
const TEXT_MAX_CHARS = 100_000;
const FORMS = 'smtp://[USER:PASS@]HOST[:PORT]?from=ADDR&to=ADDR[,ADDR]';
const COLOURS = { success: '#2ecc71', failure: '#e74c3c', warning: '#e67e22', info: '#3498db' } as const;

type StartTls = 'auto' | 'require' | 'never';

interface EmailTarget {
  secure: boolean;
  host: string;
  port?: number;
  user?: string;
  password?: string;
  from: string;
  to: string[];
  starttls: StartTls;
}

export interface EmailNotifierOptions {
  /** Extra TLS options (a private CA for a lab relay; tests trust their own certificate). */
  tls?: ConnectionOptions;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A simple HTML part: title, summary, fields table, diagnosis, log tail, footer. */
export function renderEmailHtml(m: Message): string {
  const parts: string[] = [];
  parts.push(`<h2 style="color:${COLOURS[m.severity]};margin:0 0 8px">${escapeHtml(m.title)}</h2>`);
  if (m.summary) parts.push(`<p style="margin:0 0 12px"><b>${escapeHtml(m.summary)}</b></p>`);
  if (m.fields?.length) {
    const rows = m.fields.map((f) => `<tr><td style="padding:2px 12px 2px 0;color:#666;vertical-align:top">${escapeHtml(f.name)}</td><td style="padding:2px 0">${escapeHtml(f.value)}</td></tr>`);
    parts.push(`<table style="border-collapse:collapse;margin:0 0 12px">${rows.join('')}</table>`);
  }
  for (const d of m.diagnosis ?? []) {
    parts.push(`<p style="margin:0 0 4px"><b>${escapeHtml(d.pattern)}</b>: ${escapeHtml(d.description)}</p><blockquote style="margin:0 0 12px;padding-left:8px;border-left:3px solid #ccc"><code>${escapeHtml(d.line)}</code></blockquote>${d.hint ? `<p style="margin:0 0 12px;color:#555"><i>${escapeHtml(d.hint)}</i></p>` : ''}`);
  }
  if (m.table?.columns.length) {
    const head = `<tr>${m.table.columns.map((c) => `<th style="text-align:left;padding:2px 8px">${escapeHtml(c)}</th>`).join('')}</tr>`;
    const body = m.table.rows.map((r) => `<tr>${m.table!.columns.map((_, i) => `<td style="padding:2px 8px">${escapeHtml(r[i] ?? '')}</td>`).join('')}</tr>`).join('');
    parts.push(`<table style="border-collapse:collapse;margin:0 0 12px">${head}${body}</table>`);
  }
  if (m.logTail?.length) {
    const tail = m.logTail.slice(-500).join('\n');
    parts.push(`<pre style="background:#f6f8fa;padding:8px;overflow:auto;font-size:12px">${escapeHtml(truncate(tail, TEXT_MAX_CHARS))}</pre>`);
  }
  const foot = footerText(m);
  if (foot) parts.push(`<p style="color:#888;font-size:12px">${escapeHtml(foot)}</p>`);
  return `<!doctype html><html><body style="font-family:sans-serif">${parts.join('\n')}</body></html>`;
}

/** Map a nodemailer error to a DeliveryError: 5xx permanent, 4xx and connection trouble retryable. */
export function smtpDeliveryError(err: unknown, redactedUrl: string, timeoutMs: number): DeliveryError {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string; command?: string };
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const reply = e.response ? truncate(e.response.replace(/\s+/g, ' ').trim(), 300) : undefined;
  if (e.code === 'ETLS' || e.command === 'STARTTLS' || /certificate/i.test(e.message ?? '')) {
    // No STARTTLS where it was required, or a certificate we do not trust: fix the config.
    return new DeliveryError(`TLS with the SMTP server failed for ${redactedUrl} (STARTTLS or certificate): ${truncate(e.message ?? String(err), 300)}`, {
      status: code,
      retryable: false,
      cause: err,
    });
  }
  if (code !== undefined && code >= 500) {
    const what = code === 535 || e.code === 'EAUTH' ? 'refused the login' : 'refused the message';
    return new DeliveryError(`SMTP server ${what} for ${redactedUrl}: ${reply ?? code}`, { status: code, retryable: false, cause: err });
  }
  if (code !== undefined && code >= 400) {
    return new DeliveryError(`SMTP server deferred the message for ${redactedUrl}: ${reply ?? code}`, { status: code, retryable: true, cause: err });
  }
  if (e.code === 'ETIMEDOUT') {
    return new DeliveryError(`SMTP server did not answer within ${timeoutMs} ms (${redactedUrl})`, { retryable: true, cause: err });
  }
  if (e.code === 'EAUTH' || e.code === 'EENVELOPE' || e.code === 'EMESSAGE') {
    // Refused before any reply code (e.g. "missing credentials"): a configuration problem.
    return new DeliveryError(`cannot send e-mail for ${redactedUrl}: ${e.message ?? String(err)}`, { retryable: false, cause: err });
  }
  return new DeliveryError(`cannot reach the SMTP server for ${redactedUrl}: ${e.message ?? String(err)}`, { retryable: true, cause: err });
}

class EmailDestination implements Destination {
  readonly kind = KIND;
  constructor(
    private readonly t: EmailTarget,
    private readonly opts: EmailNotifierOptions,
  ) {}

  toUrl(opts: { redact?: boolean } = {}): string {
    const t = this.t;
    const auth =
      t.user !== undefined ? `${encodeURIComponent(t.user)}${t.password !== undefined ? `:${opts.redact ? REDACTED : encodeURIComponent(t.password)}` : ''}@` : '';
    const q = buildQuery([['from', t.from], ['to', t.to.join(',')], ['starttls', t.starttls === 'auto' ? undefined : t.starttls]]);
    return `${t.secure ? 'smtps' : 'smtp'}://${auth}${t.host}${t.port !== undefined ? `:${t.port}` : ''}${q}`;
  }

  async send(message: Message, ctx: SendContext): Promise<void> {
    const t = this.t;
    const redacted = this.toUrl({ redact: true });
    // Loaded on first send only: parsing a URL (e.g. `flurm run --to`) must stay cheap.
    const { default: nodemailer } = await import('nodemailer');
    const transport = nodemailer.createTransport({
      host: t.host,
      port: t.port ?? (t.secure ? 465 : 587),
      secure: t.secure,
      requireTLS: t.starttls === 'require',
      ignoreTLS: t.starttls === 'never',
      auth: t.user !== undefined ? { user: t.user, pass: t.password ?? '' } : undefined,
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
      dnsTimeout: ctx.timeoutMs,
      tls: { servername: t.host, ...this.opts.tls },
    });
    let timer: NodeJS.Timeout | undefined;
    const overall = new Promise<never>((_, reject) => {
      // nodemailer's own timeouts cover each step; this bounds the whole exchange.
      timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), ctx.timeoutMs + 250);
    });
    try {
      const info = await Promise.race([
        transport.sendMail({
          from: t.from,
          to: t.to,
          subject: truncate(message.title.replace(/\s+/g, ' ').trim(), SUBJECT_MAX_CHARS) || 'flurm notification',
          text: renderText(message, { title: false, maxChars: TEXT_MAX_CHARS }),
          html: renderEmailHtml(message),
          headers: { 'X-Flurm-Severity': message.severity },
          ...(ctx.idempotencyKey ? { messageId: `<${ctx.idempotencyKey.replace(/[^\w.-]/g, '_')}@flurm>` } : {}),
        }),
        overall,
      ]);
      const rejected = (info.rejected ?? []).map(String);
      if (rejected.length) {
        // Some recipients got it: retrying would send them a duplicate. Report, do not retry.
        throw new DeliveryError(`SMTP server rejected ${rejected.join(', ')} (sent to ${(info.accepted ?? []).map(String).join(', ')}) for ${redacted}`, {
          retryable: false,
        });
      }
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      throw smtpDeliveryError(err, redacted, ctx.timeoutMs);
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  }
}

function parseAddresses(kind: string, what: string, value: string | undefined): string[] {
  const list = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const a of list) if (!ADDRESS_RE.test(a)) throw configError(kind, `${what}: "${a.slice(0, 80)}" is not an e-mail address`);
  return list;
}

export function createEmailNotifier(opts: EmailNotifierOptions = {}): Notifier {
  const parse = (url: URL): Destination => {
    const secure = url.protocol === 'smtps:';
    if (!url.hostname) throw configError(KIND, `SMTP host missing (expected ${FORMS})`);
    if (pathSegments(url).length) throw configError(KIND, `unexpected path "${url.pathname.slice(0, 40)}" (expected ${FORMS})`);
    const q = readQuery(KIND, url, ['from', 'to', 'starttls']);
    const user = url.username ? decodePart(KIND, 'user', url.username) : undefined;
    const password = url.password ? decodePart(KIND, 'password', url.password) : undefined;
    if (password !== undefined) rejectRedacted(KIND, 'password', password);
    const to = parseAddresses(KIND, 'to', q.get('to'));
    if (!to.length) throw configError(KIND, `to= is missing: name at least one recipient (expected ${FORMS})`);
    const fromList = parseAddresses(KIND, 'from', q.get('from') ?? (user && ADDRESS_RE.test(user) ? user : undefined));
    if (fromList.length !== 1) throw configError(KIND, `from= is missing: name the sender address (expected ${FORMS})`);
    const starttls = (q.get('starttls') ?? 'auto') as StartTls;
    if (!['auto', 'require', 'never'].includes(starttls)) throw configError(KIND, 'starttls= must be require or never');
    if (secure && starttls !== 'auto') throw configError(KIND, 'starttls= does not apply to smtps:// (TLS from the first byte)');
    const port = url.port ? Number(url.port) : undefined;
    return new EmailDestination({ secure, host: url.hostname, port, user, password, from: fromList[0]!, to, starttls }, opts);
  };
  return {
    name: KIND,
    schemes: ['smtp', 'smtps'],
    help: 'smtp://[USER:PASS@]HOST[:PORT]?from=ADDR&to=ADDR[,ADDR] (STARTTLS when offered), smtps://… (implicit TLS)',
    parse,
  };
}

export const emailNotifier: Notifier = createEmailNotifier();
