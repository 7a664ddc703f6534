// `flurm config`: the effective configuration (defaults filled in), destination secrets redacted.
import path from 'node:path';
import { stringify } from 'smol-toml';
import { loadHubConfig, loadUserConfig } from '../../config/load.js';
import { parseDestination } from '../../notifiers/registry.js';
import { spoolDir } from '../../lib/host.js';

function redact(u: string): string {
  try {
    return parseDestination(u).toUrl({ redact: true });
  } catch {
    return '(invalid destination)';
  }
}

export async function run(opts: { config?: string; format: 'toml' | 'json' }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const spool = spoolDir(env);
  const userFile = path.join(spool, 'config.toml');
  const user = loadUserConfig(userFile);
  const out: Record<string, unknown> = {
    user: { file: userFile, spool, ...user, to: user.to.map(redact) },
  };
  if (opts.config) {
    const hub = loadHubConfig(opts.config);
    out.hub = { file: path.resolve(opts.config), ...hub, routes: hub.routes.map((r) => ({ ...r, to: r.to.map(redact) })), chat: { ...hub.chat, schedule: hub.chat.schedule.map((e) => ({ ...e, to: e.to.map(redact) })) } };
  }
  process.stdout.write(opts.format === 'json' ? JSON.stringify(out, null, 2) + '\n' : stringify(out) + '\n');
  return 0;
}
