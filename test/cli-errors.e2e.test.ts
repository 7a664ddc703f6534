// What a user sees when they get a command wrong: a clear message naming the problem, exit 2.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runFlurm } from './support/lab.js';

const env = { ...process.env, FLURM_SPOOL: fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-cli-')) };

describe('CLI errors', () => {
  it('flurm hub without a config says what to do', async () => {
    const r = await runFlurm(['hub'], { env: { ...env, FLURM_CONFIG: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--config/);
  });

  it('flurm hub with a missing config file names the file', async () => {
    const r = await runFlurm(['hub', '--config', '/nonexistent/hub.toml'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/nonexistent\/hub\.toml/);
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  });

  it('flurm hub refuses a bad destination at start-up, naming the field', async () => {
    const f = path.join(env.FLURM_SPOOL, 'hub.toml');
    fs.writeFileSync(f, '[[routes]]\non = ["failure"]\nto = ["htps://typo.example/hook"]\n');
    const r = await runFlurm(['hub', '--config', f], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/routes\[0\]\.to\[0\]/);
  });

  it('flurm up --to with a bad URL fails before starting', async () => {
    const r = await runFlurm(['up', '--port', '0', '--to', 'not a url'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--to/);
  });

  it('a bad option value is a usage error, not a crash', async () => {
    const r = await runFlurm(['jobs', '--limit', 'x'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--limit must be a positive integer/);
    expect(r.stderr).not.toMatch(/internal error/);
    const p = await runFlurm(['up', '--port', '99999'], { env });
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/port/);
  });

  it('an unknown command lists the commands', async () => {
    const r = await runFlurm(['frobnicate'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it('--help lists the fast commands too', async () => {
    const r = await runFlurm(['--help'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/run \[options\] -- CMD/);
    expect(r.stdout).toMatch(/doctor/);
  });
});
