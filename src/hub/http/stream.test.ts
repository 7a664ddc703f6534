// GET /api/v1/stream over a real socket: events arrive by name, a burst is throttled to one now
// and one at the end of the window, keepalive comments come, and clients that go away (many of
// them) leave no listener, timer or client behind; the bus closing ends every stream.
import http from 'node:http';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../events-bus.js';
import { listen } from './server.js';
import { addStream, type StreamOptions } from './stream.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function start(opts: StreamOptions = {}) {
  const bus = new EventBus();
  const app = new Hono();
  const handle = addStream(app, bus, opts);
  const { server, port } = await listen(app, '127.0.0.1', 0);
  servers.push(server);
  return { bus, handle, port };
}

interface Conn {
  res: http.IncomingMessage;
  req: http.ClientRequest;
  text: () => string;
  events: () => string[];
  ended: Promise<void>;
}

function connect(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/stream' }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      const ended = new Promise<void>((r) => res.on('end', () => r()).on('close', () => r()));
      res.on('data', (d: string) => {
        buf += d;
      });
      // The first bytes (retry + a comment) come at once: resolved then, so the stream is open.
      res.once('data', () =>
        resolve({ res, req, ended, text: () => buf, events: () => [...buf.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]!) }),
      );
    });
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(fn: () => boolean, ms = 2000): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await sleep(10);
  }
}

describe('GET /api/v1/stream', () => {
  it('is an event stream that names what changed, payload-free', async () => {
    const { bus, port } = await start();
    const c = await connect(port);
    expect(c.res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(c.res.headers['cache-control']).toBe('no-store');
    expect(c.text()).toMatch(/^retry: \d+\n/);
    bus.emit('nodes');
    bus.emit('jobs');
    bus.emit('slurm');
    await until(() => c.events().length === 3);
    expect(c.events()).toEqual(['nodes', 'jobs', 'slurm']);
    expect(c.text()).toContain('event: jobs\ndata: \n\n');
  });

  it('throttles each kind per client: a burst is one event now and one at the end of the window', async () => {
    const { bus, port } = await start({ throttleMs: 300 });
    const c = await connect(port);
    for (let i = 0; i < 20; i++) bus.emit('nodes');
    bus.emit('jobs'); // another kind is not held back by nodes
    await until(() => c.events().length === 2);
    expect(c.events()).toEqual(['nodes', 'jobs']);
    const t0 = Date.now();
    await until(() => c.events().length === 3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(c.events()).toEqual(['nodes', 'jobs', 'nodes']);
    await sleep(450);
    expect(c.events()).toHaveLength(3); // the burst made exactly two
  });

  it('sends a keepalive comment while idle', async () => {
    const { port } = await start({ keepaliveMs: 80 });
    const c = await connect(port);
    await until(() => (c.text().match(/^: keepalive$/gm) ?? []).length >= 2);
  });

  it('drops clients that disconnect: 200 connects and disconnects leave nothing behind', async () => {
    const { bus, handle, port } = await start({ throttleMs: 1000, keepaliveMs: 50 });
    const stay = await connect(port);
    for (let round = 0; round < 10; round++) {
      const conns = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
      expect(handle.clients()).toBe(21);
      bus.emit('jobs'); // some with a trailing event pending: its timer must go too
      bus.emit('jobs');
      for (const c of conns) c.req.destroy();
      await until(() => handle.clients() === 1);
    }
    expect(bus.listenerCount()).toBe(3); // the one that stayed: nodes, jobs, slurm
    await until(() => stay.events().length >= 2, 3000);
    stay.req.destroy();
    await until(() => handle.clients() === 0);
    expect(bus.listenerCount()).toBe(0);
  });

  it('ends every stream when the bus closes (the hub stops)', async () => {
    const { bus, handle, port } = await start();
    const a = await connect(port);
    const b = await connect(port);
    // The socket goes with the stream: no idle keep-alive connection for server.close() to wait out.
    expect(a.res.headers.connection).toBe('close');
    const socketClosed = new Promise((r) => a.res.socket.once('close', r));
    bus.close();
    await Promise.all([a.ended, b.ended, socketClosed]);
    expect(handle.clients()).toBe(0);
    expect(bus.listenerCount()).toBe(0);
  });
});
