import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DiscordHub, readToken, WHEN_FREE_TTL_MS } from './discord.js';
import { openDb } from '../store/db.js';
import { JobStore } from '../store/jobs.js';
import { OutboxStore, ProblemStore } from '../store/outbox.js';
import { LinkService } from './links.js';
import { MuteStore, WhenFreeStore } from '../store/bot.js';
import { Enqueuer } from './enqueue.js';
import { createLogger } from '../lib/logger.js';
import { COMMANDS } from '../commands/registry.js';
import { createHubSource } from './source.js';
import type { HubApi } from './http/server.js';
import { GENERATED, NOW_MS, lab } from '../../test/support/nodes.js';

describe('the bot token', () => {
  const base = { api: 'https://discord.com', guild_ids: [] };
  it('comes from the named variable, and a missing one is named', () => {
    expect(readToken({ ...base, token_env: 'T' }, '/', { T: ' abc.def \n' })).toBe('abc.def');
    expect(() => readToken({ ...base, token_env: 'FLURM_DISCORD_TOKEN' }, '/', {})).toThrow(/FLURM_DISCORD_TOKEN is not set/);
  });
  it('comes from a file (relative to the config, or ~/), and an empty one is refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-token-'));
    fs.writeFileSync(path.join(dir, 'tok'), 'secret.token\n');
    fs.writeFileSync(path.join(dir, 'empty'), '\n');
    expect(readToken({ ...base, token_file: 'tok' }, dir)).toBe('secret.token');
    expect(() => readToken({ ...base, token_file: 'empty' }, dir)).toThrow(/token_file: .*empty is empty/);
    expect(() => readToken({ ...base, token_file: 'missing' }, dir)).toThrow(/\[discord\] token_file: cannot read .*missing: no such file/);
    fs.writeFileSync(path.join(dir, 'two'), 'two words\n');
    expect(() => readToken({ ...base, token_file: 'two' }, dir)).toThrow(/one word/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('/when-free checks', () => {
  function world(nowMs: { t: number }) {
    const db = openDb(':memory:');
    const log = createLogger({ level: 'error', write: () => undefined });
    const outbox = new OutboxStore(db);
    const whenFree = new WhenFreeStore(db);
    let woken = 0;
    const hub = new DiscordHub({
      cfg: { api: 'http://127.0.0.1:9', guild_ids: [], token_env: 'X' },
      token: 't',
      db,
      jobs: new JobStore(db),
      links: new LinkService(db, { keyFile: null, problems: new ProblemStore(db) }),
      mutes: new MuteStore(db),
      whenFree,
      problems: new ProblemStore(db),
      enqueuer: new Enqueuer(outbox, { routes: [], patterns: [], fallback: [], maxPerUserPerMinute: 30, log, now: () => nowMs.t }),
      commands: COMMANDS,
      log,
      now: () => nowMs.t,
      timeoutSeconds: 5,
      wake: () => void woken++,
    });
    const api = { nodes: () => ({ generated: GENERATED, nodes: lab() }), slurm: () => null, jobs: () => [], nodeHistory: () => [] } as unknown as HubApi;
    hub.attach(createHubSource(api, () => null));
    return { hub, whenFree, outbox, woken: () => woken };
  }

  it('a request that fits is one DM in the outbox, once; one that does not stays open; an expired one is dropped', async () => {
    const clock = { t: NOW_MS };
    const w = world(clock);
    const fits = w.whenFree.add('111111111111111111', 'alice', { gpus: 1 }, clock.t, WHEN_FREE_TTL_MS);
    const never = w.whenFree.add('111111111111111111', 'alice', { gpus: 64 }, clock.t, WHEN_FREE_TTL_MS);
    const old = w.whenFree.add('222222222222222222', null, { gpus: 1 }, clock.t - WHEN_FREE_TTL_MS - 1, WHEN_FREE_TTL_MS);
    expect(await w.hub.checkWhenFree()).toBe(1);
    expect(w.outbox.pendingDests()).toEqual(['discord-dm://111111111111111111']);
    expect(w.woken()).toBe(1);
    expect(w.whenFree.open().map((r) => r.id)).toEqual([never.id]);
    expect(await w.hub.checkWhenFree()).toBe(0);
    expect(w.outbox.counts()).toMatchObject({ pending: 1 });
    expect([fits.id, old.id]).not.toContain(w.whenFree.open()[0]!.id);
    // A day later the one that never fit is gone too, without a message.
    clock.t += WHEN_FREE_TTL_MS + 1;
    expect(await w.hub.checkWhenFree()).toBe(0);
    expect(w.whenFree.open()).toEqual([]);
    expect(w.outbox.counts()).toMatchObject({ pending: 1 });
  });
});
