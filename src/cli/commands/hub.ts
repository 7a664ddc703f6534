// `flurm hub --config FILE`: the lab's hub. Loads and checks the whole config before starting,
// so a bad destination fails now, not at send time.
import path from 'node:path';
import { loadHubConfig } from '../../config/load.js';
import { Hub } from '../../hub/hub.js';
import { defaultIndexPath } from '../../hub/defaults.js';
import { createLogger } from '../../lib/logger.js';
import { UserError } from '../../lib/errors.js';
import { packageVersion } from '../version.js';

export async function run(opts: { config?: string; once?: boolean }): Promise<number> {
  if (!opts.config) throw new UserError('flurm hub needs --config FILE (or FLURM_CONFIG); for one workstation use `flurm up`');
  const cfg = loadHubConfig(opts.config);
  const log = createLogger({ name: 'hub' });
  const base = path.dirname(path.resolve(opts.config));
  const hub = new Hub({
    config: cfg,
    indexPath: cfg.index ? path.resolve(base, cfg.index) : defaultIndexPath(),
    clusterDir: cfg.cluster_dir ? path.resolve(base, cfg.cluster_dir) : null,
    log,
    version: packageVersion(),
    noHttp: opts.once,
    configDir: base,
  });
  if (opts.once) {
    await hub.ingestor.drain();
    await hub.deliverer.pass();
    await hub.stop();
    return 0;
  }
  await hub.start();
  log.info('hub running', { url: hub.url ?? undefined, role: hub.role, index: cfg.index, cluster_dir: cfg.cluster_dir, routes: cfg.routes.length });
  await waitForSignal();
  log.info('stopping');
  await hub.stop();
  return 0;
}

/** Resolve on SIGINT/SIGTERM (a second one exits at once). */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const onSig = () => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      process.once('SIGINT', () => process.kill(process.pid, 'SIGKILL'));
      resolve();
    };
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
  });
}
