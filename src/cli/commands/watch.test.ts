import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { watchJob, type WatchSpec } from './watch.js';
import { newId } from '../../lib/ids.js';

describe('detached watch', () => {
  it('records a process that ended before the detached watcher could attach, instead of losing it', async () => {
    const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-watch-'));
    // A pid that is certainly gone: a child that already exited and was reaped.
    const gone = spawnSync('true').pid!;
    const spec: WatchSpec = {
      id: newId(), pid: gone, title: 'quick', hideCommand: false, quiet: true, detached: true,
      spool, host: 'h', user: 'u', seen: { pidStart: '12345', ageSeconds: 2.5, cmd: 'python quick.py', cwd: '/tmp' },
    };
    const code = await watchJob(spec, { env: { FLURM_HUB_URL: 'http://127.0.0.1:1' }, stderr: () => undefined });
    expect(code).toBe(0);
    const events = fs.readFileSync(path.join(spool, 'events', 'h.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual(['start', 'end']);
    expect(events[0]).toMatchObject({ id: spec.id, pid: gone, pid_start: '12345', attached: true, cmd: 'python quick.py', title: 'quick' });
    expect(events[1]).toMatchObject({ id: spec.id, exit: null, exit_unknown: true, wall_seconds: 2.5 });
  });

  it('without what the parent saw, a missing process is still an error', async () => {
    const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-watch-'));
    const gone = spawnSync('true').pid!;
    const spec: WatchSpec = { id: newId(), pid: gone, hideCommand: false, quiet: true, detached: false, spool, host: 'h', user: 'u' };
    await expect(watchJob(spec, { env: {}, stderr: () => undefined })).rejects.toThrow(/no such process/);
  });
});
