// GET /api/v1/stream: Server-Sent Events for the dashboard (docs/dashboard.md). One stream per
// page. Events carry no data — `event: nodes`, `event: jobs`, `event: slurm` mean "that section
// changed: GET it again" — so the stream never becomes a second API with its own shapes or access
// rules. Per client, a kind is sent at most once per `throttleMs` (a burst becomes one event now
// and one at the end of the window); a `: keepalive` comment every `keepaliveMs` keeps proxies
// and the browser from calling an idle stream dead. A client that goes away is dropped at once:
// its listeners and its pending timers are removed (no leak with many connects and disconnects).
import type { Hono } from 'hono';
import { Ticker } from '../../lib/ticker.js';
import { HUB_EVENT_KINDS, type EventBus, type HubEventKind } from '../events-bus.js';

export interface StreamOptions {
  /** At most one event of a kind per client per this many ms (default 1000). */
  throttleMs?: number;
  /** A comment line this often (default 15 000). */
  keepaliveMs?: number;
  /** How long the browser waits before reconnecting (the `retry:` field; default 2000). */
  retryMs?: number;
  now?: () => number;
}

interface Client {
  send(text: string): void;
  close(): void;
}

/** The open streams of one app: their count (tests, /healthz) and a way to end them all. */
export interface StreamHandle {
  clients(): number;
}

const encoder = new TextEncoder();

export function addStream(app: Hono, bus: EventBus, opts: StreamOptions = {}): StreamHandle {
  const throttleMs = opts.throttleMs ?? 1000;
  const keepaliveMs = opts.keepaliveMs ?? 15_000;
  const retryMs = opts.retryMs ?? 2000;
  const now = opts.now ?? Date.now;
  const clients = new Set<Client>();

  // One ticker for every client's keepalive (DESIGN.md, Style 12), running while any client is.
  const keepalive = new Ticker({
    intervalMs: keepaliveMs,
    unref: true,
    onError: () => undefined,
    run: () => {
      for (const c of [...clients]) c.send(': keepalive\n\n');
    },
  });

  app.get('/api/v1/stream', (c) => {
    let client: Client | null = null;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const last = new Map<HubEventKind, number>();
        const pending = new Map<HubEventKind, ReturnType<typeof setTimeout>>();
        const offs: (() => void)[] = [];
        let open = true;
        const cl: Client = {
          send(text) {
            if (!open) return;
            try {
              controller.enqueue(encoder.encode(text));
            } catch {
              cl.close();
            }
          },
          close() {
            if (!open) return;
            open = false;
            for (const off of offs) off();
            for (const t of pending.values()) clearTimeout(t);
            pending.clear();
            clients.delete(cl);
            if (clients.size === 0) void keepalive.stop();
            try {
              controller.close();
            } catch {
              // already closed or cancelled
            }
          },
        };
        client = cl;
        const fire = (kind: HubEventKind): void => {
          pending.delete(kind);
          last.set(kind, now());
          cl.send(`event: ${kind}\ndata: \n\n`);
        };
        const onEvent = (kind: HubEventKind): void => {
          if (pending.has(kind)) return; // already coming at the end of this window
          const wait = (last.get(kind) ?? -Infinity) + throttleMs - now();
          if (wait <= 0) fire(kind);
          else pending.set(kind, setTimeout(() => fire(kind), wait));
        };
        for (const kind of HUB_EVENT_KINDS) offs.push(bus.on(kind, onEvent));
        offs.push(bus.onClose(() => cl.close()));
        clients.add(cl);
        if (!keepalive.started) keepalive.start(keepaliveMs);
        // The first bytes: how soon to reconnect, and a comment so the browser's `open` fires now.
        cl.send(`retry: ${retryMs}\n: connected\n\n`);
      },
      cancel() {
        client?.close();
      },
    });
    c.req.raw.signal?.addEventListener('abort', () => client?.close(), { once: true });
    return new Response(body, {
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        // The socket closes with the stream: an ended stream leaves no idle keep-alive connection
        // for the hub's server.close() to wait out when it stops.
        Connection: 'close',
        'X-Accel-Buffering': 'no',
      },
    });
  });

  return { clients: () => clients.size };
}
