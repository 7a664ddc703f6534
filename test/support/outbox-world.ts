// In-process delivery harness: a real SQLite index file in a temp dir, real receipts dir, the
// real Enqueuer and Deliverer, an injectable clock, and jobs shaped as the store returns them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../../src/store/db.js';
import { OutboxStore } from '../../src/store/outbox.js';
import { Enqueuer } from '../../src/hub/enqueue.js';
import { Deliverer, type DeliverOptions } from '../../src/hub/deliver.js';
import { Receipts } from '../../src/hub/receipts.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import { routeSchema, validateUserConfig, type Route, type UserConfig } from '../../src/config/schema.js';
import type { JobView } from '../../src/model/job-view.js';

export interface OutboxWorld {
  dir: string;
  dbFile: string;
  db: Db;
  outbox: OutboxStore;
  receipts: Receipts;
  enqueuer: Enqueuer;
  deliverer: Deliverer;
  clock: { ms: number };
  logs: string[];
  user: UserConfig;
  /** A finished job `n` of `user` (ids sort by n). */
  job(n: number, opts?: { state?: 'succeeded' | 'failed'; user?: string; wallSeconds?: number }): JobView & { to: string[] };
  /** Status counts of the outbox. */
  counts(): Record<string, number>;
  /** A second world over the same files (a restarted hub). */
  reopen(): OutboxWorld;
  close(): void;
}

export interface WorldOptions {
  routes?: Array<Partial<Route> & { to: string[] }>;
  fallback?: string[];
  cap?: number;
  delivery?: Partial<DeliverOptions>;
  /** Real time instead of the injected clock (for tests that wait on real timers). */
  realClock?: boolean;
  /** Share another world's receipts (a standby hub on the same cluster dir). */
  receiptsDir?: string;
}

export function outboxWorld(opts: WorldOptions = {}, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-outbox-'))): OutboxWorld {
  const dbFile = path.join(dir, 'index.db');
  const db = openDb(dbFile, { skipLocalCheck: true });
  const outbox = new OutboxStore(db);
  const receipts = new Receipts(opts.receiptsDir ?? path.join(dir, 'receipts'));
  const clock = { ms: Date.parse('2026-12-01T12:00:00Z') };
  const now = opts.realClock ? Date.now : () => clock.ms;
  const logs: string[] = [];
  const log: Logger = createLogger({ level: 'info', write: (l) => logs.push(l) });
  const cap = opts.cap ?? 30;
  const enqueuer = new Enqueuer(outbox, {
    routes: (opts.routes ?? []).map((r) => routeSchema.parse(r)),
    patterns: [],
    fallback: opts.fallback ?? [],
    maxPerUserPerMinute: cap,
    log,
    now,
    receipts,
  });
  const deliverer = new Deliverer(outbox, receipts, log, {
    timeoutSeconds: 5,
    giveUpAfterHours: 24,
    backoffBaseSeconds: 0.05,
    backoffMaxSeconds: 0.2,
    maxPerUserPerMinute: cap,
    now,
    ...opts.delivery,
  });
  const w: OutboxWorld = {
    dir, dbFile, db, outbox, receipts, enqueuer, deliverer, clock, logs,
    user: validateUserConfig({}),
    job(n, o = {}) {
      const state = o.state ?? 'succeeded';
      return {
        id: `01JOB${String(n).padStart(21, '0')}`, user: o.user ?? 'alice', host: 'node1', state, title: `s${n}`, cmd: 'true',
        startTs: new Date(clock.ms - 60_000).toISOString(), endTs: new Date(clock.ms).toISOString(),
        exit: state === 'succeeded' ? 0 : 1, wallSeconds: o.wallSeconds ?? 60, tail: [], to: [],
      };
    },
    counts: () => outbox.counts(),
    reopen() {
      return outboxWorld(opts, dir);
    },
    close() {
      db.close();
    },
  };
  return w;
}
