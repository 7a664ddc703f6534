// `flurm up`: everything on one workstation with embedded defaults — the hub reading this user's
// spool (and ~/.pingchilling), an index on local disk, HTTP on localhost. With no destination it
// still tells the user: on this console, and on the desktop when there is one.
import path from 'node:path';
import { validateHubConfig } from '../../config/schema.js';
import { checkHubConfig, loadUserConfig } from '../../config/load.js';
import { Hub } from '../../hub/hub.js';
import { defaultIndexPath } from '../../hub/defaults.js';
import { createLogger } from '../../lib/logger.js';
import { homeDir, hostName, spoolDir } from '../../lib/host.js';
import { UserError } from '../../lib/errors.js';
import { ensureSpool } from '../../spool/writer.js';
import { parseDestination } from '../../notifiers/registry.js';
import { packageVersion } from '../version.js';
import { waitForSignal } from './hub.js';
import { startAgent } from '../../agent/agent.js';
import { findExecutable } from '../../lib/exec.js';
import { packageRoot, pathHint, selfExecutable } from '../path-hint.js';

/** The in-process agent's interval. */
const UP_AGENT_INTERVAL_SECONDS = 15;

export const DEFAULT_PORT = 7077;

function desktopAvailable(env: NodeJS.ProcessEnv): boolean {
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return false;
  return findExecutable('notify-send', env) !== null;
}

export async function run(opts: { port?: number; to: string[]; index?: string }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  opts.to.forEach((u, i) => {
    try {
      parseDestination(u);
    } catch (err) {
      throw new UserError(`--to #${i + 1} (${u.slice(0, 80)}): ${(err as Error).message}`);
    }
  });
  const spool = spoolDir(env);
  ensureSpool(spool);
  const userCfgFile = path.join(spool, 'config.toml');
  const clusterDir = path.join(spool, 'cluster');
  const userCfg = loadUserConfig(userCfgFile);
  const explicitPort = opts.port !== undefined;
  const config = validateHubConfig({
    http: { host: '127.0.0.1', port: opts.port ?? DEFAULT_PORT },
    routes: opts.to.length ? [{ on: ['all'], to: opts.to }] : [],
    spools: { legacy: true },
    // One node, read from local disk: look often so `flurm status` is right within seconds.
    nodes: { poll_interval_seconds: 2 },
  });
  checkHubConfig(config);
  const fallback = ['console://', ...(desktopAvailable(env) ? ['desktop://'] : [])];
  const log = createLogger({ name: 'up' });
  const indexPath = opts.index ? path.resolve(opts.index) : defaultIndexPath(env);
  const make = () =>
    new Hub({
      config,
      indexPath,
      clusterDir,
      extraSources: [{ dir: spool, legacyFile: path.join(homeDir(env), '.pingchilling') }],
      fallback,
      log,
      version: packageVersion(),
      inProcessAgentHost: hostName(env),
    });
  let hub = make();
  try {
    await hub.start();
  } catch (err) {
    await hub.stop().catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (explicitPort) throw new UserError(`port ${opts.port} is already in use (another flurm up?); choose another with --port, or --port 0 for any free one`);
    config.http.port = 0;
    hub = make();
    await hub.start();
  }
  // This workstation is the whole cluster: its agent runs in-process, so status, best and top work.
  const agent = startAgent({ clusterDir, intervalSeconds: UP_AGENT_INTERVAL_SECONDS, log, version: packageVersion(), env });
  const dests = [...opts.to, ...userCfg.to].map((u) => parseDestination(u).toUrl({ redact: true }));
  const out = process.stdout;
  out.write(`flurm up ${packageVersion()}\n`);
  out.write(`  listening on   ${hub.url}  (the API under /api/v1, Prometheus at /metrics)\n`);
  out.write(`  dashboard      ${hub.url}/  (live in a browser; in a terminal: flurm status, flurm history)\n`);
  out.write(`  this node      ${agent.file} (agent every ${UP_AGENT_INTERVAL_SECONDS}s: flurm status, best, top)\n`);
  out.write(`  your spool     ${spool}\n`);
  out.write(`  index          ${indexPath}\n`);
  if (hub.role === 'standby') {
    out.write(`  standing by    another hub already serves ${clusterDir} (another flurm up?): this one sends nothing\n`);
    out.write(`                 until that one stops, then takes over. Stop this one with Ctrl-C if that was not meant.\n`);
  }
  if (dests.length) out.write(`  messages go to ${dests.join(', ')}\n`);
  else
    out.write(
      `  messages go to this console${fallback.includes('desktop://') ? ' and your desktop' : ''} — no destination configured.\n` +
        `                 Add one: flurm up --to URL, or to = ["URL"] in ${userCfgFile} (see docs/notifiers.md)\n`,
    );
  // The quick start's next step is `flurm run` in another terminal: say how, when `flurm` would not be found there.
  const self = selfExecutable();
  const hint = pathHint(self, env);
  const root = hint ? packageRoot(self) : null;
  if (hint) {
    const what = hint.other ? `${hint.other} is another flurm than this one` : 'not on your PATH yet';
    out.write(`  flurm command  ${what}${root ? `; inside ${root} \`npx flurm …\` runs this one` : ''}. To type plain \`flurm\`, run:\n`);
    out.write(`                 ${hint.line}\n`);
  }
  out.write(`  try it         ${hint && root ? 'npx ' : ''}flurm run -- sh -c 'sleep 1; exit 3'\n`);
  await waitForSignal();
  await agent.stop();
  await hub.stop();
  return 0;
}
