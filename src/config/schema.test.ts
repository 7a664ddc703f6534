import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateHubConfig, validateUserConfig } from './schema.js';
import { loadHubConfig, loadUserConfig } from './load.js';

function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-cfg-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

describe('config validation names the field at fault', () => {
  it('fills defaults for an empty hub config', () => {
    const c = validateHubConfig({});
    expect(c.http).toEqual({ host: '127.0.0.1', port: 7077, public_view: false, share_job_details: false, session_days: 7, token_days: 90 });
    expect(c.ingest.poll_interval_seconds).toBe(1);
    expect(c.spools.legacy).toBe(true);
  });

  it('names the path of a wrong type, an unknown key and a bad port', () => {
    expect(() => validateHubConfig({ http: { port: 'eighty' } })).toThrow(/http\.port/);
    expect(() => validateHubConfig({ http: { port: 70000 } })).toThrow(/http\.port/);
    expect(() => validateHubConfig({ routes: [{ on: ['failure'], to: [] }] })).toThrow(/routes\[0\]\.to/);
    expect(() => validateHubConfig({ routes: [{ on: ['sometimes'], to: ['console://'] }] })).toThrow(/routes\[0\]\.on\[0\]/);
    expect(() => validateUserConfig({ only_failure: true })).toThrow(/only_failure/);
  });

  it('checks destination URLs at load time, naming the route entry', () => {
    const f = tmpFile('hub.toml', '[[routes]]\non = ["all"]\nto = ["console://", "dicsord://123/abc"]\n');
    expect(() => loadHubConfig(f)).toThrow(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: routes\\[0\\]\\.to\\[1\\]`));
  });

  it('reports TOML syntax errors with the file name', () => {
    const f = tmpFile('config.toml', 'to = ["ntfy://x"\n');
    expect(() => loadUserConfig(f)).toThrow(/config\.toml.*not valid TOML/);
  });

  it('refuses a huge config file instead of reading it', () => {
    const f = tmpFile('config.toml', '# ' + 'x'.repeat(300 * 1024) + '\n');
    expect(() => loadUserConfig(f)).toThrow(/limit is/);
  });

  it('a missing user config is the defaults', () => {
    expect(loadUserConfig('/nonexistent/flurm/config.toml')).toEqual(validateUserConfig({}));
  });
});
