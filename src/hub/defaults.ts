// Embedded defaults: where the index goes when nobody said, and what `flurm up` uses.
import os from 'node:os';
import path from 'node:path';
import { networkFsOf } from '../store/local-disk.js';
import { userName } from '../lib/host.js';

/**
 * Default index path: $XDG_STATE_HOME (or ~/.local/state)/flurm/index.db when that is on local
 * disk; on a shared (NFS) home, /var/tmp/flurm-<user>/index.db, which is local and survives
 * reboots. A lost index is rebuilt from the spools; receipts keep it from re-sending.
 */
export function defaultIndexPath(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || os.homedir();
  const state = env.XDG_STATE_HOME || path.join(home, '.local', 'state');
  const preferred = path.join(state, 'flurm', 'index.db');
  if (!networkFsOf(preferred)) return preferred;
  return path.join('/var/tmp', `flurm-${userName(env)}`, 'index.db');
}
