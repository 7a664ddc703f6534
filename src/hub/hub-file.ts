// hub.json in the cluster dir: which host runs the active hub, its URL, and a heartbeat `seq`.
// `flurm run` reads it to ring the doorbell. Written to a temp name then renamed (atomic on NFS
// for readers that open() afresh).
import fs from 'node:fs';
import path from 'node:path';
import { readSmallTextOrNull } from '../lib/small-file.js';
import { HUB_JSON_MAX_BYTES } from '../lib/doorbell.js';

export interface HubFile {
  v: 1;
  host: string;
  pid: number;
  url: string;
  started: string;
  seq: number;
  version: string;
  /** Random per hub process: who holds the lease (absent in files of older hubs). */
  hub_id?: string;
  /** The lease period: a standby takes over after this long without a seq change. */
  lease_seconds?: number;
}

export function writeHubFile(clusterDir: string, hub: HubFile): void {
  fs.mkdirSync(clusterDir, { recursive: true, mode: 0o755 });
  const file = path.join(clusterDir, 'hub.json');
  const tmp = `${file}.${hub.host}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(hub, null, 2) + '\n', { mode: 0o644 });
  fs.renameSync(tmp, file);
}

export function readHubFile(clusterDir: string): HubFile | null {
  try {
    const text = readSmallTextOrNull(path.join(clusterDir, 'hub.json'), HUB_JSON_MAX_BYTES);
    if (text === null) return null;
    const h = JSON.parse(text) as HubFile;
    return typeof h.url === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** Remove hub.json at shutdown, but only if it is still ours. */
export function removeHubFile(clusterDir: string, host: string, pid: number): void {
  const h = readHubFile(clusterDir);
  if (h && h.host === host && h.pid === pid) {
    try {
      fs.unlinkSync(path.join(clusterDir, 'hub.json'));
    } catch {
      /* already gone */
    }
  }
}
