// flurm up with a user's own filters and no destination configured: the console fallback obeys
// the same routing rules as every destination ("only failures" means failures, never nothing).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeLab, runFlurm, startFlurm, waitUntil, type Lab, type Proc } from './support/lab.js';

let lab: Lab | undefined;
let up: Proc | undefined;
afterEach(async () => {
  if (up && up.child.exitCode === null) {
    up.child.kill('SIGTERM');
    await up.exited;
  }
  up = undefined;
  lab?.cleanup();
  lab = undefined;
});

async function json<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

describe('flurm up: the console fallback and the user\'s filters', () => {
  it('only_failures + min_minutes: the failure is told on the console, the short success is not', async () => {
    lab = makeLab();
    const u = lab.home('kim');
    fs.writeFileSync(path.join(u.spool, 'config.toml'), 'only_failures = true\nmin_minutes = 30\n');
    const { FLURM_CLUSTER: _c, ...rest } = u.env;
    const env: NodeJS.ProcessEnv = { ...rest, XDG_STATE_HOME: path.join(lab.root, 'state'), DISPLAY: '' };
    up = startFlurm(['up', '--port', '0'], { env });
    const url = (await up.waitForOutput(/listening on\s+(http:\/\/127\.0\.0\.1:\d+)/)).match(/listening on\s+(http:\/\/127\.0\.0\.1:\d+)/)![1]!;

    expect((await runFlurm(['run', '-t', 'quick-ok', '--', 'true'], { env })).code).toBe(0);
    expect((await runFlurm(['run', '-t', 'broken-run', '--', 'sh', '-c', 'exit 3'], { env })).code).toBe(3);
    await up.waitForOutput(/broken-run failed/, 10_000);
    expect(up.text()).toMatch(/exit 3/);
    // Both jobs are ended in the index and nothing is left to send: only then is "nothing else" true.
    await waitUntil(async () => {
      const jobs = await json<{ jobs: { title: string; state: string }[] }>(`${url}/api/v1/jobs?limit=10`);
      const health = await json<{ outbox: { pending: number } }>(`${url}/healthz`);
      const ended = jobs.jobs.filter((j) => j.state !== 'running').map((j) => j.title).sort();
      return ended.join() === 'broken-run,quick-ok' && health.outbox.pending === 0;
    }, 10_000, 'both jobs ended and the outbox drained');
    expect(up.text()).not.toMatch(/quick-ok/);
  });
});
