// Helpers the notifiers share for their URL forms: ConfigError with the notifier's name, strict
// query options (a typo fails at start-up, not at send time), percent-decoding, a deterministic
// query string for canonical URLs, and the `api=` override that aims a hosted service (Discord,
// Slack) at another base URL such as a local test server.
import { ConfigError } from '../lib/errors.js';

/** What redacted secrets look like in toUrl({ redact: true }). */
export const REDACTED = '***';

export function configError(kind: string, message: string): ConfigError {
  return new ConfigError('', `${kind}: ${message}`);
}

/** Throw when a secret is literally "***": someone pasted a redacted URL from a log. */
export function rejectRedacted(kind: string, what: string, value: string): void {
  if (value === REDACTED || value === encodeURIComponent(REDACTED)) {
    throw configError(kind, `the ${what} is "${REDACTED}": this URL was redacted for display; use the real one`);
  }
}

/** Query options as a map; unknown or repeated keys are a ConfigError naming the known ones. */
export function readQuery(kind: string, url: URL, known: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    if (!known.includes(k)) {
      const list = known.length ? `known: ${known.join(', ')}` : 'this kind takes none';
      throw configError(kind, `unknown option "${k}" (${list})`);
    }
    if (out.has(k)) throw configError(kind, `option "${k}" is given twice`);
    out.set(k, v);
  }
  return out;
}

/** Percent-encode a query value, leaving the characters a query may hold as they are (: / @ ,). */
export function encodeQueryValue(v: string): string {
  return encodeURIComponent(v).replace(/%3A/gi, ':').replace(/%2F/gi, '/').replace(/%40/g, '@').replace(/%2C/gi, ',');
}

/** "?a=1&b=2" from pairs in the given order, skipping undefined values; "" when none. */
export function buildQuery(pairs: ReadonlyArray<readonly [string, string | undefined]>): string {
  const parts = pairs.filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeQueryValue(v!)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export function decodePart(kind: string, what: string, s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw configError(kind, `the ${what} is not valid percent-encoding`);
  }
}

/** Path segments of a URL, without empty ones (a trailing slash is fine). */
export function pathSegments(url: URL): string[] {
  return url.pathname.split('/').filter((p) => p.length > 0);
}

/**
 * Validate an `api=` override: an http(s) base URL without query or fragment, returned without a
 * trailing slash. The service's own path (/api/webhooks/…, /services/…) is appended to it.
 */
export function parseApiBase(kind: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw configError(kind, `api= must be an http(s) base URL such as http://127.0.0.1:8080, got "${value.slice(0, 80)}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw configError(kind, `api= must be http:// or https://, got ${u.protocol}`);
  if (u.search || u.hash || u.username || u.password) throw configError(kind, 'api= must be a plain base URL (no query, fragment or user)');
  return u.href.replace(/\/+$/, '');
}
