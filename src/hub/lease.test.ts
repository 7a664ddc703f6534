import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/logger.js';
import { readHubFile } from './hub-file.js';
import { Lease, type Role } from './lease.js';

describe('Lease (hub.json)', () => {
  let dir: string;
  let mono = 0;
  const leases: Lease[] = [];
  const make = (host: string, pid: number, roles: Role[], alive: (pid: number) => boolean = () => true) => {
    const l = new Lease({
      clusterDir: dir,
      leaseSeconds: 3,
      me: { host, pid, url: `http://${host}:7077`, version: 't' },
      log: createLogger({ level: 'error', write: () => undefined }),
      onActive: () => void roles.push('active'),
      onStandby: () => void roles.push('standby'),
      mono: () => mono,
      pidAlive: alive,
    });
    leases.push(l);
    return l;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-lease-'));
    mono = 0;
  });
  afterEach(() => {
    for (const l of leases.splice(0)) l.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the first hub takes the lease; a second stands by and takes over only after a silent lease period', async () => {
    const ra: Role[] = [];
    const rb: Role[] = [];
    const a = make('a', 1, ra);
    expect(await a.start()).toBe('active');
    expect(readHubFile(dir)).toMatchObject({ host: 'a', hub_id: a.hubId, lease_seconds: 3 });
    const b = make('b', 2, rb);
    expect(await b.start()).toBe('standby');
    // While a renews, b never takes over.
    for (let i = 0; i < 10; i++) {
      mono += 1000;
      await a.tick();
      await b.tick();
    }
    expect(b.role).toBe('standby');
    expect(readHubFile(dir)!.host).toBe('a');
    // a dies (stops renewing): b claims after 3 s of no change, confirms on its next beat.
    mono += 1000;
    await b.tick();
    mono += 1000;
    await b.tick();
    expect(b.role).toBe('standby');
    mono += 1000;
    await b.tick(); // claim
    await b.tick(); // confirm
    expect(b.role).toBe('active');
    expect(rb).toEqual(['standby', 'active']);
    expect(readHubFile(dir)).toMatchObject({ host: 'b', hub_id: b.hubId });
    // a comes back from a pause: it sees b's newer claim and steps down instead of renewing.
    await a.tick();
    expect(a.role).toBe('standby');
    expect(ra).toEqual(['active', 'standby']);
    expect(readHubFile(dir)!.host).toBe('b');
  });

  it('replaces at once a crashed hub of the same host (its pid is gone)', async () => {
    const ra: Role[] = [];
    const a = make('a', 1, ra);
    await a.start();
    (a as unknown as { stopped: boolean }).stopped = true; // crashed: hub.json left behind
    const rb: Role[] = [];
    const b = make('a', 2, rb, (pid) => pid !== 1);
    expect(await b.start()).toBe('active');
  });

  it('stop() gives the lease up so a standby takes over on its next beat', async () => {
    const a = make('a', 1, []);
    await a.start();
    const b = make('b', 2, []);
    await b.start();
    a.stop();
    expect(readHubFile(dir)).toBeNull();
    await b.tick();
    await b.tick();
    expect(b.role).toBe('active');
  });
});
