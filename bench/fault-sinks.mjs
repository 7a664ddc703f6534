// Scripted HTTP destinations for bench/faults.mjs, and the analysis of what they received.
//
// startFaultSink(name, behave) runs one http server on 127.0.0.1 that records every request —
// arrival (when its body has been read), path, body, the idempotency key it carries (the
// Idempotency-Key header, else an `idempotency_key` / `nonce` body field) and what the sink did
// with it — and answers as `behave(request)` says: { status, delayMs, headers } or { hang: true }
// (read the request, never answer; the client's timeout ends it). `set(behave)` swaps the script
// between phases. The scripts the bench uses are below (healthy, slow, failing, rateLimited,
// hanging). Plain Node ESM, no dependencies, nothing from src/.
//
// analyse(sink, expected, jobRe) turns the record into the figures the bench prints: lost,
// duplicated (same key / new or no key), out of order, per destination.
import http from 'node:http';

/** Answers 200 at once. */
export const healthy = () => () => ({ status: 200 });
/** Answers 200 after `ms`. */
export const slow = (ms) => () => ({ status: 200, delayMs: ms });
/** Answers 500 until `untilMs` (wall clock), then 200. */
export const failingUntil = (untilMs) => () => (Date.now() < untilMs ? { status: 500 } : { status: 200 });
/** Answers 429 with Retry-After: `retryAfter` to the next `n` requests, then 200. */
export function rateLimited(n, retryAfter = 1) {
  let left = n;
  return () => (left-- > 0 ? { status: 429, headers: { 'retry-after': String(retryAfter) } } : { status: 200 });
}
/** Reads each request and never answers. */
export const hanging = () => () => ({ hang: true });

function keyOf(headers, raw) {
  for (const h of ['idempotency-key', 'x-idempotency-key']) if (headers[h]) return { key: String(headers[h]), from: `header ${h}` };
  try {
    const b = JSON.parse(raw);
    for (const f of ['idempotency_key', 'nonce']) if (b && typeof b[f] === 'string' && b[f]) return { key: b[f], from: `body ${f}` };
  } catch {
    /* not JSON: no key */
  }
  return { key: null, from: null };
}

export async function startFaultSink(name, behave) {
  let script = behave;
  const received = [];
  const timers = new Set();
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const t = Date.now();
      const raw = Buffer.concat(chunks).toString('utf8');
      const plan = script({ n: received.length, t, raw, headers: req.headers }) ?? { status: 200 };
      const { key, from } = keyOf(req.headers, raw);
      // outcome: 'ok' (2xx decided; the receiver acted on it even if the client is gone before
      // the answer), 'error' (answered 4xx/5xx: not delivered), 'hung' (never answered).
      const r = { t, n: received.length, path: req.url, key, keyFrom: from, raw, status: plan.hang ? null : plan.status, outcome: plan.hang ? 'hung' : plan.status < 300 ? 'ok' : 'error', answeredMs: null, clientGone: false };
      received.push(r);
      inFlight++;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        inFlight--;
      };
      res.on('close', () => {
        if (!res.writableFinished) r.clientGone = true;
        finish();
      });
      if (plan.hang) return; // the client's timeout (or close()) ends it
      const answer = () => {
        r.answeredMs = Date.now();
        res.writeHead(plan.status, { 'content-type': 'application/json', ...(plan.headers ?? {}) });
        res.end(plan.status < 300 ? '{"ok":true}' : `{"error":"scripted ${plan.status}"}`);
        finish();
      };
      if (plan.delayMs) {
        const timer = setTimeout(() => (timers.delete(timer), answer()), plan.delayMs);
        timers.add(timer);
      } else answer();
    });
  });
  server.keepAliveTimeout = 2000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    name,
    port,
    received,
    /** json://127.0.0.1:PORT/NAME — the plain-http JSON webhook form (docs/notifiers.md). */
    url: () => `json://127.0.0.1:${port}/${name}`,
    set(b) {
      script = b;
    },
    /** Requests read and not answered yet (slow ones waiting, hung ones). */
    get inFlight() {
      return inFlight;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      });
    },
  };
}

/** Compress an ascending-ish list of numbers: 1,2,3,7,4,5 → "1-3,7,4-5". */
export function ranges(list) {
  const out = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    out.push(j > i ? `${list[i]}-${list[j]}` : String(list[i]));
    i = j + 1;
  }
  return out.join(',');
}

/**
 * What one destination got, against `expected` (job sequence numbers, in event order). A job is
 * "received" when a delivered request (answered 2xx, or hung: the receiver may have acted on it)
 * names it: `jobRe` (global regex, group 1 = sequence number) over the raw body, so a digest that
 * names several jobs counts for each. `filter(r)` limits which requests count.
 */
export function analyse(sink, expected, jobRe, filter = () => true) {
  const want = new Set(expected);
  const reqs = sink.received.filter(filter);
  const delivered = reqs.filter((r) => r.outcome !== 'error');
  const perJob = new Map(); // seq → [{ t, key }]
  let naming = 0;
  const others = new Map(); // title of a delivered request naming none of `expected` → count
  for (const r of delivered) {
    const seqs = new Set([...r.raw.matchAll(jobRe)].map((m) => Number(m[1])).filter((s) => want.has(s)));
    if (seqs.size === 0) {
      let t = '?';
      try {
        t = JSON.parse(r.raw).title ?? '?';
      } catch {
        /* not JSON */
      }
      others.set(t, (others.get(t) ?? 0) + 1);
      continue;
    }
    naming++;
    for (const s of seqs) {
      if (!perJob.has(s)) perJob.set(s, []);
      perJob.get(s).push({ t: r.t, key: r.key });
    }
  }
  let dupSameKey = 0;
  let dupNewKey = 0;
  for (const list of perJob.values()) {
    const keys = new Set();
    list.forEach((x, i) => {
      if (i > 0) {
        if (x.key && keys.has(x.key)) dupSameKey++;
        else dupNewKey++;
      }
      if (x.key) keys.add(x.key);
    });
  }
  const order = [...perJob.entries()].sort((a, b) => a[1][0].t - b[1][0].t || a[0] - b[0]).map(([s]) => s);
  let inversions = 0;
  let overtaken = 0;
  let maxSoFar = -Infinity;
  order.forEach((s, i) => {
    if (i > 0 && order[i - 1] > s) inversions++;
    if (s < maxSoFar) overtaken++;
    maxSoFar = Math.max(maxSoFar, s);
  });
  const keysSeen = new Set(delivered.map((r) => r.keyFrom ?? 'none'));
  return {
    expected: expected.length,
    requests: reqs.length,
    ok: reqs.filter((r) => r.outcome === 'ok').length,
    errors: reqs.filter((r) => r.outcome === 'error').length,
    hung: reqs.filter((r) => r.outcome === 'hung').length,
    clientGone: reqs.filter((r) => r.outcome === 'ok' && r.clientGone).length,
    otherRequests: delivered.length - naming,
    others: [...others].map(([t, c]) => `${c}× "${t}"`).join(', '),
    distinct: perJob.size,
    lost: expected.length - perJob.size,
    lostSeqs: expected.filter((s) => !perJob.has(s)),
    duplicated: dupSameKey + dupNewKey,
    dupSameKey,
    dupNewKey,
    inversions,
    overtaken,
    order,
    keyFrom: [...keysSeen].join(', '),
    firstArrival: new Map([...perJob].map(([s, l]) => [s, l[0].t])),
  };
}
