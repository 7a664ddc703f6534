import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../lib/errors.js';
import { run, shellInitScriptUrl } from './shell-init.js';

describe('flurm shell-init', () => {
  it('prints the bash library, which defines flurm_run and flurm_notify when eval-ed by bash', async () => {
    let out = '';
    expect(await run({ shell: 'bash' }, { write: (s) => (out += s) })).toBe(0);
    expect(out).toBe(fs.readFileSync(shellInitScriptUrl(), 'utf8'));
    const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-si-'));
    try {
      const r = spawnSync('bash', ['-c', 'eval "$(cat)"; type -t flurm_run flurm_notify; flurm_run -- sh -c "exit 5"; echo "status=$?"'], {
        input: out,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: spool, FLURM_SPOOL: spool, FLURM_HOST: 'h1' },
      });
      expect(r.stdout).toBe('function\nfunction\nstatus=5\n');
      expect(fs.readFileSync(path.join(spool, 'events/h1.jsonl'), 'utf8').split('\n').length).toBe(3);
    } finally {
      fs.rmSync(spool, { recursive: true, force: true });
    }
  });

  it('is named *.sh so scripts/postbuild.mjs copies it into dist/', () => {
    expect(shellInitScriptUrl().pathname.endsWith('/spool/shell-init.sh')).toBe(true);
    expect(fs.readFileSync(new URL('../../../scripts/postbuild.mjs', import.meta.url), 'utf8')).toContain("endsWith('.sh')");
  });

  it('refuses an unknown shell with the list of supported ones', async () => {
    await expect(run({ shell: 'fish' })).rejects.toThrow(UserError);
    await expect(run({ shell: 'fish' })).rejects.toThrow(/unsupported shell "fish"; supported: bash/);
  });
});
