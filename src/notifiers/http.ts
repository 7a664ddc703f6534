// Shared HTTP POST for the webhook notifiers (Discord, Slack, ntfy, JSON): global fetch (or the
// injected one) with a timeout, a bounded response read, and one mapping from responses to
// DeliveryError that the outbox acts on:
//   2xx ok · 429 retryable with retryAfterSeconds (Retry-After seconds or HTTP-date, Discord's
//   retry_after body or X-RateLimit-Reset-After; the largest wins) · 408, 5xx, network errors and
//   timeouts retryable · 401/403/404/410 permanent ("webhook invalid or deleted") · other 4xx
//   permanent, with the service's error text · 3xx permanent (webhooks do not move).
// Error messages name the destination by its redacted URL only: no token ever reaches a log.
import { DeliveryError } from '../lib/errors.js';
import { truncate } from '../lib/format.js';
import type { SendContext } from './types.js';

/** At most this much of a response body is read. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** At most this much of a service's error text goes into an error message. */
const ERROR_TEXT_CHARS = 500;

export interface PostRequest {
  /** The real URL, secrets included. */
  url: string;
  /** The same destination with secrets hidden, for messages. */
  redactedUrl: string;
  /** Service name for messages, e.g. "Discord". */
  service: string;
  /** Serialised as JSON with content-type application/json. */
  json: unknown;
  headers?: Record<string, string>;
  /** What a 401/403/404/410 means for this service (default: the webhook is invalid or deleted). */
  invalidHint?: string;
}

export interface PostResponse {
  status: number;
  headers: Headers;
  /** The body, read up to MAX_RESPONSE_BYTES. */
  bodyText: string;
}

/** Read at most `maxBytes` of a response body, then stop reading. */
export async function readBounded(res: Response, maxBytes: number = MAX_RESPONSE_BYTES): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - total;
      chunks.push(value.length > room ? value.subarray(0, room) : value);
      total += Math.min(value.length, room);
    }
  } finally {
    // Stop the download; a huge error page must not be pulled in whole.
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString('utf8');
}

function finiteNonNegative(n: number): number | undefined {
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Seconds to wait before retrying, from a 429 response: `Retry-After` (delta-seconds or an
 * HTTP-date), `X-RateLimit-Reset-After` (Discord, float seconds) and a JSON body's `retry_after`
 * (Discord, float seconds). When several are present the largest wins. Undefined when none is.
 */
export function parseRetryAfter(headers: Headers, bodyText: string, nowMs: number = Date.now()): number | undefined {
  const candidates: number[] = [];
  const ra = headers.get('retry-after')?.trim();
  if (ra) {
    if (/^\d+(\.\d+)?$/.test(ra)) {
      const v = finiteNonNegative(Number(ra));
      if (v !== undefined) candidates.push(v);
    } else {
      const at = Date.parse(ra);
      if (Number.isFinite(at)) candidates.push(Math.max(0, (at - nowMs) / 1000));
    }
  }
  const reset = headers.get('x-ratelimit-reset-after')?.trim();
  if (reset && /^\d+(\.\d+)?$/.test(reset)) {
    const v = finiteNonNegative(Number(reset));
    if (v !== undefined) candidates.push(v);
  }
  if (bodyText.trimStart().startsWith('{')) {
    try {
      const body = JSON.parse(bodyText) as { retry_after?: unknown };
      if (typeof body.retry_after === 'number') {
        const v = finiteNonNegative(body.retry_after);
        if (v !== undefined) candidates.push(v);
      }
    } catch {
      /* not JSON after all */
    }
  }
  return candidates.length ? Math.max(...candidates) : undefined;
}

/** A service's error body as one bounded, printable line. */
export function errorSnippet(bodyText: string, max: number = ERROR_TEXT_CHARS): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = bodyText.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return truncate(oneLine, max);
}

/** The DeliveryError for a non-2xx response, or undefined for a 2xx. */
export function errorForResponse(
  service: string,
  redactedUrl: string,
  res: PostResponse,
  invalidHint = 'the webhook is invalid or was deleted; check the URL or create a new one',
): DeliveryError | undefined {
  const { status } = res;
  if (status >= 200 && status < 300) return undefined;
  const text = errorSnippet(res.bodyText);
  const said = text ? `: ${text}` : '';
  if (status === 429) {
    const retryAfterSeconds = parseRetryAfter(res.headers, res.bodyText);
    const when = retryAfterSeconds !== undefined ? `; retry after ${retryAfterSeconds} s` : '';
    return new DeliveryError(`${service} rate-limited ${redactedUrl} (HTTP 429)${when}`, { status, retryable: true, retryAfterSeconds });
  }
  if (status === 408 || status >= 500) {
    return new DeliveryError(`${service} answered HTTP ${status} for ${redactedUrl}${said}`, { status, retryable: true });
  }
  if (status === 401 || status === 403 || status === 404 || status === 410) {
    return new DeliveryError(
      `${service} answered HTTP ${status} for ${redactedUrl}: ${invalidHint}${said ? ` (${text})` : ''}`,
      { status, retryable: false },
    );
  }
  if (status >= 300 && status < 400) {
    const to = res.headers.get('location');
    return new DeliveryError(`${service} redirected ${redactedUrl} (HTTP ${status}${to ? ` to ${truncate(to.split('?')[0] ?? '', 200)}` : ''}); use the final URL`, {
      status,
      retryable: false,
    });
  }
  return new DeliveryError(`${service} rejected the message (HTTP ${status}) for ${redactedUrl}${said}`, { status, retryable: false });
}

function networkReason(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code;
  const detail = e.cause?.message ?? e.message ?? String(err);
  return code && !detail.includes(code) ? `${code} ${detail}` : detail;
}

/**
 * POST `req.json` and resolve with the (2xx) response; throw DeliveryError for anything else.
 * The whole exchange, body read included, is bounded by `ctx.timeoutMs`.
 */
export async function postJson(req: PostRequest, ctx: SendContext): Promise<PostResponse> {
  const doFetch = ctx.fetch ?? globalThis.fetch;
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  let res: Response;
  try {
    res = await doFetch(req.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'flurm', ...req.headers },
      body: JSON.stringify(req.json),
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    throw transportError(req, ctx, err, signal);
  }
  let bodyText: string;
  try {
    bodyText = await readBounded(res);
  } catch (err) {
    throw transportError(req, ctx, err, signal);
  }
  const out: PostResponse = { status: res.status, headers: res.headers, bodyText };
  const error = errorForResponse(req.service, req.redactedUrl, out, req.invalidHint);
  if (error) throw error;
  return out;
}

function transportError(req: PostRequest, ctx: SendContext, err: unknown, signal: AbortSignal): DeliveryError {
  if (signal.aborted || (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError') {
    return new DeliveryError(`${req.service} did not answer within ${ctx.timeoutMs} ms (${req.redactedUrl})`, { retryable: true, cause: err });
  }
  return new DeliveryError(`cannot reach ${req.service} at ${req.redactedUrl}: ${networkReason(err)}`, { retryable: true, cause: err });
}
